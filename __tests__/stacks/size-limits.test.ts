/**
 * Size quotas at scale (issue 12): every stack of a 100 account-region config (the synth bench's,
 * testing/scale-config.ts) keeps each Lambda function's environment within Lambda's 4 KB and each
 * state machine's definition within Step Functions' 1 MiB, measured on what Terraform sends AWS:
 * the synthesized values with their references rendered as AWS will fill them (testing/rendered-size.ts).
 */
import { parseConfig } from "../../config/load";
import { lambdaEnvironmentBytes, LAMBDA_ENVIRONMENT_LIMIT_BYTES } from "../../stacks/constructs/lambda-function";
import { renderReferences, SFN_DEFINITION_LIMIT_BYTES } from "../../testing/rendered-size";
import { scaleConfig } from "../../testing/scale-config";
import { compose, synth } from "../helpers/synth";

const ACCOUNT_REGIONS = 100;

interface Measured {
  readonly stack: string;
  readonly what: string;
  readonly bytes: number;
}

/** Each function's environment and each state machine's definition of one synthesized stack. */
function measure(stack: string, tf: any): { environments: Measured[]; definitions: Measured[] } {
  const environments = Object.entries<any>(tf.resource?.aws_lambda_function ?? {}).map(([id, f]) => {
    const variables = Object.fromEntries(
      Object.entries<string>(f.environment?.variables ?? {}).map(([k, v]) => [k, renderReferences(v, tf)]),
    );
    return { stack, what: `function ${f.function_name} (${id})`, bytes: lambdaEnvironmentBytes(variables) };
  });
  const definitions = Object.entries<any>(tf.resource?.aws_sfn_state_machine ?? {}).map(([id, m]) => ({
    stack,
    what: `state machine ${m.name} (${id})`,
    bytes: Buffer.byteLength(renderReferences(m.definition, tf)),
  }));
  return { environments, definitions };
}

const over = (all: Measured[], limit: number) =>
  all.filter((m) => m.bytes > limit).map((m) => `${m.stack}: ${m.what} is ${m.bytes} bytes (limit ${limit})`);

describe(`the stacks of ${ACCOUNT_REGIONS} account-regions`, () => {
  let stacks: string[];
  let environments: Measured[];
  let definitions: Measured[];
  beforeAll(() => {
    const composed = compose(parseConfig(scaleConfig(ACCOUNT_REGIONS)), { warn: () => undefined });
    stacks = composed.all.map((s) => s.node.id);
    const measured = composed.all.map((s) => measure(s.node.id, synth(s).tf));
    environments = measured.flatMap((m) => m.environments);
    definitions = measured.flatMap((m) => m.definitions);
  }, 300_000);

  it("are one bootstrap and a network and a pipeline stack per account-region", () => {
    expect(stacks).toHaveLength(1 + 2 * ACCOUNT_REGIONS);
  });

  it("keep every Lambda function's environment within 4 KB as Lambda measures it", () => {
    // Every pipeline's functions were measured, and none is over.
    expect(new Set(environments.map((m) => m.stack)).size).toBe(ACCOUNT_REGIONS);
    expect(over(environments, LAMBDA_ENVIRONMENT_LIMIT_BYTES)).toEqual([]);
  });

  it("keep every state machine's definition within Step Functions' 1 MiB", () => {
    expect(new Set(definitions.map((m) => m.stack)).size).toBe(ACCOUNT_REGIONS);
    expect(over(definitions, SFN_DEFINITION_LIMIT_BYTES)).toEqual([]);
  });
});

describe("renderReferences", () => {
  const tf = {
    provider: { aws: [{ region: "eu-west-1", allowed_account_ids: ["111111111111"] }] },
    resource: {
      aws_lambda_function: { verify: { function_name: "ba-verify" } },
      aws_kms_key: { key: {} },
      aws_sns_topic: { topic: { name: "${aws_lambda_function.verify.function_name}" } },
    },
  };

  it("renders a function's ARN from its name, a key's ARN with a key id of AWS's length, and an AZ of the network", () => {
    expect(
      renderReferences(
        "${aws_lambda_function.verify.arn} ${aws_kms_key.key.arn} ${element(data.terraform_remote_state.network.outputs.subnet_availability_zones, 1)}",
        tf,
      ),
    ).toBe(
      "arn:aws:lambda:eu-west-1:111111111111:function:ba-verify arn:aws:kms:eu-west-1:111111111111:key/00000000-0000-0000-0000-000000000000 eu-west-1b",
    );
  });

  it("refuses a reference it cannot render, a resource the stack lacks and a name that is not literal", () => {
    expect(() => renderReferences("${aws_vpc.main.id}", tf)).toThrow(
      "cannot render ${aws_vpc.main.id}: add it to testing/rendered-size.ts",
    );
    expect(() => renderReferences("${aws_sns_topic.other.arn}", tf)).toThrow(
      "${aws_sns_topic.other.arn} names a resource the stack does not declare",
    );
    expect(() => renderReferences("${aws_sns_topic.topic.arn}", tf)).toThrow(
      "cannot render ${aws_lambda_function.verify.function_name}: add it to testing/rendered-size.ts",
    );
  });
});
