import { createHash } from "node:crypto";
import { ObjectStore } from "./store";
import { MAX_PARTS } from "./part-size";

export interface UploadOptions {
  partSize: number;
  /** Parts uploaded at once. Memory held is about (concurrency + 1) x partSize. */
  concurrency: number;
  /**
   * Called after the last part was uploaded and before the upload is completed. The pipeline uses it
   * to wait for every producing process and throw if any failed, so a stream that merely ended
   * (e.g. tar died and zstd closed its frame) is never completed into an object.
   */
  beforeComplete?: () => Promise<void>;
  /** Observes each finished part (tests use it to count parts in flight). */
  onPart?: (e: { partNumber: number; bytes: number; inFlight: number }) => void;
  onBytes?: (n: number) => void;
}

export interface UploadResult {
  bytes: number;
  sha256: string;
  parts: number;
}

/**
 * Streams `source` into a multipart upload. Reading stops while `concurrency` parts are in flight
 * (back-pressure reaches the compressor and tar through the pipes), so memory stays bounded
 * whatever the size. Each part carries its SHA-256 for S3 to check; the SHA-256 of the whole
 * stream is computed on the way. On any failure the upload is aborted and the error rethrown.
 */
export async function uploadStream(
  source: AsyncIterable<Buffer>,
  store: ObjectStore,
  key: string,
  opts: UploadOptions,
): Promise<UploadResult> {
  const { partSize, concurrency } = opts;
  if (concurrency < 1) throw new RangeError("concurrency must be >= 1");
  const writer = await store.createMultipart(key);
  const whole = createHash("sha256");
  const inFlight = new Set<Promise<void>>();
  let failure: unknown;
  let partNumber = 0;
  let total = 0;

  const launch = async (body: Buffer) => {
    while (inFlight.size >= concurrency && failure === undefined) await Promise.race(inFlight);
    if (failure !== undefined) throw failure;
    partNumber++;
    if (partNumber > MAX_PARTS) throw new Error(`${key}: stream exceeds ${MAX_PARTS} parts of ${partSize} bytes`);
    const n = partNumber;
    const offset = (n - 1) * partSize;
    const sha = createHash("sha256").update(body).digest("base64");
    const p: Promise<void> = writer
      .uploadPart(n, body, sha, offset)
      .then(() => opts.onPart?.({ partNumber: n, bytes: body.length, inFlight: inFlight.size }))
      .catch((e: unknown) => {
        failure ??= e;
      })
      .finally(() => inFlight.delete(p));
    inFlight.add(p);
  };

  try {
    let buf = Buffer.allocUnsafe(partSize);
    let fill = 0;
    for await (const chunk of source) {
      whole.update(chunk);
      total += chunk.length;
      opts.onBytes?.(chunk.length);
      let off = 0;
      while (off < chunk.length) {
        const n = Math.min(partSize - fill, chunk.length - off);
        chunk.copy(buf, fill, off, off + n);
        fill += n;
        off += n;
        if (fill === partSize) {
          await launch(buf);
          buf = Buffer.allocUnsafe(partSize);
          fill = 0;
        }
      }
      if (failure !== undefined) throw failure;
    }
    // S3 needs at least one part; an empty stream becomes one empty part
    if (fill > 0 || partNumber === 0) await launch(buf.subarray(0, fill));
    await Promise.all(inFlight);
    if (failure !== undefined) throw failure;
    await opts.beforeComplete?.();
    await writer.complete();
    return { bytes: total, sha256: whole.digest("hex"), parts: partNumber };
  } catch (e) {
    await Promise.allSettled(inFlight);
    await writer.abort().catch(() => undefined);
    throw e;
  }
}
