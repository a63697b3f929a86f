/** Snapshots built on moto through the EBS direct APIs, from a bench disk image. */
import { promises as fs } from "node:fs";
import { EbsDirectClient } from "../../batch-worker/src/ebs-direct";
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
