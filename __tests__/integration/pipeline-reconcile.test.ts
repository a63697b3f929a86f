/**
 * "A recovery point whose event was never delivered is archived by the next reconciler run": the
 * reconciler Lambda's real handler, loaded with its synthesized environment, lists the AWS Backup
 * fake's vault, reads the ledger in moto and starts the dispatcher in moto's Step Functions; for
 * the execution it started, the synthesized dispatcher and EBS definitions run to the end (as in
 * pipeline-duplicates.test.ts: moto's machine only holds the name, the bench runs the real
 * definition with the input Step Functions was given). Already exported, running and
 * retention-too-short recovery points are not started, and a second run starts nothing.
 */
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { PutItemCommand } from "@aws-sdk/client-dynamodb";
import {
  CreateStateMachineCommand,
  DescribeExecutionCommand,
  ListExecutionsCommand,
  SFNClient,
} from "@aws-sdk/client-sfn";
import { analyzeEvent } from "../../core/events";
import { OUTCOME_DETAIL_TYPES } from "../../core/outcome-events";
import { METRICS_NAMESPACE } from "../../core/metrics";
import { RECONCILER_ENV } from "../../core/reconciler-contract";
import { seedRecoveryPoints, seedVaults } from "../../testing/backup-fake/control";
import { executeStateMachine } from "../../testing/asl";
import { withRetryStrategy } from "../../testing/batch-retry";
import { runAs } from "../../testing/iam/recorder";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";
import { expectOutcomeEvent } from "../helpers/outcome-events";
import {
  ACCOUNT,
  Bench,
  createBench,
  lambdaEnvironment,
  ledgerItem,
  leftoverVolumes,
  loadHandler,
  outcomeEvents,
  recoveryPoint,
  REGION,
  resolverFor,
  writeArchive,
} from "../helpers/pipeline-bench";

type Handler = typeof import("../../lambdas/reconciler/handler");

const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();

describeWithPrereqs(
  "the scheduled reconciler archives a recovery point whose event was lost",
  [...motoMissing(), ...backupFakeMissing()],
  () => {
    let bench: Bench;
    const sfn = new SFNClient({ region: REGION });
    let stateMachineArn: string;
    let env: Record<string, string>;
    const points: Record<
      "lost" | "exported" | "running" | "expiring",
      Awaited<ReturnType<typeof recoveryPoint>>
    > = {} as never;

    /** One run of the real handler (a cold start with the synthesized environment); its EMF metrics. */
    async function run(): Promise<{
      report: Awaited<ReturnType<Handler["handler"]>>;
      metrics: Record<string, number>;
    }> {
      const reconciler = loadHandler<Handler>("../../lambdas/reconciler/handler", env);
      const lines: string[] = [];
      const write = jest.spyOn(process.stdout, "write").mockImplementation((chunk) => {
        lines.push(String(chunk));
        return true;
      });
      try {
        // As the reconciler's role: the run's requests are judged against its synthesized policy (testing/iam).
        const report = await runAs(bench.as("reconciler"), () => reconciler.handler());
        const metrics: Record<string, number> = {};
        for (const line of lines.join("").split("\n")) {
          if (!line.includes('"_aws"')) continue;
          const record = JSON.parse(line);
          const [directive] = record._aws.CloudWatchMetrics;
          expect(directive.Namespace).toBe(METRICS_NAMESPACE);
          for (const { Name } of directive.Metrics)
            metrics[record.ResourceType ? `${Name}/${record.ResourceType}` : Name] = record[Name];
        }
        return { report, metrics };
      } finally {
        write.mockRestore();
      }
    }

    beforeAll(async () => {
      bench = await createBench();
      // moto's machine of the dispatcher's name only holds executions (a Wait); the bench runs the real one.
      stateMachineArn = (
        await sfn.send(
          new CreateStateMachineCommand({
            name: `${bench.config.name}-dispatcher`,
            roleArn: `arn:aws:iam::${ACCOUNT}:role/dispatcher`,
            definition: JSON.stringify({
              StartAt: "Hold",
              States: { Hold: { Type: "Wait", Seconds: 3600, End: true } },
            }),
          }),
        )
      ).stateMachineArn!;
      // The synthesized environment as `terraform apply` leaves it (the ledger's name resolved), with the
      // dispatcher ARN of the machine moto holds (in moto's own account).
      const synthesized = lambdaEnvironment(bench, `${bench.config.name}-reconciler`);
      const settings = JSON.parse(synthesized[RECONCILER_ENV]!);
      expect(settings.ledgerTable).toMatch(/^\$\{aws_dynamodb_table\.ledger_this_\w+\.name\}$/);
      env = {
        ...synthesized,
        [RECONCILER_ENV]: JSON.stringify({
          ...settings,
          ledgerTable: bench.ledgerTable,
          dispatcherArn: stateMachineArn,
        }),
      };
      // The watched vault is the pipeline's account's (the reconciler classifies in the vault's account).
      await seedVaults([{ BackupVaultName: "Default", AccountId: ACCOUNT, Region: REGION }]);
      for (const key of ["lost", "exported", "running", "expiring"] as const) points[key] = await recoveryPoint(bench);
      await seedRecoveryPoints(
        Object.entries(points).map(([key, rp]) => ({
          RecoveryPointArn: rp.arn,
          BackupVaultName: "Default",
          ResourceArn: rp.event.detail.resourceArn,
          ResourceType: "EBS",
          BackupSizeInBytes: Number(rp.event.detail.backupSizeInBytes),
          CreationDate: hoursAgo(3),
          CompletionDate: hoursAgo(2.5),
          ...(key === "expiring" ? { CalculatedLifecycle: { DeleteAt: hoursAgo(-2) } } : {}),
        })),
      );
      for (const [key, status] of [
        ["exported", "SUCCEEDED"],
        ["running", "RUNNING"],
      ] as const) {
        await bench.clients.ddb.send(
          new PutItemCommand({
            TableName: bench.ledgerTable,
            Item: {
              recoveryPointArn: { S: points[key].arn },
              status: { S: status },
              workflow: { S: "ebs" },
              startedAt: { S: hoursAgo(2) },
              startedBy: { S: "event" },
            },
          }),
        );
      }
    });
    afterAll(() => sfn.destroy());

    it("starts only the lost one, under the starter's execution name, and the dispatcher archives it", async () => {
      const { report, metrics } = await run();
      expect(report.counts).toEqual({
        missing: 1,
        alreadyExported: 1,
        running: 1,
        failedBefore: 0,
        retentionTooShort: 1,
        tooYoung: 0,
        skipped: 0,
      });
      expect(report.started).toEqual([
        expect.objectContaining({ recoveryPointArn: points.lost.arn, outcome: "started" }),
      ]);
      expect(metrics).toEqual({
        ReconcilerMissingFound: 2,
        ReconcilerRetentionTooShort: 1,
        "ReconcilerExecutionsStarted/ebs": 1,
      });

      const executions = (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
      // The name the starter would have given the lost event: a late event and this run are one execution.
      const eventName = analyzeEvent(points.lost.event, bench.config).plan.executionName;
      expect(executions.map((e) => e.name)).toEqual([eventName]);
      const described = await sfn.send(new DescribeExecutionCommand({ executionArn: executions[0]!.executionArn! }));
      const input = JSON.parse(described.input!);
      // The starter's input for that recovery point (its archive dated by the completion time the event carries).
      expect(input).toMatchObject({
        startedBy: "reconciler",
        plan: points.lost.input.plan,
        recoveryPoint: points.lost.input.recoveryPoint,
        placementIndex: points.lost.input.placementIndex,
        archive: { bucket: bench.archiveBucket },
      });

      // Step Functions runs the real dispatcher with that input.
      const tasks = resolverFor(
        bench,
        withRetryStrategy(bench.retryStrategy, async (_n, job) => {
          await writeArchive(bench.clients.s3, job.parameters.targetUrl!);
        }),
      );
      const result = await executeStateMachine(bench.dispatcher, input, { tasks, executionName: eventName! });
      expect(result.status).toBe("SUCCEEDED");
      expect(await ledgerItem(bench, points.lost.arn)).toMatchObject({
        status: "SUCCEEDED",
        startedBy: "reconciler",
        archiveUrl: input.archive.url,
      });
      const archived = await bench.clients.s3.send(
        new ListObjectsV2Command({ Bucket: bench.archiveBucket, Prefix: input.archive.prefix }),
      );
      expect((archived.Contents ?? []).map((o) => o.Key!.slice(input.archive.prefix.length)).sort()).toEqual([
        "disk.tar.zst",
        "manifest.json",
      ]);
      expect(await leftoverVolumes(bench)).toEqual([]);
      // Nothing else was touched: the others' ledger records are as they were, the expiring one has none.
      expect(await ledgerItem(bench, points.exported.arn)).toMatchObject({ status: "SUCCEEDED", startedBy: "event" });
      expect(await ledgerItem(bench, points.running.arn)).toMatchObject({ status: "RUNNING", startedBy: "event" });
      expect(await ledgerItem(bench, points.expiring.arn)).toEqual({});

      // One Recovery Point Missed event each, on the default bus: the started one names its execution.
      const missed = (rp: (typeof points)["lost"], executionArn: string | null, reason: RegExp) => ({
        recoveryPointArn: rp.arn,
        resourceArn: rp.event.detail.resourceArn,
        resourceType: "EBS",
        workflow: "ebs",
        pipeline: bench.config.name,
        executionArn,
        startedAt: null,
        durationSeconds: null,
        archiveUrl: null,
        bytes: null,
        error: null,
        cause: null,
        reason: expect.stringMatching(reason) as unknown as string,
      });
      const lostEvents = await outcomeEvents(bench, points.lost.arn);
      // and then its export's own outcome, published by the dispatcher it started
      expect(lostEvents.map((e) => e["detail-type"])).toEqual(["Export Succeeded", "Recovery Point Missed"]);
      const lostEvent = lostEvents[1];
      expectOutcomeEvent(
        lostEvent!,
        OUTCOME_DETAIL_TYPES.recoveryPointMissed,
        missed(points.lost, executions[0]!.executionArn!, /^started by the reconciler \(no ledger record: /),
      );
      const [expiringEvent] = await outcomeEvents(bench, points.expiring.arn);
      expectOutcomeEvent(
        expiringEvent!,
        OUTCOME_DETAIL_TYPES.recoveryPointMissed,
        missed(points.expiring, null, /^not started, retention too short: AWS Backup deletes it at /),
      );
      expect(await outcomeEvents(bench, points.exported.arn)).toEqual([]);
      expect(await outcomeEvents(bench, points.running.arn)).toEqual([]);
    }, 120_000);

    it("a second run starts nothing: the archived one is now alreadyExported", async () => {
      const { report, metrics } = await run();
      expect(report.counts).toMatchObject({ missing: 0, alreadyExported: 2, running: 1, retentionTooShort: 1 });
      expect(report.started).toEqual([]);
      // Zeros are published too; the expiring one is still a lost event nobody will archive.
      expect(metrics).toEqual({ ReconcilerMissingFound: 1, ReconcilerRetentionTooShort: 1 });
      const executions = (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
      expect(executions).toHaveLength(1);
      // The expiring one is reported again, every run, until its retention ends.
      expect(report.events.map((e) => [e.detail.recoveryPointArn, e.detail.executionArn])).toEqual([
        [points.expiring.arn, null],
      ]);
    });
  },
);
