/**
 * Worker throughput benchmark (a script, not a test): `npm run bench:worker` as root.
 *
 * Builds an ext4 image (default 2.25 GiB holding ~2 GiB: random, text-like and many small files),
 * then measures on the same read-only mount, page cache warm for every run:
 *   - the worker's export-volume to a file:// target
 *   - (a) tar -cf - | zstd -T0 > /dev/null        the local limit of the data path
 *   - (b) tar -cz > /dev/null                     the original framework's pipeline
 * and, against the S3 endpoint in AWS_ENDPOINT_URL (moto), the worker's S3 export against a plain
 * SDK multipart upload of the same compressed bytes with the same part size and concurrency, plus
 * the worker's peak RSS. Figures are printed as a Markdown table for the README.
 *
 * BENCH_DATA_MIB (default 2048) scales the data; BENCH_DIR (default /var/tmp) holds the image.
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
const ROOT = process.env.BENCH_DIR ?? "/var/tmp";
const BIN = path.join(__dirname, "../cli/bin.js");
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

async function populate(mnt: string): Promise<{ files: number }> {
  const random = Math.round(DATA_MIB * 0.3);
  const text = Math.round(DATA_MIB * 0.45);
  const small = DATA_MIB - random - text;
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
  peakRssMiB?: number;
}

/** Runs a command, returns wall time; samples VmHWM (peak RSS) of the process itself when asked. */
function timed(cmd: string, args: string[], opts: { rss?: boolean; env?: NodeJS.ProcessEnv } = {}): Promise<Timed> {
  return new Promise((resolve, reject) => {
    const t0 = process.hrtime.bigint();
    const timeFile = path.join(os.tmpdir(), `bench-time-${process.pid}-${Date.now()}`);
    // GNU time reports the CPU of the whole process tree it waited for (wait4 rusage)
    const child = spawn("/usr/bin/time", ["-f", "%U %S", "-o", timeFile, cmd, ...args], {
      stdio: ["ignore", "ignore", "pipe"],
      env: opts.env ?? process.env,
    });
    let err = "";
    child.stderr!.on("data", (b: Buffer) => (err = (err + b.toString()).slice(-4000)));
    let peak = 0;
    const timer = opts.rss
      ? setInterval(() => {
          try {
            // the measured process is GNU time's only child
            const pid = readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, "utf8").trim().split(" ")[0];
            const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
            if (m) peak = Math.max(peak, Number(m[1]) / 1024);
          } catch {
            // not started yet, or exited
          }
        }, 100)
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
      void fs.rm(timeFile, { force: true });
      if (code !== 0) reject(new Error(`${cmd} ${args.join(" ")} exited ${code}: ${err}`));
      else resolve({ seconds, cpuSeconds, peakRssMiB: opts.rss ? peak : undefined });
    });
  });
}

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

async function main(): Promise<void> {
  if (process.getuid?.() !== 0) throw new Error("run as root (loop devices, mount)");
  const work = await fs.mkdtemp(path.join(ROOT, "worker-bench-"));
  const image = path.join(work, "disk.img");
  const mnt = path.join(work, "mnt");
  const out = path.join(work, "out");
  let loop = "";
  try {
    const imageMiB = Math.ceil(DATA_MIB * 1.15) + 128;
    await fs.writeFile(image, "");
    await fs.truncate(image, imageMiB * MiB);
    sh("mkfs.ext4", ["-q", "-F", image]);
    loop = sh("losetup", ["--find", "--show", image]);
    await fs.mkdir(mnt);
    sh("mount", [loop, mnt]);
    console.error(`populating ${DATA_MIB} MiB on ${loop} (${imageMiB} MiB image) ...`);
    const { files } = await populate(mnt);
    const used = Number(sh("df", ["-B1", "--output=used", mnt]).split("\n")[1]);
    sh("umount", [mnt]);
    // Every run starts from a fresh read-only mount (the worker mounts the device itself, and an
    // unmount drops the filesystem's cached inodes and pages), with the image file's pages warm in
    // the host page cache (read once first): all runs read through the loop device alike.
    const remount = () => sh("mount", ["-o", "ro,noload", loop, mnt]);
    await timed("bash", ["-c", `cat ${image} > /dev/null`]);

    remount();
    const a = await timed("bash", ["-o", "pipefail", "-c", `tar -cf - -C ${mnt} . | zstd -T0 -3 -q > /dev/null`]);
    sh("umount", [mnt]);
    console.error(`(a) tar | zstd -T0: ${a.seconds.toFixed(1)} s, CPU ${a.cpuSeconds.toFixed(1)} s`);
    // the same into a file on the disk the worker writes to, flushed like the worker's file sink
    const sinkFile = path.join(work, "a-prime.tar.zst");
    remount();
    const a2 = await timed("bash", [
      "-o",
      "pipefail",
      "-c",
      `tar -cf - -C ${mnt} . | zstd -T0 -3 -q > ${sinkFile} && sync -f ${sinkFile}`,
    ]);
    sh("umount", [mnt]);
    await fs.rm(sinkFile, { force: true });
    console.error(`(a') tar | zstd -T0 > file: ${a2.seconds.toFixed(1)} s, CPU ${a2.cpuSeconds.toFixed(1)} s`);
    const w = await timed(
      process.execPath,
      [BIN, "export-volume", "--device", loop, "--to", `file://${out}/`, "--concurrency", String(CONCURRENCY)],
      { rss: true },
    );
    console.error(
      `worker -> file://: ${w.seconds.toFixed(1)} s, CPU ${w.cpuSeconds.toFixed(1)} s, peak RSS ${w.peakRssMiB!.toFixed(0)} MiB`,
    );
    remount();
    const b = await timed("bash", ["-o", "pipefail", "-c", `tar -czf - -C ${mnt} . > /dev/null`]);
    sh("umount", [mnt]);
    console.error(`(b) tar -cz: ${b.seconds.toFixed(1)} s, CPU ${b.cpuSeconds.toFixed(1)} s`);

    const manifest = JSON.parse(await fs.readFile(path.join(out, "manifest.json"), "utf8"));
    const item = manifest.items.find((i: { kind: string }) => i.kind === "tar");
    const rows: [string, string][] = [
      [
        "data",
        `${(used / 2 ** 30).toFixed(2)} GiB used, ${files} files (30% random, 45% text-like, 25% small files of 1-16 KiB)`,
      ],
      ["compressed (zstd -3)", `${(item.compressedBytes / 2 ** 30).toFixed(2)} GiB`],
      [
        "(a) `tar -cf - | zstd -T0 > /dev/null`",
        `${a.seconds.toFixed(1)} s wall (${(used / MiB / a.seconds).toFixed(0)} MiB/s), ${a.cpuSeconds.toFixed(1)} s CPU`,
      ],
      [
        "(a') the same `> file` on the worker's target disk, synced",
        `${a2.seconds.toFixed(1)} s wall (${(used / MiB / a2.seconds).toFixed(0)} MiB/s), ${a2.cpuSeconds.toFixed(1)} s CPU`,
      ],
      [
        "worker `export-volume --to file://`",
        `${w.seconds.toFixed(1)} s wall (${(used / MiB / w.seconds).toFixed(0)} MiB/s), ${w.cpuSeconds.toFixed(1)} s CPU`,
      ],
      [
        "(b) `tar -cz` (original pipeline)",
        `${b.seconds.toFixed(1)} s wall (${(used / MiB / b.seconds).toFixed(0)} MiB/s), ${b.cpuSeconds.toFixed(1)} s CPU`,
      ],
      [
        "worker vs (a), wall / CPU (target >= 0.85)",
        `${(a.seconds / w.seconds).toFixed(2)} / ${(a.cpuSeconds / w.cpuSeconds).toFixed(2)}`,
      ],
      [
        "worker vs (a'), wall / CPU",
        `${(a2.seconds / w.seconds).toFixed(2)} / ${(a2.cpuSeconds / w.cpuSeconds).toFixed(2)}`,
      ],
      [
        "worker speed-up over (b), wall / CPU (target >= 10)",
        `${(b.seconds / w.seconds).toFixed(1)}x / ${(b.cpuSeconds / w.cpuSeconds).toFixed(1)}x`,
      ],
      ["worker peak RSS, file target", `${w.peakRssMiB!.toFixed(0)} MiB`],
    ];

    if (process.env.AWS_ENDPOINT_URL) {
      const s3 = makeS3Client();
      const bucket = `bench-${Date.now()}`;
      await s3.send(new CreateBucketCommand({ Bucket: bucket }));
      const ws = await timed(
        process.execPath,
        [
          BIN,
          "export-volume",
          "--device",
          loop,
          "--to",
          `s3://${bucket}/worker/`,
          "--concurrency",
          String(CONCURRENCY),
        ],
        { rss: true },
      );
      console.error(`worker -> S3: ${ws.seconds.toFixed(1)} s, CPU ${ws.cpuSeconds.toFixed(1)} s`);
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
        {
          partSize: item.partSize,
          concurrency: CONCURRENCY,
        },
      );
      const up = (Date.now() - t0) / 1000;
      console.error(`worker uploader alone: ${up.toFixed(1)} s`);
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "uploader/object" }));
      rows.push(
        [
          "worker `export-volume --to s3://` (moto on the same 2 vCPUs)",
          `${ws.seconds.toFixed(1)} s wall, ${ws.cpuSeconds.toFixed(1)} s CPU (worker side)`,
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
      );
    } else {
      rows.push(["S3 comparison", "skipped: AWS_ENDPOINT_URL not set"]);
    }
    console.log(
      `\nMachine: ${os.cpus().length} vCPU ${os.cpus()[0].model}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB RAM, ${os.release()}; concurrency ${CONCURRENCY}, part size ${item.partSize / MiB} MiB\n`,
    );
    console.log("| measurement | result |\n|---|---|");
    for (const [k, v] of rows) console.log(`| ${k} | ${v} |`);
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
    await fs.rm(work, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exitCode = 1;
});
