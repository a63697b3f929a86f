import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import { Readable } from "node:stream";
import path from "node:path";
import { Cleanup } from "./cleanup";
import { jobCpus } from "./cpus";
import { DiskLayout, inspectDisk, Volume } from "./inspect";
import { log } from "./log";
import {
  checkManifest,
  isExportKey,
  itemKey,
  Manifest,
  MANIFEST_NAME,
  MANIFEST_VERSION,
  ManifestItem,
} from "../../core/manifest";
import { mountReadOnly, usedBytes } from "./mount";
import { fitsWorstCase, partSizeFor } from "./part-size";
import { imageToStore, rawToStore, stopPipelines, StreamOptions, tarToStore } from "./pipeline";
import { reportExportMetrics } from "./metrics";
import { emfWanted, Progress } from "./progress";
import { checkSourceDevice } from "./source-device";
import { ObjectStore } from "./store";
import { toolVersions } from "./tools";
import { defaultMemoryBudget, partConcurrency } from "./upload";

export interface ExportOptions {
  device: string;
  store: ObjectStore;
  compressionLevel?: number;
  concurrency?: number;
  /** Override the part size (tests); default from the device size. */
  partSize?: number;
  /** Bytes of part buffers; default upload.ts defaultMemoryBudget() ($BACKUP_ACTIONS_PART_MEMORY_MIB). */
  memoryBudget?: number;
  /** zstd threads; default the job's CPUs (cpus.ts). */
  zstdThreads?: number;
  progressIntervalMs?: number;
  /** Recorded in the manifest and used as the metric dimension. */
  volumeId?: string;
  snapshotId?: string;
  /** Shared with the caller so a signal handler can undo mounts and loop devices. */
  cleanup?: Cleanup;
  /** The device's layout when the caller inspected it already (export-snapshot's probe). @default inspectDisk(device) */
  layout?: DiskLayout;
  /**
   * Where a raw item's bytes come from instead of its device node: export-snapshot streams them from the
   * snapshot's blocks while `device` is only a probe holding the blocks inspection reads. @default the volume's node
   */
  rawSource?: (v: Volume) => Readable;
  /** The manifest's `device.path`. @default device */
  devicePath?: string;
}

export const DEFAULT_COMPRESSION_LEVEL = 3;
export const DEFAULT_CONCURRENCY = 4;

interface Planned {
  v: Volume;
  mountDir?: string;
  fallbackReason?: string;
  used: number;
}

/**
 * Exports every filesystem of `device` (tar.zst), every unmountable volume (img.zst), records
 * what is skipped, and writes manifest.json last; the manifest accounts for every byte of the
 * device (`ranges`). The device is checked before the target is touched (exists, is a block
 * device, nothing on it mounted read-write), and a target without a prefix (the bucket's root,
 * which other exports share) is refused. Restartable: the old manifest is deleted first (a re-run
 * is never mistaken for complete while it runs) and this export's own stale multipart uploads
 * (keys directly under the prefix that an export writes) are aborted; objects are overwritten.
 */
export async function exportVolume(o: ExportOptions): Promise<Manifest> {
  const started = new Date();
  const level = o.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL;
  const concurrency = o.concurrency ?? DEFAULT_CONCURRENCY;
  const cleanup = o.cleanup ?? new Cleanup();
  const { store } = o;

  if (/^s3:\/\/[^/]+\/*$/.test(store.url)) {
    throw new Error(
      `--to ${store.url}: an export needs a prefix of its own (s3://BUCKET/PREFIX/), not the bucket's root`,
    );
  }
  await checkSourceDevice(o.device);
  await store.delete(MANIFEST_NAME);
  const stale = await store.abortStaleUploads(isExportKey);
  if (stale) log.info(`aborted ${stale} incomplete multipart upload(s) of an earlier run under ${store.url}`);

  const mountRoot = await mkdtemp(path.join(os.tmpdir(), "backup-actions-mnt-"));
  cleanup.add(`rm ${mountRoot}`, () => rm(mountRoot, { recursive: true, force: true }));
  const progress = new Progress(0, {
    intervalMs: o.progressIntervalMs,
    emf: emfWanted(),
    dimensions: o.volumeId ? { VolumeId: o.volumeId } : { Device: o.device },
  });
  try {
    const layout = o.layout ?? (await inspectDisk(o.device, cleanup));
    const partSize = o.partSize ?? partSizeFor(layout.sizeBytes);
    if (!fitsWorstCase(layout.sizeBytes, partSize)) {
      log.warn(
        `device of ${layout.sizeBytes} bytes: incompressible data could exceed 10,000 parts of ${partSize} bytes`,
      );
    }
    // Parts stay in memory: fewer in flight when they are big, refused before any upload when two do not fit.
    const memoryBudget = o.memoryBudget ?? defaultMemoryBudget();
    const uploads = partConcurrency(partSize, concurrency, memoryBudget);
    const cpus = o.zstdThreads === undefined ? jobCpus() : { cpus: o.zstdThreads, source: "option" };
    log.info(`parts of ${partSize} bytes, ${uploads} in flight; zstd -T${cpus.cpus} (${cpus.source})`);

    // mount everything first: the used space of all filesystems is the total for percent and ETA
    const plan: Planned[] = [];
    for (const v of layout.volumes) {
      if (v.action === "fs") {
        const m = await mountReadOnly(v.fsType!, v.devicePath, mountRoot, v.name, cleanup);
        if (m.ok) plan.push({ v, mountDir: m.dir, used: await usedBytes(m.dir) });
        else {
          log.warn(`${v.name}: ${v.fsType} does not mount (${m.reason}); exporting a raw image`);
          plan.push({ v, fallbackReason: `${v.fsType} did not mount read-only: ${m.reason}`, used: v.sizeBytes });
        }
      } else plan.push({ v, used: v.action === "raw" ? v.sizeBytes : 0 });
    }
    // runs first on cleanup (reverse order): on a signal, tar and zstd must let go of the mounts
    cleanup.add("stop tar/zstd", stopPipelines);
    progress.setTotal(plan.reduce((a, p) => a + p.used, 0));
    progress.start();

    const items: ManifestItem[] = [];
    for (const p of plan)
      items.push(
        await exportOne(
          p,
          {
            store,
            key: "",
            compressionLevel: level,
            partSize,
            concurrency: uploads,
            zstdThreads: cpus.cpus,
            memoryBudget,
          },
          progress,
          cleanup,
          o.rawSource,
        ),
      );
    progress.report();
    if (!items.some((i) => i.kind !== "skipped")) {
      const why = items.map((i) => `${i.name}: ${i.reason}`).join("; ") || "no volume";
      throw new Error(`${o.device}: nothing to archive (${why})`);
    }

    const finished = new Date();
    const seconds = (finished.getTime() - started.getTime()) / 1000;
    const uncompressed = items.reduce((a, i) => a + (i.uncompressedBytes ?? 0), 0);
    const manifest: Manifest = {
      version: MANIFEST_VERSION,
      tool: "backup-actions",
      device: {
        path: o.devicePath ?? o.device,
        sizeBytes: layout.sizeBytes,
        volumeId: o.volumeId,
        snapshotId: o.snapshotId,
      },
      partitionTable: layout.table,
      lvm: layout.lvm,
      items,
      ranges: layout.ranges,
      compression: { tool: "zstd", level },
      tools: await toolVersions(),
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      seconds,
      bytesPerSecond: Math.round(uncompressed / Math.max(seconds, 0.001)),
      totals: {
        uncompressedBytes: uncompressed,
        compressedBytes: items.reduce((a, i) => a + (i.compressedBytes ?? 0), 0),
      },
    };
    // the reader's checks, before anything says the export is complete
    checkManifest(manifest, `${store.url}${MANIFEST_NAME}`);
    // last: its presence is what says the export is complete
    await store.put(MANIFEST_NAME, JSON.stringify(manifest, null, 2) + "\n");
    reportExportMetrics({ ...manifest.totals, seconds }, "ebs");
    log.info(
      `export complete: ${items.length} item(s), ${uncompressed} bytes in ${seconds.toFixed(1)} s -> ${store.url}${MANIFEST_NAME}`,
    );
    return manifest;
  } finally {
    progress.stop();
    await cleanup.runAll();
  }
}

async function exportOne(
  p: Planned,
  base: StreamOptions,
  progress: Progress,
  cleanup: Cleanup,
  rawSource?: (v: Volume) => Readable,
): Promise<ManifestItem> {
  const { v } = p;
  const item: ManifestItem = {
    name: v.name,
    kind: "skipped",
    source: {
      path: v.devicePath,
      partition: v.partition,
      lv: v.lv,
      fsType: v.fsType,
      uuid: v.uuid,
      label: v.label,
      partType: v.partType,
      offsetBytes: v.offsetBytes,
      sizeBytes: v.sizeBytes,
    },
  };
  if (v.action === "skip") {
    log.info(`${v.name}: skipped (${v.reason})`);
    return { ...item, reason: v.reason };
  }
  const kind = p.mountDir ? "tar" : "img";
  const key = itemKey(v.name, kind);
  const t0 = Date.now();
  log.info(
    `${v.name}: ${kind === "tar" ? `tar of ${v.fsType} at ${p.mountDir}` : `raw image of ${rawSource ? "the snapshot's blocks" : v.devicePath}`} -> ${key}`,
  );
  const opts: StreamOptions = { ...base, key, onStart: (sample) => progress.beginItem(v.name, sample) };
  const r = p.mountDir
    ? await tarToStore(p.mountDir, v.fsType!, opts)
    : rawSource
      ? await imageToStore(() => rawSource(v), v.sizeBytes, v.name, opts)
      : await rawToStore(v.devicePath, v.sizeBytes, opts);
  progress.finishItem(kind === "tar" ? p.used : r.uncompressedBytes);
  if (p.mountDir) await cleanup.runOne(`umount ${p.mountDir}`);
  const seconds = (Date.now() - t0) / 1000;
  log.info(
    `${v.name}: ${r.uncompressedBytes} -> ${r.compressedBytes} bytes in ${seconds.toFixed(1)} s, sha256 ${r.sha256}`,
  );
  return {
    ...item,
    kind,
    key,
    reason: p.fallbackReason ?? (kind === "img" ? v.reason : undefined),
    uncompressedBytes: r.uncompressedBytes,
    compressedBytes: r.compressedBytes,
    sha256: r.sha256,
    s3ChecksumSHA256: r.s3ChecksumSHA256,
    files: r.files,
    partSize: base.partSize,
    parts: r.parts,
    seconds,
  };
}
