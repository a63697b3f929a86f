/**
 * Hostile exports for the restore tests: what someone who can write the archive bucket can put
 * there. Tar streams come from real GNU tar on crafted trees, or, for entries GNU tar will not
 * create (`../x`, absolute names, links to outside), from the small ustar writer below; they are
 * compressed by the real zstd and uploaded with the worker's own uploader, so every checksum in
 * the manifest is consistent with the bytes (as an attacker would make it) unless a test lies.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import { Manifest, MANIFEST_NAME, ManifestItem } from "../../core/manifest";
import { ObjectStore } from "../../batch-worker/src/store";
import { uploadStream } from "../../batch-worker/src/upload";
import { manifestOf } from "./manifest";

export type TarEntry =
  | { type: "file"; name: string; data?: Buffer; mode?: number; uid?: number; gid?: number }
  | { type: "dir"; name: string; mode?: number }
  | { type: "symlink" | "hardlink"; name: string; linkname: string }
  | { type: "chardev" | "blockdev"; name: string; major: number; minor: number }
  | { type: "fifo"; name: string };

const TYPEFLAG = { file: "0", hardlink: "1", symlink: "2", chardev: "3", blockdev: "4", dir: "5", fifo: "6" } as const;

function octal(n: number, width: number): string {
  return n.toString(8).padStart(width - 1, "0") + "\0";
}

/** One 512-byte ustar header (names up to 100 bytes, written as given: no normalisation). */
function header(e: TarEntry, size: number): Buffer {
  const h = Buffer.alloc(512);
  const put = (s: string, off: number, len: number) => {
    const b = Buffer.from(s, "utf8");
    if (b.length > len) throw new Error(`ustar field too long: ${s}`);
    b.copy(h, off);
  };
  put(e.name, 0, 100);
  const mode = "mode" in e && e.mode !== undefined ? e.mode : e.type === "dir" ? 0o755 : 0o644;
  put(octal(mode, 8), 100, 8);
  put(octal("uid" in e && e.uid !== undefined ? e.uid : 0, 8), 108, 8);
  put(octal("gid" in e && e.gid !== undefined ? e.gid : 0, 8), 116, 8);
  put(octal(size, 12), 124, 12);
  put(octal(1_700_000_000, 12), 136, 12);
  h.fill(" ", 148, 156);
  put(TYPEFLAG[e.type], 156, 1);
  if ("linkname" in e) put(e.linkname, 157, 100);
  put("ustar\0", 257, 6);
  put("00", 263, 2);
  if ("major" in e) {
    put(octal(e.major, 8), 329, 8);
    put(octal(e.minor, 8), 337, 8);
  }
  let sum = 0;
  for (const b of h) sum += b;
  put(octal(sum, 7) + " ", 148, 8);
  return h;
}

/** A ustar archive of `entries`, in order, with the two zero blocks that end it. */
export function ustar(entries: readonly TarEntry[]): Buffer {
  const out: Buffer[] = [];
  for (const e of entries) {
    const data = e.type === "file" ? (e.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    out.push(header(e, data.length), data, Buffer.alloc((512 - (data.length % 512)) % 512));
  }
  out.push(Buffer.alloc(1024));
  return Buffer.concat(out);
}

/** A tar stream of a directory made by GNU tar as the worker makes them (numeric owners, xattrs, ACLs). */
export function gnuTar(dir: string): Buffer {
  const r = spawnSync("tar", ["-C", dir, "--numeric-owner", "--xattrs", "--acls", "-cf", "-", "."], {
    maxBuffer: 1 << 28,
  });
  if (r.status !== 0) throw new Error(`tar failed: ${r.stderr.toString()}`);
  return r.stdout;
}

export function zstd(data: Buffer): Buffer {
  const r = spawnSync("zstd", ["-c", "-q", "-1"], { input: data, maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`zstd failed: ${r.stderr.toString()}`);
  return r.stdout;
}

export interface CraftedItem {
  name: string;
  kind: "tar" | "img";
  /** Uncompressed bytes (a tar stream or an image). */
  payload: Buffer;
  /** Object key; default `<name>.<kind>.zst` when that is a safe key, else `item<i>.<kind>.zst`. */
  key?: string;
  /** What the manifest records instead of the truth (a lie the attacker did not make consistent). */
  lie?: Partial<Pick<ManifestItem, "uncompressedBytes" | "compressedBytes" | "sha256">>;
  /** The object keeps only this many compressed bytes (the manifest still records the full upload). */
  truncateTo?: number;
}

export interface CraftedExport {
  manifest: Manifest;
  /** Hex SHA-256 of the manifest.json bytes written. */
  manifestSha256: string;
}

/** Uploads each item (zstd-compressed) and writes a manifest whose checksums match the uploaded bytes. */
export async function writeExport(store: ObjectStore, items: readonly CraftedItem[]): Promise<CraftedExport> {
  const partSize = 64 * 1024;
  const recorded: ManifestItem[] = [];
  let offset = 0; // each item's bytes follow the last one's on the device, as partitions do
  for (const [i, it] of items.entries()) {
    const key =
      it.key ??
      (/^[A-Za-z0-9_][A-Za-z0-9._+-]*$/.test(it.name) ? `${it.name}.${it.kind}.zst` : `item${i}.${it.kind}.zst`);
    const zst = zstd(it.payload);
    const r = await uploadStream(Readable.from([zst]), store, key, { partSize, concurrency: 1 });
    if (it.truncateTo !== undefined) {
      const cut = zst.subarray(0, it.truncateTo);
      await uploadStream(Readable.from([cut]), store, key, { partSize, concurrency: 1 });
    }
    recorded.push({
      name: it.name,
      kind: it.kind,
      source: {
        path: `/dev/loop9p${i + 1}`,
        fsType: it.kind === "tar" ? "ext4" : null,
        offsetBytes: offset,
        sizeBytes: it.payload.length,
      },
      key,
      uncompressedBytes: it.payload.length,
      compressedBytes: r.bytes,
      sha256: r.sha256,
      s3ChecksumSHA256: r.s3ChecksumSHA256,
      partSize,
      parts: r.parts,
      ...it.lie,
    });
    offset += it.payload.length;
  }
  const manifest = manifestOf(recorded);
  const text = JSON.stringify(manifest, null, 2);
  await store.put(MANIFEST_NAME, text);
  return { manifest, manifestSha256: createHash("sha256").update(text).digest("hex") };
}

/**
 * Everything under `root` (not following links), except `skip` (the restore target) and below it:
 * type, mode, owner, size, content hash, link target, mtime, link count. Of `root` itself only mode
 * and owner (creating the target changes its mtime). Two equal snapshots mean nothing there was
 * created, removed or changed.
 */
export async function snapshotTree(root: string, skip?: string): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const walk = async (p: string): Promise<void> => {
    if (p === skip) return;
    const st = await fs.lstat(p);
    if (p === root) out["."] = `${st.mode.toString(8)} ${st.uid}:${st.gid}`;
    else {
      let what = `${st.mode.toString(8)} ${st.uid}:${st.gid} ${st.size} ${st.mtimeMs} ${st.nlink}`;
      if (st.isSymbolicLink()) what += ` -> ${await fs.readlink(p)}`;
      else if (st.isFile())
        what += ` ${createHash("sha256")
          .update(await fs.readFile(p))
          .digest("hex")}`;
      out[path.relative(root, p)] = what;
    }
    if (st.isDirectory()) for (const e of await fs.readdir(p)) await walk(path.join(p, e));
  };
  await walk(root);
  return out;
}

/** Names in `dir` (nothing when it does not exist). */
export async function entries(dir: string): Promise<string[]> {
  return (await fs.readdir(dir).catch(() => [] as string[])).sort();
}
