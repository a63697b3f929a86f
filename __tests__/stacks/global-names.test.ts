/**
 * IAM names are global to an account and S3 bucket names to all of AWS: a pipeline deployed to two regions of one
 * account must not name a role, an instance profile or a managed policy the same in both, or the second region's
 * apply fails with EntityAlreadyExists. Every stack of a config with one account in three regions (every export
 * type, the drill and the reconciler on, the longest pipeline name), and of the README's fleet, is synthesized and its
 * global names compared.
 */
import * as path from "node:path";
import type { TerraformStack } from "cdktf";
import { loadConfig } from "../../config/load";
import { compose, synth, testConfig } from "../helpers/synth";

const ACCOUNT_OF_STACK = /-(\d{12})-[a-z0-9-]+$/;

/** Every literal name of a resource type, with the stack that names it. */
function globalNames(stacks: readonly TerraformStack[]) {
  const rows: { account: string; kind: string; name: string; stack: string }[] = [];
  const kinds: Record<string, string> = {
    aws_iam_role: "name",
    aws_iam_instance_profile: "name",
    aws_iam_policy: "name",
    aws_s3_bucket: "bucket",
  };
  for (const stack of stacks) {
    const account = ACCOUNT_OF_STACK.exec(stack.node.id)?.[1] ?? "bootstrap";
    const out = synth(stack);
    for (const [type, attribute] of Object.entries(kinds))
      for (const resource of Object.values<any>(out.resources(type))) {
        const name = resource[attribute];
        if (typeof name === "string") rows.push({ account, kind: type, name, stack: stack.node.id });
      }
  }
  return rows;
}

function duplicates(rows: ReturnType<typeof globalNames>, scope: (r: (typeof rows)[number]) => string) {
  const seen = new Map<string, string[]>();
  for (const r of rows) {
    const key = `${scope(r)} ${r.kind} ${r.name}`;
    seen.set(key, [...(seen.get(key) ?? []), r.stack]);
  }
  return [...seen].filter(([, stacks]) => stacks.length > 1).map(([key, stacks]) => `${key}: ${stacks.join(", ")}`);
}

const everything = testConfig({
  // the longest pipeline name (20 characters) with a long region: the length limits below bind here
  name: "long-pipeline-name-x",
  accounts: [{ id: "111111111111", regions: ["us-east-1", "eu-west-1", "ap-southeast-2"] }],
  exports: { ebs: true, rds: { format: "both" }, aurora: { format: "both" }, dynamodb: true },
  drills: { enabled: true },
  reconciler: { enabled: true },
});

describe.each([
  ["one account, three regions, everything on", () => everything],
  ["config/examples/fleet.json", () => loadConfig(path.resolve(__dirname, "../../config/examples/fleet.json"))],
])("global names of %s", (_, config) => {
  const rows = globalNames(compose(config(), { warn: () => undefined }).all);

  it("names roles, instance profiles and managed policies once per account, buckets once in all", () => {
    expect(rows.filter((r) => r.kind === "aws_iam_role").length).toBeGreaterThan(10);
    expect(
      duplicates(
        rows.filter((r) => r.kind !== "aws_s3_bucket"),
        (r) => r.account,
      ),
    ).toEqual([]);
    expect(
      duplicates(
        rows.filter((r) => r.kind === "aws_s3_bucket"),
        () => "aws",
      ),
    ).toEqual([]);
  });

  it("keeps each within its limit: roles 64 characters, instance profiles 128, managed policies 128, buckets 63", () => {
    const limit: Record<string, number> = {
      aws_iam_role: 64,
      aws_iam_instance_profile: 128,
      aws_iam_policy: 128,
      aws_s3_bucket: 63,
    };
    expect(rows.filter((r) => r.name.length > limit[r.kind]!).map((r) => `${r.kind} ${r.name}`)).toEqual([]);
  });
});
