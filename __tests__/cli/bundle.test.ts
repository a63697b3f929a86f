/**
 * The CLI's install-time bundle (scripts/cli-bundle.cjs): cli/bin.js runs dist/cli/main.js while it is fresh,
 * falls back to tsx with a note when it is not, the bundle behaves as the TypeScript does, and `--help` (also a
 * command's) loads no heavy module. Under CI=true the bundle must already be fresh: `npm ci` built it (`prepare`).
 * Start times are measured by `npm run bench:cli`, not here.
 */
import { execFileSync, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { commands } from "../../cli/main";

const ROOT = path.resolve(__dirname, "..", "..");
const BIN = path.join(ROOT, "cli", "bin.js");
// eslint-disable-next-line @typescript-eslint/no-require-imports -- a .cjs script without type declarations
const bundle = require("../../scripts/cli-bundle.cjs") as {
  BUNDLE_DIR: string;
  MANIFEST: string;
  cliBundleState(root: string, dir?: string): { fresh: true; bundle: string } | { fresh: false; reason: string };
  manifestOf(root: string, inputs: string[]): unknown;
};
const BUNDLE = path.join(ROOT, bundle.BUNDLE_DIR, "main.js");
/** Every command of the dispatcher table, a new one included: its `--help` must stay light too. */
const COMMANDS = Object.keys(commands);
/** Packages `--help` must not load: the AWS SDK, zod (config/load.ts), cdktf and the provider. */
const HEAVY = /[\\/]node_modules[\\/](@aws-sdk|@smithy|zod|cdktf|@cdktf|constructs)[\\/]/;

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  loaded: string[];
}

let tmp: string;

/** Runs bin.js with a preload that writes, at exit, every module the process required. */
function cli(args: string[], env: NodeJS.ProcessEnv = {}, bin = BIN): Run {
  const out = path.join(tmp, `loaded-${process.hrtime.bigint()}.json`);
  const hook = path.join(tmp, "hook.js");
  const r = spawnSync(process.execPath, ["--require", hook, bin, ...args], {
    cwd: os.tmpdir(), // nothing may depend on the working directory (config/default.json is found by the bundle)
    env: { ...process.env, BACKUP_ACTIONS_CLI_TSX: "", BACKUP_ACTIONS_CONFIG: "", LOADED_OUT: out, ...env },
    encoding: "utf8",
    timeout: 60_000,
  });
  const loaded = fs.existsSync(out) ? (JSON.parse(fs.readFileSync(out, "utf8")) as string[]) : [];
  return { code: r.status, stdout: r.stdout, stderr: r.stderr, loaded };
}

beforeAll(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "cli-bundle-"));
  fs.writeFileSync(
    path.join(tmp, "hook.js"),
    [
      'const fs = require("fs");',
      "const loaded = () => JSON.stringify(Object.keys(require.cache));",
      'process.on("exit", () => fs.writeFileSync(process.env.LOADED_OUT, loaded()));',
      "",
    ].join("\n"),
  );
  const state = bundle.cliBundleState(ROOT);
  if (!state.fresh) {
    if (process.env.CI === "true")
      throw new Error(`${state.reason}: npm ci should have built it (npm's prepare script)`);
    execFileSync(process.execPath, [path.join(ROOT, "scripts", "build-cli.mjs")], { cwd: ROOT, stdio: "pipe" });
  }
});

afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("cli/bin.js runs the bundle", () => {
  it("loads dist/cli/main.js, neither tsx nor the TypeScript, and no heavy module for --help", () => {
    const r = cli(["--help"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(/^usage: backup-actions <command>/);
    expect(r.loaded).toContain(BUNDLE);
    expect(r.loaded.filter((m) => /[\\/]node_modules[\\/]tsx[\\/]|\.ts$/.test(m))).toEqual([]);
    expect(r.loaded.filter((m) => HEAVY.test(m))).toEqual([]);
  });

  it("every command is covered below", () => {
    expect(COMMANDS).toEqual(
      expect.arrayContaining(["export-volume", "verify", "restore", "plan-event", "ledger", "cost"]),
    );
  });

  it.each(COMMANDS)("%s --help prints the command's usage, exits 0 and loads no heavy module", (name) => {
    const r = cli([name, "--help"]);
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.stdout).toMatch(new RegExp(`^usage: backup-actions ${name} `));
    expect(r.loaded).toContain(BUNDLE);
    expect(r.loaded.filter((m) => HEAVY.test(m))).toEqual([]);
  });

  it("loads the heavy modules when a command runs (the check above can see them)", () => {
    const r = cli(["cost", "--type", "ebs", "--size", "100GiB", "--json"]);
    expect(r.code).toBe(0);
    expect(r.loaded.some((m) => /[\\/]node_modules[\\/]zod[\\/]/.test(m))).toBe(true);
  });

  it("the tsx path (BACKUP_ACTIONS_CLI_TSX=1) loads no heavy module for --help either", () => {
    const r = cli(["--help"], { BACKUP_ACTIONS_CLI_TSX: "1" });
    expect(r).toMatchObject({ code: 0, stderr: "" });
    expect(r.loaded).toContain(path.join(ROOT, "cli", "main.ts"));
    expect(r.loaded).not.toContain(BUNDLE);
    expect(r.loaded.filter((m) => HEAVY.test(m))).toEqual([]);
  });
});

describe("the bundle behaves as the TypeScript through tsx", () => {
  const event = path.join(ROOT, "__tests__", "fixtures", "events", "backup-job-ebs.json");
  it.each([
    ["--help"],
    ["frobnicate"],
    ["cost", "--type", "ebs", "--size", "100GiB", "--used", "60%"],
    ["cost", "--size", "lots"],
    ["plan-event", event],
    ["stacks", "--json"],
    ["verify", "file:///nonexistent/export/"],
  ])("backup-actions %s ...", (...args) => {
    const fast = cli(args);
    const slow = cli(args, { BACKUP_ACTIONS_CLI_TSX: "1" });
    expect(fast.loaded).toContain(BUNDLE);
    expect(slow.loaded).not.toContain(BUNDLE);
    expect({ code: fast.code, stdout: fast.stdout, stderr: fast.stderr }).toEqual({
      code: slow.code,
      stdout: slow.stdout,
      stderr: slow.stderr,
    });
    expect(fast.stdout + fast.stderr).not.toBe("");
  });
});

describe("freshness (cliBundleState) and bin.js's choice", () => {
  /** A tree with bin.js, its helper, a source and a bundle whose manifest records that source. */
  function tree(): { root: string; src: string; dir: string } {
    const root = fs.mkdtempSync(path.join(tmp, "tree-"));
    fs.mkdirSync(path.join(root, "cli"));
    fs.mkdirSync(path.join(root, "scripts"));
    fs.mkdirSync(path.join(root, bundle.BUNDLE_DIR), { recursive: true });
    fs.copyFileSync(BIN, path.join(root, "cli", "bin.js"));
    fs.copyFileSync(path.join(ROOT, "scripts", "cli-bundle.cjs"), path.join(root, "scripts", "cli-bundle.cjs"));
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(root, "node_modules"));
    const main = (which: string) =>
      `exports.main = async () => { process.stdout.write(${JSON.stringify(which)}); return 0; };\n`;
    const src = path.join(root, "cli", "main.ts");
    fs.writeFileSync(src, `export const main = async (): Promise<number> => (process.stdout.write("tsx"), 0);\n`);
    const dir = path.join(root, bundle.BUNDLE_DIR);
    fs.writeFileSync(path.join(dir, "main.js"), main("bundle"));
    fs.writeFileSync(path.join(dir, bundle.MANIFEST), JSON.stringify(bundle.manifestOf(root, ["cli/main.ts"])));
    return { root, src, dir };
  }

  it("a fresh bundle runs; a touched but unchanged source keeps it fresh (SHA-256)", () => {
    const t = tree();
    expect(bundle.cliBundleState(t.root)).toEqual({ fresh: true, bundle: path.join(t.dir, "main.js") });
    expect(cli([], {}, path.join(t.root, "cli", "bin.js"))).toMatchObject({ code: 0, stdout: "bundle", stderr: "" });
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(t.src, later, later);
    expect(bundle.cliBundleState(t.root).fresh).toBe(true);
  });

  it("an edited source makes it stale: bin.js runs tsx and says how to rebuild, in one line", () => {
    const t = tree();
    fs.appendFileSync(t.src, "// edited\n");
    expect(bundle.cliBundleState(t.root)).toEqual({
      fresh: false,
      reason: "the CLI bundle is stale (cli/main.ts changed)",
    });
    const r = cli([], {}, path.join(t.root, "cli", "bin.js"));
    expect(r).toMatchObject({ code: 0, stdout: "tsx" });
    expect(r.stderr).toBe(
      "backup-actions: the CLI bundle is stale (cli/main.ts changed); running through tsx (slower). " +
        "Rebuild: npm run build:cli\n",
    );
  });

  it("a same-size edit is seen too, a removed source and a missing manifest are stale", () => {
    const t = tree();
    const text = fs.readFileSync(t.src, "utf8");
    fs.writeFileSync(t.src, text.replace('"tsx"', '"TSX"'));
    const later = new Date(Date.now() + 60_000); // a new mtime, so the size matches and the hash decides
    fs.utimesSync(t.src, later, later);
    expect(bundle.cliBundleState(t.root)).toMatchObject({ fresh: false, reason: expect.stringContaining("changed") });
    fs.rmSync(t.src);
    expect(bundle.cliBundleState(t.root)).toMatchObject({ fresh: false, reason: expect.stringContaining("is gone") });
    fs.rmSync(path.join(t.dir, bundle.MANIFEST));
    expect(bundle.cliBundleState(t.root)).toMatchObject({
      fresh: false,
      reason: expect.stringContaining("no CLI bundle"),
    });
  });
});
