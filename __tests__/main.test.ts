/**
 * The app itself, as `cdktf synth` runs it: valid config writes every stack, invalid
 * config exits non-zero, names every bad key and writes nothing.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";

const ROOT = path.resolve(__dirname, "..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");

function runApp(env: Record<string, string>) {
  const outdir = mkdtempSync(path.join(tmpdir(), "ba-synth-"));
  const result = spawnSync(TSX, ["main.ts"], {
    cwd: ROOT,
    env: { ...process.env, ...env, CDKTF_OUTDIR: outdir },
    encoding: "utf8",
    timeout: 60_000,
  });
  return { ...result, outdir };
}

describe("main.ts", () => {
  it("synthesizes bootstrap, network and pipeline stacks from the default config", () => {
    const { status, stderr, outdir } = runApp({});
    expect(stderr).toBe("");
    expect(status).toBe(0);
    expect(readdirSync(path.join(outdir, "stacks")).sort()).toEqual([
      "bootstrap",
      "network-111111111111-us-east-1",
      "pipeline-111111111111-us-east-1",
    ]);
    const manifest = JSON.parse(readFileSync(path.join(outdir, "manifest.json"), "utf8"));
    expect(Object.keys(manifest.stacks).sort()).toEqual([
      "bootstrap",
      "network-111111111111-us-east-1",
      "pipeline-111111111111-us-east-1",
    ]);
  });

  // Each example config is synthesized the same way, with nothing on stderr, and every stack it writes
  // validated, by scripts/validate-stacks.sh (terraform tier): not a second time here.

  it("exits non-zero on invalid config, names every bad key, and writes no stack", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "ba-badconfig-"));
    const file = path.join(dir, "bad.json");
    writeFileSync(
      file,
      JSON.stringify({
        accounts: [{ id: "1234", regions: ["us-east-1"] }],
        tags: { project: "x" },
        stateBackend: { type: "s3", bucket: "state-bucket", region: "us-east-1" },
        lifecycleRules: { glacier: 100, deepArchive: 120 },
        deleteRecoveryPoint: { enabled: "false" },
      }),
    );
    const { status, stderr, stdout, outdir } = runApp({ BACKUP_ACTIONS_CONFIG: file });
    expect(status).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(
      [
        `Invalid configuration in ${file}:`,
        "  accounts[0].id: must be 12 digits",
        '  deleteRecoveryPoint.enabled: must be true or false (a JSON boolean, not a string like "false")',
        "  lifecycleRules.deepArchive: must be at least 90 days after glacier (100)",
        "",
      ].join("\n"),
    );
    expect(existsSync(path.join(outdir, "stacks"))).toBe(false);
    expect(readdirSync(outdir)).toEqual([]);
  });
});
