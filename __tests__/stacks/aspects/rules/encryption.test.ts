import { TerraformVariable } from "cdktf";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { allowBaselineException } from "../../../../stacks/aspects/security-baseline";
import { newStack, violationsOf } from "../helpers";

describe("KMS key rotation", () => {
  it("passes a key with rotation enabled", () => {
    const stack = newStack();
    new KmsKey(stack, "key", { enableKeyRotation: true });
    expect(violationsOf(stack)).toEqual([]);
  });

  it.each([
    [undefined, "enable_key_rotation must be true (it is not set)"],
    [false, "enable_key_rotation must be true (it is false)"],
  ])("fails a key whose rotation is %s", (enableKeyRotation, message) => {
    const stack = newStack();
    new KmsKey(stack, "key", { enableKeyRotation });
    expect(violationsOf(stack)).toEqual([{ rule: "kms-key-rotation", path: "test/key", message }]);
  });

  it("tells how to excuse a key that cannot rotate, and honours the exception", () => {
    const stack = newStack();
    const key = new KmsKey(stack, "signing", { customerMasterKeySpec: "ECC_NIST_P256", keyUsage: "SIGN_VERIFY" });
    expect(violationsOf(stack)).toEqual([
      {
        rule: "kms-key-rotation",
        path: "test/signing",
        message:
          'enable_key_rotation must be true (it is not set); keys with customer_master_key_spec ECC_NIST_P256 cannot rotate: excuse it with allowBaselineException(key, "kms-key-rotation", reason)',
      },
    ]);
    allowBaselineException(key, "kms-key-rotation", "asymmetric signing key: AWS KMS cannot rotate it");
    expect(violationsOf(stack)).toEqual([]);
  });
});

describe("CloudWatch log groups", () => {
  it("passes a group with retention and a KMS key", () => {
    const stack = newStack();
    const key = new KmsKey(stack, "key", { enableKeyRotation: true });
    new CloudwatchLogGroup(stack, "logs", { retentionInDays: 90, kmsKeyId: key.arn });
    expect(violationsOf(stack)).toEqual([]);
  });

  it("fails a group without retention and without a key, once per rule", () => {
    const stack = newStack();
    new CloudwatchLogGroup(stack, "logs", { name: "/x" });
    expect(violationsOf(stack)).toEqual([
      {
        rule: "log-group-kms",
        path: "test/logs",
        message:
          "kms_key_id must be set: without it CloudWatch Logs encrypts with a key it owns, not one this stack controls",
      },
      {
        rule: "log-group-retention",
        path: "test/logs",
        message: "retention_in_days must be a positive number of days (it is not set, so logs are kept forever)",
      },
    ]);
  });

  it("fails retention 0, which CloudWatch reads as never expire", () => {
    const stack = newStack();
    new CloudwatchLogGroup(stack, "logs", {
      retentionInDays: 0,
      kmsKeyId: "arn:aws:kms:us-east-1:111111111111:key/abc",
    });
    expect(violationsOf(stack)).toEqual([
      {
        rule: "log-group-retention",
        path: "test/logs",
        message: "retention_in_days must be a positive number of days (it is 0, so logs are kept forever)",
      },
    ]);
  });

  it("fails retention that is an expression it cannot check", () => {
    const stack = newStack();
    const days = new TerraformVariable(stack, "days", { type: "number" });
    new CloudwatchLogGroup(stack, "logs", {
      retentionInDays: days.numberValue,
      kmsKeyId: "arn:aws:kms:us-east-1:111111111111:key/abc",
    });
    expect(violationsOf(stack)).toEqual([
      {
        rule: "log-group-retention",
        path: "test/logs",
        message:
          "retention_in_days must be a positive number of days (it is the expression ${var.days}, which cannot be checked at synth)",
      },
    ]);
  });
});

describe("SQS queue encryption", () => {
  it.each([
    ["SSE-KMS", { kmsMasterKeyId: "alias/backup-actions" }],
    ["SSE-SQS", { sqsManagedSseEnabled: true }],
  ])("passes a queue with %s", (_, config) => {
    const stack = newStack();
    new SqsQueue(stack, "queue", config);
    expect(violationsOf(stack)).toEqual([]);
  });

  it.each([
    [{}, "not set"],
    [{ sqsManagedSseEnabled: false }, "false"],
  ])("fails a queue without explicit encryption (%j)", (config, value) => {
    const stack = newStack();
    new SqsQueue(stack, "queue", config);
    expect(violationsOf(stack)).toEqual([
      {
        rule: "sqs-encryption",
        path: "test/queue",
        message: `set kms_master_key_id (SSE-KMS) or sqs_managed_sse_enabled = true (SSE-SQS); sqs_managed_sse_enabled is ${value}`,
      },
    ]);
  });
});
