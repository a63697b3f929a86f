import { ChildProcess, spawn } from "node:child_process";
import { createReadStream, readFileSync } from "node:fs";
import { PassThrough, Readable, Transform } from "node:stream";
import { pipeline } from "node:stream/promises";
import { CommandError } from "./exec";
import { DirectWriter, ObjectStore } from "./store";
import { followUpload, uploadStream } from "./upload";

export interface StreamOptions {
  store: ObjectStore;
  key: string;
  compressionLevel: number;
  partSize: number;
  concurrency: number;
  /** zstd worker threads (`-T`): the job's CPUs (cpus.ts), never `-T0`'s count of the host's cores. */
  zstdThreads: number;
  /** Bytes of part buffers the upload may hold. @default upload.ts defaultMemoryBudget() */
  memoryBudget?: number;
  /** Receives a function that returns the bytes read so far by the running item. */
  onStart?: (sample: () => number) => void;
}

export interface StreamResult {
  uncompressedBytes: number;
  compressedBytes: number;
  sha256: string;
  s3ChecksumSHA256: string;
  parts: number;
  files?: number;
}

const STDERR_KEEP = 16 * 1024;

/** tar/zstd processes running now, so a signal handler can stop them before unmounting. */
const active = new Set<ChildProcess>();

function track(child: ChildProcess): ChildProcess {
  active.add(child);
  child.on("close", () => active.delete(child));
  return child;
}

/** Kills every running pipeline process (SIGKILL) and waits until they are gone. */
export async function stopPipelines(): Promise<void> {
  const running = [...active];
  await Promise.all(
    running.map(
      (c) =>
        new Promise<void>((resolve) => {
          if (c.exitCode !== null || c.signalCode !== null) return resolve();
          c.once("close", () => resolve());
          c.kill("SIGKILL");
        }),
    ),
  );
}

/** Resolves when the process exits 0; rejects with its stderr tail on a non-zero exit or a signal. */
export function exitOf(
  child: ChildProcess,
  name: string,
  /** Takes complete stderr lines that are not messages (e.g. tar's verbose listing) out of the error text. */
  claimLine?: (line: string) => boolean,
): { done: Promise<void>; stderr: () => string } {
  let err = "";
  let partial = "";
  child.stderr?.on("data", (b: Buffer) => {
    if (!claimLine) {
      err = (err + b.toString()).slice(-STDERR_KEEP);
      return;
    }
    const lines = (partial + b.toString()).split("\n");
    partial = lines.pop()!;
    for (const l of lines) if (!claimLine(l)) err = (err + l + "\n").slice(-STDERR_KEEP);
  });
  child.stderr?.on("end", () => {
    if (partial && !claimLine?.(partial)) err = (err + partial).slice(-STDERR_KEEP);
  });
  const done = new Promise<void>((resolve, reject) => {
    child.on("error", (e) => reject(new CommandError(name, null, null, e.message)));
    child.on("close", (code, signal) => (code === 0 ? resolve() : reject(new CommandError(name, code, signal, err))));
  });
  done.catch(() => undefined); // observed by the caller; avoid an unhandled rejection in between
  return { done, stderr: () => err };
}

export function zstdArgs(level: number, threads: number): string[] {
  if (!Number.isInteger(level) || level < 1 || level > 19)
    throw new RangeError(`compression level must be 1..19, got ${level}`);
  if (!Number.isInteger(threads) || threads < 1)
    throw new RangeError(`zstd threads must be a whole number >= 1, got ${threads}`);
  return [`-T${threads}`, `-${level}`, "-c", "-q"];
}

/** Bytes a process has read so far (/proc/PID/io rchar); 0 when not readable. */
function procReadBytes(pid: number | undefined): () => number {
  let last = 0;
  return () => {
    if (pid === undefined) return last;
    try {
      const m = /^rchar:\s*(\d+)/m.exec(readFileSync(`/proc/${pid}/io`, "utf8"));
      if (m) last = Number(m[1]);
    } catch {
      // process gone: keep the last figure
    }
    return last;
  };
}

/**
 * Where zstd writes: the store's own file when it has one (file://: zstd writes the object itself and
 * the worker reads it back to hash it), else a pipe to the uploader (undefined).
 */
function openSink(o: StreamOptions): Promise<DirectWriter | undefined> {
  return o.store.openDirect ? o.store.openDirect(o.key) : Promise.resolve(undefined);
}

/** zstd's stdout: the sink's file, or a pipe. */
const zstdOut = (sink: DirectWriter | undefined) => (sink ? sink.fd : "pipe");

/**
 * Runs producer processes feeding zstd, and uploads zstd's output. Pipefail semantics: the upload
 * is completed only after every process exited 0; any failure (exit code, signal, stream error,
 * upload error) kills the other stages, aborts the multipart upload and rejects.
 */
async function compressAndUpload(
  stages: { child: ChildProcess; name: string; claimLine?: (line: string) => boolean }[],
  zstd: ChildProcess,
  extra: Promise<void>[],
  o: StreamOptions,
  sink: DirectWriter | undefined,
): Promise<{ bytes: number; sha256: string; s3ChecksumSHA256: string; parts: number; stderr: Map<string, string> }> {
  const all = [...stages, { child: zstd, name: "zstd" }];
  const exits = all.map((s) => ({ ...s, ...exitOf(s.child, s.name, "claimLine" in s ? s.claimLine : undefined) }));
  const killAll = () => {
    for (const s of all) if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill("SIGKILL");
  };
  const waits = [...exits.map((e) => e.done), ...extra];
  // the first failure anywhere stops everything at once instead of waiting for the stream to drain;
  // it is also the root cause to report (later ones are its consequences: EPIPE, killed stages)
  let first: unknown;
  for (const w of waits)
    w.catch((x: unknown) => {
      first ??= x;
      killAll();
    });
  const zstdExit = exits[exits.length - 1].done;
  const beforeComplete = async () => {
    await Promise.all(waits);
  };
  // Listen to zstd's output now: Node discards a child's stdout that nobody reads when the child
  // exits (flushStdio), and a small item's zstd can exit before uploadStream's first await returns.
  const out = sink ? undefined : zstd.stdout!.pipe(new PassThrough());
  try {
    const up = sink
      ? await followUpload(sink, o.key, { partSize: o.partSize, written: zstdExit, beforeComplete })
      : await uploadStream(out!, o.store, o.key, {
          partSize: o.partSize,
          concurrency: o.concurrency,
          memoryBudget: o.memoryBudget,
          beforeComplete,
        });
    return { ...up, stderr: new Map(exits.map((e) => [e.name, e.stderr()])) };
  } catch (e) {
    first ??= e;
    killAll();
    await Promise.allSettled(waits);
    throw first;
  }
}

/** tar flags: everything a restore needs to reproduce the tree (owners by number, modes, xattrs, ACLs, links, holes). */
export function tarCreateArgs(dir: string, oneFileSystem: boolean): string[] {
  return [
    "--create",
    "--file=-",
    "--numeric-owner",
    "--xattrs",
    "--xattrs-include=*",
    "--acls",
    "--sparse",
    ...(oneFileSystem ? ["--one-file-system"] : []),
    // with the archive on stdout, --verbose lists members on stderr: one line each, every name
    // starting with "./" (we archive "."), so they are told apart from tar's messages ("tar: ...")
    "--totals",
    "--verbose",
    "-C",
    dir,
    ".",
  ];
}

/** Archives a mounted filesystem: tar | zstd -T<job CPUs> | multipart upload. */
export async function tarToStore(dir: string, fsType: string, o: StreamOptions): Promise<StreamResult> {
  // btrfs subvolumes have their own st_dev: --one-file-system would silently leave them out.
  // The mount is ours and private, so nothing foreign is mounted below it anyway.
  const args = zstdArgs(o.compressionLevel, o.zstdThreads);
  const sink = await openSink(o);
  const tar = track(spawn("tar", tarCreateArgs(dir, fsType !== "btrfs"), { stdio: ["ignore", "pipe", "pipe"] }));
  const zstd = track(spawn("zstd", args, { stdio: [tar.stdout!, zstdOut(sink), "pipe"] }));
  // zstd holds its own copy of the pipe; ours must close or tar would never see EPIPE if zstd died
  tar.stdout!.destroy();
  let files = 0;
  const claimLine = (l: string) => l.startsWith("./") && ++files > 0;
  o.onStart?.(procReadBytes(tar.pid));
  const r = await compressAndUpload([{ child: tar, name: "tar", claimLine }], zstd, [], o, sink);
  const m = /Total bytes written: (\d+)/.exec(r.stderr.get("tar") ?? "");
  if (!m) throw new Error(`tar did not report its total (stderr: ${r.stderr.get("tar")})`);
  // tar lists "./" itself as a member: it is the root of the item, not a file in it
  return {
    uncompressedBytes: Number(m[1]),
    compressedBytes: r.bytes,
    sha256: r.sha256,
    s3ChecksumSHA256: r.s3ChecksumSHA256,
    parts: r.parts,
    files: Math.max(files - 1, 0),
  };
}

const RAW_CHUNK = 4 * 1024 * 1024;

/**
 * Images `size` bytes of a block device: reader | zstd -T<job CPUs> | multipart upload. Large sequential
 * reads keep the device busy; zstd compresses zero-filled regions at several GB/s, so unused
 * space costs little CPU (measured in bench/worker-throughput.ts).
 */
export function rawToStore(device: string, size: number, o: StreamOptions): Promise<StreamResult> {
  const source = () => createReadStream(device, { start: 0, end: size - 1, highWaterMark: RAW_CHUNK });
  return imageToStore(source, size, device, o);
}

/**
 * Images `size` bytes read from `source` (a device's read stream, or a snapshot's blocks in order:
 * snapshot-stream.ts): source | zstd | multipart upload. Fewer or more than `size` bytes fail the item.
 */
export async function imageToStore(
  source: () => Readable,
  size: number,
  what: string,
  o: StreamOptions,
): Promise<StreamResult> {
  const args = zstdArgs(o.compressionLevel, o.zstdThreads);
  const sink = await openSink(o);
  const zstd = track(spawn("zstd", args, { stdio: ["pipe", zstdOut(sink), "pipe"] }));
  let read = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      read += chunk.length;
      cb(null, chunk);
    },
  });
  o.onStart?.(() => read);
  const reader = size === 0 ? Promise.resolve(zstd.stdin!.end()) : pipeline(source(), counter, zstd.stdin!);
  const readDone = Promise.resolve(reader).then(() => {
    if (read !== size) throw new Error(`short read on ${what}: ${read} of ${size} bytes`);
  });
  const r = await compressAndUpload([], zstd, [readDone], o, sink);
  return {
    uncompressedBytes: read,
    compressedBytes: r.bytes,
    sha256: r.sha256,
    s3ChecksumSHA256: r.s3ChecksumSHA256,
    parts: r.parts,
  };
}

/**
 * Streams a command's stdout (a database dump tool) through zstd into the store: producer | counter |
 * zstd -T<job CPUs> | multipart upload. The bytes are counted on their way to zstd (the manifest records
 * the exact uncompressed size, which restore and verify check), and the upload is completed only when
 * the producer exited 0: a dump tool that fails half-way leaves no object.
 */
export async function commandToStore(
  producer: { cmd: string; args: string[]; env: NodeJS.ProcessEnv; name: string },
  o: StreamOptions,
): Promise<StreamResult> {
  const args = zstdArgs(o.compressionLevel, o.zstdThreads);
  const sink = await openSink(o);
  const child = track(spawn(producer.cmd, producer.args, { env: producer.env, stdio: ["ignore", "pipe", "pipe"] }));
  const zstd = track(spawn("zstd", args, { stdio: ["pipe", zstdOut(sink), "pipe"] }));
  let read = 0;
  const counter = new Transform({
    transform(chunk: Buffer, _enc, cb) {
      read += chunk.length;
      cb(null, chunk);
    },
  });
  o.onStart?.(() => read);
  const piped = pipeline(child.stdout!, counter, zstd.stdin!);
  const r = await compressAndUpload([{ child, name: producer.name }], zstd, [piped], o, sink);
  return {
    uncompressedBytes: read,
    compressedBytes: r.bytes,
    sha256: r.sha256,
    s3ChecksumSHA256: r.s3ChecksumSHA256,
    parts: r.parts,
  };
}
