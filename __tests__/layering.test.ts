/**
 * The layering rules of .dependency-cruiser.js (README, "Architecture"), checked over every
 * TypeScript module of the repository: core ← config ← stacks; the Lambdas, the worker and the
 * CLI use core (the CLI also config/ and the worker's public module), never stacks/; only tests
 * import testing/; no import cycles; every import resolves.
 */
import { execFileSync } from "node:child_process";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const SCANNED = [
  "main.ts",
  "core",
  "config",
  "stacks",
  "lambdas",
  "batch-worker",
  "cli",
  "testing",
  "__tests__",
  "bench",
];

interface Violation {
  readonly from: string;
  readonly to: string;
  readonly rule: { readonly name: string };
  readonly cycle?: ReadonlyArray<{ readonly name: string }>;
}

function cruise(): { violations: Violation[]; modules: number } {
  const bin = path.join(ROOT, "node_modules", ".bin", "depcruise");
  let out: string;
  try {
    out = execFileSync(bin, ["--config", ".dependency-cruiser.js", "--output-type", "json", ...SCANNED], {
      cwd: ROOT,
      encoding: "utf8",
      maxBuffer: 256 * 1024 * 1024,
    });
  } catch (err) {
    // depcruise exits non-zero when it finds violations; its JSON report is still on stdout.
    out = (err as { stdout?: string }).stdout ?? "";
    if (!out.trim().startsWith("{")) throw err;
  }
  const report = JSON.parse(out) as { summary: { violations: Violation[]; totalCruised: number } };
  return { violations: report.summary.violations, modules: report.summary.totalCruised };
}

describe("layering (.dependency-cruiser.js)", () => {
  it("every import of ours follows the layers, without cycles", () => {
    const { violations, modules } = cruise();
    // The scan really covered the tree (a wrong path would pass with nothing cruised).
    expect(modules).toBeGreaterThan(200);
    const described = violations.map((v) =>
      v.cycle
        ? `${v.rule.name}: ${[v.from, ...v.cycle.map((c) => c.name)].join(" → ")}`
        : `${v.rule.name}: ${v.from} → ${v.to}`,
    );
    expect(described).toEqual([]);
  });
});
