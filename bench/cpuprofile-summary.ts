/**
 * Summarizes V8 CPU profiles (`node --cpu-prof`, e.g. from `BENCH_CPU_PROF=DIR npm run bench:worker`):
 * `npx tsx bench/cpuprofile-summary.ts FILE.cpuprofile...` prints the functions with the most self time,
 * as a share of the busy time (everything but "(idle)"), as a Markdown table for the docs.
 * BENCH_TOP (default 15) rows.
 */
import { readFileSync } from "node:fs";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const TOP = Number(process.env.BENCH_TOP ?? 15);

function label(n: ProfileNode): string {
  const { functionName, url, lineNumber } = n.callFrame;
  const name = functionName || "(anonymous)";
  if (!url) return name;
  // keep what tells the code apart: node:internal paths, or our file relative to the repository
  const file = url.replace(/^file:\/\//, "").replace(/.*\/(node_modules|batch-worker|core|cli|dist)\//, "$1/");
  return `${name} ${path.basename(file) === file ? file : file}:${lineNumber + 1}`;
}

function summarize(file: string): void {
  const p = JSON.parse(readFileSync(file, "utf8")) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  for (let i = 0; i < p.samples.length; i++) {
    const dt = p.timeDeltas[i + 1] ?? 0; // the time until the next sample belongs to this one
    const k = label(byId.get(p.samples[i])!);
    self.set(k, (self.get(k) ?? 0) + dt);
    total += dt;
  }
  const idle = self.get("(idle)") ?? 0;
  const busy = total - idle;
  console.log(
    `\n${path.basename(file)}: ${(total / 1e6).toFixed(1)} s profiled, ${(busy / 1e6).toFixed(1)} s busy on the main thread\n`,
  );
  console.log("| function (self time) | ms | share of busy |\n|---|---|---|");
  const rows = [...self.entries()].filter(([k]) => k !== "(idle)").sort((a, b) => b[1] - a[1]);
  for (const [k, us] of rows.slice(0, TOP))
    console.log(`| \`${k}\` | ${(us / 1000).toFixed(0)} | ${((100 * us) / busy).toFixed(1)} % |`);
}

const files = process.argv.slice(2);
if (!files.length) {
  console.error("usage: tsx bench/cpuprofile-summary.ts FILE.cpuprofile...");
  process.exitCode = 2;
}
for (const f of files) summarize(f);
