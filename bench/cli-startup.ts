/**
 * CLI start-time benchmark (a script, not a test): `npm run bench:cli`.
 *
 * Times `backup-actions --help` (and `backup-actions cost --help`) from spawn to exit, run through the install-time
 * bundle (dist/cli/main.js) and through tsx (BACKUP_ACTIONS_CLI_TSX=1), against a baseline measured in the same run:
 * `node -e 0`, the bare start of node on this machine at this load. Runs are interleaved so that all variants see
 * the same load; the median of BENCH_RUNS (default 15) runs is reported after one warm-up each, with the ratio to
 * the baseline, the speed-up over tsx, and whether the 0.3 s target (issue 14) is met by the bundle.
 * Builds the bundle first when it is missing or stale.
 */
import { execFileSync, spawnSync } from "node:child_process";
import os from "node:os";
import path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const BIN = path.join(ROOT, "cli", "bin.js");
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const TARGET_S = 0.3;
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a .cjs script without type declarations
const { cliBundleState } = require("../scripts/cli-bundle.cjs") as {
  cliBundleState(root: string): { fresh: boolean; reason?: string };
};

interface Variant {
  readonly name: string;
  readonly args: string[];
  readonly env?: NodeJS.ProcessEnv;
}

const VARIANTS: Variant[] = [
  { name: "baseline: node -e 0", args: ["-e", "0"] },
  { name: "bundle: --help", args: [BIN, "--help"] },
  { name: "tsx: --help", args: [BIN, "--help"], env: { BACKUP_ACTIONS_CLI_TSX: "1" } },
  { name: "bundle: cost --help", args: [BIN, "cost", "--help"] },
  { name: "tsx: cost --help", args: [BIN, "cost", "--help"], env: { BACKUP_ACTIONS_CLI_TSX: "1" } },
];

function once(v: Variant): number {
  const start = process.hrtime.bigint();
  const r = spawnSync(process.execPath, v.args, {
    cwd: ROOT,
    env: { ...process.env, BACKUP_ACTIONS_CLI_TSX: "", ...v.env },
    stdio: ["ignore", "ignore", "pipe"],
  });
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  if (r.status !== 0) throw new Error(`${v.name} exited ${r.status}: ${r.stderr.toString()}`);
  if (r.stderr.length > 0) throw new Error(`${v.name} wrote to stderr (stale bundle?): ${r.stderr.toString()}`);
  return seconds;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

function main(): void {
  if (!Number.isInteger(RUNS) || RUNS < 1)
    throw new Error(`BENCH_RUNS must be a positive integer, got "${process.env.BENCH_RUNS}"`);
  const state = cliBundleState(ROOT);
  if (!state.fresh) {
    process.stderr.write(`${state.reason}: building it\n`);
    execFileSync(process.execPath, [path.join(ROOT, "scripts", "build-cli.mjs")], { cwd: ROOT, stdio: "inherit" });
  }
  for (const v of VARIANTS) once(v); // warm-up: page cache, tsx's transform cache
  const times = new Map<string, number[]>(VARIANTS.map((v) => [v.name, []]));
  for (let i = 0; i < RUNS; i++) for (const v of VARIANTS) times.get(v.name)!.push(once(v));

  const med = new Map([...times].map(([k, xs]) => [k, median(xs)]));
  const base = med.get("baseline: node -e 0")!;
  const fmt = (s: number) => `${s.toFixed(3)} s`;
  console.log(`CLI start time, median of ${RUNS} runs (node ${process.version}, load ${loadAverage()})\n`);
  console.log("| run | median | min | x baseline |");
  console.log("| --- | ---: | ---: | ---: |");
  for (const [name, xs] of times) {
    console.log(
      `| ${name} | ${fmt(med.get(name)!)} | ${fmt(Math.min(...xs))} | ${(med.get(name)! / base).toFixed(2)} |`,
    );
  }
  const bundle = med.get("bundle: --help")!;
  const tsx = med.get("tsx: --help")!;
  console.log(`\nbundle vs tsx (--help): ${(tsx / bundle).toFixed(1)}x faster (${fmt(tsx - bundle)} saved per start)`);
  console.log(`target: --help in <= ${TARGET_S} s: ${bundle <= TARGET_S ? "met" : "NOT met"} (${fmt(bundle)})`);
}

function loadAverage(): string {
  return os
    .loadavg()
    .map((l) => l.toFixed(1))
    .join(" ");
}

main();
