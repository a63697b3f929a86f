/**
 * Direct-read benchmark (a script, not a test): `npm run bench:direct-read` as root, with a moto server (the
 * bench's launcher, patched) at AWS_ENDPOINT_URL.
 *
 * Builds a snapshot of BENCH_DATA_MIB (default 256) MiB of random data on moto with StartSnapshot/PutSnapshotBlock,
 * then in the same run measures:
 *   - the worker's hydration (snapshot-reader.ts fillTarget: list, GetSnapshotBlock, SHA-256 check, positional
 *     writes) into a sparse file
 *   - the baseline: reading the same bytes from a loop device over an image file (page cache dropped first)
 * and prints both rates and their ratio. On AWS the direct read is bounded by the API (about 500 MiB/s per
 * snapshot); here it is bounded by moto, a single Python process on the same 2 vCPUs.
 */
import { randomBytes } from "node:crypto";
import { execFileSync } from "node:child_process";
import { createReadStream, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { EbsDirectClient } from "../batch-worker/src/ebs-direct";
import { EBS_BLOCK_SIZE, fillTarget, RateLimit } from "../batch-worker/src/snapshot-reader";

const MIB = 2 ** 20;

async function main(): Promise<void> {
  const mib = Number(process.env.BENCH_DATA_MIB ?? 256);
  const dir = await fs.mkdtemp(path.join(process.env.BENCH_DIR ?? os.tmpdir(), "direct-read-"));
  const ebs = new EbsDirectClient();
  try {
    const image = path.join(dir, "disk.img");
    const blocks = (mib * MIB) / EBS_BLOCK_SIZE;
    const { SnapshotId } = await ebs.startSnapshot(Math.ceil(mib / 1024));
    const fh = await fs.open(image, "w");
    for (let i = 0; i < blocks; i++) {
      const b = randomBytes(EBS_BLOCK_SIZE);
      await fh.write(b, 0, b.length, i * EBS_BLOCK_SIZE);
      await ebs.putSnapshotBlock(SnapshotId, i, b);
    }
    await fh.close();
    await ebs.completeSnapshot(SnapshotId, blocks);

    let t = Date.now();
    await fillTarget({
      source: ebs,
      snapshotId: SnapshotId,
      target: path.join(dir, "scratch.img"),
      isFile: true,
      rate: new RateLimit(1000),
      concurrency: 32,
    });
    const direct = (mib * MIB) / ((Date.now() - t) / 1000);

    const loop = execFileSync("losetup", ["--find", "--show", "--read-only", image], { encoding: "utf8" }).trim();
    try {
      execFileSync("sh", ["-c", "sync; echo 3 > /proc/sys/vm/drop_caches"]);
      t = Date.now();
      for await (const _c of createReadStream(loop, { highWaterMark: 4 * MIB, end: mib * MIB - 1 })) void _c;
      const device = (mib * MIB) / ((Date.now() - t) / 1000);
      process.stdout.write(
        [
          `| read path (${mib} MiB) | MiB/s |`,
          "|---|---|",
          `| direct read (ListSnapshotBlocks + GetSnapshotBlock, SHA-256, positional writes) against moto | ${(direct / MIB).toFixed(1)} |`,
          `| loop device over the same image (cold page cache) | ${(device / MIB).toFixed(1)} |`,
          `| ratio direct / loop device | ${(direct / device).toFixed(2)} |`,
          "",
        ].join("\n"),
      );
    } finally {
      execFileSync("losetup", ["-d", loop]);
    }
  } finally {
    ebs.destroy();
    await fs.rm(dir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`bench:direct-read: ${(e as Error).message}\n`);
  process.exit(1);
});
