import { ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CompositeSha256, parseS3Sha256 } from "../../core/s3-checksum";
import { StoredObject } from "../../core/manifest";
import { exitOf } from "./pipeline";
import { ObjectStore } from "./store";

export interface ReadbackResult {
  compressedBytes: number;
  sha256: string;
  /**
   * The object's S3 checksum recomputed from the bytes read, in the form the manifest records it
   * (composite from parts of the item's `partSize`, or plain base64); undefined when the manifest
   * records none, or a composite without `partSize` (it cannot be recomputed then).
   */
  s3ChecksumSHA256?: string;
  decompressedBytes: number;
  /** Errors of the stages (download, zstd, consumer), in the order they happened. */
  errors: string[];
}

/** Passes chunks on after `onChunk` saw them; an Error it returns stops the stream (nothing of that chunk passes). */
function counter(onChunk: (c: Buffer) => Error | void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      const stop = onChunk(chunk);
      if (stop) cb(stop);
      else cb(null, chunk);
    },
  });
}

/**
 * Bytes beyond what the manifest records are never passed on: a decompression bomb (or an object
 * longer than recorded) stops at the recorded size, before the consumer (tar, an image file, a
 * device) receives one byte more. The item then fails with this message.
 */
function beyond(what: string, limit: number | undefined, count: number): Error | void {
  if (limit !== undefined && count > limit) {
    return new Error(`stopped: ${what} exceeds the ${limit} bytes the manifest records`);
  }
}

/**
 * Streams an item's object through SHA-256 and `zstd -d` into a consumer: a process reading stdin
 * (tar -t, tar -x) or a writable (image file, block device). Nothing is buffered beyond the pipes.
 * Never throws for data problems: every stage's error is collected so verify can report all of them,
 * and a failing stage stops the others. Reading stops as soon as the object outgrows the recorded
 * `compressedBytes`, and decompression as soon as its output outgrows `uncompressedBytes`.
 */
export async function readBack(
  store: ObjectStore,
  item: StoredObject,
  consumer: { process: ChildProcess; name: string } | { writable: Writable },
  onCompressedBytes?: (n: number) => void,
): Promise<ReadbackResult> {
  const hash = createHash("sha256");
  const composite = recomputable(item) ? new CompositeSha256(item.partSize!) : undefined;
  let compressed = 0;
  let decompressed = 0;
  const errors: string[] = [];
  const zstd = spawn("zstd", ["-d", "-c", "-q"], { stdio: ["pipe", "pipe", "pipe"] });
  const procs: ChildProcess[] = [zstd];
  const stages: Promise<unknown>[] = [exitOf(zstd, "zstd -d").done];
  const sinkStream = "process" in consumer ? stdinOf(consumer.process) : consumer.writable;
  if ("process" in consumer) {
    procs.push(consumer.process);
    stages.push(exitOf(consumer.process, consumer.name).done);
  }
  const kill = () => procs.forEach((p) => p.exitCode === null && p.signalCode === null && p.kill("SIGKILL"));
  try {
    const body = await store.get(item.key!);
    stages.push(
      pipeline(
        body,
        counter((c) => {
          const stop = beyond("the object", item.compressedBytes, compressed + c.length);
          if (stop) return stop;
          hash.update(c);
          composite?.update(c);
          compressed += c.length;
          onCompressedBytes?.(c.length);
          return undefined;
        }),
        zstd.stdin!,
      ),
      pipeline(
        zstd.stdout!,
        counter((c) => beyond("decompressed output", item.uncompressedBytes, (decompressed += c.length))),
        sinkStream,
      ),
    );
  } catch (e) {
    errors.push(`read ${item.key}: ${(e as Error).message}`);
    zstd.stdin!.destroy();
    sinkStream.destroy();
  }
  const settled = stages.map((s) =>
    s.then(
      () => undefined,
      (e: Error) => {
        errors.push(e.message);
        kill();
      },
    ),
  );
  await Promise.all(settled);
  const digest = hash.digest();
  let s3ChecksumSHA256: string | undefined;
  if (composite) s3ChecksumSHA256 = composite.digest();
  else if (item.s3ChecksumSHA256 !== undefined && !isComposite(item)) s3ChecksumSHA256 = digest.toString("base64");
  return {
    compressedBytes: compressed,
    sha256: digest.toString("hex"),
    s3ChecksumSHA256,
    decompressedBytes: decompressed,
    errors,
  };
}

function isComposite(item: StoredObject): boolean {
  try {
    return parseS3Sha256(item.s3ChecksumSHA256).parts !== undefined;
  } catch {
    return false; // parseManifest has rejected it already; compared (and reported) as it is
  }
}

/** A composite checksum is recomputed per part: only with the part size the object was uploaded with. */
function recomputable(item: StoredObject): boolean {
  return isComposite(item) && Number.isSafeInteger(item.partSize) && item.partSize! > 0;
}

/** Compares a read-back with the manifest; returns the problems found (empty = all holds). */
export function checkAgainstManifest(item: StoredObject, r: ReadbackResult): string[] {
  const problems = [...r.errors];
  if (r.compressedBytes !== item.compressedBytes)
    problems.push(`size ${r.compressedBytes} bytes, manifest says ${item.compressedBytes}`);
  if (r.sha256 !== item.sha256) problems.push(`SHA-256 ${r.sha256}, manifest says ${item.sha256}`);
  if (item.s3ChecksumSHA256 !== undefined) {
    if (r.s3ChecksumSHA256 === undefined)
      problems.push(`S3 checksum ${item.s3ChecksumSHA256} cannot be recomputed: the manifest records no partSize`);
    else if (r.s3ChecksumSHA256 !== item.s3ChecksumSHA256) {
      // base64 has no "-": only a composite names its part count
      const how = r.s3ChecksumSHA256.includes("-") ? ` (parts of ${item.partSize} bytes)` : "";
      problems.push(`S3 checksum ${r.s3ChecksumSHA256}${how}, manifest says ${item.s3ChecksumSHA256}`);
    }
  }
  if (r.errors.length === 0 && item.uncompressedBytes !== undefined && r.decompressedBytes !== item.uncompressedBytes) {
    problems.push(`decompresses to ${r.decompressedBytes} bytes, manifest says ${item.uncompressedBytes}`);
  }
  return problems;
}

/**
 * A writable into a consumer process's stdin that lets the consumer leave first. tar stops reading
 * at its end-of-archive records and exits, which can happen before zstd's output has ended; Node then
 * destroys the child's stdin and a plain pipeline fails with "Premature close" although nothing is
 * wrong. Bytes that arrive after the consumer has gone are dropped here (they are still counted and
 * hashed upstream, so a byte count that disagrees with the manifest is still reported); whether the
 * consumer was content is judged by its exit status alone.
 */
function stdinOf(child: ChildProcess): Writable {
  const stdin = child.stdin!;
  let gone = false;
  // EPIPE or a destroyed stdin: the consumer closed its end; its exit status says whether that was fine
  stdin.on("error", () => (gone = true));
  stdin.on("close", () => (gone = true));
  const whenSettled = (events: string[], cb: () => void) => {
    const done = () => {
      for (const e of events) stdin.off(e, done);
      cb();
    };
    for (const e of events) stdin.on(e, done);
  };
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (gone || stdin.destroyed) return cb();
      if (stdin.write(chunk)) return cb();
      whenSettled(["drain", "close"], () => cb());
    },
    final(cb) {
      if (gone || stdin.destroyed) return cb();
      whenSettled(["finish", "close"], () => cb());
      stdin.end();
    },
    destroy(err, cb) {
      if (!stdin.destroyed) stdin.destroy();
      cb(err);
    },
  });
}

export function spawnConsumer(cmd: string, args: string[]): { process: ChildProcess; name: string } {
  return { process: spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] }), name: cmd };
}
