import { createHash } from "node:crypto";
import { FileHandle, open } from "node:fs/promises";
import { BackupActionsError } from "../../core/errors";
import { EbsApiError, EbsBlockSource, SnapshotBlock } from "./ebs-direct";
import { log } from "./log";

/** The EBS direct APIs' block: every block of a snapshot has 512 KiB. */
export const EBS_BLOCK_SIZE = 524288;

/** A snapshot could not be read through the EBS direct APIs (missing, access denied, a block that stays bad). */
export class SnapshotReadError extends BackupActionsError {
  override readonly name: string = "SnapshotReadError";
}

/**
 * A token bucket of requests per second, shared by every reader in the process (pass the same instance):
 * the account's EBS direct API quota (GetSnapshotBlock: 1,000/s by default) is one budget for all exports.
 * Its rate can change while it serves (setRate: the shared budget's lease, rate-lease.ts).
 */
export class RateLimit {
  private tokens: number;
  private last = Date.now();
  private queue: Promise<void> = Promise.resolve();
  private rate: number;
  /** Requests handed out so far (take() resolved): what a test or the progress line can count. */
  taken = 0;

  constructor(perSecond: number) {
    this.rate = RateLimit.check(perSecond);
    this.tokens = Math.min(perSecond, 1);
  }

  private static check(perSecond: number): number {
    if (!(perSecond > 0)) throw new RangeError(`rate must be > 0 requests/s, got ${perSecond}`);
    return perSecond;
  }

  get perSecond(): number {
    return this.rate;
  }

  /**
   * Changes the rate from now on. Tokens saved at the old rate are kept only up to one second of the new one, so a
   * lower rate binds at once; a waiting take() sees the new rate when it wakes.
   */
  setRate(perSecond: number): void {
    this.refill(Date.now());
    this.rate = RateLimit.check(perSecond);
    // the next refill caps the saved tokens at one second of the new rate
  }

  private refill(now: number): void {
    // a burst of at most one second's budget
    this.tokens = Math.min(this.rate, this.tokens + ((now - this.last) / 1000) * this.rate);
    this.last = now;
  }

  /** Resolves when one request may be sent; callers are served in order. */
  take(): Promise<void> {
    const next = this.queue.then(async () => {
      for (;;) {
        this.refill(Date.now());
        if (this.tokens >= 1) {
          this.tokens -= 1;
          this.taken++;
          return;
        }
        // at most a second: a rate raised meanwhile is seen without waiting out the old one
        await sleep(Math.min(1000, ((1 - this.tokens) / this.rate) * 1000));
      }
    });
    this.queue = next;
    return next;
  }
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export interface ReadOptions {
  source: EbsBlockSource;
  snapshotId: string;
  rate?: RateLimit;
  /** Blocks in flight. @default 32 */
  concurrency?: number;
  /** Attempts per block (and per listing page) before giving up. @default 6 */
  maxAttempts?: number;
  /** First backoff ceiling; doubles each attempt, full jitter (a random wait up to the ceiling). @default 100 */
  baseDelayMs?: number;
  /** Called after each block with blocks done and total. */
  onBlock?: (done: number, total: number) => void;
}

export interface SnapshotListing {
  blocks: SnapshotBlock[];
  volumeBytes: number;
}

/** A failed attempt worth repeating: throttling, a server fault, a dropped connection, a bad checksum. */
export class RetryableBlockError extends BackupActionsError {
  override readonly name: string = "RetryableBlockError";
}

async function withRetries<T>(what: string, o: ReadOptions, attempt: () => Promise<T>): Promise<T> {
  const max = o.maxAttempts ?? 6;
  const base = o.baseDelayMs ?? 100;
  for (let n = 1; ; n++) {
    await o.rate?.take();
    try {
      return await attempt();
    } catch (e) {
      const retryable = e instanceof RetryableBlockError || (e instanceof EbsApiError && e.retryable);
      if (!retryable) throw explain(e, o.snapshotId);
      if (n >= max)
        throw new SnapshotReadError(`${o.snapshotId}: ${what} failed ${n} times, last: ${(e as Error).message}`);
      log.warn(`${o.snapshotId}: ${what}: ${(e as Error).message}; retrying (attempt ${n + 1} of ${max})`);
      await sleep(Math.random() * base * 2 ** (n - 1));
    }
  }
}

function explain(e: unknown, snapshotId: string): Error {
  if (!(e instanceof EbsApiError)) return e as Error;
  if (e.code === "ResourceNotFoundException")
    return new SnapshotReadError(`${snapshotId}: no such snapshot (or not shared with this account): ${e.message}`);
  if (e.code === "AccessDeniedException" || e.status === 403)
    return new SnapshotReadError(
      `${snapshotId}: access denied: the role needs ebs:ListSnapshotBlocks and ebs:GetSnapshotBlock on the snapshot ` +
        `(and kms:Decrypt on its key when it is encrypted): ${e.message}`,
    );
  return new SnapshotReadError(`${snapshotId}: ${e.message}`);
}

/** Every written block of the snapshot, in index order (ListSnapshotBlocks, every page). */
export async function listSnapshot(o: ReadOptions): Promise<SnapshotListing> {
  const blocks: SnapshotBlock[] = [];
  let token: string | undefined;
  let volumeGiB = 0;
  for (let page = 1; ; page++) {
    const r = await withRetries(`ListSnapshotBlocks page ${page}`, o, () =>
      o.source.listSnapshotBlocks(o.snapshotId, token),
    );
    if (r.BlockSize !== EBS_BLOCK_SIZE)
      throw new SnapshotReadError(`${o.snapshotId}: BlockSize ${r.BlockSize}, expected ${EBS_BLOCK_SIZE}`);
    volumeGiB = r.VolumeSize;
    blocks.push(...r.Blocks);
    token = r.NextToken ?? undefined;
    if (!token) break;
  }
  blocks.sort((a, b) => a.BlockIndex - b.BlockIndex);
  return { blocks, volumeBytes: volumeGiB * 2 ** 30 };
}

/** One block, its SHA-256 checked against the API's checksum; retried as a whole until it is right. */
export function fetchBlock(o: ReadOptions, b: SnapshotBlock): Promise<Buffer> {
  return withRetries(`block ${b.BlockIndex}`, o, async () => {
    const r = await o.source.getSnapshotBlock(o.snapshotId, b.BlockIndex, b.BlockToken);
    if (r.checksumAlgorithm !== "SHA256")
      throw new SnapshotReadError(`${o.snapshotId}: block ${b.BlockIndex}: checksum algorithm ${r.checksumAlgorithm}`);
    const sum = createHash("sha256").update(r.data).digest("base64");
    if (r.data.length !== EBS_BLOCK_SIZE || sum !== r.checksum)
      throw new RetryableBlockError(
        `checksum mismatch (${r.data.length} bytes, sha256 ${sum}, the API says ${r.checksum})`,
      );
    return r.data;
  });
}

/**
 * Runs `work` over `items` with at most `concurrency` in flight; the first failure stops new work and rejects
 * once the running ones settled.
 */
export async function bounded<T>(items: T[], concurrency: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed: unknown;
  const lane = async () => {
    while (failed === undefined && next < items.length) {
      const item = items[next++]!;
      await work(item).catch((e: unknown) => {
        failed ??= e;
      });
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, items.length) }, lane));
  if (failed !== undefined) throw failed;
}

/** Block `index` of a file that holds blocks at their offsets (export-snapshot's probe). */
export async function readLocalBlock(fh: FileHandle, file: string, index: number): Promise<Buffer> {
  const b = Buffer.alloc(EBS_BLOCK_SIZE);
  const { bytesRead } = await fh.read(b, 0, b.length, index * EBS_BLOCK_SIZE);
  if (bytesRead !== b.length) throw new Error(`${file}: block ${index} is short (${bytesRead} bytes)`);
  return b;
}

/**
 * Fills `target` (a blank block device, or a file: created sparse at the volume's size) with the snapshot's written
 * blocks. Each block is fetched and checked in memory, then written once with a positional write at its offset:
 * a retried block never leaves part of an attempt on the target. Unlisted blocks are never written (a file keeps
 * its holes, a new EBS volume reads zeros there). Returns the listing.
 */
export async function fillTarget(
  o: ReadOptions & {
    target: string;
    isFile: boolean;
    listing?: SnapshotListing;
    /** Blocks already fetched and checked into a file at their offsets (export-snapshot's probe): copied from it. */
    local?: { file: string; blocks: Set<number> };
  },
): Promise<SnapshotListing> {
  const listing = o.listing ?? (await listSnapshot(o));
  const fh = await open(o.target, o.isFile ? "w" : "r+");
  const local = o.local && (await open(o.local.file, "r"));
  try {
    if (o.isFile) await fh.truncate(listing.volumeBytes);
    let done = 0;
    await bounded(listing.blocks, o.concurrency ?? 32, async (b) => {
      const data = o.local?.blocks.has(b.BlockIndex)
        ? await readLocalBlock(local!, o.local.file, b.BlockIndex)
        : await fetchBlock(o, b);
      for (let off = 0; off < data.length;) {
        const { bytesWritten } = await fh.write(data, off, data.length - off, b.BlockIndex * EBS_BLOCK_SIZE + off);
        off += bytesWritten;
      }
      o.onBlock?.(++done, listing.blocks.length);
    });
    if (!o.isFile) await fh.sync();
  } finally {
    await fh.close();
    await local?.close();
  }
  return listing;
}
