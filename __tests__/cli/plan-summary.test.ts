/**
 * `backup-actions plan-summary`: the pull request's one comment from every stack's plan. Counted the
 * way Terraform counts (a replacement is one add and one destroy); the terraform tier checks the
 * counts against Terraform's own "Plan:" line on real plans of the bench (stacks-apply.test.ts).
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import {
  countPlan,
  formatPlanSummary,
  PLAN_SUMMARY_MARKER,
  readPlans,
  type PlanJson,
} from "../../cli/commands/plan-summary";

const change = (address: string, actions: string[], extra: Record<string, unknown> = {}) => ({
  address,
  mode: "managed",
  type: address.split(".")[0],
  change: { actions, ...extra },
});
const planJson = (changes: unknown[], outputs: Record<string, { actions: string[] }> = {}): PlanJson => ({
  format_version: "1.2",
  terraform_version: "1.11.4",
  resource_changes: changes as PlanJson["resource_changes"],
  output_changes: outputs,
});

function plansDir(stacks: Record<string, { plan?: unknown; error?: string }>): string {
  const dir = mkdtempSync(path.join(tmpdir(), "plan-summary-"));
  for (const [stack, { plan, error }] of Object.entries(stacks)) {
    mkdirSync(path.join(dir, stack));
    if (plan !== undefined) writeFileSync(path.join(dir, stack, "plan.json"), JSON.stringify(plan));
    if (error !== undefined) writeFileSync(path.join(dir, stack, "error.txt"), error);
  }
  return dir;
}

describe("countPlan", () => {
  it("counts like Terraform: create, update, delete, and a replacement as one add and one destroy", () => {
    const counts = countPlan(
      planJson([
        change("aws_s3_bucket.archive", ["create"]),
        change("aws_sqs_queue.q", ["update"]),
        change("aws_iam_role.old", ["delete"]),
        change("aws_dynamodb_table.ledger", ["delete", "create"]),
        change("aws_launch_template.t", ["create", "delete"]),
        change("aws_vpc.vpc", ["no-op"]),
        { ...change("data.aws_caller_identity.me", ["read"]), mode: "data" },
        change("aws_kms_key.key", ["no-op"], { importing: { id: "k" } }),
      ]),
    );
    expect(counts).toEqual({
      add: 3,
      change: 1,
      destroy: 3,
      import: 1,
      replace: ["aws_dynamodb_table.ledger", "aws_launch_template.t"],
      changes: [
        { symbol: "+", address: "aws_s3_bucket.archive" },
        { symbol: "~", address: "aws_sqs_queue.q" },
        { symbol: "-", address: "aws_iam_role.old" },
        { symbol: "-/+", address: "aws_dynamodb_table.ledger" },
        { symbol: "+/-", address: "aws_launch_template.t" },
      ],
      outputs: 0,
    });
  });

  it("counts the outputs that change", () => {
    expect(countPlan(planJson([], { a: { actions: ["update"] }, b: { actions: ["no-op"] } })).outputs).toBe(1);
  });
});

describe("formatPlanSummary", () => {
  const plans = readPlans(
    plansDir({
      "network-111111111111-us-east-1": { plan: planJson([change("aws_vpc.vpc", ["no-op"])]) },
      "pipeline-111111111111-us-east-1": {
        plan: planJson([
          change("aws_sqs_queue.q", ["update"]),
          change("aws_dynamodb_table.ledger", ["delete", "create"]),
        ]),
      },
      "pipeline-222222222222-us-west-2": { error: "Error: No valid credential sources found" },
    }),
    [
      "network-111111111111-us-east-1",
      "pipeline-111111111111-us-east-1",
      "pipeline-222222222222-us-west-2",
      "network-222222222222-us-west-2",
    ],
  );
  const body = formatPlanSummary(plans);

  it("starts with the marker the workflow finds its comment by, then the totals", () => {
    expect(body.split("\n").slice(0, 2)).toEqual([
      PLAN_SUMMARY_MARKER,
      "### terraform plan: 4 stacks, 1 to add, 1 to change, 1 to destroy (1 replaced), 2 plans FAILED",
    ]);
  });

  it("has one table row per stack, failed and missing ones included", () => {
    const rows = body.split("\n").filter((l) => l.startsWith("| `"));
    expect(rows).toEqual([
      "| `network-111111111111-us-east-1` | 0 | 0 | 0 | 0 | no changes |",
      "| `network-222222222222-us-west-2` | - | - | - | - | **plan failed** |",
      "| `pipeline-111111111111-us-east-1` | 1 | 1 | 1 | 1 | **replaces resources** |",
      "| `pipeline-222222222222-us-west-2` | - | - | - | - | **plan failed** |",
    ]);
  });

  it("shows why a plan failed, and names what a replacement destroys", () => {
    expect(body).toContain("Error: No valid credential sources found");
    expect(body).toContain("no plan: the stack's job failed before it could report");
    expect(body).toContain("**Replaced** (destroyed, then created): `aws_dynamodb_table.ledger`");
    expect(body).toContain("~   aws_sqs_queue.q\n-/+ aws_dynamodb_table.ledger");
  });

  it("cuts the address lists, never the table, to stay within the limit", () => {
    const many = readPlans(
      plansDir({
        "pipeline-111111111111-us-east-1": {
          plan: planJson(Array.from({ length: 400 }, (_, i) => change(`aws_iam_role.role_number_${i}`, ["create"]))),
        },
        "network-111111111111-us-east-1": { plan: planJson([change("aws_vpc.vpc", ["create"])]) },
      }),
    );
    const cut = formatPlanSummary(many, 3000);
    expect(cut.length).toBeLessThanOrEqual(3000);
    expect(cut).toContain("| `pipeline-111111111111-us-east-1` | 400 | 0 | 0 | 0 | changes |");
    expect(cut).toMatch(/_1 more section\(s\) cut to stay within 3000 characters: see the artifacts\._/);
    expect(formatPlanSummary(many).length).toBeGreaterThan(3000);
  });
});

describe("backup-actions plan-summary", () => {
  const cli = (args: string[]) =>
    spawnSync(process.execPath, [path.join(__dirname, "..", "..", "cli", "bin.js"), "plan-summary", ...args], {
      encoding: "utf8",
    });

  it("writes the comment on stdout", () => {
    const dir = plansDir({ "network-111111111111-us-east-1": { plan: planJson([change("aws_vpc.vpc", ["create"])]) } });
    const r = cli(["--plans", dir]);
    expect({ status: r.status, stderr: r.stderr }).toEqual({ status: 0, stderr: "" });
    expect(r.stdout).toContain("| `network-111111111111-us-east-1` | 1 | 0 | 0 | 0 | changes |");
  });

  it("refuses a folder with neither plan.json nor error.txt, and a plan that terraform did not write", () => {
    expect(cli(["--plans", plansDir({ x: {} })]).stderr).toMatch(/x: neither plan\.json nor error\.txt\n$/);
    const notAPlan = cli(["--plans", plansDir({ y: { plan: { resource_changes: [] } } })]);
    expect(notAPlan.status).toBe(1);
    expect(notAPlan.stderr).toContain("not the output of terraform show -json (no format_version)");
  });

  it("wants --plans, and stack names in --expect", () => {
    expect(cli([]).status).toBe(2);
    expect(cli([]).stderr).toContain("--plans DIR is required");
    const bad = cli(["--plans", plansDir({}), "--expect", "a,$(rm -rf /)"]);
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('--expect: "$(rm -rf /)" is not a stack name');
  });
});

describe("the README's sample comment", () => {
  it("is the command's output for __tests__/fixtures/plans", () => {
    const readme = readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");
    const block = /<!-- plan-summary:begin -->\n````markdown\n([\s\S]*?)````\n<!-- plan-summary:end -->/.exec(readme);
    expect(block?.[1]).toBe(formatPlanSummary(readPlans(path.join(__dirname, "..", "fixtures", "plans"))));
  });
});
