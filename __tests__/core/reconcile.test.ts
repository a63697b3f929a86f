/**
 * The reconciler against the AWS Backup fake (ListRecoveryPointsByBackupVault), moto's
 * DynamoDB (the ledger table) and moto's Step Functions (the dispatcher): each bucket, paging,
 * ExecutionAlreadyExists, and the dedup with the starter (same execution name, one execution).
 */
import { BackupClient } from "@aws-sdk/client-backup";
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  ListExecutionsCommand,
  DescribeExecutionCommand,
  SFNClient,
} from "@aws-sdk/client-sfn";
import { Logger } from "@aws-lambda-powertools/logger";
import { createHash } from "node:crypto";
import { dispatcherRoutesOf } from "../../config/deployment";
import { analyzeEvent } from "../../core/events";
import { intakeConfigOf } from "../../core/intake-config";
import { ledgerStatusLookup } from "../../core/ledger-query";
import { planReconciliation, startMissing, type ReconcileInput } from "../../core/reconcile";
import { startBatch } from "../../lambdas/starter/logic";
import { seedRecoveryPoints, type RecoveryPointSeed } from "../../testing/backup-fake/control";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { awsClientConfig } from "../../testing/moto/client-config";
import { describeWithPrereqs } from "../../testing/prereq";
import { eventsConfig, loadEvent } from "../helpers/events";
import { createLedgerTable } from "../helpers/ledger-table";

const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const NOW = new Date("2026-11-25T12:00:00Z");
const NAME = `rc${process.pid % 100000}`;
// Vault names unique to this run: the fake is shared by the moto tier's files.
const VAULT = `rec-${process.pid}`;
const OTHER_VAULT = `rec-${process.pid}-b`;
const config = eventsConfig({
  name: NAME,
  accounts: [{ id: ACCOUNT, regions: [REGION] }],
  backupVaults: [VAULT, OTHER_VAULT],
});
const intake = intakeConfigOf(config);
const routes = dispatcherRoutesOf(config, ACCOUNT, REGION);
const dispatcher = routes.dispatchers[REGION]!;

const hoursAgo = (h: number) => new Date(NOW.getTime() - h * 3_600_000).toISOString();
/** EC2 ids are hex: a readable test name becomes a stable one. */
const hex = (id: string) => `0${createHash("sha256").update(id).digest("hex").slice(0, 16)}`;
const snapshot = (id: string) => `arn:aws:ec2:${REGION}::snapshot/snap-${hex(id)}`;
function ebs(id: string, createdHoursAgo: number, extra: Partial<RecoveryPointSeed> = {}): RecoveryPointSeed {
  return {
    RecoveryPointArn: snapshot(id),
    BackupVaultName: VAULT,
    ResourceArn: `arn:aws:ec2:${REGION}:${ACCOUNT}:volume/vol-${hex(id)}`,
    ResourceType: "EBS",
    CreationDate: hoursAgo(createdHoursAgo),
    CompletionDate: hoursAgo(createdHoursAgo - 0.25),
    ...extra,
  };
}

describeWithPrereqs("reconciler against the Backup fake and moto", [...motoMissing(), ...backupFakeMissing()], () => {
  const backup = new BackupClient(awsClientConfig());
  const ddb = new DynamoDBClient(awsClientConfig());
  const sfn = new SFNClient(awsClientConfig());
  const table = `${NAME}-ledger`;
  let machineArn: string;
  const ledgerPut = (arn: string, status: string) =>
    ddb.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          recoveryPointArn: { S: arn },
          status: { S: status },
          startedAt: { S: hoursAgo(1) },
          workflow: { S: "ebs" },
        },
      }),
    );
  const inputOf = (over: Partial<ReconcileInput> = {}): ReconcileInput => ({
    backup,
    ledger: ledgerStatusLookup(ddb, table),
    vaults: intake.backupVaults,
    config: intake,
    destination: dispatcher,
    lookBackDays: 7,
    now: NOW,
    minRetentionHours: 24,
    ...over,
  });
  const executions = async () =>
    (await sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn }))).executions ?? [];

  beforeAll(async () => {
    await createLedgerTable(ddb, table);
    const out = await sfn.send(
      new CreateStateMachineCommand({
        name: dispatcher.stateMachineArn.split(":").pop()!,
        roleArn: `arn:aws:iam::${ACCOUNT}:role/reconcile-test`,
        // A Wait keeps executions RUNNING (see __tests__/lambdas/starter.test.ts).
        definition: JSON.stringify({ StartAt: "Hold", States: { Hold: { Type: "Wait", Seconds: 3600, End: true } } }),
      }),
    );
    machineArn = out.stateMachineArn!;
    expect(machineArn).toBe(dispatcher.stateMachineArn);
    await seedRecoveryPoints([
      ebs("missing", 5),
      ebs("done", 5),
      ebs("running", 5),
      ebs("failed", 5),
      ebs("young", 0.5),
      ebs("expiring", 5, { CalculatedLifecycle: { DeleteAt: hoursAgo(-10) } }),
      ebs("partial", 5, { Status: "PARTIAL" }),
      ebs("old", 24 * 8),
      {
        RecoveryPointArn: `arn:aws:backup:${REGION}:${ACCOUNT}:recovery-point:efs-1`,
        BackupVaultName: VAULT,
        ResourceArn: `arn:aws:elasticfilesystem:${REGION}:${ACCOUNT}:file-system/fs-1`,
        ResourceType: "EFS",
        CreationDate: hoursAgo(5),
      },
      { ...ebs("other-vault", 6), BackupVaultName: OTHER_VAULT },
    ]);
    await ledgerPut(snapshot("done"), "SUCCEEDED");
    await ledgerPut(snapshot("running"), "RUNNING");
    await ledgerPut(snapshot("failed"), "FAILED");
  });

  afterAll(async () => {
    if (machineArn) await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: machineArn }));
    backup.destroy();
    ddb.destroy();
    sfn.destroy();
  });

  const arns = (points: readonly { recoveryPointArn: string }[]) => points.map((p) => p.recoveryPointArn).sort();

  it("puts each COMPLETED recovery point of the look-back window in one bucket", async () => {
    const plan = await planReconciliation(inputOf());
    expect(arns(plan.missing)).toEqual([snapshot("missing"), snapshot("other-vault")].sort());
    expect(arns(plan.alreadyExported)).toEqual([snapshot("done")]);
    expect(arns(plan.running)).toEqual([snapshot("running")]);
    expect(arns(plan.failedBefore)).toEqual([snapshot("failed")]);
    expect(arns(plan.tooYoung)).toEqual([snapshot("young")]);
    expect(arns(plan.retentionTooShort)).toEqual([snapshot("expiring")]);
    // EFS is not a supported type: the classifier's own reason says so. PARTIAL and the 8-day-old one are not listed.
    expect(plan.skipped).toEqual([
      expect.objectContaining({
        resourceType: "EFS",
        why: expect.stringContaining('resource type "EFS" is not supported'),
      }),
    ]);
    expect(plan.retentionTooShort[0]!.why).toContain("less than 24 h from now");
    expect(plan.missing.find((p) => p.recoveryPointArn === snapshot("missing"))).toMatchObject({
      workflow: "ebs",
      vault: VAULT,
      resourceType: "EBS",
      input: {
        startedBy: "reconciler",
        plan: { action: "export", workflow: "ebs" },
        recoveryPoint: { arn: snapshot("missing"), vault: VAULT, account: ACCOUNT, region: REGION },
        archive: { bucket: dispatcher.archiveBucket },
      },
    });
  });

  it("a switched-off workflow is skipped with the starter's reason", async () => {
    const off = intakeConfigOf(eventsConfig({ ...configOverrides(), exports: { ebs: false } }));
    const plan = await planReconciliation(inputOf({ config: off }));
    expect(plan.missing).toEqual([]);
    expect(plan.skipped.map((p) => p.why)).toContain("ebs exports are switched off (exports.ebs is false)");
  });

  it("pages through ListRecoveryPointsByBackupVault with NextToken", async () => {
    const pageVault = `rec-${process.pid}-pages`;
    // More than one page of 1000 (the service's default and maximum page size).
    await seedRecoveryPoints(
      Array.from({ length: 1003 }, (_, i) => ({ ...ebs(`p${i}`, 3), BackupVaultName: pageVault })),
    );
    const pageConfig = intakeConfigOf(eventsConfig({ ...configOverrides(), backupVaults: [pageVault] }));
    const plan = await planReconciliation(
      inputOf({ vaults: [pageVault], config: pageConfig, ledger: async () => null }),
    );
    expect(plan.missing).toHaveLength(1003);
    expect(new Set(plan.missing.map((p) => p.recoveryPointArn)).size).toBe(1003);
  });

  it("an unknown vault fails the run (ResourceNotFoundException)", async () => {
    await expect(planReconciliation(inputOf({ vaults: ["no-such-vault-rec"] }))).rejects.toMatchObject({
      name: "ResourceNotFoundException",
    });
  });

  it("refuses a look-back that is not positive", async () => {
    await expect(planReconciliation(inputOf({ lookBackDays: 0 }))).rejects.toThrow(
      "lookBackDays must be positive, got 0",
    );
  });

  it("starts the missing ones under the starter's name; a second run starts no second execution", async () => {
    const plan = await planReconciliation(inputOf());
    const first = await startMissing(plan, sfn, dispatcher.stateMachineArn);
    expect(first.map((r) => r.outcome)).toEqual(["started", "started"]);
    // Same name and same input on a running execution: Step Functions answers with the same execution.
    const again = await startMissing(plan, sfn, dispatcher.stateMachineArn);
    expect(again.map((r) => r.executionArn)).toEqual(first.map((r) => r.executionArn));
    const names = (await executions()).map((e) => e.name).sort();
    expect(names).toEqual(plan.missing.map((p) => p.executionName).sort());
    const described = await sfn.send(new DescribeExecutionCommand({ executionArn: first[0]!.executionArn! }));
    expect(JSON.parse(described.input!)).toMatchObject({ startedBy: "reconciler", plan: { workflow: "ebs" } });
  });

  /** The documented EBS event in moto's account and this test's vault, for a recovery point `id` the fake lists. */
  async function lateEvent(id: string) {
    const event = JSON.parse(JSON.stringify(loadEvent("backup-job-ebs.json")).replaceAll("111111111111", ACCOUNT));
    event.detail.backupVaultName = VAULT;
    event.resources = [snapshot(id)];
    event.detail.resourceArn = `arn:aws:ec2:${REGION}:${ACCOUNT}:volume/vol-${hex(id)}`;
    await seedRecoveryPoints([ebs(id, 3)]);
    return event;
  }
  const starterGets = (event: unknown) =>
    startBatch(
      { Records: [{ messageId: "late-1", body: JSON.stringify(event), attributes: { ApproximateReceiveCount: "1" } }] },
      {
        sfnFor: () => sfn,
        routes,
        config: intake,
        logger: new Logger({ serviceName: "reconcile-test", logLevel: "SILENT" }),
      },
    );
  const plannedFor = async (arn: string) =>
    (await planReconciliation(inputOf())).missing.find((p) => p.recoveryPointArn === arn)!;

  it("the reconciler's execution name is the starter's for the same recovery point", async () => {
    const event = await lateEvent("same-name");
    expect((await plannedFor(snapshot("same-name"))).executionName).toBe(
      analyzeEvent(event, intake).plan.executionName,
    );
  });

  it("reconciler first, then the late event: one execution (the starter sees ExecutionAlreadyExists)", async () => {
    const event = await lateEvent("reconciler-first");
    const planned = await plannedFor(snapshot("reconciler-first"));
    const before = (await executions()).length;
    expect((await startMissing({ missing: [planned] }, sfn, dispatcher.stateMachineArn))[0]!.outcome).toBe("started");
    expect((await starterGets(event)).batchItemFailures).toEqual([]);
    expect((await executions()).length).toBe(before + 1);
  });

  it("the event first, then the reconciler: ExecutionAlreadyExists counts as running, one execution", async () => {
    const event = await lateEvent("event-first");
    const before = (await executions()).length;
    expect((await starterGets(event)).batchItemFailures).toEqual([]);
    const planned = await plannedFor(snapshot("event-first"));
    const results = await startMissing({ missing: [planned] }, sfn, dispatcher.stateMachineArn);
    expect(results).toEqual([
      { recoveryPointArn: snapshot("event-first"), executionName: planned.executionName, outcome: "already-running" },
    ]);
    expect((await executions()).length).toBe(before + 1);
  });

  it("any other StartExecution error fails the run", async () => {
    const planned = (await planReconciliation(inputOf())).missing.slice(0, 1);
    const missingMachine = dispatcher.stateMachineArn.replace(/dispatcher$/, "nope");
    await expect(startMissing({ missing: planned }, sfn, missingMachine)).rejects.toMatchObject({
      name: "StateMachineDoesNotExist",
    });
  });
});

function configOverrides() {
  return { name: NAME, accounts: [{ id: ACCOUNT, regions: [REGION] }], backupVaults: [VAULT, OTHER_VAULT] };
}
