/**
 * Worker throughput benchmark (a script, not a test): `npm run bench:worker` as root.
 *
 * Builds ext4 images (random, text-like and many small files), then measures on the same read-only
 * mount, page cache warm for every run:
 *   - the worker's export-volume to a file:// target (fsync before the rename)
 *   - (a) tar -cf - | zstd -T0 > /dev/null        the local limit of the data path
 *   - (a') tar -cf - | zstd -T0 > FILE; sync FILE  the same on the worker's target disk, flushed
 *   - (b) tar -cz > /dev/null                     the original framework's pipeline
 * and, against the S3 endpoint in AWS_ENDPOINT_URL (moto), the worker's S3 export against a plain
 * SDK multipart upload of the same compressed bytes with the same part size and concurrency, plus
 * the worker's peak RSS. Figures are printed as a Markdown table for the README.
 *
 * Two data sets: small (BENCH_SMALL_MIB, default 48: the fixed costs dominate) and large
 * (BENCH_DATA_MIB, default 2048: the streaming rate); 0 leaves one out. CPU is split by program
 * (tar and zstd through PATH shims under GNU time, node from /proc), and the worker's fixed costs
 * (start-up, inspection, mounts) are printed apart from its streaming. BENCH_DIR (default
 * /var/tmp) holds the images; see also BENCH_RUNS, BENCH_GZIP, BENCH_CPU_PROF, BENCH_WORKER_BIN below.
 */
import {
  CompleteMultipartUploadCommand,
  CreateBucketCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { spawn, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { createReadStream } from "node:fs";
import { makeS3Client, S3Store } from "../batch-worker/src/store";
import { uploadStream } from "../batch-worker/src/upload";

const MiB = 1024 * 1024;
const DATA_MIB = Number(process.env.BENCH_DATA_MIB ?? 2048);
const SMALL_MIB = Number(process.env.BENCH_SMALL_MIB ?? 48);
/** BENCH_GZIP=0 leaves out (b), the slow single-threaded `tar -cz` (minutes for the large set). */
const GZIP = process.env.BENCH_GZIP !== "0";
/** With BENCH_CPU_PROF=DIR, one more worker run per data set under `node --cpu-prof` writes its profile there. */
const PROFILE_DIR = process.env.BENCH_CPU_PROF;
/** (a), (a') and the worker run BENCH_RUNS times each (default 3), interleaved; medians are reported. */
const RUNS = Number(process.env.BENCH_RUNS ?? 3);
const ROOT = process.env.BENCH_DIR ?? "/var/tmp";
/** BENCH_WORKER_BIN: another checkout's cli/bin.js (e.g. the main branch's, for a before/after comparison). */
const BIN = process.env.BENCH_WORKER_BIN ?? path.join(__dirname, "../cli/bin.js");
const CONCURRENCY = 4;
const sh = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { stdio: ["ignore", "pipe", "inherit"] })
    .toString()
    .trim();

/** Fast deterministic pseudo-random words: compressible like prose or logs, not trivially. */
function textChunk(size: number, seed: number): Buffer {
  const words =
    "the of and to in is that for it as was with be by on not he this are or his from at which but have an they you were her she there one all we their can has been if more when will would who so no data error warning info request response user time value system file process server client config update version".split(
      " ",
    );
  const buf = Buffer.allocUnsafe(size);
  let x = seed >>> 0 || 1;
  let off = 0;
  while (off < size) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    const w = words[x % words.length];
    const n = x % 97 === 0 ? `${x % 100000} ` : (x & 0x3ff) === 7 ? `${w}\n` : `${w} `;
    off += buf.write(n, off);
  }
  return buf.subarray(0, size);
}

async function populate(mnt: string, dataMiB: number): Promise<{ files: number }> {
  const random = Math.round(dataMiB * 0.3);
  const text = Math.round(dataMiB * 0.45);
  const small = dataMiB - random - text;
  let files = 0;
  await fs.mkdir(path.join(mnt, "random"));
  for (let i = 0; i < random / 16; i++, files++)
    await fs.writeFile(path.join(mnt, "random", `blob${i}.bin`), randomBytes(16 * MiB));
  await fs.mkdir(path.join(mnt, "text"));
  for (let i = 0; i < text / 8; i++, files++)
    await fs.writeFile(path.join(mnt, "text", `log${i}.txt`), textChunk(8 * MiB, i + 1));
  // many small files: 1..16 KiB, 500 per directory, text-like
  const pool = textChunk(16 * MiB, 42);
  let bytes = 0;
  for (let d = 0; bytes < small * MiB; d++) {
    const dir = path.join(mnt, "small", `d${d}`);
    await fs.mkdir(dir, { recursive: true });
    for (let i = 0; i < 500 && bytes < small * MiB; i++, files++) {
      const size = 1024 + ((i * 7919 + d * 104729) % (15 * 1024));
      const off = (i * 65537 + d * 4099) % (pool.length - size);
      await fs.writeFile(path.join(dir, `f${i}.txt`), pool.subarray(off, off + size));
      bytes += size;
    }
  }
  return { files };
}

interface Timed {
  seconds: number;
  /** user + system CPU of the command and every process it waited for (tar, zstd, node): robust to other load */
  cpuSeconds: number;
  /** CPU seconds by program (tar, zstd: through the PATH shims; node: the measured process itself) */
  byProcess: Record<string, number>;
  peakRssMiB?: number;
  /** the 1-minute load average when the command started and when it ended */
  load: [number, number];
  /** stderr lines, each with the time it was received (s since spawn) */
  stderr: string;
  spawnedAt: number;
}

/**
 * PATH shims for tar and zstd: each runs the real program under GNU time, appending
 * "<name> <user> <sys>" to $BENCH_RUSAGE, so a pipeline's CPU is split by program.
 */
async function makeShims(dir: string): Promise<string> {
  await fs.mkdir(dir, { recursive: true });
  for (const name of ["tar", "zstd"]) {
    const real = sh("bash", ["-c", `command -v ${name}`]);
    await fs.writeFile(
      path.join(dir, name),
      `#!/bin/sh\nexec /usr/bin/time -a -f "${name} %U %S" -o "$BENCH_RUSAGE" ${real} "$@"\n`,
      { mode: 0o755 },
    );
  }
  return dir;
}

let SHIMS = "";

/** CPU seconds (user + system) of a live process from /proc/PID/stat; NaN when gone. */
function procCpu(pid: string | number): number {
  try {
    const f = readFileSync(`/proc/${pid}/stat`, "utf8");
    const rest = f.slice(f.lastIndexOf(")") + 2).split(" ");
    return (Number(rest[11]) + Number(rest[12])) / TICKS;
  } catch {
    return NaN;
  }
}
const TICKS = Number(execFileSync("getconf", ["CLK_TCK"]).toString().trim()) || 100;

/**
 * Runs a command under GNU time: wall, CPU of the whole tree, CPU by program (shims), and with
 * `sample` the peak RSS (VmHWM) and CPU of the process itself, polled every 50 ms.
 */
function timed(cmd: string, args: string[], opts: { sample?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const load0 = os.loadavg()[0];
    const stamp = `${process.pid}-${Date.now()}`;
    const timeFile = path.join(os.tmpdir(), `bench-time-${stamp}`);
    const rusage = path.join(os.tmpdir(), `bench-rusage-${stamp}`);
    // GNU time reports the CPU of the whole process tree it waited for (wait4 rusage)
    const child = spawn("/usr/bin/time", ["-f", "%U %S", "-o", timeFile, cmd, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
      env: { ...(opts.env ?? process.env), PATH: `${SHIMS}:${process.env.PATH}`, BENCH_RUSAGE: rusage },
    });
    const spawnedAt = Date.now();
    let err = "";
    child.stderr!.on("data", (b: Buffer) => (err = (err + b.toString()).slice(-64000)));
    let peak = 0;
    let ownCpu = NaN;
    const timer = opts.sample
      ? setInterval(() => {
          try {
            // the measured process is GNU time's only child
            const pid = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(" ")[0];
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
            if (m) peak = Math.max(peak, Number(m[1]) / 1024);
            const c = procCpu(pid);
            if (!Number.isNaN(c)) ownCpu = c;
          } catch {
            // not started yet, or exited
          }
        }, 50)
      : undefined;
    child.on("close", (code) => {
      if (timer) clearInterval(timer);
      const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
      let cpuSeconds = NaN;
      try {
        const [u, s] = readFileSync(timeFile, "utf8").trim().split("\n").pop()!.split(" ").map(Number);
        cpuSeconds = u + s;
      } catch {
        // no time output
      }
      const byProcess: Record<string, number> = {};
      try {
        for (const l of readFileSync(rusage, "utf8").trim().split("\n")) {
          const m = /^(\w+) ([\d.]+) ([\d.]+)$/.exec(l);
          if (m) byProcess[m[1]] = (byProcess[m[1]] ?? 0) + Number(m[2]) + Number(m[3]);
        }
      } catch {
        // no shimmed program ran
      }
      if (opts.sample) byProcess.node = ownCpu;
      void fs.rm(timeFile, { force: true });
      void fs.rm(rusage, { force: true });
      if (code !== 0) reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${err.slice(-4000)}`));
      else
        resolve({
          seconds,
          cpuSeconds,
          byProcess,
          peakRssMiB: opts.sample ? peak : undefined,
          load: [load0, os.loadavg()[0]],
          stderr: err,
          spawnedAt,
        });
    });
  });
}

const median = (xs: number[]) => {
  const v = [...xs].sort((x, y) => x - y);
  return v.length % 2 ? v[(v.length - 1) / 2] : (v[v.length / 2 - 1] + v[v.length / 2]) / 2;
};

/**
 * The median of repeated runs: wall, CPU and each program's CPU taken apart (each its own median),
 * the highest peak RSS, the load range over all runs; the log of the run with the median wall time.
 */
function medianRun(runs: Timed[]): Timed {
  const mid = [...runs].sort((x, y) => x.seconds - y.seconds)[(runs.length - 1) >> 1];
  const byProcess: Record<string, number> = {};
  for (const k of Object.keys(mid.byProcess)) byProcess[k] = median(runs.map((r) => r.byProcess[k] ?? 0));
  return {
    ...mid,
    seconds: median(runs.map((r) => r.seconds)),
    cpuSeconds: median(runs.map((r) => r.cpuSeconds)),
    byProcess,
    peakRssMiB: mid.peakRssMiB === undefined ? undefined : Math.max(...runs.map((r) => r.peakRssMiB ?? 0)),
    load: [Math.min(...runs.flatMap((r) => r.load)), Math.max(...runs.flatMap((r) => r.load))],
  };
}

/**
 * The worker's fixed costs from its log's timestamps (ms): the CLI's start (`--help`, timed apart),
 * the device checks and inspection (the rest of the time to the first line, inspection's result),
 * the mounts (to the first item's "tar of ..."), the streaming (the item), and unmount, manifest and
 * exit (the rest).
 */
function phases(t: Timed, cliStart: number): Record<string, number> {
  const lines = t.stderr.split("\n").filter((l) => /^\d{4}-\d\d-\d\dT/.test(l));
  const at = (re: RegExp) => {
    const l = lines.find((x) => re.test(x));
    return l ? Date.parse(l.slice(0, 24)) : NaN;
  };
  const first = lines.length ? Date.parse(lines[0].slice(0, 24)) : NaN;
  const mounted = at(/: tar of /);
  const streamed = at(/ -> \d+ bytes in /);
  const end = t.spawnedAt + t.seconds * 1000;
  return {
    "CLI start-up (`--help`)": cliStart,
    "checks and inspection": (first - t.spawnedAt) / 1000 - cliStart,
    mounts: (mounted - first) / 1000,
    "streaming (tar | zstd | hash + write)": (streamed - mounted) / 1000,
    "unmount, manifest, exit": (end - streamed) / 1000,
  };
}

const load = (t: Timed) => `load ${t.load[0].toFixed(1)}-${t.load[1].toFixed(1)}`;
const split = (t: Timed) =>
  Object.entries(t.byProcess)
    .map(([k, v]) => `${k} ${v.toFixed(1)}`)
    .join(", ");

/** The same bytes through a plain SDK multipart upload: same part size, same concurrency. */
async function plainSdkUpload(file: string, bucket: string, key: string, partSize: number): Promise<number> {
  const s3 = makeS3Client();
  const t0 = Date.now();
  const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: key }));
  const size = (await fs.stat(file)).size;
  const fh = await fs.open(file, "r");
  const parts: { PartNumber: number; ETag?: string }[] = [];
  let next = 0;
  const worker = async () => {
    for (;;) {
      const n = next++;
      if (n * partSize >= size && !(n === 0 && size === 0)) return;
      const len = Math.min(partSize, size - n * partSize);
      const buf = Buffer.allocUnsafe(len);
      await fh.read(buf, 0, len, n * partSize);
      const r = await s3.send(
        new UploadPartCommand({ Bucket: bucket, Key: key, UploadId, PartNumber: n + 1, Body: buf, ContentLength: len }),
      );
      parts.push({ PartNumber: n + 1, ETag: r.ETag });
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  await fh.close();
  parts.sort((a, b) => a.PartNumber - b.PartNumber);
  await s3.send(
    new CompleteMultipartUploadCommand({ Bucket: bucket, Key: key, UploadId, MultipartUpload: { Parts: parts } }),
  );
  return (Date.now() - t0) / 1000;
}

interface DataSet {
  name: string;
  mib: number;
}

async function measure(set: DataSet, work: string): Promise<{ rows: [string, string][]; loop: string }> {
  const image = path.join(work, `${set.name}.img`);
  const mnt = path.join(work, `${set.name}-mnt`);
  const out = path.join(work, `${set.name}-out`);
  let loop = "";
  try {
    const imageMiB = Math.ceil(set.mib * 1.15) + 128;
    await fs.writeFile(image, "");
    await fs.truncate(image, imageMiB * MiB);
    sh("mkfs.ext4", ["-q", "-F", image]);
    loop = sh("losetup", ["--find", "--show", image]);
    await fs.mkdir(mnt);
    sh("mount", [loop, mnt]);
    console.error(`[${set.name}] populating ${set.mib} MiB on ${loop} (${imageMiB} MiB image) ...`);
    const { files } = await populate(mnt, set.mib);
    const used = Number(sh("df", ["-B1", "--output=used", mnt]).split("\n")[1]);
    sh("umount", [mnt]);
    // Every run starts from a fresh read-only mount (the worker mounts the device itself, and an
    // unmount drops the filesystem's cached inodes and pages), with the image file's pages warm in
    // the host page cache (read once first): all runs read through the loop device alike.
    const remount = () => sh("mount", ["-o", "ro,noload", loop, mnt]);
    await timed("bash", ["-c", `cat ${image} > /dev/null`]);
    const rate = (t: Timed) => `${(used / MiB / t.seconds).toFixed(0)} MiB/s`;
    const show = (label: string, t: Timed) =>
      console.error(
        `[${set.name}] ${label}: ${t.seconds.toFixed(1)} s, CPU ${t.cpuSeconds.toFixed(1)} s (${split(t)}), ${load(t)}`,
      );

    const workerArgs = [
      BIN,
      "export-volume",
      "--device",
      loop,
      "--to",
      `file://${out}/`,
      "--concurrency",
      String(CONCURRENCY),
    ];
    // interleaved repeats: each run sees the load of the others' time; medians are reported
    const runsA: Timed[] = [];
    const runsA2: Timed[] = [];
    const runsW: Timed[] = [];
    const startups: number[] = [];
    for (let run = 1; run <= RUNS; run++) {
      remount();
      const a = await timed("bash", ["-o", "pipefail", "-c", `tar -cf - -C ${mnt} . | zstd -T0 -3 -q > /dev/null`]);
      sh("umount", [mnt]);
      show(`run ${run} (a) tar | zstd -T0 > /dev/null`, a);
      runsA.push(a);
      // the same into a file on the disk the worker writes to, flushed (fsync) like the worker's file sink
      const sinkFile = path.join(work, `${set.name}-a-prime.tar.zst`);
      remount();
      const a2 = await timed("bash", [
        "-o",
        "pipefail",
        "-c",
        `tar -cf - -C ${mnt} . | zstd -T0 -3 -q > ${sinkFile} && sync ${sinkFile}`,
      ]);
      sh("umount", [mnt]);
      await fs.rm(sinkFile, { force: true });
      show(`run ${run} (a') tar | zstd -T0 > file, fsync`, a2);
      runsA2.push(a2);
      // the CLI's own start (node, the bundle, argument parsing): the first of the worker's fixed costs
      startups.push((await timed(process.execPath, [BIN, "--help"])).seconds);
      const w = await timed(process.execPath, workerArgs, { sample: true });
      show(`run ${run} worker -> file:// (peak RSS ${w.peakRssMiB!.toFixed(0)} MiB)`, w);
      runsW.push(w);
    }
    const a = medianRun(runsA);
    const a2 = medianRun(runsA2);
    const w = medianRun(runsW);
    const cliStart = median(startups);
    const fixed = phases(w, cliStart);
    if (PROFILE_DIR) {
      // a separate run: the profiler's own cost stays out of the figures above
      const dir = path.join(PROFILE_DIR, set.name);
      await fs.mkdir(dir, { recursive: true });
      await timed(process.execPath, [`--cpu-prof`, `--cpu-prof-dir=${dir}`, ...workerArgs]);
      console.error(`[${set.name}] CPU profile of the worker in ${dir} (npx tsx bench/cpuprofile-summary.ts ${dir}/*)`);
    }
    let b: Timed | undefined;
    if (GZIP) {
      remount();
      b = await timed("bash", ["-o", "pipefail", "-c", `tar -czf - -C ${mnt} . > /dev/null`]);
      sh("umount", [mnt]);
      show("(b) tar -cz", b);
    }

    const manifest = JSON.parse(await fs.readFile(path.join(out, "manifest.json"), "utf8"));
    const item = manifest.items.find((i: { kind: string }) => i.kind === "tar");
    const nodeCpu = w.byProcess.node;
    const rows: [string, string][] = [
      [
        "data",
        `${(used / 2 ** 30).toFixed(2)} GiB used, ${files} files (30% random, 45% text-like, 25% small files of 1-16 KiB)`,
      ],
      ["compressed (zstd -3)", `${(item.compressedBytes / 2 ** 30).toFixed(2)} GiB`],
      ["runs", `${RUNS} of (a), (a') and the worker, interleaved; medians (peak RSS: the highest)`],
      ["worker vs (a') by run, CPU", runsW.map((r, i) => (runsA2[i].cpuSeconds / r.cpuSeconds).toFixed(2)).join(", ")],
      [
        "(a) `tar -cf - \\| zstd -T0 > /dev/null`",
        `${a.seconds.toFixed(1)} s wall (${rate(a)}), ${a.cpuSeconds.toFixed(1)} s CPU (${split(a)}); ${load(a)}`,
      ],
      [
        "(a') the same `> file` on the worker's target disk, fsync",
        `${a2.seconds.toFixed(1)} s wall (${rate(a2)}), ${a2.cpuSeconds.toFixed(1)} s CPU (${split(a2)}); ${load(a2)}`,
      ],
      [
        "worker `export-volume --to file://`",
        `${w.seconds.toFixed(1)} s wall (${rate(w)}), ${w.cpuSeconds.toFixed(1)} s CPU (${split(w)}, ` +
          `others ${(w.cpuSeconds - Object.values(w.byProcess).reduce((x, y) => x + y, 0)).toFixed(1)}); ${load(w)}`,
      ],
      [
        "worker fixed costs",
        Object.entries(fixed)
          .filter(([k]) => !k.startsWith("streaming"))
          .map(([k, v]) => `${k} ${v.toFixed(2)} s`)
          .join(", "),
      ],
      [
        "worker streaming alone",
        `${fixed["streaming (tar | zstd | hash + write)"].toFixed(1)} s (${(item.uncompressedBytes / MiB / fixed["streaming (tar | zstd | hash + write)"]).toFixed(0)} MiB/s of tar stream)`,
      ],
      [
        "Node's own CPU per GiB of compressed output",
        `${(nodeCpu / (item.compressedBytes / 2 ** 30)).toFixed(2)} s (${((100 * nodeCpu) / w.cpuSeconds).toFixed(0)} % of the worker's CPU)`,
      ],
      [
        "worker vs (a'), wall / CPU (target >= 0.85)",
        `${(a2.seconds / w.seconds).toFixed(2)} / ${(a2.cpuSeconds / w.cpuSeconds).toFixed(2)}`,
      ],
      [
        "worker vs (a), wall / CPU",
        `${(a.seconds / w.seconds).toFixed(2)} / ${(a.cpuSeconds / w.cpuSeconds).toFixed(2)}`,
      ],
    ];
    if (b)
      rows.push(
        [
          "(b) `tar -cz` (original pipeline)",
          `${b.seconds.toFixed(1)} s wall (${rate(b)}), ${b.cpuSeconds.toFixed(1)} s CPU; ${load(b)}`,
        ],
        [
          "worker speed-up over (b), wall / CPU (target >= 10)",
          `${(b.seconds / w.seconds).toFixed(1)}x / ${(b.cpuSeconds / w.cpuSeconds).toFixed(1)}x`,
        ],
      );
    rows.push(["worker peak RSS, file target", `${w.peakRssMiB!.toFixed(0)} MiB`]);

    if (process.env.AWS_ENDPOINT_URL && set.name === "large") rows.push(...(await s3Rows(loop, out, item)));
    return { rows, loop };
  } finally {
    try {
      sh("umount", [mnt]);
    } catch {
      /* not mounted */
    }
    if (loop)
      try {
        sh("losetup", ["-d", loop]);
      } catch {
        /* gone */
      }
    await fs.rm(image, { force: true });
  }
}

async function s3Rows(
  loop: string,
  out: string,
  item: { key: string; partSize: number; compressedBytes: number },
): Promise<[string, string][]> {
  const s3 = makeS3Client();
  const bucket = `bench-${Date.now()}`;
  await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  const ws = await timed(
    process.execPath,
    [BIN, "export-volume", "--device", loop, "--to", `s3://${bucket}/worker/`, "--concurrency", String(CONCURRENCY)],
    { sample: true },
  );
  console.error(`worker -> S3: ${ws.seconds.toFixed(1)} s, CPU ${ws.cpuSeconds.toFixed(1)} s, ${load(ws)}`);
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `worker/${item.key}` }));
  const sdk = await plainSdkUpload(path.join(out, item.key), bucket, "plain/object", item.partSize);
  console.error(`plain SDK upload: ${sdk.toFixed(1)} s`);
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "plain/object" }));
  // the worker's uploader alone (per-part SHA-256, whole-stream SHA-256) on the same bytes
  const t0 = Date.now();
  await uploadStream(
    createReadStream(path.join(out, item.key), { highWaterMark: 4 * MiB }),
    new S3Store(s3, bucket, "uploader/"),
    "object",
    { partSize: item.partSize, concurrency: CONCURRENCY },
  );
  const up = (Date.now() - t0) / 1000;
  console.error(`worker uploader alone: ${up.toFixed(1)} s`);
  await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "uploader/object" }));
  return [
    [
      "worker `export-volume --to s3://` (moto on the same 2 vCPUs)",
      `${ws.seconds.toFixed(1)} s wall, ${ws.cpuSeconds.toFixed(1)} s CPU (worker side); ${load(ws)}`,
    ],
    [
      "plain SDK multipart upload of the same compressed bytes",
      `${sdk.toFixed(1)} s (${(item.compressedBytes / MiB / sdk).toFixed(0)} MiB/s)`,
    ],
    ["plain upload / worker export (target >= 0.9)", (sdk / ws.seconds).toFixed(2)],
    [
      "the worker's uploader alone on the same bytes (checksums on)",
      `${up.toFixed(1)} s (${(item.compressedBytes / MiB / up).toFixed(0)} MiB/s)`,
    ],
    ["plain upload / worker uploader alone", (sdk / up).toFixed(2)],
    ["worker peak RSS, S3 target", `${ws.peakRssMiB!.toFixed(0)} MiB`],
  ];
}

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("run as root (loop devices, mount)");
  const work = await fs.mkdtemp(path.join(ROOT, "worker-bench-"));
  try {
    SHIMS = await makeShims(path.join(work, "shims"));
    const sets: DataSet[] = [
      { name: "small", mib: SMALL_MIB },
      { name: "large", mib: DATA_MIB },
    ].filter((d) => d.mib > 0);
    const results: { set: DataSet; rows: [string, string][] }[] = [];
    for (const set of sets) results.push({ set, rows: (await measure(set, work)).rows });
    console.log(
      `\nMachine: ${os.cpus().length} vCPU ${os.cpus()[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.release()}; ` +
        `concurrency ${CONCURRENCY}; ${new Date().toISOString()}\n`,
    );
    for (const { set, rows } of results) {
      console.log(`\n${set.name} data set (${set.mib} MiB)\n\n| measurement | result |\n|---|---|`);
      for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
    }
    if (!process.env.AWS_ENDPOINT_URL) console.log("\nS3 comparison skipped: AWS_ENDPOINT_URL not set");
  } finally {
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
