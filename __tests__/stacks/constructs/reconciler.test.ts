/**
 * The scheduled reconciler as the pipeline stack synthesizes it (stacks/constructs/reconciler.ts):
 * its schedule from config, its environment, and exactly the grants core/reconcile.ts needs.
 */
import { Testing, TerraformStack } from "cdktf";
import { RECONCILER_ENV } from "../../../core/reconciler-contract";
import { INTAKE_CONFIG_ENV } from "../../../core/intake-config";
import { Reconciler, type ReconcilerProps } from "../../../stacks/constructs/reconciler";
import { documentBlocks } from "../../../testing/policy-documents";
import { compose, synth, testConfig } from "../../helpers/synth";

const byPrefix = (o: ReturnType<typeof synth>, type: string, prefix: string) =>
  Object.entries<any>(o.resources(type))
    .filter(([k]) => k.startsWith(prefix))
    .map(([, v]) => v);
const policyOf = (o: ReturnType<typeof synth>, prefix: string) =>
  Object.entries<any>(documentBlocks(o.tf)).find(([k]) => k.startsWith(prefix))?.[1].statement as any[];
const OWN = ["WriteOwnLogs", "WriteTraces"];

describe("the reconciler in the pipeline stack", () => {
  const out = synth(
    compose(testConfig({ backupVaults: ["Default", "prod-vault"], reconciler: { intervalHours: 12, lookBackDays: 3 } }))
      .pipelines[0]!,
  );
  const fn = byPrefix(out, "aws_lambda_function", "reconciler_")[0];

  it("runs every reconciler.intervalHours, invoked by its own rule only", () => {
    const [rule] = byPrefix(out, "aws_cloudwatch_event_rule", "reconciler_");
    expect(rule).toMatchObject({ name: "backup-actions-reconciler", schedule_expression: "rate(12 hours)" });
    const [target] = byPrefix(out, "aws_cloudwatch_event_target", "reconciler_");
    expect(target.arn).toMatch(/^\$\{aws_lambda_function\.reconciler_function_\w+\.arn\}$/);
    const [permission] = byPrefix(out, "aws_lambda_permission", "reconciler_");
    expect(permission).toMatchObject({
      action: "lambda:InvokeFunction",
      principal: "events.amazonaws.com",
      source_arn: expect.stringMatching(/^\$\{aws_cloudwatch_event_rule\.reconciler_schedule_\w+\.arn\}$/),
    });
  });

  it("is a bundled Lambda with its own encrypted log group, and gets the starter's slice and its own settings", () => {
    expect(fn).toMatchObject({ function_name: "backup-actions-reconciler", timeout: 300 });
    expect(fn.filename).toMatch(/reconciler/);
    const [logGroup] = byPrefix(out, "aws_cloudwatch_log_group", "reconciler_");
    expect(logGroup).toMatchObject({ name: "/aws/lambda/backup-actions-reconciler", retention_in_days: 365 });
    expect(logGroup.kms_key_id).toMatch(/^\$\{aws_kms_key\.pipeline-key_/);
    const env = fn.environment.variables;
    expect(JSON.parse(env[INTAKE_CONFIG_ENV]).backupVaults).toEqual(["Default", "prod-vault"]);
    expect(JSON.parse(env[RECONCILER_ENV])).toEqual({
      pipelineName: "backup-actions",
      ledgerTable: expect.stringMatching(/^\$\{aws_dynamodb_table\.ledger_this_\w+\.name\}$/),
      dispatcherArn: "arn:aws:states:us-east-1:111111111111:stateMachine:backup-actions-dispatcher",
      archiveBucket: "backup-actions-archive-111111111111-us-east-1",
      placementCount: 2,
      lookBackDays: 3,
      graceMinutes: 60,
      // one uninterrupted worker attempt (worker.timeoutHours 24) and an hour of restore and cleanup
      minRetentionHours: 25,
    });
  });

  it("may list exactly the watched vaults, read the ledger (its key only through DynamoDB), start its own dispatcher and publish our events", () => {
    const statements = policyOf(out, "reconciler_function_policy_").filter((st) => !OWN.includes(st.sid));
    expect(statements).toEqual([
      {
        sid: "ListWatchedVaults",
        actions: ["backup:ListRecoveryPointsByBackupVault"],
        resources: [
          "arn:aws:backup:us-east-1:111111111111:backup-vault:Default",
          "arn:aws:backup:us-east-1:111111111111:backup-vault:prod-vault",
        ],
      },
      {
        sid: "ReadLedger",
        actions: ["dynamodb:GetItem"],
        resources: [expect.stringMatching(/^\$\{aws_dynamodb_table\.ledger_this_\w+\.arn\}$/)],
      },
      {
        sid: "LedgerKeyThroughDynamoDb",
        actions: ["kms:Decrypt"],
        resources: [expect.stringMatching(/^\$\{aws_kms_key\.pipeline-key_\w+\.arn\}$/)],
        condition: [{ test: "StringEquals", variable: "kms:ViaService", values: ["dynamodb.us-east-1.amazonaws.com"] }],
      },
      {
        sid: "StartOwnDispatcher",
        actions: ["states:StartExecution"],
        resources: ["arn:aws:states:us-east-1:111111111111:stateMachine:backup-actions-dispatcher"],
      },
      {
        sid: "PublishMissedEvents",
        actions: ["events:PutEvents"],
        resources: ["arn:aws:events:us-east-1:111111111111:event-bus/default"],
        condition: [{ test: "ForAllValues:StringEquals", variable: "events:source", values: ["backup-actions"] }],
      },
    ]);
  });

  it("with reconciler.enabled false: no function, rule or role", () => {
    const off = synth(compose(testConfig({ reconciler: { enabled: false } })).pipelines[0]!);
    expect(byPrefix(off, "aws_lambda_function", "reconciler_")).toEqual([]);
    expect(byPrefix(off, "aws_cloudwatch_event_rule", "reconciler_")).toEqual([]);
    expect(byPrefix(off, "aws_iam_role", "reconciler_")).toEqual([]);
  });
});

describe("Reconciler construct checks its props", () => {
  const props = (over: Partial<ReconcilerProps>): ReconcilerProps => ({
    context: { name: "ba", accountId: "111111111111", region: "us-east-1", partition: "aws", kmsKeyArn: "k" },
    config: {
      accounts: [{ id: "111111111111", regions: ["us-east-1"] }],
      backupVaults: ["Default"],
      exports: { ebs: true, rds: true, aurora: true, dynamodb: true },
    },
    dispatcher: {
      stateMachineArn: "arn:aws:states:us-east-1:111111111111:stateMachine:ba-dispatcher",
      archiveBucket: "bucket-name",
      placementCount: 1,
    },
    ledgerTableName: "ba-ledger",
    ledgerTableArn: "arn:aws:dynamodb:us-east-1:111111111111:table/ba-ledger",
    intervalHours: 6,
    lookBackDays: 7,
    minRetentionHours: 25,
    ...over,
  });
  const build = (over: Partial<ReconcilerProps>) => () =>
    new Reconciler(new TerraformStack(Testing.app(), "s"), "reconciler", props(over));

  it.each([
    [{ intervalHours: 0 }, "Reconciler: intervalHours must be a whole number of hours, 1 or more (got 0)"],
    [{ intervalHours: 24, lookBackDays: 1 }, "Reconciler: lookBackDays (1) must cover more than intervalHours (24)"],
    [{ minRetentionHours: -1 }, "Reconciler: minRetentionHours must be 0 or more (got -1)"],
  ])("%j: %s", (over, message) => {
    expect(build(over)).toThrow(message);
  });

  it("says rate(1 hour) for one hour, as EventBridge requires the singular", () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, "s");
    new Reconciler(stack, "reconciler", props({ intervalHours: 1 }));
    const rule = Object.values<any>(JSON.parse(Testing.synth(stack)).resource.aws_cloudwatch_event_rule)[0];
    expect(rule.schedule_expression).toBe("rate(1 hour)");
  });
});
