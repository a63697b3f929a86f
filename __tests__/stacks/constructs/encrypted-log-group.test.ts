import { Testing } from "cdktf";
import { EncryptedLogGroup, logsKeyPolicyStatements } from "../../../stacks/constructs/encrypted-log-group";
import { checkBaseline } from "../../../stacks/aspects/security-baseline";
import { newStack } from "../aspects/helpers";
import { synth } from "../../helpers/synth";
import { statementsOf } from "../../helpers/policy";

const KEY = "arn:aws:kms:us-east-1:111111111111:key/abc";

/** The one key policy of a key that encrypts log groups, written out once; the constructs that make such keys are tested against logsKeyPolicyStatements. */
function expectedLogsKeyPolicy(accountId: string, region: string, logGroupArns: string[]) {
  return [
    {
      sid: "AccountAdministersAndDelegatesToIam",
      principals: [{ type: "AWS", identifiers: [`arn:aws:iam::${accountId}:root`] }],
      actions: ["kms:*"],
      resources: ["*"],
    },
    {
      sid: "LogsEncryptsOnlyTheseLogGroups",
      principals: [{ type: "Service", identifiers: [`logs.${region}.amazonaws.com`] }],
      actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      resources: ["*"],
      condition: [{ test: "ArnLike", variable: "kms:EncryptionContext:aws:logs:arn", values: logGroupArns }],
    },
  ];
}

describe("EncryptedLogGroup", () => {
  it("keeps logs 90 days by default, encrypted with the given key, and passes the baseline", () => {
    const stack = newStack();
    const group = new EncryptedLogGroup(stack, "flow-logs", { name: "/aws/vpc/flow-logs", kmsKeyArn: KEY });
    expect(checkBaseline(stack, { egress: "endpoints" })).toEqual([]);
    const out = synth(stack);
    expect(Object.values(out.resources("aws_cloudwatch_log_group"))).toEqual([
      { name: "/aws/vpc/flow-logs", kms_key_id: KEY, retention_in_days: 90 },
    ]);
    expect(out.resources("aws_kms_key")).toEqual({});
    expect(group.logGroup.terraformResourceType).toBe("aws_cloudwatch_log_group");
    expect(group.key).toBeUndefined();
    expect(group.kmsKeyArn).toBe(KEY);
  });

  it("accepts another retention CloudWatch supports", () => {
    const stack = newStack();
    new EncryptedLogGroup(stack, "lg", { name: "/x", kmsKeyArn: KEY, retentionInDays: 365 });
    expect(Object.values(JSON.parse(Testing.synth(stack)).resource.aws_cloudwatch_log_group)).toMatchObject([
      { retention_in_days: 365 },
    ]);
  });

  it("rejects a retention CloudWatch does not accept", () => {
    const stack = newStack();
    expect(() => new EncryptedLogGroup(stack, "lg", { name: "/x", kmsKeyArn: KEY, retentionInDays: 100 })).toThrow(
      /^EncryptedLogGroup test\/lg: retentionInDays must be one of 1, 3, 5, .*, 3653 \(got 100\)$/,
    );
  });

  describe("without a key", () => {
    // GIVEN no kmsKeyArn WHEN the log group is made THEN it makes its own key
    const stack = newStack();
    const group = new EncryptedLogGroup(stack, "lg", {
      name: "/ba/batch-worker",
      accountId: "111111111111",
      region: "us-east-1",
      keyDescription: "ba Batch worker logs",
    });
    const out = synth(stack);

    it("makes a rotating key and encrypts the log group with it; the baseline passes", () => {
      expect(out.only("aws_kms_key")).toMatchObject({
        description: "ba Batch worker logs",
        enable_key_rotation: true,
        deletion_window_in_days: 30,
      });
      expect(out.only("aws_cloudwatch_log_group").kms_key_id).toMatch(/^\$\{aws_kms_key\.lg_key_[0-9A-F]{8}\.arn\}$/);
      expect(group.key?.terraformResourceType).toBe("aws_kms_key");
      expect(checkBaseline(stack, { egress: "endpoints" })).toEqual([]);
    });

    it("key policy: the account administers it, CloudWatch Logs of the region may use it for this log group only", () => {
      expect(statementsOf(out, "key-policy")).toEqual(
        expectedLogsKeyPolicy("111111111111", "us-east-1", [
          "arn:aws:logs:us-east-1:111111111111:log-group:/ba/batch-worker",
        ]),
      );
      expect(out.only("aws_kms_key").policy).toMatch(/^\$\{local\.lg_key-policy_[0-9A-F]{8}\}$/);
    });

    it("describes the key by the log group name by default", () => {
      const other = newStack();
      new EncryptedLogGroup(other, "lg", { name: "/x", accountId: "111111111111", region: "us-east-1" });
      expect(synth(other).only("aws_kms_key").description).toBe("/x log group");
    });

    it("needs the account and region to write the key policy", () => {
      expect(() => new EncryptedLogGroup(newStack(), "lg", { name: "/x", region: "us-east-1" })).toThrow(
        "EncryptedLogGroup test/lg: accountId and region are required to make the log group's key when kmsKeyArn is not given",
      );
    });
  });
});

describe("logsKeyPolicyStatements", () => {
  it("takes ARN patterns as they are", () => {
    const arns = [
      "arn:aws:logs:eu-west-1:222222222222:log-group:/aws/lambda/ba-*",
      "arn:aws:logs:eu-west-1:222222222222:log-group:/ba/*",
    ];
    expect(logsKeyPolicyStatements({ accountId: "222222222222", region: "eu-west-1", logGroupArns: arns })).toEqual(
      expectedLogsKeyPolicy("222222222222", "eu-west-1", arns),
    );
  });
});
