import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { App, Aspects, TerraformStack, Testing } from "cdktf";
import { Construct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import {
  BaselineViolationError,
  SecurityBaseline,
  allowBaselineException,
  assertBaseline,
  checkBaseline,
  formatViolation,
} from "../../../stacks/aspects/security-baseline";
import { newStack } from "./helpers";

function stackIn(app: App, id: string): TerraformStack {
  const stack = new TerraformStack(app, id);
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  return stack;
}

/** Stack directories cdktf wrote under `<outdir>/stacks` (the directory itself is created up front). */
function writtenStacks(outdir: string): string[] {
  const stacks = path.join(outdir, "stacks");
  return fs.existsSync(stacks) ? fs.readdirSync(stacks).sort() : [];
}

describe("SecurityBaseline aspect", () => {
  it("lets a compliant stack synthesize", () => {
    const stack = newStack();
    new KmsKey(stack, "key", { enableKeyRotation: true });
    Aspects.of(stack).add(new SecurityBaseline({ egress: "endpoints" }));
    expect(JSON.parse(Testing.synth(stack)).resource.aws_kms_key.key.enable_key_rotation).toBe(true);
  });

  it("makes Testing.synth throw a BaselineViolationError naming every violation", () => {
    // GIVEN a stack with two violations and the aspect
    const stack = newStack();
    new KmsKey(stack, "key", {});
    new SqsQueue(stack, "queue", {});
    Aspects.of(stack).add(new SecurityBaseline({ egress: "endpoints" }));
    // WHEN / THEN
    let error: unknown;
    try {
      Testing.synth(stack);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(BaselineViolationError);
    expect((error as Error).message).toBe(
      [
        "Security baseline: 2 violations (see docs/security-baseline.md):",
        "test/key: kms-key-rotation: enable_key_rotation must be true (it is not set)",
        "test/queue: sqs-encryption: set kms_master_key_id (SSE-KMS) or sqs_managed_sse_enabled = true (SSE-SQS); sqs_managed_sse_enabled is not set",
      ].join("\n"),
    );
  });

  it("makes Testing.fullSynth throw", () => {
    const stack = newStack();
    new KmsKey(stack, "key", { enableKeyRotation: false });
    Aspects.of(stack).add(new SecurityBaseline({ egress: "endpoints" }));
    expect(() => Testing.fullSynth(stack)).toThrow(
      "test/key: kms-key-rotation: enable_key_rotation must be true (it is false)",
    );
  });

  it("makes app.synth() throw", () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "baseline-"));
    try {
      const app = new App({ outdir });
      const stack = stackIn(app, "network");
      new Subnet(stack, "public", { vpcId: "vpc-1", cidrBlock: "10.0.0.0/24", mapPublicIpOnLaunch: true });
      Aspects.of(stack).add(new SecurityBaseline({ egress: "nat" }));
      expect(() => app.synth()).toThrow(
        'network/public: no-public-ip: map_public_ip_on_launch is true; egress mode "nat" allows no public IPs',
      );
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });

  it("sees escape-hatch overrides on a resource, as Terraform will", () => {
    const stack = newStack();
    const key = new KmsKey(stack, "key", { enableKeyRotation: true });
    key.addOverride("enable_key_rotation", false);
    expect(checkBaseline(stack, { egress: "endpoints" })).toEqual([
      { rule: "kms-key-rotation", path: "test/key", message: "enable_key_rotation must be true (it is false)" },
    ]);
  });

  it("judges each stack by its own egress mode", () => {
    const app = Testing.app();
    const publicStack = stackIn(app, "public");
    const privateStack = stackIn(app, "private");
    for (const stack of [publicStack, privateStack]) {
      new Subnet(stack, "subnet", { vpcId: "vpc-1", cidrBlock: "10.0.0.0/24", mapPublicIpOnLaunch: true });
    }
    Aspects.of(publicStack).add(new SecurityBaseline({ egress: "public" }));
    Aspects.of(privateStack).add(new SecurityBaseline({ egress: "endpoints" }));
    expect(() => Testing.synth(publicStack)).not.toThrow();
    expect(() => Testing.synth(privateStack)).toThrow(BaselineViolationError);
  });
});

describe("assertBaseline", () => {
  it("checks every stack of the app and throws one error listing all violations", () => {
    // GIVEN two stacks with violations and one without
    const app = Testing.app();
    const network = stackIn(app, "network");
    new Subnet(network, "public", { vpcId: "vpc-1", cidrBlock: "10.0.0.0/24", mapPublicIpOnLaunch: true });
    const pipeline = stackIn(app, "pipeline");
    new KmsKey(pipeline, "key", {});
    new SqsQueue(pipeline, "queue", {});
    stackIn(app, "bootstrap");
    // WHEN
    let error: BaselineViolationError | undefined;
    try {
      assertBaseline(app, () => ({ egress: "endpoints" }));
    } catch (e) {
      error = e as BaselineViolationError;
    }
    // THEN
    expect(error).toBeInstanceOf(BaselineViolationError);
    expect(error?.violations.map(formatViolation)).toEqual([
      'network/public: no-public-ip: map_public_ip_on_launch is true; egress mode "endpoints" allows no public IPs',
      "pipeline/key: kms-key-rotation: enable_key_rotation must be true (it is not set)",
      "pipeline/queue: sqs-encryption: set kms_master_key_id (SSE-KMS) or sqs_managed_sse_enabled = true (SSE-SQS); sqs_managed_sse_enabled is not set",
    ]);
    expect(error?.message.split("\n")).toEqual([
      "Security baseline: 3 violations (see docs/security-baseline.md):",
      ...(error?.violations.map(formatViolation) ?? []),
    ]);
  });

  it("passes the options chosen for each stack, and accepts a list of stacks", () => {
    const app = Testing.app();
    const stacks = ["public", "private"].map((id) => {
      const stack = stackIn(app, id);
      new Subnet(stack, "subnet", { vpcId: "vpc-1", cidrBlock: "10.0.0.0/24", mapPublicIpOnLaunch: true });
      return stack;
    });
    const egressOf = (stack: TerraformStack) => ({
      egress: stack.node.id === "public" ? ("public" as const) : ("endpoints" as const),
    });
    expect(() => assertBaseline(stacks, egressOf)).toThrow(
      /^Security baseline: 1 violation \(see docs\/security-baseline.md\):\nprivate\/subnet: no-public-ip: /,
    );
    expect(() => assertBaseline([stacks[0]], { egress: "endpoints" })).toThrow(BaselineViolationError);
  });

  it("returns quietly when every stack complies, and leaves the synthesized output unchanged", () => {
    const stack = newStack();
    new KmsKey(stack, "key", { enableKeyRotation: true });
    const before = Testing.synth(stack);
    expect(() => assertBaseline([stack], { egress: "endpoints" })).not.toThrow();
    expect(Testing.synth(stack)).toBe(before);
  });

  it("fails before anything is written when called ahead of app.synth()", () => {
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "baseline-"));
    try {
      const app = new App({ outdir });
      stackIn(app, "bootstrap");
      const pipeline = stackIn(app, "pipeline");
      new KmsKey(pipeline, "key", {});
      expect(() => {
        assertBaseline(app, { egress: "endpoints" });
        app.synth();
      }).toThrow(BaselineViolationError);
      expect(writtenStacks(outdir)).toEqual([]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe("the aspect alone", () => {
  it("fails app.synth() only when it reaches the bad stack, after earlier stacks were written", () => {
    // This is why main.ts calls assertBaseline first.
    const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "baseline-"));
    try {
      const app = new App({ outdir });
      const bootstrap = stackIn(app, "bootstrap");
      const pipeline = stackIn(app, "pipeline");
      new KmsKey(pipeline, "key", {});
      for (const stack of [bootstrap, pipeline]) Aspects.of(stack).add(new SecurityBaseline({ egress: "endpoints" }));
      expect(() => app.synth()).toThrow(BaselineViolationError);
      expect(writtenStacks(outdir)).toEqual(["bootstrap"]);
    } finally {
      fs.rmSync(outdir, { recursive: true, force: true });
    }
  });
});

describe("exceptions", () => {
  it("excuses a construct and its children from one rule only", () => {
    // GIVEN a wrapper construct excused from key rotation, holding a key and a queue that both break rules
    const stack = newStack();
    const wrapper = new Construct(stack, "legacy");
    new KmsKey(wrapper, "key", {});
    new SqsQueue(wrapper, "queue", {});
    allowBaselineException(wrapper, "kms-key-rotation", "imported key, rotated by its owner");
    // THEN the queue is still reported
    expect(checkBaseline(stack, { egress: "endpoints" }).map((v) => `${v.path} ${v.rule}`)).toEqual([
      "test/legacy/queue sqs-encryption",
    ]);
  });

  it("requires a reason and a known rule", () => {
    const stack = newStack();
    const key = new KmsKey(stack, "key", {});
    expect(() => allowBaselineException(key, "kms-key-rotation", "  ")).toThrow(
      "allowBaselineException(test/key): a reason is required",
    );
    expect(() => allowBaselineException(key, "kms-rotation" as never, "typo")).toThrow(
      /^allowBaselineException: unknown rule "kms-rotation"; known rules: s3-public-access-block, /,
    );
  });

  it("does not change the synthesized Terraform", () => {
    const stack = newStack();
    const key = new KmsKey(stack, "key", { enableKeyRotation: true });
    const before = Testing.synth(stack);
    allowBaselineException(key, "kms-key-rotation", "test");
    expect(Testing.synth(stack)).toBe(before);
  });
});
