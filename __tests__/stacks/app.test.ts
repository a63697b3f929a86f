import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { parseConfig } from "../../config/load";
import { Testing } from "cdktf";
import { checkStacks, ComposedStacks, composeStacks } from "../../stacks/app";
import { compose, synth, testConfig } from "../helpers/synth";

const ROOT = path.resolve(__dirname, "..", "..");
const CONFIG_FILES = [
  "config/default.json",
  ...readdirSync(path.join(ROOT, "config/examples")).map((f: string) => `config/examples/${f}`),
];
const composed = new Map<string, ComposedStacks>();
/**
 * The stacks of a config file, composed once for this file: the allowed-account and the baseline tests below read
 * the same stacks and neither changes them (the baseline only reads; Testing.synth's aspects are that check too).
 */
function composedOf(file: string): ComposedStacks {
  if (!composed.has(file))
    composed.set(file, compose(parseConfig(JSON.parse(readFileSync(path.join(ROOT, file), "utf8")))));
  return composed.get(file)!;
}

describe("composeStacks", () => {
  it("makes bootstrap, then one network and one pipeline stack per account and region", () => {
    const stacks = compose(
      testConfig({
        accounts: [
          { id: "111111111111", regions: ["us-east-1", "eu-west-1"] },
          { id: "222222222222", regions: ["us-west-2"], assumeRoleArn: "arn:aws:iam::222222222222:role/deploy" },
        ],
      }),
    );
    expect(stacks.all.map((s) => s.node.id)).toEqual([
      "bootstrap",
      "network-111111111111-us-east-1",
      "network-111111111111-eu-west-1",
      "network-222222222222-us-west-2",
      "pipeline-111111111111-us-east-1",
      "pipeline-111111111111-eu-west-1",
      "pipeline-222222222222-us-west-2",
    ]);
  });

  it("gives each non-bootstrap stack its own S3 state key with the S3-native lockfile", () => {
    const { networks, pipelines } = compose(testConfig());
    expect(synth(networks[0]!).tf.terraform.backend.s3).toEqual({
      bucket: "state-bucket-111",
      key: "ba/network-111111111111-us-east-1.tfstate",
      region: "us-east-1",
      encrypt: true,
      use_lockfile: true,
    });
    expect(synth(pipelines[0]!).tf.terraform.backend.s3.key).toBe("ba/pipeline-111111111111-us-east-1.tfstate");
  });

  it("uses a Terraform Cloud workspace per stack, and no bootstrap stack, with the cloud backend", () => {
    const stacks = compose(
      testConfig({
        stateBackend: {
          type: "cloud",
          organization: "acme",
          workspacePrefix: "ba",
          hostname: "tfe.example.com",
          runRoleArns: { "111111111111": "arn:aws:iam::111111111111:role/tfc" },
        },
        worker: { imageUri: "111111111111.dkr.ecr.us-east-1.amazonaws.com/worker:1" },
      }),
    );
    expect(stacks.bootstrap).toBeUndefined();
    const tf = synth(stacks.pipelines[0]!).tf;
    expect(tf.terraform.cloud).toEqual({
      hostname: "tfe.example.com",
      organization: "acme",
      workspaces: { name: "ba-pipeline-111111111111-us-east-1" },
    });
    expect(tf.data.terraform_remote_state.network).toMatchObject({
      backend: "remote",
      config: {
        organization: "acme",
        hostname: "tfe.example.com",
        workspaces: { name: "ba-network-111111111111-us-east-1" },
      },
    });
  });

  it("configures each account's provider: region, allowed account, assumed role, default tags", () => {
    const stacks = compose(
      testConfig({
        accounts: [
          { id: "222222222222", regions: ["us-west-2"], assumeRoleArn: "arn:aws:iam::222222222222:role/deploy" },
        ],
        stateBackend: { type: "s3", bucket: "state-bucket-111", region: "us-east-1", accountId: "111111111111" },
      }),
    );
    const provider = synth(stacks.networks[0]!).tf.provider.aws[0];
    expect(provider).toEqual({
      region: "us-west-2",
      allowed_account_ids: ["222222222222"],
      assume_role: [{ role_arn: "arn:aws:iam::222222222222:role/deploy", session_name: "backup-actions-terraform" }],
      default_tags: [{ tags: { project: "backup-actions" } }],
    });
  });
});

describe("stack dependencies (cdktf's deploy order)", () => {
  it("makes each pipeline depend on its region's network, the stack it reads, and nothing else depend on anything", () => {
    const stacks = compose(
      testConfig({
        accounts: [
          { id: "111111111111", regions: ["us-east-1", "eu-west-1"] },
          { id: "222222222222", regions: ["us-west-2"] },
        ],
      }),
    );
    const deps = Object.fromEntries(stacks.all.map((s) => [s.node.id, s.dependencies.map((d) => d.node.id)]));
    expect(deps).toEqual({
      bootstrap: [],
      "network-111111111111-us-east-1": [],
      "network-111111111111-eu-west-1": [],
      "network-222222222222-us-west-2": [],
      "pipeline-111111111111-us-east-1": ["network-111111111111-us-east-1"],
      "pipeline-111111111111-eu-west-1": ["network-111111111111-eu-west-1"],
      "pipeline-222222222222-us-west-2": ["network-222222222222-us-west-2"],
    });
  });

  it("records them in cdktf.out/manifest.json, which `cdktf deploy` orders by", () => {
    const app = Testing.app();
    composeStacks(app, testConfig());
    app.synth();
    const manifest = JSON.parse(readFileSync(path.join(app.outdir, "manifest.json"), "utf8"));
    expect(
      Object.fromEntries(Object.entries(manifest.stacks).map(([name, s]: [string, any]) => [name, s.dependencies])),
    ).toEqual({
      bootstrap: [],
      "network-111111111111-us-east-1": [],
      "pipeline-111111111111-us-east-1": ["network-111111111111-us-east-1"],
    });
  });
});

describe("every stack pins its account (README: allowed_account_ids)", () => {
  it.each(CONFIG_FILES)("every stack of %s has exactly one allowed account", (file) => {
    const stacks = composedOf(file);
    for (const stack of stacks.all) {
      // The workspaces stack has no AWS provider (only tfe: __tests__/stacks/workspaces-stack.test.ts).
      if (stack === stacks.workspaces) {
        expect(synth(stack).tf.provider.aws).toBeUndefined();
        continue;
      }
      const providers = synth(stack).tf.provider.aws;
      expect({ stack: stack.node.id, allowed: providers.map((p: any) => p.allowed_account_ids) }).toEqual({
        stack: stack.node.id,
        allowed: providers.map(() => [expect.stringMatching(/^\d{12}$/)]),
      });
    }
  });
});

describe("the synthesis warning about the Lambda runtime", () => {
  it("is printed, naming the date, within 90 days of the runtime's creation block", () => {
    const lines: string[] = [];
    compose(testConfig(), { now: new Date("2027-03-15T00:00:00Z"), warn: (l) => lines.push(l) });
    expect(lines).toEqual([
      "warning: Lambda runtime nodejs22.x: from 2027-06-01 (in 78 days) Lambda refuses to create functions on it (new pipeline stacks fail to apply), and from 2027-07-01 to update them; move to a newer runtime (ADR 0002: @cdktf/provider-aws 21.x, AWS provider 6.x, accepts nodejs24.x)",
    ]);
  });

  it("is not printed earlier", () => {
    const lines: string[] = [];
    compose(testConfig(), { now: new Date("2027-03-02T23:59:59Z"), warn: (l) => lines.push(l) });
    expect(lines).toEqual([]);
  });

  it("goes to stderr by default, and synthesis goes on", () => {
    const write = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const stacks = compose(testConfig(), { now: new Date("2027-06-15T00:00:00Z") });
      expect(stacks.pipelines).toHaveLength(1);
      expect(write).toHaveBeenCalledWith(
        "warning: Lambda runtime nodejs22.x: since 2027-06-01 Lambda refuses to create functions on it (new pipeline stacks fail to apply), and from 2027-07-01 to update them; move to a newer runtime (ADR 0002: @cdktf/provider-aws 21.x, AWS provider 6.x, accepts nodejs24.x)\n",
      );
    } finally {
      write.mockRestore();
    }
  });
});

describe("security baseline on every composed stack", () => {
  it.each(CONFIG_FILES)("passes for every stack of %s", (file) => {
    expect(() => checkStacks(composedOf(file))).not.toThrow();
  });

  it.each(["endpoints", "nat", "public"])("passes in %s egress mode", (egress) => {
    expect(() => checkStacks(compose(testConfig({ network: { vpcCidr: "10.1.0.0/16", egress } })))).not.toThrow();
  });

  it("names the construct and the rule when a stack breaks the baseline", () => {
    const stacks = compose(testConfig());
    new KmsKey(stacks.networks[0]!, "unrotated", { description: "no rotation" });
    expect(() => checkStacks(stacks)).toThrow(/network-111111111111-us-east-1\/unrotated: kms-key-rotation: /);
  });
});
