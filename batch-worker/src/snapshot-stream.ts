import { mkdtemp, open, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { Cleanup } from "./cleanup";
import { runOk } from "./exec";
import { dataPartitions, DiskLayout, gapsBetween, inspectDisk, readPartitionTable } from "./inspect";
import { log } from "./log";
import { bounded, EBS_BLOCK_SIZE, fetchBlock, readLocalBlock, ReadOptions, SnapshotListing } from "./snapshot-reader";

/**
 * A disk whose volumes would all be exported as raw images needs no scratch: its image is streamed from the snapshot's
 * blocks in order straight into zstd. Whether it is such a disk is decided by the same inspection export-volume runs
 * (inspect.ts), over a **probe**: a sparse file of the volume's size holding only the blocks that inspection reads.
 */

/** Bytes read into the probe at each end of the disk and of every partition (and after each partition's end). */
export const PROBE_EDGE_BYTES = 2 ** 20;

/**
 * Written bytes outside every partition the probe may fetch: inspection reads all of a gap (a gap is an `unallocated`
 * range only when all zero). A disk with more is exported through a scratch.
 */
export const PROBE_GAP_LIMIT_BYTES = 64 * 2 ** 20;

/** Rounds of reading the partition table: each round may find an MBR's next logical partition (its EBR). */
const MAX_TABLE_ROUNDS = 64;

/** The probe's file and the written blocks it holds (checked against their SHA-256 when fetched). */
export interface ProbeBlocks {
  file: string;
  blocks: Set<number>;
}

export type SnapshotProbe = { probe: ProbeBlocks } & (
  { streamable: true; device: string; layout: DiskLayout } | { streamable: false; reason: string }
);

/**
 * Builds the probe and inspects it: streamable when nothing on the disk is a filesystem to mount (every volume is a raw
 * image or skipped, as export-volume would decide), no LVM (an LV's superblock lies inside its PV, where the probe
 * holds no blocks) and the gaps between partitions hold little written data. The probe's read-only loop device and its
 * file are undone by `cleanup`.
 */
export async function probeSnapshot(
  o: ReadOptions,
  listing: SnapshotListing,
  cleanup: Cleanup,
): Promise<SnapshotProbe> {
  const size = listing.volumeBytes;
  const written = new Map(listing.blocks.map((b) => [b.BlockIndex, b]));
  const dir = await mkdtemp(path.join(os.tmpdir(), "backup-actions-probe-"));
  cleanup.add(`rm ${dir}`, () => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, "probe.img");
  const fetched = new Set<number>();
  const probe: ProbeBlocks = { file, blocks: fetched };
  const fh = await open(file, "w");
  try {
    await fh.truncate(size);
    /** Fetches the written blocks of [offset, offset + bytes) not in the probe yet; returns how many. */
    const fetchRange = async (offset: number, bytes: number): Promise<number> => {
      const from = Math.max(0, Math.floor(offset / EBS_BLOCK_SIZE));
      const to = Math.min(Math.ceil(Math.min(size, offset + bytes) / EBS_BLOCK_SIZE), size / EBS_BLOCK_SIZE);
      const todo = [];
      for (let i = from; i < to; i++) {
        const b = written.get(i);
        if (b && !fetched.has(i)) {
          fetched.add(i);
          todo.push(b);
        }
      }
      await bounded(todo, o.concurrency ?? 32, async (b) => {
        const data = await fetchBlock(o, b);
        await fh.write(data, 0, data.length, b.BlockIndex * EBS_BLOCK_SIZE);
      });
      return todo.length;
    };
    const writtenIn = (offset: number, bytes: number) => {
      let n = 0;
      for (let i = Math.floor(offset / EBS_BLOCK_SIZE); i * EBS_BLOCK_SIZE < offset + bytes; i++)
        if (written.has(i)) n++;
      return n;
    };

    await fetchRange(0, PROBE_EDGE_BYTES);
    await fetchRange(size - PROBE_EDGE_BYTES, PROBE_EDGE_BYTES);
    for (let round = 1; ; round++) {
      await fh.sync();
      const table = await readPartitionTable(file);
      let added = 0;
      for (const p of table.partitions) {
        const end = p.startBytes + p.sizeBytes;
        added += await fetchRange(p.startBytes, PROBE_EDGE_BYTES);
        added += await fetchRange(end - PROBE_EDGE_BYTES, PROBE_EDGE_BYTES);
        // an MBR's next EBR follows the logical partition before it
        added += await fetchRange(end, PROBE_EDGE_BYTES);
      }
      if (table.type !== null) {
        const gaps = gapsBetween(dataPartitions(table), size);
        const gapBlocks = gaps.reduce((a, g) => a + writtenIn(g.offsetBytes, g.sizeBytes), 0);
        if (gapBlocks * EBS_BLOCK_SIZE > PROBE_GAP_LIMIT_BYTES)
          return {
            streamable: false,
            probe,
            reason:
              `${gapBlocks} written block(s) lie outside every partition, more than the probe reads ` +
              `(${PROBE_GAP_LIMIT_BYTES / 2 ** 20} MiB)`,
          };
        for (const g of gaps) added += await fetchRange(g.offsetBytes, g.sizeBytes);
      }
      if (added === 0) break;
      if (round === MAX_TABLE_ROUNDS)
        return {
          streamable: false,
          probe,
          reason: `the partition table still grew after ${round} rounds of reading it`,
        };
    }
    await fh.sync();
  } finally {
    await fh.close();
  }

  const device = (await runOk("losetup", ["--find", "--show", "--read-only", file])).trim();
  cleanup.add(`losetup -d ${device}`, () => runOk("losetup", ["-d", device]));
  const layout = await inspectDisk(device, cleanup);
  const needsDisk = layout.volumes.find((v) => v.action === "fs");
  if (needsDisk)
    return {
      streamable: false,
      probe,
      reason: `${needsDisk.name} holds ${needsDisk.fsType}, which is mounted and archived file by file`,
    };
  if (layout.lvm)
    return {
      streamable: false,
      probe,
      reason: "it holds LVM (its logical volumes are inspected through their physical volume's data)",
    };
  return { streamable: true, device, layout, probe };
}

const ZERO_BLOCK = Buffer.alloc(EBS_BLOCK_SIZE);

/**
 * Bytes [offset, offset + size) of the snapshot's disk, in order: each written block fetched and its SHA-256 checked
 * (fetchBlock: retried whole until right, so no attempt's bytes ever reach the stream), an unlisted block as zeros.
 * Up to `o.concurrency` blocks are fetched ahead of the reader; backpressure stops fetching when the reader lags.
 */
export function snapshotRange(
  o: ReadOptions,
  listing: SnapshotListing,
  offset: number,
  size: number,
  local?: ProbeBlocks,
): Readable {
  const written = new Map(listing.blocks.map((b) => [b.BlockIndex, b]));
  const end = offset + size;
  const first = Math.floor(offset / EBS_BLOCK_SIZE);
  const last = Math.ceil(end / EBS_BLOCK_SIZE);
  const ahead = o.concurrency ?? 32;
  let done = 0;
  const total = listing.blocks.filter((b) => b.BlockIndex >= first && b.BlockIndex < last).length;
  async function* blocks(): AsyncGenerator<Buffer> {
    const window: (Promise<Buffer> | undefined)[] = [];
    let queued = first;
    const fh = local && (await open(local.file, "r"));
    try {
      for (let i = first; i < last; i++) {
        while (queued < last && window.length < ahead) {
          const index = queued++;
          const b = written.get(index);
          // a block the probe holds is read from it: every written block is fetched once
          const p = !b
            ? undefined
            : fh && local.blocks.has(index)
              ? readLocalBlock(fh, local.file, index)
              : fetchBlock(o, b);
          // observed when its turn comes; a failure meanwhile must not be an unhandled rejection
          p?.catch(() => undefined);
          window.push(p);
        }
        const p = window.shift();
        const data = p ? await p : ZERO_BLOCK;
        if (p) o.onBlock?.(++done, total);
        const base = i * EBS_BLOCK_SIZE;
        yield data.subarray(Math.max(offset, base) - base, Math.min(end, base + EBS_BLOCK_SIZE) - base);
      }
    } finally {
      // blocks still in flight settle on their own (their rejections are observed above)
      await Promise.allSettled(window.filter((p) => p !== undefined));
      await fh?.close();
    }
  }
  log.info(`bytes ${offset}..${end} from ${total} written block(s) of ${last - first}`);
  return Readable.from(blocks(), { objectMode: false });
}
