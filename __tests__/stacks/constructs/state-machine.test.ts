import { documentBlocks } from "../../../testing/policy-documents";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { Testing, TerraformStack } from "cdktf";
import { checkBaseline } from "../../../stacks/aspects/security-baseline";
import { StateMachine } from "../../../stacks/constructs/state-machine";

const KEY = "arn:aws:kms:us-east-1:111111111111:key/0b1d4a8e-5b0c-4e8e-9a57-1c2d3e4f5a6b";

describe("StateMachine", () => {
  const stack = new TerraformStack(Testing.app(), "test");
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  const sm = new StateMachine(stack, "sm", {
    name: "ba-test",
    definition: { StartAt: "P", States: { P: { Type: "Pass", End: true } } },
    statements: [{ actions: ["ec2:DescribeVolumes"], resources: ["*"] }],
    accountId: "111111111111",
    region: "us-east-1",
    kmsKeyArn: KEY,
  });
  const tf = JSON.parse(Testing.synth(stack));

  it("logs ALL events with execution data to an encrypted log group and traces with X-Ray", () => {
    const machine = Object.values(tf.resource.aws_sfn_state_machine)[0] as any;
    expect(machine.logging_configuration).toEqual({
      level: "ALL",
      include_execution_data: true,
      log_destination: expect.stringMatching(/^\$\{aws_cloudwatch_log_group\..+\.arn\}:\*$/),
    });
    expect(machine.tracing_configuration).toEqual({ enabled: true });
    expect(JSON.parse(machine.definition)).toEqual({ StartAt: "P", States: { P: { Type: "Pass", End: true } } });
    const logGroup = Object.values(tf.resource.aws_cloudwatch_log_group)[0] as any;
    expect(logGroup).toMatchObject({ name: "/aws/vendedlogs/states/ba-test", kms_key_id: KEY, retention_in_days: 90 });
  });

  it("knows its ARN before it exists and passes the security baseline", () => {
    expect(sm.arn).toBe("arn:aws:states:us-east-1:111111111111:stateMachine:ba-test");
    expect(checkBaseline(stack, { egress: "endpoints" })).toEqual([]);
  });

  it("lets only Step Functions of this account assume its role", () => {
    const assume = documentBlocks(tf)[Object.keys(documentBlocks(tf)).find((k) => k.includes("assume"))!];
    expect(assume.statement[0]).toMatchObject({
      principals: [{ type: "Service", identifiers: ["states.amazonaws.com"] }],
      condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: ["111111111111"] }],
    });
  });
});
