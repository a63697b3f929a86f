import { createHash, Hash } from "node:crypto";
import os from "node:os";
import { compositeSha256 } from "../../core/s3-checksum";
import { WORKER_ENVIRONMENT } from "../../core/worker-job";
import { MAX_PARTS, MIB } from "./part-size";
import { DirectWriter, ObjectStore, PartBody } from "./store";
import { BackupActionsError } from "../../core/errors";

export interface UploadOptions {
  partSize: number;
  /**
   * Parts held at once, at most: a part is filled only while fewer than `concurrency` are in
   * flight, so this many buffers exist at most. Fewer when the memory budget cannot hold them.
   * Parts live in memory only, never on disk.
   */
  concurrency: number;
  /**
   * Bytes of part buffers the upload may hold. Parts grow with the device (10,000 parts: ~1.7 GiB
   * for 16 TiB, 5 GiB from ~48 TiB), so the concurrency is cut to what fits, and an upload that
   * cannot hold two parts (one filling, one in flight) is refused before it starts.
   * @default $BACKUP_ACTIONS_PART_MEMORY_MIB (set by the job definition), else a quarter of the machine's memory
   */
  memoryBudget?: number;
  /**
   * Called after the last part was uploaded and before the upload is completed. The pipeline uses it
   * to wait for every producing process and throw if any failed, so a stream that merely ended
   * (e.g. tar died and zstd closed its frame) is never completed into an object.
   */
  beforeComplete?: () => Promise<void>;
  /** Observes each finished part (tests use it). */
  onPart?: (e: { partNumber: number; bytes: number }) => void;
}

export interface UploadResult {
  bytes: number;
  /** Hex SHA-256 of the whole stream. */
  sha256: string;
  /** S3's composite SHA-256 of the object, computed from the SHA-256 of each part sent (see manifest.ts). */
  s3ChecksumSHA256: string;
  parts: number;
  /** The concurrency after the memory budget. */
  concurrency: number;
  /** Part buffers allocated: at most `concurrency`. */
  partBuffers: number;
}

/** Environment variable with the part-buffer budget in MiB (the job definition sets it from worker.memoryMiB). */
export const PART_MEMORY_ENV = WORKER_ENVIRONMENT.partMemoryMiB;
const PART_ATTEMPTS = 3;

export class PartBudgetError extends BackupActionsError {
  override readonly name: string = "PartBudgetError";
}

/** The part-buffer budget: $BACKUP_ACTIONS_PART_MEMORY_MIB, else a quarter of the machine's memory. */
export function defaultMemoryBudget(env: NodeJS.ProcessEnv = process.env, totalMemory = os.totalmem()): number {
  const v = env[PART_MEMORY_ENV];
  if (v === undefined || v === "") return Math.floor(totalMemory / 4);
  const mib = Number(v);
  if (!Number.isInteger(mib) || mib < 1)
    throw new PartBudgetError(`${PART_MEMORY_ENV} must be a positive whole number of MiB, got "${v}"`);
  return mib * MIB;
}

/**
 * How many parts may be held with `memoryBudget` bytes of buffers: `concurrency`, or fewer so that
 * they fit. Throws when not even two fit: one filling while one uploads is what keeps zstd moving.
 */
export function partConcurrency(partSize: number, concurrency: number, memoryBudget: number): number {
  if (!Number.isInteger(concurrency) || concurrency < 1) throw new RangeError("concurrency must be >= 1");
  const buffers = Math.floor(memoryBudget / partSize);
  if (buffers < 2) {
    const mib = (n: number) => `${Math.round(n / MIB)} MiB`;
    throw new PartBudgetError(
      `parts of ${mib(partSize)} need two buffers (${mib(2 * partSize)}: one filling, one uploading), ` +
        `but the part-buffer budget is ${mib(memoryBudget)} (${PART_MEMORY_ENV}); ` +
        "give the job more memory (worker.memoryMiB) or export smaller volumes (worker.maxVolumeGiB)",
    );
  }
  return Math.min(concurrency, buffers);
}

/** One part being filled, in memory. Hashes as it fills. */
interface PartBuffer {
  readonly length: number;
  append(chunk: Buffer): void;
  finish(): { body: PartBody; sha256: string; release: () => void };
  discard(): void;
}

/** Part buffers are reused: allocating a fresh multi-MiB buffer per part costs page faults and GC time. */
function memoryPart(pool: Buffer[], allocate: () => Buffer): PartBuffer {
  const buf = pool.pop() ?? allocate();
  const hash: Hash = createHash("sha256");
  let fill = 0;
  return {
    get length() {
      return fill;
    },
    append(c) {
      c.copy(buf, fill);
      hash.update(c);
      fill += c.length;
    },
    finish() {
      return {
        body: buf.subarray(0, fill),
        sha256: hash.digest("base64"),
        release: () => {
          pool.push(buf);
        },
      };
    },
    discard() {
      pool.push(buf);
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
  const { partSize } = opts;
  // Refused before the multipart upload exists: nothing to abort.
  const concurrency = partConcurrency(partSize, opts.concurrency, opts.memoryBudget ?? defaultMemoryBudget());
  const pool: Buffer[] = [];
  let partBuffers = 0;
  const allocate = () => {
    partBuffers++;
    return Buffer.allocUnsafe(partSize);
  };
  const newPart = () => memoryPart(pool, allocate);
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
    const { body, sha256, release } = part.finish();
    partSha256[n - 1] = sha256;
    const send = async () => {
      // our own retry: the part stays in its buffer until it was sent
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
      .then(() => opts.onPart?.({ partNumber: n, bytes: part.length }))
      .catch((e: unknown) => {
        failure ??= e;
      })
      .finally(() => {
        inFlight.delete(p);
        return release();
      });
    inFlight.add(p);
  };
  /** Waits for a free slot: a part is filled only while fewer than `concurrency` are in flight. */
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
          current = newPart();
        }
        const n = Math.min(partSize - current.length, chunk.length - off);
        current.append(chunk.subarray(off, off + n));
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
        current = newPart();
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
    return { bytes: total, sha256: whole.digest("hex"), s3ChecksumSHA256, parts: partNumber, concurrency, partBuffers };
  } catch (e) {
    current?.discard();
    await Promise.allSettled(inFlight);
    await writer.abort().catch(() => undefined);
    throw e;
  }
}

export interface FollowOptions {
  partSize: number;
  /** Settles when the producer writing the file has exited: every byte is in the file by then. Rejects when it failed. */
  written: Promise<void>;
  /** As in UploadOptions: waits for every producing process and throws if any failed. */
  beforeComplete?: () => Promise<void>;
}

/** Bytes read back at once: the hashes run over large slices, and one buffer serves the whole object. */
const FOLLOW_CHUNK = 4 * MIB;
/**
 * How long to wait for the producer to write more once the reader caught up. Each wait costs a
 * timer and a read on the thread pool (10 ms cost ~1 s of CPU in a minute's export, 100 ms a fifth of
 * that); the bytes wait in the page cache meanwhile, and the producer's exit ends a wait at once.
 */
const FOLLOW_WAIT_MS = 100;

/**
 * The counterpart of uploadStream for a store the compressor writes to itself (a local file, see
 * store.ts DirectWriter): reads the bytes back as they are written, from the page cache, and
 * computes the same results - the SHA-256 of the whole stream and of each `partSize` slice (S3's
 * composite checksum, as if the object had been uploaded in such parts) - without copying the
 * stream through a pipe into part buffers. Completes only after `written` resolved, every byte
 * was read and beforeComplete passed; on any failure the writer is aborted and the error rethrown.
 */
export async function followUpload(writer: DirectWriter, key: string, opts: FollowOptions): Promise<UploadResult> {
  const { partSize } = opts;
  if (!Number.isInteger(partSize) || partSize < 1) {
    await writer.abort();
    throw new RangeError(`part size must be a whole number >= 1, got ${partSize}`);
  }
  const buf = Buffer.allocUnsafe(Math.min(FOLLOW_CHUNK, partSize));
  const whole = createHash("sha256");
  let part = createHash("sha256");
  let inPart = 0;
  const partSha256: string[] = [];
  let position = 0;
  let exited = false;
  let failure: unknown;
  const written = opts.written.then(
    () => {
      exited = true;
    },
    (e: unknown) => {
      failure ??= e;
      exited = true;
    },
  );
  try {
    for (;;) {
      // seen before the read: a read that starts after the producer exited sees all its bytes
      const ended = exited;
      const n = await writer.read(buf, Math.min(buf.length, partSize - inPart), position);
      if (failure !== undefined) throw failure;
      if (n > 0) {
        const chunk = buf.subarray(0, n);
        whole.update(chunk);
        part.update(chunk);
        position += n;
        inPart += n;
        if (inPart === partSize) {
          partSha256.push(part.digest("base64"));
          part = createHash("sha256");
          inPart = 0;
        }
        if (position > MAX_PARTS * partSize)
          throw new Error(`${key}: stream exceeds ${MAX_PARTS} parts of ${partSize} bytes`);
        continue;
      }
      if (ended) break;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, FOLLOW_WAIT_MS);
        void written.then(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    // S3 needs at least one part; an empty stream is one empty part
    if (inPart > 0 || partSha256.length === 0) partSha256.push(part.digest("base64"));
    await opts.beforeComplete?.();
    const s3ChecksumSHA256 = compositeSha256(partSha256);
    await writer.complete();
    return {
      bytes: position,
      sha256: whole.digest("hex"),
      s3ChecksumSHA256,
      parts: partSha256.length,
      concurrency: 1,
      partBuffers: 0,
    };
  } catch (e) {
    await writer.abort().catch(() => undefined);
    throw e;
  }
}
