import { ChildProcess, spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { Transform, Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { ManifestItem } from "./manifest";
import { exitOf } from "./pipeline";
import { ObjectStore } from "./store";

export interface ReadbackResult {
  compressedBytes: number;
  sha256: string;
  decompressedBytes: number;
  /** Errors of the stages (download, zstd, consumer), in the order they happened. */
  errors: string[];
}

function counter(onChunk: (c: Buffer) => void): Transform {
  return new Transform({
    transform(chunk: Buffer, _enc, cb) {
      onChunk(chunk);
      cb(null, chunk);
    },
  });
}

/**
 * Streams an item's object through SHA-256 and `zstd -d` into a consumer: a process reading stdin
 * (tar -t, tar -x) or a writable (image file, block device). Nothing is buffered beyond the pipes.
 * Never throws for data problems: every stage's error is collected so verify can report all of them,
 * and a failing stage stops the others.
 */
export async function readBack(
  store: ObjectStore,
  item: ManifestItem,
  consumer: { process: ChildProcess; name: string } | { writable: Writable },
  onCompressedBytes?: (n: number) => void,
): Promise<ReadbackResult> {
  const hash = createHash("sha256");
  let compressed = 0;
  let decompressed = 0;
  const errors: string[] = [];
  const zstd = spawn("zstd", ["-d", "-c", "-q"], { stdio: ["pipe", "pipe", "pipe"] });
  const procs: ChildProcess[] = [zstd];
  const stages: Promise<unknown>[] = [exitOf(zstd, "zstd -d").done];
  const sinkStream = "process" in consumer ? consumer.process.stdin! : consumer.writable;
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
          hash.update(c);
          compressed += c.length;
          onCompressedBytes?.(c.length);
        }),
        zstd.stdin!,
      ),
      pipeline(zstd.stdout!, counter((c) => (decompressed += c.length)), sinkStream),
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
  return { compressedBytes: compressed, sha256: hash.digest("hex"), decompressedBytes: decompressed, errors };
}

/** Compares a read-back with the manifest; returns the problems found (empty = all holds). */
export function checkAgainstManifest(item: ManifestItem, r: ReadbackResult): string[] {
  const problems = [...r.errors];
  if (r.compressedBytes !== item.compressedBytes) problems.push(`size ${r.compressedBytes} bytes, manifest says ${item.compressedBytes}`);
  if (r.sha256 !== item.sha256) problems.push(`SHA-256 ${r.sha256}, manifest says ${item.sha256}`);
  if (r.errors.length === 0 && item.uncompressedBytes !== undefined && r.decompressedBytes !== item.uncompressedBytes) {
    problems.push(`decompresses to ${r.decompressedBytes} bytes, manifest says ${item.uncompressedBytes}`);
  }
  return problems;
}

export function spawnConsumer(cmd: string, args: string[]): { process: ChildProcess; name: string } {
  return { process: spawn(cmd, args, { stdio: ["pipe", "pipe", "pipe"] }), name: cmd };
}
