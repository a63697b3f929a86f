/**
 * Stacks of an account deployed outside the commercial partition: every ARN they build
 * names the partition of their region (core/partition.ts), none the commercial `arn:aws:`.
 */
import { parseDispatcherRoutes } from "../../core/dispatcher-routes";
import { parseIntakeConfig } from "../../core/intake-config";
import { compose, synth, testConfig } from "../helpers/synth";

/** `arn:aws:` and what follows it; `arn:aws-us-gov:` and `arn:aws-cn:` do not match. */
const COMMERCIAL_ARN = /arn:aws:[^"\\]*/g;

/** Every network and pipeline stack of one account in `regions`, with everything switched on that adds ARNs. */
function stacksIn(regions: string[]) {
  const stacks = compose(
    testConfig({
      accounts: [{ id: "111111111111", regions }],
      stateBackend: { type: "s3", bucket: "state-bucket-111", region: regions[0], keyPrefix: "ba" },
      deleteRecoveryPoint: { enabled: true, requiredTag: "archive-me" },
      securityTag: "ba:managed",
      notificationEmail: "ops@example.com",
    }),
  );
  return {
    all: [...stacks.networks, ...stacks.pipelines].map((stack) => ({ name: stack.node.id, out: synth(stack) })),
    pipeline: synth(stacks.pipelines[0]!),
  };
}

const machineDefinition = (out: ReturnType<typeof synth>, name: string) =>
  JSON.parse(Object.values<any>(out.resources("aws_sfn_state_machine")).find((m) => m.name === name).definition);
const taskResources = (definition: any): string[] =>
  Object.values<any>(definition.States)
    .filter((s) => s.Type === "Task")
    .map((s) => s.Resource);

describe("the commercial ARN search", () => {
  it("finds the arn:aws: ARNs of a us-east-1 pipeline (so finding none elsewhere means something)", () => {
    const { pipeline } = stacksIn(["us-east-1"]);
    expect(pipeline.json.match(COMMERCIAL_ARN)).toEqual(
      expect.arrayContaining(["arn:aws:states:::lambda:invoke", "arn:aws:iam::111111111111:root"]),
    );
  });
});

describe.each([
  ["aws-us-gov", ["us-gov-west-1", "us-gov-east-1"]],
  ["aws-cn", ["cn-north-1", "cn-northwest-1"]],
])("an account in %s", (partition, regions) => {
  const { all, pipeline } = stacksIn(regions);

  it("synthesizes a network and a pipeline stack per region", () => {
    expect(all.map((s) => s.name).sort()).toEqual(
      regions.flatMap((r) => [`network-111111111111-${r}`, `pipeline-111111111111-${r}`]).sort(),
    );
  });

  it.each(all.map((s) => [s.name, s.out] as const))("%s builds no arn:aws: ARN", (_name, out) => {
    expect(out.json.match(COMMERCIAL_ARN) ?? []).toEqual([]);
    expect(out.json).toContain(`arn:${partition}:`);
  });

  it(`runs the dispatcher's tasks through arn:${partition}:states:::`, () => {
    const dispatcher = machineDefinition(pipeline, "backup-actions-dispatcher");
    expect(dispatcher.States["Export-ebs"].Resource).toBe(`arn:${partition}:states:::states:startExecution.sync:2`);
    expect(dispatcher.States["Export-ebs"].Parameters.StateMachineArn).toBe(
      `arn:${partition}:states:${regions[0]}:111111111111:stateMachine:backup-actions-ebs-export`,
    );
    expect(dispatcher.States.DeleteRecoveryPoint.Resource).toBe(
      `arn:${partition}:states:::aws-sdk:backup:deleteRecoveryPoint`,
    );
    for (const resource of taskResources(dispatcher))
      expect(resource.startsWith(`arn:${partition}:states:::`)).toBe(true);
  });

  it(`runs the EBS child's tasks through arn:${partition}:states:::`, () => {
    const ebs = machineDefinition(pipeline, "backup-actions-ebs-export");
    expect(ebs.States.RunWorker.Resource).toBe(`arn:${partition}:states:::batch:submitJob.sync`);
    for (const resource of taskResources(ebs)) expect(resource.startsWith(`arn:${partition}:states:::`)).toBe(true);
  });

  it("routes the starter to the dispatcher of each region of the account, in the partition", () => {
    const starter = Object.entries<any>(pipeline.resources("aws_lambda_function")).find(([id]) =>
      id.startsWith("event-intake_starter_"),
    )![1];
    const env = starter.environment.variables;
    const routes = parseDispatcherRoutes(
      env.BACKUP_ACTIONS_DISPATCHERS,
      parseIntakeConfig(env.BACKUP_ACTIONS_INTAKE_CONFIG),
    );
    expect(Object.fromEntries(Object.entries(routes.dispatchers).map(([r, d]) => [r, d.stateMachineArn]))).toEqual(
      Object.fromEntries(
        regions.map((r) => [r, `arn:${partition}:states:${r}:111111111111:stateMachine:backup-actions-dispatcher`]),
      ),
    );
  });
});
