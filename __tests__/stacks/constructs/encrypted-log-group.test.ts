import { Testing } from "cdktf";
import { EncryptedLogGroup } from "../../../stacks/constructs/encrypted-log-group";
import { checkBaseline } from "../../../stacks/aspects/security-baseline";
import { newStack } from "../aspects/helpers";

const KEY = "arn:aws:kms:us-east-1:111111111111:key/abc";

describe("EncryptedLogGroup", () => {
  it("keeps logs 90 days by default, encrypted with the given key, and passes the baseline", () => {
    const stack = newStack();
    const group = new EncryptedLogGroup(stack, "flow-logs", { name: "/aws/vpc/flow-logs", kmsKeyArn: KEY });
    expect(checkBaseline(stack, { egress: "endpoints" })).toEqual([]);
    const tf = JSON.parse(Testing.synth(stack));
    expect(Object.values(tf.resource.aws_cloudwatch_log_group)).toEqual([{ name: "/aws/vpc/flow-logs", kms_key_id: KEY, retention_in_days: 90 }]);
    expect(group.logGroup.terraformResourceType).toBe("aws_cloudwatch_log_group");
  });

  it("accepts another retention CloudWatch supports", () => {
    const stack = newStack();
    new EncryptedLogGroup(stack, "lg", { name: "/x", kmsKeyArn: KEY, retentionInDays: 365 });
    expect(Object.values(JSON.parse(Testing.synth(stack)).resource.aws_cloudwatch_log_group)).toMatchObject([{ retention_in_days: 365 }]);
  });

  it("rejects a retention CloudWatch does not accept", () => {
    const stack = newStack();
    expect(() => new EncryptedLogGroup(stack, "lg", { name: "/x", kmsKeyArn: KEY, retentionInDays: 100 })).toThrow(
      /^EncryptedLogGroup test\/lg: retentionInDays must be one of 1, 3, 5, .*, 3653 \(got 100\)$/,
    );
  });
});
