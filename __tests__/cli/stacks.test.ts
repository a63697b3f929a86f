/**
 * `backup-actions stacks`: the real CLI (cli/bin.js) lists exactly the stacks that synthesis writes, in an
 * order that respects every terraform_remote_state read, and the README's deploy-order block is its output.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { App } from "cdktf";
import {
  currentStacksBlock,
  deployCommands,
  replaceStacksBlock,
  STACKS_README_CONFIGS,
  stacksReadmeBlock,
  type StacksJson,
} from "../../cli/commands/stacks";
import { loadConfig } from "../../config/load";
import type { PlannedStack } from "../../config/stacks";
import { checkStacks, composeStacks } from "../../stacks/app";

const ROOT = path.resolve(__dirname, "..", "..");
const BIN = path.join(ROOT, "cli", "bin.js");
const CONFIGS = [
  "config/default.json",
  ...readdirSync(path.join(ROOT, "config", "examples")).map((f) => `config/examples/${f}`),
];

function cli(args: string[], config?: string) {
  const env = { ...process.env };
  delete env.BACKUP_ACTIONS_CONFIG;
  if (config !== undefined) env.BACKUP_ACTIONS_CONFIG = config;
  const r = spawnSync(process.execPath, [BIN, "stacks", ...args], { cwd: ROOT, encoding: "utf8", env });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

function listed(config: string): StacksJson {
  const r = cli(["--json"], config);
  expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: "" });
  return JSON.parse(r.stdout);
}

interface Synthesized {
  /** Stack names as cdktf's manifest records them, with the dependencies cdktf would order them by. */
  readonly manifest: Record<string, { dependencies: string[] }>;
  readonly tf: Record<string, any>;
}

/** What `npm run synth` writes for `config` (main.ts: compose, check the baseline, synth). */
function synthesize(config: string): Synthesized {
  const outdir = mkdtempSync(path.join(tmpdir(), "stacks-cmd-synth-"));
  try {
    const app = new App({ outdir });
    checkStacks(composeStacks(app, loadConfig(path.join(ROOT, config)), { warn: () => undefined }));
    app.synth();
    const manifest = JSON.parse(readFileSync(path.join(outdir, "manifest.json"), "utf8")).stacks;
    const tf = Object.fromEntries(
      Object.keys(manifest).map((name) => [
        name,
        JSON.parse(readFileSync(path.join(outdir, manifest[name].synthesizedStackPath), "utf8")),
      ]),
    );
    return { manifest, tf };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

/** The stack whose state a terraform_remote_state data source reads, found by its S3 key or workspace. */
function stackReadBy(remote: any, stacks: StacksJson["stacks"]): string {
  const found = stacks.filter((s) =>
    remote.backend === "s3"
      ? s.state.type === "s3" &&
        s.state.bucket === remote.config.bucket &&
        s.state.key === remote.config.key &&
        s.state.region === remote.config.region
      : s.state.type === "cloud" &&
        s.state.organization === remote.config.organization &&
        s.state.workspace === remote.config.workspaces.name &&
        s.state.hostname === (remote.config.hostname ?? "app.terraform.io"),
  );
  if (found.length !== 1) throw new Error(`terraform_remote_state ${JSON.stringify(remote)} reads no listed stack`);
  return found[0]!.name;
}

describe.each(CONFIGS)("backup-actions stacks --json for %s", (config) => {
  let list: StacksJson;
  let synth: Synthesized;
  beforeAll(() => {
    list = listed(config);
    synth = synthesize(config);
  }, 180_000);

  it("lists exactly the stacks synthesis writes, once each", () => {
    const names = list.stacks.map((s) => s.name);
    expect(new Set(names).size).toBe(names.length);
    expect([...names].sort()).toEqual(Object.keys(synth.manifest).sort());
  });

  it("gives each stack the backend it is synthesized with", () => {
    for (const s of list.stacks) {
      const terraform = synth.tf[s.name].terraform;
      if (s.state.type === "local") {
        // The local path is relative to the stack's working directory, cdktf.out/stacks/<name>.
        const p = terraform.backend.local.path;
        expect(path.normalize(path.join("cdktf.out", "stacks", s.name, p))).toBe(s.state.path);
      } else if (s.state.type === "s3") {
        expect(terraform.backend.s3).toMatchObject({
          bucket: s.state.bucket,
          key: s.state.key,
          region: s.state.region,
        });
      } else {
        expect(terraform.cloud).toMatchObject({
          organization: s.state.organization,
          workspaces: { name: s.state.workspace },
        });
        expect(terraform.cloud.hostname ?? "app.terraform.io").toBe(s.state.hostname);
      }
    }
  });

  it("pins each stack's provider to the listed account and region", () => {
    for (const s of list.stacks) {
      if (s.kind === "workspaces") {
        // The tfe provider only: no AWS account to pin, none listed.
        expect([synth.tf[s.name].provider.aws, s.account, s.region]).toEqual([undefined, null, null]);
        expect(synth.tf[s.name].provider.tfe).toHaveLength(1);
        continue;
      }
      const providers: any[] = synth.tf[s.name].provider.aws;
      expect(providers.map((p) => [p.region, p.allowed_account_ids])).toContainEqual([s.region, [s.account]]);
    }
  });

  it("lists as readsFrom exactly the stacks each one's terraform_remote_state reads", () => {
    for (const s of list.stacks) {
      const remotes = Object.values(synth.tf[s.name].data?.terraform_remote_state ?? {});
      expect(remotes.map((r) => stackReadBy(r, list.stacks)).sort()).toEqual([...s.readsFrom].sort());
    }
    expect(list.stacks.some((s) => s.readsFrom.length > 0)).toBe(true);
  });

  it("puts each stack after what it reads and after bootstrap or workspaces, which hold its state, kinds in order", () => {
    const kinds = ["bootstrap", "workspaces", "archive", "network", "pipeline"];
    const index = new Map(list.stacks.map((s, i) => [s.name, i]));
    const bootstrap = list.stacks.find((s) => s.kind === "bootstrap");
    const bucket = bootstrap && synth.tf[bootstrap.name].resource.aws_s3_bucket.state.bucket;
    list.stacks.forEach((s, i) => {
      if (i > 0) expect(kinds.indexOf(s.kind)).toBeGreaterThanOrEqual(kinds.indexOf(list.stacks[i - 1]!.kind));
      for (const dep of s.readsFrom) expect(index.get(dep)).toBeLessThan(i);
      // The workspaces stack's S3 state (stateBackend.workspacesState) is in a bucket of the admin's.
      const inBootstrapBucket = s.state.type === "s3" && s.kind !== "workspaces";
      if (inBootstrapBucket) {
        expect(s.state.bucket).toBe(bucket);
        expect(s.dependsOn).toContain(bootstrap!.name);
        expect(index.get(bootstrap!.name)).toBeLessThan(i);
      }
      expect([...s.dependsOn].sort()).toEqual(
        [
          ...new Set([
            ...(inBootstrapBucket ? ["bootstrap"] : s.state.type === "cloud" ? ["workspaces"] : []),
            ...s.readsFrom,
          ]),
        ].sort(),
      );
    });
  });

  it("uses no cdktf cross-stack reference: cdktf records no dependency the list does not", () => {
    for (const s of list.stacks) {
      for (const dep of synth.manifest[s.name]!.dependencies) expect(s.dependsOn).toContain(dep);
      expect(Object.keys(synth.tf[s.name].output ?? {}).filter((o) => o.startsWith("cross-stack-output"))).toEqual([]);
    }
  });
});

describe("deployCommands", () => {
  const stack = (kind: string, name: string, readsFrom: string[] = []) =>
    ({ kind, name, readsFrom, dependsOn: readsFrom }) as unknown as PlannedStack;

  it("deploys a kind with the kinds its stacks read in one command (cdktf refuses a stack without its dependencies)", () => {
    expect(
      deployCommands([
        stack("bootstrap", "bootstrap"),
        stack("archive", "archive-333333333333-us-east-1"),
        stack("network", "network-1-a"),
        stack("network", "network-1-b"),
        stack("pipeline", "pipeline-1-a", ["network-1-a", "archive-333333333333-us-east-1"]),
        stack("pipeline", "pipeline-1-b", ["network-1-b"]),
      ]),
    ).toEqual(["npx cdktf deploy bootstrap", "npx cdktf deploy 'archive-*' 'network-*' 'pipeline-*'"]);
  });

  it("keeps kinds that read nothing of each other apart", () => {
    expect(deployCommands([stack("workspaces", "workspaces"), stack("network", "network-1-a")])).toEqual([
      "npx cdktf deploy workspaces",
      "npx cdktf deploy 'network-*'",
    ]);
  });
});

describe("backup-actions stacks (the real CLI)", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "stacks-cmd-"));

  it("prints a table in deploy order with state keys, reads-from and the deploy commands", () => {
    const r = cli([], "config/examples/nat-two-accounts.json");
    expect(r.code).toBe(0);
    expect(r.stderr).toBe("");
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe(
      "Stacks of config/examples/nat-two-accounts.json in deploy order (each stack reads only stacks listed above it):",
    );
    expect(lines[2]).toMatch(/^#\s+stack\s+kind\s+account\s+region\s+state\s+reads from$/);
    const rows = lines.slice(3, 10).map((l) => l.split(/\s{2,}/));
    expect(rows.map((c) => c[1])).toEqual([
      "bootstrap",
      "network-111111111111-us-east-1",
      "network-111111111111-eu-west-1",
      "network-222222222222-us-west-2",
      "pipeline-111111111111-us-east-1",
      "pipeline-111111111111-eu-west-1",
      "pipeline-222222222222-us-west-2",
    ]);
    expect(rows[6]).toEqual([
      "7",
      "pipeline-222222222222-us-west-2",
      "pipeline",
      "222222222222",
      "us-west-2",
      "s3 key backup-actions/pipeline-222222222222-us-west-2.tfstate",
      "network-222222222222-us-west-2",
    ]);
    expect(rows[0]).toEqual([
      "1",
      "bootstrap",
      "bootstrap",
      "111111111111",
      "us-east-1",
      "local file terraform.bootstrap.tfstate",
      "-",
    ]);
    expect(r.stdout).toContain(
      "S3 state keys are in bucket acme-backup-actions-tfstate (us-east-1), which bootstrap creates.\n",
    );
    expect(
      r.stdout.endsWith(
        "Deploy in this order (one command deploys a stack after the stacks it reads):\n" +
          "  npx cdktf deploy bootstrap\n  npx cdktf deploy 'network-*' 'pipeline-*'\n",
      ),
    ).toBe(true);
  });

  it("lists Terraform Cloud workspaces and no bootstrap with the cloud backend", () => {
    const file = path.join(dir, "tfe.json");
    writeFileSync(
      file,
      JSON.stringify({
        accounts: [{ id: "333333333333", regions: ["eu-central-1"] }],
        tags: { project: "backup-actions" },
        stateBackend: {
          type: "cloud",
          organization: "acme",
          workspacePrefix: "ba",
          hostname: "tfe.example.com",
          runRoleArns: { "333333333333": "arn:aws:iam::333333333333:role/tfc" },
        },
        worker: { imageUri: "333333333333.dkr.ecr.eu-central-1.amazonaws.com/worker:1" },
      }),
    );
    const r = cli([], file);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`Stacks of ${file} in deploy order`); // outside the working directory: as given
    expect(r.stdout).not.toMatch(/^\d+\s+bootstrap/m);
    // The workspaces stack reaches no AWS account: "-" for account and region.
    expect(r.stdout).toMatch(/^1\s+workspaces\s+workspaces\s+-\s+-\s+local file terraform\.workspaces\.tfstate\s+-$/m);
    expect(r.stdout).toMatch(
      new RegExp(
        "^2\\s+network-333333333333-eu-central-1\\s+network\\s+333333333333\\s+eu-central-1\\s+" +
          "workspace ba-network-333333333333-eu-central-1\\s+-$",
        "m",
      ),
    );
    expect(r.stdout).toMatch(
      new RegExp(
        "^3\\s+pipeline-333333333333-eu-central-1\\s+.*" +
          "workspace ba-pipeline-333333333333-eu-central-1\\s+network-333333333333-eu-central-1$",
        "m",
      ),
    );
    expect(r.stdout).toContain("Workspaces are in organization acme on tfe.example.com.\n");
    expect(r.stdout).toContain(
      "Deploy in this order (one command deploys a stack after the stacks it reads):\n  npx cdktf deploy workspaces\n  npx cdktf deploy 'network-*' 'pipeline-*'\n",
    );
    const json = cli(["--json"], file);
    expect(JSON.parse(json.stdout).stacks[0]).toEqual({
      name: "workspaces",
      kind: "workspaces",
      account: null,
      region: null,
      partition: null,
      state: { type: "local", path: "terraform.workspaces.tfstate" },
      readsFrom: [],
      dependsOn: [],
    });
    expect(JSON.parse(json.stdout).stacks[2]).toEqual({
      name: "pipeline-333333333333-eu-central-1",
      kind: "pipeline",
      account: "333333333333",
      region: "eu-central-1",
      partition: "aws",
      state: {
        type: "cloud",
        hostname: "tfe.example.com",
        organization: "acme",
        workspace: "ba-pipeline-333333333333-eu-central-1",
      },
      readsFrom: ["network-333333333333-eu-central-1"],
      dependsOn: ["workspaces", "network-333333333333-eu-central-1"],
    });
  });

  it("--json prints the documented schema, keys in a stable order", () => {
    const r = cli(["--json"]);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(Object.keys(json)).toEqual(["schemaVersion", "stacks"]);
    expect(json.schemaVersion).toBe(1);
    expect(json.stacks.map((s: object) => Object.keys(s))).toEqual(
      Array(3).fill(["name", "kind", "account", "region", "partition", "state", "readsFrom", "dependsOn"]),
    );
    expect(json.stacks[1]).toEqual({
      name: "network-111111111111-us-east-1",
      kind: "network",
      account: "111111111111",
      region: "us-east-1",
      partition: "aws",
      state: {
        type: "s3",
        bucket: "backup-actions-tfstate-111111111111",
        key: "backup-actions/network-111111111111-us-east-1.tfstate",
        region: "us-east-1",
      },
      readsFrom: [],
      dependsOn: ["bootstrap"],
    });
    expect(json.stacks[0].state).toEqual({ type: "local", path: "terraform.bootstrap.tfstate" });
  });

  it("an invalid config: the config's problems on stderr, nothing on stdout, exit 1", () => {
    const file = path.join(dir, "bad.json");
    writeFileSync(
      file,
      JSON.stringify({ accounts: [{ id: "12", regions: ["us-east-1"] }], tags: {}, stateBackend: { type: "s3" } }),
    );
    for (const args of [[], ["--json"]]) {
      const r = cli(args, file);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe("");
      expect(r.stderr).toContain(`backup-actions stacks: Invalid configuration in ${file}:\n`);
      expect(r.stderr).toContain("  accounts[0].id: must be 12 digits");
      expect(r.stderr).toContain("  stateBackend.bucket:");
    }
    const missing = cli([], path.join(dir, "nope.json"));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("cannot read the file (ENOENT)");
  });

  it("--help exits 0 with the schema; a bad option or an argument exits 2 with the usage", () => {
    const help = cli(["--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^usage: backup-actions stacks \[--json\]\n/);
    expect(help.stdout).toContain('{"type": "cloud", "hostname", "organization", "workspace"}');
    for (const args of [["--bogus"], ["extra"]]) {
      const r = cli(args);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe("");
      expect(r.stderr).toMatch(/\nusage: backup-actions stacks \[--json\]\n$/);
    }
    const top = spawnSync(process.execPath, [BIN, "--help"], { cwd: ROOT, encoding: "utf8" });
    expect(top.stdout).toContain("  stacks [--json]\n      every stack of the config in deploy order");
  });
});

describe("README deploy order", () => {
  const readme = readFileSync(path.join(ROOT, "README.md"), "utf8");

  it("documents every key --json prints, in the README and in --help", () => {
    const help = cli(["--help"]).stdout;
    const stacks = [...listed("config/default.json").stacks, ...listed("config/examples/public-cloud.json").stacks];
    const states = new Set(stacks.map((s) => s.state.type));
    expect([...states].sort()).toEqual(["cloud", "local", "s3"]);
    for (const s of stacks) {
      for (const key of Object.keys(s)) {
        expect(readme).toContain(`\`${key}\``);
        expect(help).toContain(`"${key}"`);
      }
      const stateDoc = `{"type": "${s.state.type}", ${Object.keys(s.state)
        .filter((k) => k !== "type")
        .map((k) => `"${k}"`)
        .join(", ")}}`;
      expect(help).toContain(stateDoc);
      expect(readme.replace(/\n/g, " ")).toContain(`\`${stateDoc}\``);
    }
  });

  it("is the output of `backup-actions stacks` for config/default.json (run `npm run docs:stacks`)", () => {
    const r = cli([]);
    expect(r.code).toBe(0);
    expect(currentStacksBlock(readme)).toBe(stacksReadmeBlock(r.stdout));
  });

  it.each(Object.entries(STACKS_README_CONFIGS).filter(([id]) => id !== "default"))(
    "the %s block is the output of `backup-actions stacks` for %s (run `npm run docs:stacks`)",
    (id, config) => {
      const r = cli([], config);
      expect(r.code).toBe(0);
      expect(currentStacksBlock(readme, id)).toBe(stacksReadmeBlock(r.stdout, config));
      expect(currentStacksBlock(readme, id)).toContain(`$ BACKUP_ACTIONS_CONFIG=${config} backup-actions stacks\n`);
    },
  );

  it("replaceStacksBlock rewrites only between the markers, and refuses a README without them", () => {
    const text = "a\n<!-- stacks:begin -->\nold\n<!-- stacks:end -->\nb\n";
    expect(replaceStacksBlock(text, "new")).toBe("a\n<!-- stacks:begin -->\nnew\n<!-- stacks:end -->\nb\n");
    expect(() => replaceStacksBlock("no markers", "x")).toThrow(
      "README.md has no <!-- stacks:begin --> … <!-- stacks:end --> block",
    );
    const two = `${text}<!-- stacks:fleet:begin -->\nold\n<!-- stacks:fleet:end -->\n`;
    expect(replaceStacksBlock(two, "new", "fleet")).toBe(
      `${text}<!-- stacks:fleet:begin -->\nnew\n<!-- stacks:fleet:end -->\n`,
    );
    expect(() => replaceStacksBlock(text, "x", "fleet")).toThrow(
      "README.md has no <!-- stacks:fleet:begin --> … <!-- stacks:fleet:end --> block",
    );
  });

  it("npm run docs:stacks writes each config's block, whatever BACKUP_ACTIONS_CONFIG says", () => {
    const dir = mkdtempSync(path.join(tmpdir(), "stacks-docs-"));
    const copy = path.join(dir, "README.md");
    writeFileSync(copy, replaceStacksBlock(replaceStacksBlock(readme, "stale"), "stale", "fleet"));
    const env = { ...process.env, BACKUP_ACTIONS_CONFIG: "config/examples/nat-two-accounts.json" };
    const tsx = path.join(ROOT, "node_modules", ".bin", "tsx"); // the script's command, without npx's start
    const run = () => spawnSync(tsx, ["scripts/docs-stacks.ts", copy], { cwd: ROOT, encoding: "utf8", env });
    expect(run().stdout).toBe("README.md stacks blocks rewritten\n");
    expect(readFileSync(copy, "utf8")).toBe(readme);
    expect(run().stdout).toBe("README.md stacks blocks already up to date\n");
    rmSync(dir, { recursive: true, force: true });
  });
});
