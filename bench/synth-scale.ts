/**
 * Synthesis at scale (a script, not a test): `npm run bench:synth`.
 *
 * Synthesizes the whole app (`new App().synth()`, as `cdktf synth` runs main.ts) of configs with 1, 10, 50 and 100
 * account-regions (10 regions per account; two stacks each, plus bootstrap), each in a fresh node process so that
 * its peak RSS is its own, into a temporary outdir. Baseline, measured in the same run: the same process composing
 * nothing (node + tsx + the imports), so the ratios show the cost per stack rather than the machine's load.
 * Target (issue 12): 100 account-regions in at most 30 s and 1 GiB.
 *
 * BENCH_SIZES=1,10 picks other sizes; BENCH_KEEP=1 keeps the outdirs.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { scaleConfig } from "../testing/scale-config";

const ROOT = path.resolve(__dirname, "..");
const TARGET = { accountRegions: 100, seconds: 30, bytes: 1024 ** 3 };

interface Measured {
  readonly stacks: number;
  readonly composeS: number;
  readonly synthS: number;
  readonly totalS: number;
  readonly peakRssBytes: number;
}

/** In the child: compose and synthesize `n` account-regions (0: import only), print one JSON line. */
async function child(n: number, outdir: string): Promise<void> {
  const started = process.hrtime.bigint();
  const { App } = await import("cdktf");
  const { parseConfig } = await import("../config/load");
  const { checkStacks, composeStacks } = await import("../stacks/app");
  let stacks = 0;
  let composed = started;
  const { withPlainStackTraces } = await import("../stacks/stack-traces");
  if (n > 0)
    // as main.ts runs it
    withPlainStackTraces(() => {
      const app = new App({ outdir, skipValidation: false });
      const composedStacks = composeStacks(app, parseConfig(scaleConfig(n)), { warn: () => undefined });
      checkStacks(composedStacks);
      stacks = composedStacks.all.length;
      composed = process.hrtime.bigint();
      app.synth();
    });
  else composed = process.hrtime.bigint();
  const done = process.hrtime.bigint();
  const m: Measured = {
    stacks,
    composeS: Number(composed - started) / 1e9,
    synthS: Number(done - composed) / 1e9,
    totalS: Number(done - started) / 1e9,
    peakRssBytes: process.resourceUsage().maxRSS * 1024,
  };
  process.stdout.write(`${JSON.stringify(m)}\n`);
}

function run(n: number): Measured {
  const outdir = mkdtempSync(path.join(os.tmpdir(), `bench-synth-${n}-`));
  try {
    const r = spawnSync(process.execPath, [...process.execArgv, __filename, "--child", String(n), outdir], {
      cwd: ROOT,
      encoding: "utf8",
      maxBuffer: 64 * 1024 * 1024,
    });
    if (r.status !== 0) throw new Error(`synth of ${n} account-regions exited ${r.status}:\n${r.stderr}`);
    const last = r.stdout.trim().split("\n").pop()!;
    return JSON.parse(last) as Measured;
  } finally {
    if (!process.env.BENCH_KEEP) rmSync(outdir, { recursive: true, force: true });
  }
}

function main(): void {
  const sizes = (process.env.BENCH_SIZES ?? "1,10,50,100").split(",").map(Number);
  if (sizes.some((s) => !Number.isInteger(s) || s < 1))
    throw new Error(`BENCH_SIZES must be positive integers, got "${process.env.BENCH_SIZES}"`);
  const base = run(0);
  const mib = (b: number) => `${(b / 1024 ** 2).toFixed(0)} MiB`;
  console.log(
    `Synthesis at scale (node ${process.version}, ${os.cpus().length} cores, load ${os.loadavg()[0]!.toFixed(2)})\n`,
  );
  console.log(`baseline (node + imports, no stack): ${base.totalS.toFixed(2)} s, ${mib(base.peakRssBytes)}\n`);
  console.log("| account-regions | stacks | compose | synth | total | x baseline | peak RSS | x baseline RSS |");
  console.log("| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |");
  let target: Measured | undefined;
  for (const n of sizes) {
    const m = run(n);
    if (n === TARGET.accountRegions) target = m;
    console.log(
      `| ${n} | ${m.stacks} | ${m.composeS.toFixed(2)} s | ${m.synthS.toFixed(2)} s | ${m.totalS.toFixed(2)} s | ` +
        `${(m.totalS / base.totalS).toFixed(1)} | ${mib(m.peakRssBytes)} | ${(m.peakRssBytes / base.peakRssBytes).toFixed(1)} |`,
    );
  }
  if (target) {
    const ok = target.totalS <= TARGET.seconds && target.peakRssBytes <= TARGET.bytes;
    console.log(
      `\ntarget: ${TARGET.accountRegions} account-regions in <= ${TARGET.seconds} s and <= ${mib(TARGET.bytes)}: ` +
        `${target.totalS.toFixed(2)} s (${((100 * target.totalS) / TARGET.seconds).toFixed(0)}% of it), ` +
        `${mib(target.peakRssBytes)} (${((100 * target.peakRssBytes) / TARGET.bytes).toFixed(0)}%): ${ok ? "met" : "NOT met"}`,
    );
    if (!ok) process.exitCode = 1;
  }
}

if (process.argv[2] === "--child") {
  void child(Number(process.argv[3]), process.argv[4]!);
} else main();
