/**
 * The snapshot reader's parts that need no server: the shared token bucket, the hydration's progress line, and
 * how API errors become messages (an in-memory block source stands in for the EBS direct APIs).
 */
import { createHash } from "node:crypto";
import { BlockData, EbsApiError, EbsBlockSource, ListSnapshotBlocksOutput } from "../../batch-worker/src/ebs-direct";
import { blockProgressLine } from "../../batch-worker/src/export-snapshot";
import { EBS_BLOCK_SIZE, fetchBlock, listSnapshot, RateLimit } from "../../batch-worker/src/snapshot-reader";

/** Two pages of listing; each block's bytes are its index. */
class PagedSource implements EbsBlockSource {
  constructor(private readonly fail?: EbsApiError) {}
  listSnapshotBlocks(_id: string, token?: string): Promise<ListSnapshotBlocksOutput> {
    if (this.fail) return Promise.reject(this.fail);
    const page = token ? [7, 9] : [0, 3];
    return Promise.resolve({
      Blocks: page.map((i) => ({ BlockIndex: i, BlockToken: `t${i}` })),
      NextToken: token ? undefined : "next",
      VolumeSize: 1,
      BlockSize: EBS_BLOCK_SIZE,
    });
  }
  getSnapshotBlock(_id: string, index: number): Promise<BlockData> {
    const data = Buffer.alloc(EBS_BLOCK_SIZE, index);
    return Promise.resolve({
      data,
      checksum: createHash("sha256").update(data).digest("base64"),
      checksumAlgorithm: "SHA256",
    });
  }
}

describe("snapshot reader", () => {
  it("a token bucket of N requests/s lets one through at once and the next ones at 1/N s each", async () => {
    const rate = new RateLimit(50);
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 11 }, () => rate.take()));
    // 10 requests after the first need 10/50 s of tokens (timer slack below, never above)
    expect(Date.now() - t0).toBeGreaterThanOrEqual(190);
    expect(() => new RateLimit(0)).toThrow("rate must be > 0 requests/s, got 0");
  });

  it("a lowered rate binds at once: the tokens saved at the old rate are cut to the new rate's second", async () => {
    const rate = new RateLimit(1000);
    await new Promise((r) => setTimeout(r, 50)); // about 50 tokens saved at 1,000/s
    rate.setRate(2);
    expect(rate.perSecond).toBe(2);
    const t0 = Date.now();
    // 2 saved tokens at most, then 1/2 s each: the third request waits (a lower bound, never an upper one)
    await Promise.all(Array.from({ length: 3 }, () => rate.take()));
    expect(Date.now() - t0).toBeGreaterThanOrEqual(400);
    expect(rate.taken).toBe(3);
    expect(() => rate.setRate(0)).toThrow("rate must be > 0 requests/s, got 0");
  });

  it("lists every page, in block order, with the volume's size", async () => {
    const l = await listSnapshot({ source: new PagedSource(), snapshotId: "snap-0abc" });
    expect(l.blocks.map((b) => b.BlockIndex)).toEqual([0, 3, 7, 9]);
    expect(l.volumeBytes).toBe(2 ** 30);
  });

  it("names a snapshot that does not exist and a denied access, without retrying them", async () => {
    const missing = new EbsApiError("ListSnapshotBlocks", "ResourceNotFoundException", 404, "no such snapshot");
    await expect(listSnapshot({ source: new PagedSource(missing), snapshotId: "snap-0abc" })).rejects.toThrow(
      "snap-0abc: no such snapshot (or not shared with this account)",
    );
    const denied = new EbsApiError("ListSnapshotBlocks", "AccessDeniedException", 403, "not authorized");
    await expect(listSnapshot({ source: new PagedSource(denied), snapshotId: "snap-0abc" })).rejects.toThrow(
      "snap-0abc: access denied: the role needs ebs:ListSnapshotBlocks and ebs:GetSnapshotBlock",
    );
  });

  it("returns a block whose SHA-256 is the API's", async () => {
    const data = await fetchBlock(
      { source: new PagedSource(), snapshotId: "snap-0abc" },
      { BlockIndex: 3, BlockToken: "t3" },
    );
    expect(data.equals(Buffer.alloc(EBS_BLOCK_SIZE, 3))).toBe(true);
  });

  it("prints blocks done of total, MiB/s and ETA", () => {
    expect(blockProgressLine(120, 400, 10)).toBe("progress blocks 120/400 (30.0%), 6.0 MiB/s, ETA 23s");
    expect(blockProgressLine(0, 400, 1)).toBe("progress blocks 0/400 (0.0%), 0.0 MiB/s, ETA ?");
  });
});
