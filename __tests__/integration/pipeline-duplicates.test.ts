/**
 * "The same event delivered 10 times → one execution, one archive", through the whole path:
 * SQS batches → the starter's real logic → Step Functions (moto's, which owns execution names
 * and answers duplicates) → for the one execution Step Functions starts, the synthesized
 * dispatcher and EBS definitions run to the end (as in pipeline-dispatcher.test.ts).
 *
 * moto runs the state machine it holds (execute_state_machine=true); here that machine only
 * holds the name (a Wait), and the bench runs the real definition for each execution moto
 * reports as new — the way Step Functions would start it.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { ListObjectVersionsCommand } from "@aws-sdk/client-s3";
import {
  CreateStateMachineCommand,
  ListExecutionsCommand,
  SFNClient,
  StartExecutionCommand,
  StopExecutionCommand,
} from "@aws-sdk/client-sfn";
import { startBatch, StarterDeps } from "../../lambdas/starter/logic";
import type { SqsEvent } from "../../lambdas/starter/sqs";
import { seedRecoveryPoints, storedRecoveryPoints } from "../../testing/backup-fake/control";
import { executeStateMachine, ExecutionResult } from "../../testing/asl";
import { withRetryStrategy } from "../../testing/batch-retry";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";
import { intakeConfigOf } from "../../core/intake-config";
import {
  ACCOUNT,
  Bench,
  createBench,
  ledgerItem,
  leftoverVolumes,
  notifications,
  recoveryPoint,
  REGION,
  resolverFor,
  tagSnapshot,
  writeArchive,
} from "../helpers/pipeline-bench";

const batchOf = (bodies: string[], from: number): SqsEvent => ({
  Records: bodies.map((body, i) => ({
    messageId: `msg-${from + i}`,
    body,
    attributes: { ApproximateReceiveCount: "1" },
  })),
});

describeWithPrereqs(
  "the same event delivered 10 times, through the starter and a full pipeline run",
  [...motoMissing(), ...backupFakeMissing()],
  () => {
    let bench: Bench;
    const sfn = new SFNClient({ region: REGION });
    let stateMachineArn: string;

    beforeAll(async () => {
      bench = await createBench({ deleteRecoveryPoint: { enabled: true, requiredTag: "backup-actions:delete" } });
      stateMachineArn = (
        await sfn.send(
          new CreateStateMachineCommand({
            name: `${bench.config.name}-dispatcher`,
            roleArn: "arn:aws:iam::111111111111:role/dispatcher",
            definition: JSON.stringify({
              StartAt: "Hold",
              States: { Hold: { Type: "Wait", Seconds: 3600, End: true } },
            }),
          }),
        )
      ).stateMachineArn!;
    });
    afterAll(() => sfn.destroy());

    it("starts one execution, runs the worker once, writes one archive, one ledger record and one notification", async () => {
      const rp = await recoveryPoint(bench);
      await seedRecoveryPoints([
        {
          RecoveryPointArn: rp.arn,
          BackupVaultName: "Default",
          ResourceArn: rp.event.detail.resourceArn,
          ResourceType: "EBS",
          Status: "COMPLETED",
        },
      ]);
      // The deletion tag of an EBS recovery point lives on its EC2 snapshot, as in AWS.
      await tagSnapshot(bench, rp.arn, { "backup-actions:delete": "true" });
      let workerRuns = 0;
      const tasks = resolverFor(
        bench,
        withRetryStrategy(bench.retryStrategy, async (_n, job) => {
          workerRuns++;
          await writeArchive(bench.clients.s3, job.parameters.targetUrl!);
        }),
      );

      // Step Functions starts the real dispatcher for each execution it reports as new.
      const runs = new Map<string, Promise<ExecutionResult>>();
      sfn.middlewareStack.add(
        (next, context) => async (args) => {
          const out = await next(args);
          if (context.commandName === "StartExecutionCommand") {
            const arn = (out.output as { executionArn?: string }).executionArn;
            const { name, input } = args.input as { name: string; input: string };
            if (arn && !runs.has(arn))
              runs.set(arn, executeStateMachine(bench.dispatcher, JSON.parse(input), { tasks, executionName: name }));
          }
          return out;
        },
        { step: "initialize", name: "runDispatcher" },
      );
      const deps: StarterDeps = {
        sfnFor: () => sfn,
        // The routes as the starter reads them, with the ARN of the machine moto holds.
        routes: {
          account: ACCOUNT,
          region: REGION,
          dispatchers: { [REGION]: { stateMachineArn, archiveBucket: bench.archiveBucket, placementCount: 2 } },
        },
        config: intakeConfigOf(bench.config),
        logger: new Logger({ serviceName: "duplicates-test", logLevel: "CRITICAL" }),
      };
      const body = JSON.stringify(rp.event);
      const reemitted = JSON.stringify({
        ...rp.event,
        id: "a-later-event-for-the-same-recovery-point",
        time: new Date().toISOString(),
      });

      // Deliveries 1-4 in one batch, while the execution runs.
      const responses = [await startBatch(batchOf([body, body, body, body], 0), deps)];
      expect(runs.size).toBe(1);
      const [[executionArn, run]] = [...runs];
      const result = await run!;
      expect(result.status).toBe("SUCCEEDED");
      // The execution is over: Step Functions now refuses its name to any StartExecution.
      await sfn.send(new StopExecutionCommand({ executionArn }));
      // Deliveries 5-9 one by one afterwards (SQS redelivery, a replayed archive), and 10: AWS Backup re-emitting the event.
      for (let i = 4; i < 9; i++) responses.push(await startBatch(batchOf([body], i), deps));
      responses.push(await startBatch(batchOf([reemitted], 9), deps));

      expect(responses).toEqual(Array(7).fill({ batchItemFailures: [] }));
      expect(runs.size).toBe(1);
      const executions = (await sfn.send(new ListExecutionsCommand({ stateMachineArn }))).executions ?? [];
      expect(executions.map((e) => e.name)).toEqual([rp.input.plan.executionName]);
      expect(workerRuns).toBe(1);

      const versions = await bench.clients.s3.send(
        new ListObjectVersionsCommand({ Bucket: bench.archiveBucket, Prefix: rp.input.archive.prefix }),
      );
      expect((versions.Versions ?? []).map((v) => v.Key!.slice(rp.input.archive.prefix.length)).sort()).toEqual([
        "disk.tar.zst",
        "manifest.json",
      ]);
      expect(await ledgerItem(bench, rp.arn)).toMatchObject({ status: "SUCCEEDED", recoveryPointDeleted: true });
      expect(await notifications(bench)).toEqual([
        expect.objectContaining({ status: "SUCCEEDED", recoveryPointArn: rp.arn }),
      ]);
      expect(await leftoverVolumes(bench)).toEqual([]);
      expect((await storedRecoveryPoints()).map((p) => p.RecoveryPointArn)).not.toContain(rp.arn);
      sfn.middlewareStack.remove("runDispatcher");
    }, 120_000);

    it("Step Functions (moto) refuses a used name to other input with ExecutionAlreadyExists, the answer the starter counts as handled", async () => {
      const name = "probe-duplicate-name";
      await sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: "{}" }));
      await expect(
        sfn.send(new StartExecutionCommand({ stateMachineArn, name, input: '{"other":1}' })),
      ).rejects.toMatchObject({ name: "ExecutionAlreadyExists" });
    });
  },
);
