/**
 * The dispatcher and EBS state machines as the pipeline stack synthesizes them, executed
 * with real logic: moto's EC2, DynamoDB (ledger), S3 (archive), SNS→SQS (notifications),
 * the AWS Backup fake, the verify Lambda's own code, and a Batch job run under the job
 * definition's synthesized retry strategy. After each run, moto's state is checked:
 * no restored volume left, archive objects, ledger record, notification, recovery point.
 */
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import {
  seedRecoveryPoints,
  seedVaults,
  setDeletionOutcomes,
  storedRecoveryPoints,
} from "../../testing/backup-fake/control";
import { EventBridgeClient, PutEventsCommand, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import {
  CreateQueueCommand,
  DeleteMessageCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
} from "@aws-sdk/client-sqs";
import { executeStateMachine, TaskResolver } from "../../testing/asl";
import { BACKSTOP_OUTCOMES } from "../../stacks/workflows/backstop";
import { AttemptFailure, withRetryStrategy } from "../../testing/batch-retry";
import { describeWithPrereqs } from "../../testing/prereq";
import {
  Bench,
  createBench,
  ledgerItem,
  leftoverVolumes,
  notifications,
  outcomeEvents,
  recoveryPoint,
  resolverFor,
  tagSnapshot,
  writeArchive,
} from "../helpers/pipeline-bench";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { OUTCOME_DETAIL_TYPES as T } from "../../core/outcome-events";
import { commonDetail, durationUntilVerified, expectOutcomeEvent } from "../helpers/outcome-events";

const missing = [...motoMissing(), ...backupFakeMissing()];

/**
 * An EBS recovery point: the record in the Backup fake, and its tags on the EC2 snapshot in moto,
 * where AWS keeps them (the fake, like AWS, refuses backup:ListTags for a snapshot's ARN).
 */
let currentBench: Bench;
async function seedRecoveryPoint(arn: string, tags: Record<string, string>) {
  await seedRecoveryPoints([
    {
      RecoveryPointArn: arn,
      BackupVaultName: "Default",
      ResourceArn: "arn:aws:ec2:us-east-1:111111111111:volume/vol-1",
      ResourceType: "EBS",
      Status: "COMPLETED",
    },
  ]);
  await tagSnapshot(currentBench, arn, tags);
}
/** What every outcome event of this recovery point's execution says, whatever the outcome. */
const common = (bench: Bench, rp: Awaited<ReturnType<typeof recoveryPoint>>, executionName?: string) =>
  commonDetail({
    recoveryPointArn: rp.arn,
    resourceArn: rp.input.recoveryPoint.resourceArn,
    resourceType: "EBS",
    workflow: rp.input.plan.workflow!,
    pipeline: bench.config.name,
    executionName: executionName ?? rp.input.plan.executionName!,
  });
const unset = { durationSeconds: null, archiveUrl: null, bytes: null, error: null, cause: null, reason: null };
/** The detail of a verified export of the bench's 4096-byte archive: Export Succeeded and its deletion events. */
const exportedDetail = (
  bench: Bench,
  rp: Awaited<ReturnType<typeof recoveryPoint>>,
  result: Parameters<typeof durationUntilVerified>[0],
) => ({
  ...common(bench, rp),
  ...unset,
  archiveUrl: rp.input.archive.url,
  bytes: 4096,
  durationSeconds: durationUntilVerified(result),
});
const stillStored = async (arn: string) => (await storedRecoveryPoints()).some((p) => p.RecoveryPointArn === arn);
const archiveKeys = async (bench: Bench, prefix: string) =>
  (
    (await bench.clients.s3.send(new ListObjectsV2Command({ Bucket: bench.archiveBucket, Prefix: prefix }))).Contents ??
    []
  )
    .map((o) => o.Key!.slice(prefix.length))
    .sort();

describeWithPrereqs("pipeline state machines, executed (auto-delete on)", missing, () => {
  let bench: Bench;
  beforeAll(async () => {
    bench = await createBench({ deleteRecoveryPoint: { enabled: true, requiredTag: "backup-actions:delete" } });
    currentBench = bench;
  });
  const exportWith = async (tags: Record<string, string>) => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, tags);
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, (_n, job) => writeArchive(bench.clients.s3, job.parameters.targetUrl!)),
    );
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    return { rp, tasks, result };
  };

  it("records who started it in the ledger: the starter's input says event; an older input without startedBy counts as event", async () => {
    const starters = [];
    for (const input of ["event", "reconciler", undefined]) {
      const rp = await recoveryPoint(bench);
      await seedRecoveryPoint(rp.arn, {});
      const { startedBy: _, ...older } = rp.input;
      expect(rp.input.startedBy).toBe("event"); // what the starter builds (core/execution-input.ts)
      const tasks = resolverFor(
        bench,
        withRetryStrategy(bench.retryStrategy, (_n, job) => writeArchive(bench.clients.s3, job.parameters.targetUrl!)),
      );
      const result = await executeStateMachine(
        bench.dispatcher,
        (input === undefined ? older : { ...rp.input, startedBy: input }) as never,
        { tasks, executionName: rp.input.plan.executionName! },
      );
      expect(result.status).toBe("SUCCEEDED");
      starters.push((await ledgerItem(bench, rp.arn)).startedBy);
    }
    expect(starters).toEqual(["event", "reconciler", "event"]);
    expect((await notifications(bench)).map((n) => n.status)).toEqual(["SUCCEEDED", "SUCCEEDED", "SUCCEEDED"]);
  });

  it("exports, verifies, records, deletes the tagged recovery point and notifies success", async () => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, { "backup-actions:delete": "true" });
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, (_n, job) => writeArchive(bench.clients.s3, job.parameters.targetUrl!)),
    );

    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });

    expect(result.status).toBe("SUCCEEDED");
    expect(await leftoverVolumes(bench)).toEqual([]);
    expect(await archiveKeys(bench, rp.input.archive.prefix)).toEqual(["disk.tar.zst", "manifest.json"]);
    expect(await ledgerItem(bench, rp.arn)).toMatchObject({
      status: "SUCCEEDED",
      workflow: "ebs",
      archiveUrl: rp.input.archive.url,
      bytes: "4096",
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      recoveryPointDeleted: true,
    });
    expect(await stillStored(rp.arn)).toBe(false);
    expect(await notifications(bench)).toEqual([
      expect.objectContaining({ status: "SUCCEEDED", recoveryPointArn: rp.arn }),
    ]);
    // Two events from one PutEvents: the export and the deletion.
    const exported = exportedDetail(bench, rp, result);
    const events = await outcomeEvents(bench, rp.arn);
    expect(events).toHaveLength(2);
    expectOutcomeEvent(events[0]!, T.exportSucceeded, exported);
    expectOutcomeEvent(events[1]!, T.recoveryPointDeleted, exported);
    expect(events[0]!.region).toBe("us-east-1");
    // The export took time (the worker's job), and the deletion after it (two polls 30 s apart) is not counted.
    expect(exported.durationSeconds).toBeGreaterThan(0);
    expect(Date.parse(events[0]!.time) - Date.parse(events[0]!.detail.startedAt!)).toBeGreaterThanOrEqual(
      (exported.durationSeconds + 30) * 1000 - 1000,
    );
    expect(tasks.calls.filter((c) => c.resource.endsWith("events:putEvents")).map((c) => c.stateName)).toEqual([
      "NotifyDeletedEvents",
    ]);
    // The tag was read from the snapshot with EC2's own API, never with backup:ListTags.
    const read = tasks.calls.filter((c) => c.stateName === "ReadSnapshotTag");
    expect(read.map((c) => c.resource)).toEqual(["arn:aws:states:::aws-sdk:ec2:describeTags"]);
    expect(tasks.calls.some((c) => c.resource.endsWith("backup:listTags"))).toBe(false);
    // The 200 of DeleteRecoveryPoint was not taken for the deletion: DELETING was seen, then gone.
    expect(tasks.calls.filter((c) => c.stateName === "DescribeDeletion")).toHaveLength(2);
  });

  it("deletes nothing when the recovery point in AWS Backup carries the tag but the snapshot does not", async () => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoints([
      {
        RecoveryPointArn: rp.arn,
        BackupVaultName: "Default",
        ResourceArn: "arn:aws:ec2:us-east-1:111111111111:volume/vol-1",
        ResourceType: "EBS",
        Tags: { "backup-actions:delete": "true" },
      },
    ]);
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, (_n, job) => writeArchive(bench.clients.s3, job.parameters.targetUrl!)),
    );
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(await stillStored(rp.arn)).toBe(true);
    expect((await ledgerItem(bench, rp.arn)).recoveryPointDeleted).toBeUndefined();
    await notifications(bench);
  });

  // Consent is the exact value "true": deleting cannot be undone, so nothing else counts.
  it.each([["false"], ["TRUE"], ["True"], ["true "], [" true"], ["yes"], [""]])(
    "keeps the recovery point when its tag is %j, and records why",
    async (value) => {
      const { rp, result } = await exportWith({ "backup-actions:delete": value });
      expect(result.status).toBe("SUCCEEDED");
      expect(await stillStored(rp.arn)).toBe(true);
      const item = await ledgerItem(bench, rp.arn);
      expect(item.recoveryPointDeleted).toBeUndefined();
      expect(item.recoveryPointNotDeletedReason).toBe(
        'kept: the recovery point\'s tag backup-actions:delete is not the exact value "true"',
      );
      expect(await notifications(bench)).toEqual([expect.objectContaining({ status: "SUCCEEDED" })]);
      // Kept for want of consent is no failed deletion: Export Succeeded only.
      const events = await outcomeEvents(bench, rp.arn);
      expect(events).toHaveLength(1);
      expectOutcomeEvent(events[0]!, T.exportSucceeded, exportedDetail(bench, rp, result));
    },
  );

  it("records a recovery point that ends EXPIRED as not deleted, with AWS Backup's reason, and notifies it", async () => {
    const rp = await recoveryPoint(bench);
    await setDeletionOutcomes([
      {
        RecoveryPointArn: rp.arn,
        Outcome: "EXPIRED",
        DescribesWhileDeleting: 2,
        StatusMessage: "Insufficient privileges to delete the snapshot",
      },
    ]);
    await seedRecoveryPoint(rp.arn, { "backup-actions:delete": "true" });
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, (_n, job) => writeArchive(bench.clients.s3, job.parameters.targetUrl!)),
    );
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });

    expect(result.status).toBe("SUCCEEDED");
    const item = await ledgerItem(bench, rp.arn);
    expect(item.status).toBe("SUCCEEDED");
    expect(item.recoveryPointDeleted).toBeUndefined();
    expect(item.recoveryPointNotDeletedReason).toBe(
      "DeleteRecoveryPoint was accepted but the recovery point ended EXPIRED: Insufficient privileges to delete the snapshot",
    );
    expect((await storedRecoveryPoints()).find((p) => p.RecoveryPointArn === rp.arn)?.Status).toBe("EXPIRED");
    const [message] = await notifications(bench);
    expect(message).toMatchObject({ status: "SUCCEEDED", recoveryPointArn: rp.arn });
    expect((message as any).details.notDeleted.reason).toContain("ended EXPIRED");
    expect(tasks.calls.filter((c) => c.stateName === "DescribeDeletion")).toHaveLength(3);
    const exported = exportedDetail(bench, rp, result);
    const events = await outcomeEvents(bench, rp.arn);
    expect(events).toHaveLength(2);
    expectOutcomeEvent(events[0]!, T.exportSucceeded, exported);
    expectOutcomeEvent(events[1]!, T.recoveryPointNotDeleted, {
      ...exported,
      reason:
        "DeleteRecoveryPoint was accepted but the recovery point ended EXPIRED: Insufficient privileges to delete the snapshot",
    });
  });

  it("gives up after the last poll when the recovery point stays DELETING, and records that", async () => {
    const rp = await recoveryPoint(bench);
    await setDeletionOutcomes([{ RecoveryPointArn: rp.arn, Outcome: "DELETED", DescribesWhileDeleting: 1000 }]);
    await seedRecoveryPoint(rp.arn, { "backup-actions:delete": "true" });
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, (_n, job) => writeArchive(bench.clients.s3, job.parameters.targetUrl!)),
    );
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });

    expect(result.status).toBe("SUCCEEDED");
    const item = await ledgerItem(bench, rp.arn);
    expect(item.recoveryPointDeleted).toBeUndefined();
    expect(item.recoveryPointNotDeletedReason).toBe("recovery point still DELETING after 41 checks 30 s apart");
    expect(tasks.calls.filter((c) => c.stateName === "DescribeDeletion")).toHaveLength(41);
    expect((await notifications(bench))[0]).toMatchObject({ status: "SUCCEEDED" });
  });

  it("retries a throttled tag read and a throttled DescribeRecoveryPoint, then records the deletion", async () => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, { "backup-actions:delete": "true" });
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, (_n, job) => writeArchive(bench.clients.s3, job.parameters.targetUrl!)),
    )
      .injectFault({
        resource: "arn:aws:states:::aws-sdk:ec2:describeTags",
        calls: [1, 2],
        error: "Ec2.Ec2Exception",
        cause: "RequestLimitExceeded",
      })
      .injectFault({
        resource: "arn:aws:states:::aws-sdk:backup:describeRecoveryPoint",
        calls: [1],
        error: "Backup.ThrottlingException",
      });
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(tasks.calls.filter((c) => c.stateName === "ReadSnapshotTag")).toHaveLength(3);
    expect((await ledgerItem(bench, rp.arn)).recoveryPointDeleted).toBe(true);
    expect(await stillStored(rp.arn)).toBe(false);
    await notifications(bench);
  });

  it("keeps the recovery point, with the error as reason, when its tag cannot be read", async () => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, { "backup-actions:delete": "true" });
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, (_n, job) => writeArchive(bench.clients.s3, job.parameters.targetUrl!)),
    ).injectFault({
      resource: "arn:aws:states:::aws-sdk:ec2:describeTags",
      error: "Ec2.Ec2Exception",
      cause: "UnauthorizedOperation",
    });
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(await stillStored(rp.arn)).toBe(true);
    expect((await ledgerItem(bench, rp.arn)).recoveryPointNotDeletedReason).toBe(
      "Ec2.Ec2Exception: UnauthorizedOperation",
    );
    expect(tasks.calls.some((c) => c.resource.endsWith("backup:deleteRecoveryPoint"))).toBe(false);
    expect(tasks.calls.map((c) => c.stateName)).toContain("NotifyNotDeletedPublish");
    await notifications(bench);
    const exported = exportedDetail(bench, rp, result);
    const events = await outcomeEvents(bench, rp.arn);
    expect(events).toHaveLength(2);
    expectOutcomeEvent(events[0]!, T.exportSucceeded, exported);
    expectOutcomeEvent(events[1]!, T.recoveryPointNotDeleted, {
      ...exported,
      reason: "Ec2.Ec2Exception: UnauthorizedOperation",
    });
  });

  it("records a refused DeleteRecoveryPoint (vault lock) as not deleted with the service's error", async () => {
    const rp = await recoveryPoint(bench);
    // GIVEN the vault is locked with a minimum retention the recovery point has not reached
    await seedVaults([{ BackupVaultName: "Default", MinRetentionDays: 3650 }]);
    await seedRecoveryPoint(rp.arn, { "backup-actions:delete": "true" });
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, (_n, job) => writeArchive(bench.clients.s3, job.parameters.targetUrl!)),
    );
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(await stillStored(rp.arn)).toBe(true);
    expect((await ledgerItem(bench, rp.arn)).recoveryPointNotDeletedReason).toMatch(
      /^Backup\.InvalidRequestException: .*minimum retention of 3650 days/,
    );
    await notifications(bench);
    await seedVaults([{ BackupVaultName: "Default", MinRetentionDays: 0 }]); // unlock for the tests after this one
  });

  it("keeps the recovery point when its tag is missing", async () => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, { team: "db" });
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, (_n, job) => writeArchive(bench.clients.s3, job.parameters.targetUrl!)),
    );
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(await stillStored(rp.arn)).toBe(true);
    expect((await ledgerItem(bench, rp.arn)).recoveryPointDeleted).toBeUndefined();
    expect(await leftoverVolumes(bench)).toEqual([]);
    await notifications(bench);
  });

  it("on a failed worker: deletes the volume, keeps the recovery point, records FAILED and notifies the failure", async () => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, { "backup-actions:delete": "true" });
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, () => {
        throw new AttemptFailure("Essential container in task exited", "manifest not written", 1);
      }),
    );
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    expect(result.status).toBe("FAILED");
    expect(await leftoverVolumes(bench)).toEqual([]);
    expect(await stillStored(rp.arn)).toBe(true);
    expect(await ledgerItem(bench, rp.arn)).toMatchObject({
      status: "FAILED",
      failureReason: expect.stringMatching(/^States\.TaskFailed: /),
    });
    expect(await archiveKeys(bench, rp.input.archive.prefix)).toEqual([]);
    expect(await notifications(bench)).toEqual([
      expect.objectContaining({ status: "FAILED", recoveryPointArn: rp.arn }),
    ]);
    const events = await outcomeEvents(bench, rp.arn);
    expect(events).toHaveLength(1);
    expectOutcomeEvent(events[0]!, T.exportFailed, {
      ...common(bench, rp),
      ...unset,
      error: "States.TaskFailed",
      cause: result.cause!,
    });
    expect(result.cause).toContain("Essential container in task exited");
    // Not a Spot reclaim: the job definition exits after the first attempt.
    expect(tasks.calls.filter((c) => c.stateName === "RunWorker")).toHaveLength(1);
  });

  // The synthesized job definition's retry strategy, run with Batch's semantics (testing/batch-retry.ts):
  // anything but a Spot reclaim ends the job on its first attempt. Fails if the strategy retries every failure.
  it.each([
    ["a non-zero exit", new AttemptFailure("Essential container in task exited", "", 1)],
    [
      "an exit with a container reason",
      new AttemptFailure("Essential container in task exited", "manifest not written", 3),
    ],
    [
      "the OOM killer",
      new AttemptFailure(
        "Essential container in task exited",
        "OutOfMemoryError: Container killed due to memory usage",
        137,
      ),
    ],
    [
      "an image that cannot be pulled",
      new AttemptFailure(
        "Task failed to start",
        "CannotPullContainerError: pull image manifest has been retried 1 time(s)",
      ),
    ],
  ])("runs the worker exactly once on %s: Batch does not retry it", async (_what, failure) => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, {});
    const attempts: number[] = [];
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, (n) => {
        attempts.push(n);
        throw failure;
      }),
    );
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    expect(result.status).toBe("FAILED");
    expect(attempts).toEqual([1]);
    expect(bench.retryStrategy.attempts).toBeGreaterThan(1); // retries exist, for Spot reclaims only
    expect(await leftoverVolumes(bench)).toEqual([]);
    await notifications(bench);
  });

  it("retries a Spot reclaim under the job definition's retry strategy, then succeeds", async () => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, {});
    const attempts: number[] = [];
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, async (n, job) => {
        attempts.push(n);
        if (n < 3) throw new AttemptFailure("Host EC2 (instance i-0123456789abcdef0) terminated.");
        await writeArchive(bench.clients.s3, job.parameters.targetUrl!);
      }),
    );
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(attempts).toEqual([1, 2, 3]);
    expect(bench.retryStrategy.attempts).toBe(3);
    expect((await ledgerItem(bench, rp.arn)).status).toBe("SUCCEEDED");
    expect(await leftoverVolumes(bench)).toEqual([]);
    await notifications(bench);
  });

  it("retries throttled ledger writes and a throttled CreateVolume, then succeeds", async () => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, {});
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, (_n, job) => writeArchive(bench.clients.s3, job.parameters.targetUrl!)),
    )
      .injectFault({
        resource: "arn:aws:states:::dynamodb:putItem",
        calls: [1, 2],
        error: "DynamoDB.ThrottlingException",
      })
      .injectFault({
        resource: "arn:aws:states:::aws-sdk:ec2:createVolume",
        calls: [1],
        error: "Ec2.Ec2Exception",
        cause: "RequestLimitExceeded",
      });
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(tasks.calls.filter((c) => c.stateName === "RecordRunning")).toHaveLength(3);
    expect((await ledgerItem(bench, rp.arn)).status).toBe("SUCCEEDED");
    expect(await leftoverVolumes(bench)).toEqual([]);
    await notifications(bench);
  });

  it("retries a throttled PutEvents (backoff and jitter), then publishes the event once", async () => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, {});
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, (_n, job) => writeArchive(bench.clients.s3, job.parameters.targetUrl!)),
    ).injectFault({
      resource: "arn:aws:states:::events:putEvents",
      calls: [1, 2],
      error: "EventBridge.ThrottlingException",
    });
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(tasks.calls.filter((c) => c.stateName === "NotifySucceededEvents")).toHaveLength(3);
    expect((await outcomeEvents(bench, rp.arn)).map((e) => e["detail-type"])).toEqual([T.exportSucceeded]);
    await notifications(bench);
  });

  it("a PutEvents that keeps failing changes no outcome: the export succeeds, is recorded and notified by SNS", async () => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, {});
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, (_n, job) => writeArchive(bench.clients.s3, job.parameters.targetUrl!)),
    ).injectFault({ resource: "arn:aws:states:::events:putEvents", error: "EventBridge.InternalException" });
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    expect(result.status).toBe("SUCCEEDED");
    expect((await ledgerItem(bench, rp.arn)).status).toBe("SUCCEEDED");
    expect(await notifications(bench)).toEqual([expect.objectContaining({ status: "SUCCEEDED" })]);
    // The first attempt and the Retry's six, then the Catch.
    expect(tasks.calls.filter((c) => c.stateName === "NotifySucceededEvents")).toHaveLength(7);
    expect(await outcomeEvents(bench, rp.arn)).toEqual([]);
  });

  it("a failed export stays FAILED with its own error when PutEvents fails too", async () => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, {});
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, () => {
        throw new AttemptFailure("Essential container in task exited", "manifest not written", 1);
      }),
    ).injectFault({ resource: "arn:aws:states:::events:putEvents", error: "EventBridge.FailedEntry" });
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("States.TaskFailed");
    expect((await ledgerItem(bench, rp.arn)).status).toBe("FAILED");
    expect(await notifications(bench)).toEqual([expect.objectContaining({ status: "FAILED" })]);
  });

  it("publishes the event when the SNS notification fails", async () => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, {});
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, (_n, job) => writeArchive(bench.clients.s3, job.parameters.targetUrl!)),
    ).injectFault({ resource: "arn:aws:states:::sns:publish", error: "SNS.AuthorizationErrorException" });
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    expect(result.status).toBe("SUCCEEDED");
    expect((await outcomeEvents(bench, rp.arn)).map((e) => e["detail-type"])).toEqual([T.exportSucceeded]);
  });

  it("fails verification when the worker wrote no manifest: FAILED, recovery point kept", async () => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, { "backup-actions:delete": "true" });
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, () => undefined),
    );
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("VerificationFailed");
    expect(await stillStored(rp.arn)).toBe(true);
    expect((await ledgerItem(bench, rp.arn)).failureReason).toMatch(/^VerificationFailed: manifest\.json is missing/);
    await notifications(bench);
    // The verification ran and failed: Export Failed says how long the export took until then.
    const events = await outcomeEvents(bench, rp.arn);
    expect(events).toHaveLength(1);
    expectOutcomeEvent(events[0]!, T.exportFailed, {
      ...common(bench, rp),
      ...unset,
      durationSeconds: durationUntilVerified(result),
      error: "VerificationFailed",
      cause: result.cause!,
    });
  });

  it("records a type without a deployed exporter as SKIPPED", async () => {
    // exports.rds off: the dispatcher has no RDS child (the starter keeps such events out; a late one is recorded).
    const withoutRds = await createBench({ exports: { rds: false } });
    currentBench = withoutRds;
    const rp = await recoveryPoint(withoutRds);
    const input = { ...rp.input, plan: { ...rp.input.plan, workflow: "rds" as const } };
    const result = await executeStateMachine(withoutRds.dispatcher, input as never, {
      tasks: resolverFor(withoutRds, () => ({})),
      executionName: "skip-rds",
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(await ledgerItem(withoutRds, rp.arn)).toMatchObject({
      status: "SKIPPED",
      failureReason: "no exporter for workflow rds is deployed",
    });
    expect(await notifications(withoutRds)).toEqual([expect.objectContaining({ status: "SKIPPED" })]);
    const events = await outcomeEvents(withoutRds, rp.arn);
    expect(events).toHaveLength(1);
    expectOutcomeEvent(events[0]!, T.exportSkipped, {
      ...common(withoutRds, { ...rp, input }, "skip-rds"),
      ...unset,
      reason: "no exporter for workflow rds is deployed",
    });
    currentBench = bench;
  });
});

describeWithPrereqs("the dispatcher and its child's answer (core/workflows.ts ChildOutput), executed", missing, () => {
  let bench: Bench;
  beforeAll(async () => {
    bench = await createBench({ deleteRecoveryPoint: { enabled: true, requiredTag: "backup-actions:delete" } });
    currentBench = bench;
  });
  /** The synthesized dispatcher with a stand-in child in the EBS child's place that answers `output`. */
  const runWithChildAnswer = async (
    output: Record<string, unknown>,
    {
      tags = { "backup-actions:delete": "true" },
      archive = false,
    }: { tags?: Record<string, string>; archive?: boolean } = {},
  ) => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, tags);
    if (archive) await writeArchive(bench.clients.s3, rp.input.archive.url);
    const child = { StartAt: "Answer", States: { Answer: { Type: "Pass", Result: output, End: true } } };
    const tasks = resolverFor(bench, () => undefined).stateMachine(
      bench.ebsArn,
      child as never,
      bench.as("ebs-export"),
    );
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    return { rp, tasks, result };
  };

  it("records UNSUPPORTED with the child's reason, notifies it, keeps the recovery point, verifies nothing", async () => {
    const reason = "engine sqlserver-ee 15.00.4073.23.v1: StartExportTask does not export it and no dump path is on";
    const { rp, tasks, result } = await runWithChildAnswer({ outcome: "UNSUPPORTED", reason });
    expect(result.status).toBe("SUCCEEDED");
    expect(await ledgerItem(bench, rp.arn)).toMatchObject({ status: "UNSUPPORTED", failureReason: reason });
    expect(await ledgerItem(bench, rp.arn)).toHaveProperty("finishedAt");
    expect(await notifications(bench)).toEqual([
      expect.objectContaining({ status: "UNSUPPORTED", recoveryPointArn: rp.arn }),
    ]);
    const events = await outcomeEvents(bench, rp.arn);
    expect(events).toHaveLength(1);
    expectOutcomeEvent(events[0]!, T.exportUnsupported, { ...common(bench, rp), ...unset, reason });
    expect(await stillStored(rp.arn)).toBe(true);
    expect(tasks.calls.some((c) => c.stateName === "VerifyArchive")).toBe(false);
    expect(tasks.calls.some((c) => c.resource.includes("backup:"))).toBe(false);
  });

  it.each([
    ["an outcome it does not know", { outcome: "MAYBE" }],
    ["UNSUPPORTED without a reason", { outcome: "UNSUPPORTED" }],
    ["an outcome that is not a string", { outcome: 1, reason: "x" }],
  ])("fails the export on %s: FAILED naming the answer, recovery point kept", async (_what, output) => {
    const { rp, result } = await runWithChildAnswer(output);
    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("ChildOutputInvalid");
    const item = await ledgerItem(bench, rp.arn);
    expect(item.status).toBe("FAILED");
    expect(item.failureReason).toContain(`ChildOutputInvalid: the child answered ${JSON.stringify(output)}`);
    expect(await stillStored(rp.arn)).toBe(true);
    expect(await notifications(bench)).toEqual([expect.objectContaining({ status: "FAILED" })]);
  });

  it("verifies when the child says EXPORTED, and passes the verify Lambda the workflow and the child's output", async () => {
    const { rp, tasks, result } = await runWithChildAnswer(
      { outcome: "EXPORTED", wrote: "disk" },
      { tags: {}, archive: true },
    );
    expect(result.status).toBe("SUCCEEDED");
    expect((await ledgerItem(bench, rp.arn)).status).toBe("SUCCEEDED");
    const verify = tasks.calls.find((c) => c.stateName === "VerifyArchive")!;
    expect((verify.parameters as { Payload: unknown }).Payload).toEqual({
      archiveUrl: rp.input.archive.url,
      recoveryPointArn: rp.arn,
      workflow: "ebs",
      export: { outcome: "EXPORTED", wrote: "disk" },
      // $$.Execution.StartTime: the answer's durationSeconds counts from it.
      executionStartTime: result.history.find((e) => e.type === "ExecutionStarted")!.timestamp.toISOString(),
    });
    await notifications(bench);
  });
});

describeWithPrereqs("pipeline state machines, executed (auto-delete off)", missing, () => {
  it("never deletes the recovery point, even when it carries the tag", async () => {
    const bench = await createBench();
    currentBench = bench;
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoint(rp.arn, { "backup-actions:delete": "true" });
    const tasks = resolverFor(
      bench,
      withRetryStrategy(bench.retryStrategy, (_n, job) => writeArchive(bench.clients.s3, job.parameters.targetUrl!)),
    );
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(await stillStored(rp.arn)).toBe(true);
    expect(tasks.calls.some((c) => c.resource.includes("backup:"))).toBe(false);
    expect((await ledgerItem(bench, rp.arn)).status).toBe("SUCCEEDED");
    expect(await leftoverVolumes(bench)).toEqual([]);
    const events = await outcomeEvents(bench, rp.arn);
    expect(events).toHaveLength(1);
    expectOutcomeEvent(events[0]!, T.exportSucceeded, exportedDetail(bench, rp, result));
  });
});

describeWithPrereqs("the backstop, executed: a dispatcher that timed out or was stopped is published", missing, () => {
  let bench: Bench;
  const events = new EventBridgeClient({ region: "us-east-1" });
  beforeAll(async () => {
    bench = await createBench();
    currentBench = bench;
  });
  afterAll(() => events.destroy());

  /** "Step Functions Execution Status Change" as EventBridge delivers it (Step Functions Developer Guide, example events). */
  const statusChange = (rp: Awaited<ReturnType<typeof recoveryPoint>>, status: string, machine = "dispatcher") => {
    const stateMachineArn = `arn:aws:states:us-east-1:111111111111:stateMachine:${bench.config.name}-${machine}`;
    const executionArn = `${stateMachineArn.replace(":stateMachine:", ":execution:")}:${rp.input.plan.executionName}`;
    return {
      version: "0",
      id: "315c1398-40ff-a850-213b-158f73e60175",
      "detail-type": "Step Functions Execution Status Change",
      source: "aws.states",
      account: "111111111111",
      time: "2026-12-03T10:00:00Z",
      region: "us-east-1",
      resources: [executionArn],
      detail: {
        executionArn,
        stateMachineArn,
        name: rp.input.plan.executionName,
        status,
        startDate: 1796292000000,
        stopDate: 1796295600000,
        input: JSON.stringify(rp.input),
        output: null,
        inputDetails: { included: true },
        outputDetails: null,
        error: null,
        cause: null,
      },
    };
  };
  /**
   * Whether the synthesized backstop rule's pattern lets `event` through: the pattern as a rule in moto's
   * EventBridge (its TestEventPattern is a stub) with a queue as target, the event put on the bus.
   */
  let probeQueueUrl: string;
  beforeAll(async () => {
    const rule = Object.values<any>((bench.deployment.tf as any).resource.aws_cloudwatch_event_rule).find((r) =>
      r.name.endsWith("-dispatcher-ended-abnormally"),
    );
    // The dispatcher's ARN, as Terraform would interpolate it.
    const pattern = rule.event_pattern.replace(
      /\$\{[^}]+\}/,
      `arn:aws:states:us-east-1:111111111111:stateMachine:${bench.config.name}-dispatcher`,
    );
    expect(pattern).not.toContain("${");
    const sqs = bench.clients.sqs;
    probeQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `backstop-probe-${Date.now()}` }))).QueueUrl!;
    const arn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: probeQueueUrl, AttributeNames: ["QueueArn"] }))
    ).Attributes!.QueueArn!;
    await events.send(new PutRuleCommand({ Name: "backstop-probe", EventPattern: pattern }));
    await events.send(new PutTargetsCommand({ Rule: "backstop-probe", Targets: [{ Id: "probe", Arn: arn }] }));
  });
  const ruleMatches = async (event: ReturnType<typeof statusChange>) => {
    const put = await events.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: event.source,
            DetailType: event["detail-type"],
            Resources: event.resources,
            Detail: JSON.stringify(event.detail),
          },
        ],
      }),
    );
    expect(put.FailedEntryCount).toBe(0);
    const out = await bench.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: probeQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const seen = (out.Messages ?? []).map((m) => JSON.parse(m.Body!).detail);
    for (const m of out.Messages ?? [])
      await bench.clients.sqs.send(
        new DeleteMessageCommand({ QueueUrl: probeQueueUrl, ReceiptHandle: m.ReceiptHandle! }),
      );
    return seen.some((d) => d.executionArn === event.detail.executionArn && d.status === event.detail.status);
  };

  it.each([
    ["TIMED_OUT", T.exportTimedOut],
    ["ABORTED", T.exportAborted],
  ] as const)("%s: the rule starts the backstop, which publishes %s with every field", async (status, type) => {
    const rp = await recoveryPoint(bench);
    const event = statusChange(rp, status);
    expect(await ruleMatches(event)).toBe(true);

    const result = await executeStateMachine(bench.backstop, event as never, {
      tasks: new TaskResolver().runsAs(bench.as("backstop")),
    });

    expect(result.status).toBe("SUCCEEDED");
    const published = await outcomeEvents(bench, rp.arn);
    expect(published).toHaveLength(1);
    expectOutcomeEvent(published[0]!, type, {
      ...common(bench, rp),
      ...unset,
      startedAt: null,
      error: BACKSTOP_OUTCOMES[status].error,
      cause: BACKSTOP_OUTCOMES[status].cause,
    });
  });

  it("the rule lets through no other status and no other state machine", async () => {
    const rp = await recoveryPoint(bench);
    expect(await ruleMatches(statusChange(rp, "SUCCEEDED"))).toBe(false);
    expect(await ruleMatches(statusChange(rp, "FAILED"))).toBe(false);
    expect(await ruleMatches(statusChange(rp, "TIMED_OUT", "ebs-export"))).toBe(false);
  });

  it("fails loudly, publishing nothing, when started for a status it does not handle", async () => {
    const rp = await recoveryPoint(bench);
    const result = await executeStateMachine(bench.backstop, statusChange(rp, "SUCCEEDED") as never, {
      tasks: new TaskResolver().runsAs(bench.as("backstop")),
    });
    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("UnexpectedStatus");
    expect(await outcomeEvents(bench, rp.arn)).toEqual([]);
  });

  it("retries a throttled PutEvents and publishes once", async () => {
    const rp = await recoveryPoint(bench);
    const tasks = new TaskResolver().runsAs(bench.as("backstop")).injectFault({
      resource: "arn:aws:states:::events:putEvents",
      calls: [1],
      error: "EventBridge.ThrottlingException",
    });
    const result = await executeStateMachine(bench.backstop, statusChange(rp, "TIMED_OUT") as never, { tasks });
    expect(result.status).toBe("SUCCEEDED");
    expect(tasks.calls.filter((c) => c.stateName === "Publish")).toHaveLength(2);
    expect((await outcomeEvents(bench, rp.arn)).map((e) => e["detail-type"])).toEqual([T.exportTimedOut]);
  });
});
