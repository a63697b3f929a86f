import { parseS3Sha256 } from "./checksum";

/** The manifest is written last: its presence is what marks an export as complete. */
export const MANIFEST_NAME = "manifest.json";
export const MANIFEST_VERSION = 1;

export type ItemKind = "tar" | "img" | "skipped";

export interface ItemSource {
  /** Device the bytes were read from (partition node, loop device over an LV, or the disk). */
  path: string;
  /** Partition number, when the item is a partition. */
  partition?: number;
  /** "vg/lv" when the item is an LVM logical volume. */
  lv?: string;
  fsType: string | null;
  uuid?: string;
  label?: string;
  /** GPT type GUID or MBR type byte ("0x83"). */
  partType?: string;
  /** Offset of the item's bytes on the exported device, and their length. */
  offsetBytes: number;
  sizeBytes: number;
}

export interface ManifestItem {
  name: string;
  kind: ItemKind;
  source: ItemSource;
  /** Object key relative to the export prefix; absent for skipped items. */
  key?: string;
  /** Why the item is skipped, or why a filesystem was exported as a raw image. */
  reason?: string;
  uncompressedBytes?: number;
  compressedBytes?: number;
  /** Hex SHA-256 of the whole compressed object. */
  sha256?: string;
  /**
   * The object's SHA-256 checksum in the form S3 reports it (HeadObject or GetObject with
   * ChecksumMode ENABLED), which the verify Lambda compares without reading the object. Every item
   * is a multipart upload with ChecksumAlgorithm SHA256, so this is S3's COMPOSITE checksum:
   * base64(SHA-256(d1 || d2 || … || dN)) + "-N", where dK is the binary SHA-256 of part K (`partSize`
   * bytes each, the last one shorter; an empty object is one empty part) and N is `parts`. The worker
   * computes it from the parts it sent and, when CompleteMultipartUpload answers with a checksum,
   * checks that S3 agrees. An object written by a single PutObject would record the plain base64
   * SHA-256 of its bytes instead (no "-N"); the worker writes none today.
   * A file:// export records the same composite, computed from the same parts, so its manifest reads
   * like an S3 one and `backup-actions verify` recomputes it either way. Absent in manifests written
   * before the field existed; verify then checks sizes and `sha256` only.
   */
  s3ChecksumSHA256?: string;
  /** Archive members (files, directories, links) in a tar item. */
  files?: number;
  /** Bytes of every part but the last (the composite checksum depends on it). */
  partSize?: number;
  parts?: number;
  seconds?: number;
}

export interface PartitionEntry {
  name: string;
  number: number;
  node: string;
  startBytes: number;
  sizeBytes: number;
  type: string;
  partUuid?: string;
  partLabel?: string;
}

export interface Manifest {
  version: typeof MANIFEST_VERSION;
  tool: "backup-actions";
  device: { path: string; sizeBytes: number; volumeId?: string; snapshotId?: string };
  partitionTable: { type: "gpt" | "dos" | null; id?: string; partitions: PartitionEntry[] };
  lvm?: { vgs: { name: string; uuid?: string; extentSize: number; lvs: { name: string; sizeBytes: number; segType: string }[] }[] };
  items: ManifestItem[];
  compression: { tool: "zstd"; level: number };
  tools: Record<string, string>;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  /** Uncompressed bytes read per second over the whole export. */
  bytesPerSecond: number;
  totals: { uncompressedBytes: number; compressedBytes: number };
}

export function itemKey(name: string, kind: Exclude<ItemKind, "skipped">): string {
  return `${name}.${kind}.zst`;
}

/** Parses and sanity-checks a manifest read back from storage. */
export function parseManifest(text: string): Manifest {
  const m = JSON.parse(text) as Manifest;
  if (m.tool !== "backup-actions" || m.version !== MANIFEST_VERSION || !Array.isArray(m.items)) {
    throw new Error(`not a backup-actions manifest (version ${String((m as { version?: unknown }).version)})`);
  }
  for (const it of m.items) {
    if (it.kind !== "skipped" && (!it.key || !it.sha256 || it.compressedBytes === undefined)) {
      throw new Error(`manifest item ${it.name} lacks key, sha256 or compressedBytes`);
    }
    if (it.s3ChecksumSHA256 !== undefined) {
      let named: number | undefined;
      try {
        named = parseS3Sha256(it.s3ChecksumSHA256).parts;
      } catch (e) {
        throw new Error(`manifest item ${it.name}: s3ChecksumSHA256 ${(e as Error).message}`);
      }
      if (named !== undefined && it.parts !== undefined && named !== it.parts) {
        throw new Error(`manifest item ${it.name}: s3ChecksumSHA256 names ${named} parts, the item says ${it.parts}`);
      }
    }
  }
  return m;
}
