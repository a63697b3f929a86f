/** Snapshots built on moto through the EBS direct APIs, from a bench disk image. */
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { BlockData, EbsApiError, EbsBlockSource, EbsDirectClient } from "../../batch-worker/src/ebs-direct";
import { EBS_BLOCK_SIZE } from "../../batch-worker/src/snapshot-reader";
import { isAllZero } from "../../batch-worker/src/sparse-writer";

const GiB = 2 ** 30;

/**
 * A completed snapshot of the image: StartSnapshot, a PutSnapshotBlock for every block that is not all zeros (so the
 * snapshot has unwritten regions, as AWS's do), CompleteSnapshot. Returns its id and written block count.
 */
export async function snapshotOf(ebs: EbsDirectClient, image: string): Promise<{ id: string; written: number }> {
  const size = (await fs.stat(image)).size;
  const { SnapshotId, BlockSize } = await ebs.startSnapshot(Math.ceil(size / GiB));
  if (BlockSize !== EBS_BLOCK_SIZE) throw new Error(`StartSnapshot answered BlockSize ${BlockSize}`);
  const fh = await fs.open(image, "r");
  let written = 0;
  try {
    for (let i = 0; i * EBS_BLOCK_SIZE < size; i++) {
      const b = Buffer.alloc(EBS_BLOCK_SIZE);
      await fh.read(b, 0, EBS_BLOCK_SIZE, i * EBS_BLOCK_SIZE);
      if (isAllZero(b)) continue;
      await ebs.putSnapshotBlock(SnapshotId, i, b);
      written++;
    }
  } finally {
    await fh.close();
  }
  await ebs.completeSnapshot(SnapshotId, written);
  return { id: SnapshotId, written };
}

/** Fails chosen GetSnapshotBlock calls (by call number) the way AWS can: throttled, or a body that is not the block. */
export class FaultySource implements EbsBlockSource {
  calls = 0;
  constructor(
    private readonly inner: EbsBlockSource,
    private readonly fault: (call: number, blockIndex: number) => "throttle" | "corrupt" | undefined,
  ) {}
  listSnapshotBlocks(id: string, token?: string) {
    return this.inner.listSnapshotBlocks(id, token);
  }
  async getSnapshotBlock(id: string, index: number, token: string): Promise<BlockData> {
    const f = this.fault(++this.calls, index);
    if (f === "throttle") throw new EbsApiError("GetSnapshotBlock", "ThrottlingException", 400, "Rate exceeded");
    const r = await this.inner.getSnapshotBlock(id, index, token);
    if (f === "corrupt") r.data[1000] ^= 0xff;
    return r;
  }
}

const BIN = path.join(__dirname, "../../cli/bin.js");

/** Runs the built CLI (`npm run build:cli`); its exit code and stderr. */
export function cli(args: string[]): Promise<{ code: number | null; stderr: string }> {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: process.env });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  child.stdout!.resume();
  return new Promise((resolve) => child.on("close", (code) => resolve({ code, stderr })));
}
