import { createHash, Hash } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { compositeSha256 } from "../../core/s3-checksum";
import { MAX_PARTS, MIB } from "./part-size";
import { ObjectStore, PartBody } from "./store";

export interface UploadOptions {
  partSize: number;
  /** Parts uploaded at once. At most (concurrency + 1) parts are held (in memory or spooled). */
  concurrency: number;
  /**
   * Largest amount of part data kept in memory. When (concurrency + 1) x partSize exceeds it (the part
   * size grows with the device: ~1.7 GiB for 16 TiB), parts are spooled to files in `spoolDir`
   * instead, so the worker's memory stays bounded whatever the volume size.
   * @default 256 MiB
   */
  memoryBudget?: number;
  /** @default $BACKUP_ACTIONS_SPOOL_DIR or the OS temp directory */
  spoolDir?: string;
  /**
   * Called after the last part was uploaded and before the upload is completed. The pipeline uses it
   * to wait for every producing process and throw if any failed, so a stream that merely ended
   * (e.g. tar died and zstd closed its frame) is never completed into an object.
   */
  beforeComplete?: () => Promise<void>;
  /** Observes each finished part (tests use it). */
  onPart?: (e: { partNumber: number; bytes: number; spooled: boolean }) => void;
}

export interface UploadResult {
  bytes: number;
  /** Hex SHA-256 of the whole stream. */
  sha256: string;
  /** S3's composite SHA-256 of the object, computed from the SHA-256 of each part sent (see manifest.ts). */
  s3ChecksumSHA256: string;
  parts: number;
  spooled: boolean;
}

export const DEFAULT_MEMORY_BUDGET = 256 * MIB;
const PART_ATTEMPTS = 3;

/** One part being filled: in memory, or in a spool file. Hashes as it fills. */
interface PartBuffer {
  readonly length: number;
  append(chunk: Buffer): Promise<void>;
  finish(): Promise<{ body: PartBody; sha256: string; release: () => Promise<void> }>;
  discard(): Promise<void>;
}

/** Part buffers are reused: allocating a fresh multi-MiB buffer per part costs page faults and GC time. */
function memoryPart(pool: Buffer[], size: number): PartBuffer {
  const buf = pool.pop() ?? Buffer.allocUnsafe(size);
  const hash: Hash = createHash("sha256");
  let fill = 0;
  return {
    get length() {
      return fill;
    },
    async append(c) {
      c.copy(buf, fill);
      hash.update(c);
      fill += c.length;
    },
    async finish() {
      return {
        body: buf.subarray(0, fill),
        sha256: hash.digest("base64"),
        release: async () => {
          pool.push(buf);
        },
      };
    },
    async discard() {
      pool.push(buf);
    },
  };
}

async function spoolPart(dir: string, n: number): Promise<PartBuffer> {
  const file = path.join(dir, `part-${n}`);
  const fh = await fs.open(file, "w");
  const hash = createHash("sha256");
  let fill = 0;
  return {
    get length() {
      return fill;
    },
    async append(c) {
      hash.update(c);
      for (let done = 0; done < c.length; ) done += (await fh.write(c, done, c.length - done)).bytesWritten;
      fill += c.length;
    },
    async finish() {
      await fh.close();
      return { body: { path: file, length: fill }, sha256: hash.digest("base64"), release: () => fs.rm(file, { force: true }) };
    },
    async discard() {
      await fh.close().catch(() => undefined);
      await fs.rm(file, { force: true });
    },
  };
}

/**
 * Streams `source` into a multipart upload. Reading stops while `concurrency` parts are in flight
 * (back-pressure reaches zstd and tar through the pipes), so memory stays bounded whatever the
 * size. Each part carries its SHA-256 for S3 to check, and they make S3's composite checksum of the
 * object, which the store checks on completion; the SHA-256 of the whole stream is computed on the way. On any failure the upload is aborted and the error rethrown.
 */
export async function uploadStream(
  source: AsyncIterable<Buffer>,
  store: ObjectStore,
  key: string,
  opts: UploadOptions,
): Promise<UploadResult> {
  const { partSize, concurrency } = opts;
  if (concurrency < 1) throw new RangeError("concurrency must be >= 1");
  const spool = partSize * (concurrency + 1) > (opts.memoryBudget ?? DEFAULT_MEMORY_BUDGET);
  const spoolDir = spool
    ? await fs.mkdtemp(path.join(opts.spoolDir ?? process.env.BACKUP_ACTIONS_SPOOL_DIR ?? os.tmpdir(), "backup-actions-spool-"))
    : undefined;
  const pool: Buffer[] = [];
  const newPart = (n: number) => (spoolDir ? spoolPart(spoolDir, n) : Promise.resolve(memoryPart(pool, partSize)));
  const writer = await store.createMultipart(key);
  const whole = createHash("sha256");
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let partNumber = 0;
  /** Base64 SHA-256 of each part, by part number - 1: S3's composite checksum is made of them. */
  const partSha256: string[] = [];
  let total = 0;
  let current: PartBuffer | undefined;

  const launch = async (part: PartBuffer) => {
    partNumber++;
    if (partNumber > MAX_PARTS) throw new Error(`${key}: stream exceeds ${MAX_PARTS} parts of ${partSize} bytes`);
    const n = partNumber;
    const offset = (n - 1) * partSize;
    const { body, sha256, release } = await part.finish();
    partSha256[n - 1] = sha256;
    const send = async () => {
      // our own retry: a spooled part is re-read from its file on each attempt
      for (let attempt = 1; ; attempt++) {
        try {
          return await writer.uploadPart(n, body, sha256, offset);
        } catch (e) {
          if (attempt >= PART_ATTEMPTS || failure !== undefined) throw e;
          await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
        }
      }
    };
    const p: Promise<void> = send()
      .then(() => opts.onPart?.({ partNumber: n, bytes: part.length, spooled: spool }))
      .catch((e: unknown) => {
        failure ??= e;
      })
      .finally(() => {
        inFlight.delete(p);
        return release();
      });
    inFlight.add(p);
  };
  /** Waits for a free slot: at most `concurrency` parts in flight plus the one being filled. */
  const slot = async () => {
    while (inFlight.size >= concurrency && failure === undefined) await Promise.race(inFlight);
    if (failure !== undefined) throw failure;
  };

  try {
    for await (const chunk of source) {
      whole.update(chunk);
      total += chunk.length;
      let off = 0;
      while (off < chunk.length) {
        if (!current) {
          await slot();
          current = await newPart(partNumber + 1);
        }
        const n = Math.min(partSize - current.length, chunk.length - off);
        await current.append(chunk.subarray(off, off + n));
        off += n;
        if (current.length === partSize) {
          const full = current;
          current = undefined;
          await launch(full);
        }
      }
      if (failure !== undefined) throw failure;
    }
    // S3 needs at least one part; an empty stream becomes one empty part
    if (current || partNumber === 0) {
      if (!current) {
        await slot();
        current = await newPart(1);
      }
      const last = current;
      current = undefined;
      await launch(last);
    }
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    await opts.beforeComplete?.();
    const s3ChecksumSHA256 = compositeSha256(partSha256);
    await writer.complete(s3ChecksumSHA256);
    return { bytes: total, sha256: whole.digest("hex"), s3ChecksumSHA256, parts: partNumber, spooled: spool };
  } catch (e) {
    await current?.discard();
    await Promise.allSettled(inFlight);
    await writer.abort().catch(() => undefined);
    throw e;
  } finally {
    if (spoolDir) await fs.rm(spoolDir, { recursive: true, force: true });
  }
}
