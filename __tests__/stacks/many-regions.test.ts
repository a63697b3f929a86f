/**
 * An account deployed to 30 regions: every pipeline's starter may start the dispatcher of
 * each region (ADR 0006), and its environment must still fit Lambda's 4 KB.
 */
import { documentBlocks } from "../../testing/policy-documents";
import { DISPATCHERS_ENV, parseDispatcherRoutes } from "../../core/dispatcher-routes";
import { INTAKE_CONFIG_ENV, parseIntakeConfig } from "../../core/intake-config";
import { LAMBDA_ENVIRONMENT_LIMIT_BYTES } from "../../stacks/constructs/lambda-function";
import { compose, synth, Synthesized, testConfig } from "../helpers/synth";
import { COMMERCIAL_REGIONS as REGIONS } from "../../testing/regions";

const ACCOUNT = "111111111111";

const starterOf = (out: Synthesized): any =>
  Object.entries<any>(out.resources("aws_lambda_function")).find(([id]) => id.startsWith("event-intake_starter_"))![1];
const bytesOf = (env: Record<string, string>) =>
  Object.entries(env).reduce((sum, [k, v]) => sum + Buffer.byteLength(k) + Buffer.byteLength(v), 0);

/** What the pipeline stack of a region creates, read from its own resources (not from the routes). */
function createdIn(out: Synthesized): { stateMachineArn: string; archiveBucket: string } {
  const provider = out.tf.provider.aws[0];
  const dispatcher = Object.values<any>(out.resources("aws_sfn_state_machine")).find((m) =>
    m.name.endsWith("-dispatcher"),
  );
  return {
    stateMachineArn: `arn:aws:states:${provider.region}:${provider.allowed_account_ids[0]}:stateMachine:${dispatcher.name}`,
    archiveBucket: Object.values<any>(out.resources("aws_s3_bucket")).find((b) => b.bucket.includes("-archive-"))
      .bucket,
  };
}

describe(`an account deployed to ${REGIONS.length} regions`, () => {
  const config = testConfig({ accounts: [{ id: ACCOUNT, regions: REGIONS }] });
  // Composed in beforeAll: a starter environment over the limit fails every test below with its message.
  let pipelines: Map<string, Synthesized>;
  beforeAll(() => {
    pipelines = new Map(
      compose(config).pipelines.map((p) => [p.node.id.replace(`pipeline-${ACCOUNT}-`, ""), synth(p)]),
    );
  });

  it("synthesizes a pipeline per region", () => {
    expect([...pipelines.keys()]).toEqual(REGIONS);
  });

  it("keeps every starter's environment under Lambda's 4 KB", () => {
    for (const out of pipelines.values())
      expect(bytesOf(starterOf(out).environment.variables)).toBeLessThan(LAMBDA_ENVIRONMENT_LIMIT_BYTES);
  });

  it("each starter's environment parses to the dispatcher ARN and archive bucket each region's stack creates, with its placement count", () => {
    const created = Object.fromEntries(REGIONS.map((r) => [r, { ...createdIn(pipelines.get(r)!), placementCount: 2 }]));
    for (const [region, out] of pipelines) {
      const env = starterOf(out).environment.variables;
      const routes = parseDispatcherRoutes(env[DISPATCHERS_ENV], parseIntakeConfig(env[INTAKE_CONFIG_ENV]));
      expect(routes).toEqual({ account: ACCOUNT, region, dispatchers: created });
    }
  });

  it("lets each starter start exactly those dispatchers", () => {
    const arns = REGIONS.map((r) => createdIn(pipelines.get(r)!).stateMachineArn);
    for (const out of pipelines.values()) {
      const docs = documentBlocks(out.tf);
      const policy = Object.entries<any>(docs).find(([id]) => id.startsWith("event-intake_starter_policy_"))![1];
      expect(policy.statement.find((st: any) => st.sid === "StartDispatchers").resources).toEqual(arns);
    }
  });
});
