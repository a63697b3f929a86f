/**
 * Every test file is in exactly one tier (jest.config.js), as jest itself resolves them, every file a server
 * tier lists exists, and `npm test` (scripts/test.sh) runs every tier through its own `npm run test:<tier>`.
 */
import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { promisify } from "node:util";

const ROOT = path.resolve(__dirname, "..");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- jest.config.js is CommonJS, typed here
const config = require("../jest.config.js") as { projects: { displayName: string; testMatch: string[] }[] };
const TIERS = config.projects.map((p) => p.displayName);

function testFiles(dir: string): string[] {
  return readdirSync(path.join(ROOT, dir), { withFileTypes: true }).flatMap((e) => {
    const rel = path.posix.join(dir, e.name);
    if (e.isDirectory()) return testFiles(rel);
    return e.name.endsWith(".test.ts") ? [rel] : [];
  });
}

/** The files jest runs for one tier: `jest --listTests --selectProjects <tier>`. */
async function listed(tier: string): Promise<string[]> {
  const jest = path.join(ROOT, "node_modules", "jest", "bin", "jest.js");
  const { stdout } = await promisify(execFile)(
    process.execPath,
    [jest, "--listTests", "--json", "--selectProjects", tier],
    {
      cwd: ROOT,
      maxBuffer: 16 << 20,
    },
  );
  return (JSON.parse(stdout.slice(stdout.indexOf("["))) as string[]).map((f) =>
    path.relative(ROOT, f).split(path.sep).join("/"),
  );
}

describe("test tiers", () => {
  it("are unit, moto, disk and terraform", () => {
    expect(TIERS).toEqual(["unit", "moto", "disk", "terraform"]);
  });

  it("hold every test file exactly once", async () => {
    const byTier = Object.fromEntries(await Promise.all(TIERS.map(async (t) => [t, await listed(t)] as const)));
    const count = new Map<string, string[]>();
    for (const [tier, files] of Object.entries(byTier))
      for (const f of files) count.set(f, [...(count.get(f) ?? []), tier]);
    const all = testFiles("__tests__").sort();
    expect(all.length).toBeGreaterThan(50);
    expect(all.map((f) => [f, count.get(f) ?? []]).filter(([, tiers]) => tiers.length !== 1)).toEqual([]);
    expect([...count.keys()].sort()).toEqual(all);
    // the server tiers are not empty, and hold what their names promise
    expect(byTier.moto).toContain("__tests__/integration/pipeline-dispatcher.test.ts");
    expect(byTier.disk).toContain("__tests__/testing/fixtures/disks.test.ts");
    expect(byTier.terraform).toContain("__tests__/integration/stacks-apply.test.ts");
    expect(byTier.unit).toContain("__tests__/tiers.test.ts");
  }, 60_000);

  it("list only files that exist", () => {
    const all = new Set(testFiles("__tests__"));
    const named = config.projects.slice(1).flatMap((p) => p.testMatch.map((m) => m.replace("<rootDir>/", "")));
    expect(named.filter((f) => !all.has(f))).toEqual([]);
  });

  it("each run on its own, and npm test runs all of them with their wall times", () => {
    const pkg = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    for (const tier of TIERS)
      expect(pkg.scripts[`test:${tier}`]).toMatch(new RegExp(`\\bjest --selectProjects ${tier} `));
    expect(pkg.scripts["test:unit"]).toContain("--maxWorkers=2");
    for (const tier of TIERS.slice(1)) expect(pkg.scripts[`test:${tier}`]).toContain("--runInBand");
    expect(pkg.scripts["test:terraform"]).toContain("npm run -s validate");
    expect(pkg.scripts.test).toBe("bash scripts/test.sh");
    const script = readFileSync(path.join(ROOT, "scripts", "test.sh"), "utf8");
    expect(/^steps=\((.*)\)$/m.exec(script)?.[1].split(" ")).toEqual([
      "typecheck",
      "lint",
      ...TIERS.map((t) => `test:${t}`),
    ]);
  });
});
