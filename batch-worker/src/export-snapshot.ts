import { open, stat } from "node:fs/promises";
import { BackupActionsError } from "../../core/errors";
import { Cleanup } from "./cleanup";
import { EbsBlockSource, EbsDirectClient } from "./ebs-direct";
import { runOk } from "./exec";
import { ExportOptions, exportVolume } from "./export-volume";
import { log } from "./log";
import { Manifest } from "../../core/manifest";
import { EBS_BLOCK_SIZE, fillTarget, listSnapshot, RateLimit, ReadOptions, SnapshotReadError } from "./snapshot-reader";
import { probeSnapshot, snapshotRange } from "./snapshot-stream";
import { RateLease, RateLeaseOptions } from "./rate-lease";
import type { DirectReadLease } from "../../core/worker-job";
import { isAllZero } from "./sparse-writer";

export interface SnapshotExportOptions extends Omit<ExportOptions, "device"> {
  snapshotId: string;
  /**
   * A blank block device (a new EBS volume) or a file (created sparse) the snapshot's blocks are written to when the
   * disk has a filesystem to mount. Unused when nothing on the disk mounts (its image is streamed from the blocks).
   * @default none: a snapshot with a filesystem to mount fails with ScratchNeededError
   */
  scratch?: string;
  /**
   * The scratch device may hold data: it is this job's own scratch volume of this snapshot (tagged so by the EBS
   * child) and an earlier attempt (a Spot reclaim) wrote some of the snapshot's blocks to it. Rewriting them is
   * harmless: every block lands where it was. @default false (a device with data is refused)
   */
  resume?: boolean;
  /**
   * GetSnapshotBlock/ListSnapshotBlocks requests per second, shared by this process: with `lease`, the floor (the
   * job's static share). @default 500
   */
  rate?: number;
  /**
   * The shared budget's lease (ADR 0008, rate-lease.ts): held from the first listing to the end, on every path.
   * @default none: `rate` throughout
   */
  lease?: DirectReadLease & Pick<RateLeaseOptions, "ddb" | "heartbeatMs" | "ttlSeconds">;
  /** Blocks in flight. @default 32 */
  blockConcurrency?: number;
  /** The EBS direct API client (tests wrap it to inject faults). @default EbsDirectClient */
  source?: EbsBlockSource;
  /** Attempts per block. @default 6 */
  maxAttempts?: number;
  baseDelayMs?: number;
}

export const DEFAULT_RATE = 500;
export const DEFAULT_BLOCK_CONCURRENCY = 32;

/** The scratch device has data where the snapshot's blocks would be written: it is not a blank volume. */
export class ScratchNotBlankError extends BackupActionsError {
  override readonly name: string = "ScratchNotBlankError";
}

/** Bytes checked at each end of a scratch device. */
export const BLANK_CHECK_BYTES = 2 ** 20;

/**
 * Refuses a block device that is not blank: any non-zero byte in its first or last MiB. That is where every
 * partition table (MBR, GPT and its backup), LVM label, RAID superblock (md 0.90/1.0 at the end, 1.1/1.2 at the
 * start) and filesystem superblock (ext*, XFS, btrfs, NTFS, vfat) lives, so a disk in use fails it; a new EBS volume
 * reads zeros everywhere. Hydrating over a disk in use would destroy it.
 */
export async function checkBlankScratch(device: string): Promise<void> {
  const size = Number((await runOk("blockdev", ["--getsize64", device])).trim());
  const fh = await open(device, "r");
  try {
    const ends = [0, Math.max(0, size - BLANK_CHECK_BYTES)];
    for (const at of ends) {
      const b = Buffer.alloc(Math.min(BLANK_CHECK_BYTES, size));
      const { bytesRead } = await fh.read(b, 0, b.length, at);
      if (!isAllZero(b.subarray(0, bytesRead))) {
        const first = b.findIndex((x) => x !== 0);
        throw new ScratchNotBlankError(
          `--scratch ${device} is not blank: byte ${at + first} is not zero (a partition table, filesystem or other ` +
            "data is on it); the snapshot's blocks would overwrite it. Give a new, empty volume (or a file)",
        );
      }
    }
  } finally {
    await fh.close();
  }
}

/** "blocks 120/400 (30.0%), 85.2 MiB/s, ETA 4s": the hydration's progress line. */
export function blockProgressLine(done: number, total: number, seconds: number): string {
  const rate = (done * EBS_BLOCK_SIZE) / Math.max(seconds, 0.001) / 2 ** 20;
  const eta = done > 0 ? `${Math.round(((total - done) * seconds) / done)}s` : "?";
  const pct = total > 0 ? (100 * done) / total : 100;
  return `progress blocks ${done}/${total} (${pct.toFixed(1)}%), ${rate.toFixed(1)} MiB/s, ETA ${eta}`;
}

/** A snapshot that needs a scratch to be exported (a filesystem to mount) was given none. */
export class ScratchNeededError extends BackupActionsError {
  override readonly name: string = "ScratchNeededError";
}

/**
 * Exports an EBS snapshot without a volume made from it. The snapshot's listing and the blocks inspection reads come
 * first (snapshot-stream.ts's probe). When nothing on the disk mounts, its raw images are streamed from the blocks
 * straight into zstd and `scratch` is never touched (it may be absent). Otherwise `scratch` is filled with the
 * snapshot's written blocks (snapshot-reader.ts) and export-volume's per-filesystem export runs on it (a file scratch
 * through a read-only loop device). The manifest records the snapshot's id.
 */
export async function exportSnapshot(o: SnapshotExportOptions): Promise<Manifest> {
  if (!/^snap-[0-9a-f]+$/.test(o.snapshotId))
    throw new SnapshotReadError(`--snapshot ${o.snapshotId}: not a snapshot id (snap-0123456789abcdef0)`);
  const cleanup = o.cleanup ?? new Cleanup();
  const st = o.scratch === undefined ? undefined : await stat(o.scratch).catch(() => undefined);
  if (st && !st.isFile() && !st.isBlockDevice())
    throw new SnapshotReadError(`--scratch ${o.scratch}: neither a block device nor a regular file`);
  const isFile = !st?.isBlockDevice();
  if (o.scratch !== undefined && !isFile && !o.resume) await checkBlankScratch(o.scratch);
  if (o.scratch !== undefined && !isFile && o.resume)
    log.info(`${o.scratch}: resuming this job's own hydration of ${o.snapshotId}`);
  const client = o.source ? undefined : new EbsDirectClient();
  const started = Date.now();
  const interval = Math.min(o.progressIntervalMs ?? 10_000, 10_000);
  let last = 0;
  const rate = new RateLimit(o.rate ?? DEFAULT_RATE);
  const lease = o.lease && new RateLease({ ...o.lease, staticShare: rate.perSecond, rate });
  const read: ReadOptions = {
    source: o.source ?? client!,
    snapshotId: o.snapshotId,
    rate,
    concurrency: o.blockConcurrency ?? DEFAULT_BLOCK_CONCURRENCY,
    maxAttempts: o.maxAttempts,
    baseDelayMs: o.baseDelayMs,
    onBlock: (done, total) => {
      const now = Date.now();
      if (done === total || now - last >= interval) {
        last = now;
        log.info(blockProgressLine(done, total, (now - started) / 1000));
      }
    },
  };
  try {
    if (lease) {
      // registered before the export's own undo steps, so it runs after them, on every path (signals too)
      cleanup.add("release the direct-read lease", () => lease.release());
      await lease.start();
    }
    const listing = await listSnapshot(read);
    const blocks = `${listing.blocks.length} written block(s) of ${listing.volumeBytes / EBS_BLOCK_SIZE}`;
    const probeCleanup = new Cleanup();
    cleanup.add("remove the snapshot's probe", () => probeCleanup.runAll());
    const inspected = await probeSnapshot({ ...read, onBlock: undefined }, listing, probeCleanup);
    if (inspected.streamable) {
      log.info(
        `${o.snapshotId}: ${blocks}; nothing on it mounts (${inspected.probe.blocks.size} block(s) inspected): ` +
          `streaming its raw image from the blocks, no scratch`,
      );
      return await exportVolume({
        ...o,
        device: inspected.device,
        layout: inspected.layout,
        devicePath: `ebs-direct:${o.snapshotId}`,
        rawSource: (v) => snapshotRange(read, listing, v.offsetBytes, v.sizeBytes, inspected.probe),
        cleanup,
      });
    }
    if (o.scratch === undefined)
      throw new ScratchNeededError(
        `${o.snapshotId}: needs --scratch: ${inspected.reason}, which needs the whole disk ` +
          "(give a blank block device of the snapshot's size, or a file that is created sparse)",
      );
    // the blocks the probe fetched are copied from it, not fetched again
    await fillTarget({ ...read, listing, target: o.scratch, isFile, local: inspected.probe });
    await cleanup.runOne("remove the snapshot's probe");
    log.info(`${o.snapshotId}: ${blocks} -> ${o.scratch}`);
    let device = o.scratch;
    if (isFile) {
      device = (await runOk("losetup", ["--find", "--show", "--read-only", o.scratch])).trim();
      cleanup.add(`losetup -d ${device}`, () => runOk("losetup", ["-d", device]));
    }
    return await exportVolume({ ...o, device, cleanup });
  } finally {
    await cleanup.runAll();
    client?.destroy();
  }
}
