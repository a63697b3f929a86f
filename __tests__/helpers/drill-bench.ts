/**
 * The restore drill, executed (__tests__/integration/restore-drill*.test.ts): the drill state machine as the
 * pipeline stack synthesizes it, the drill function's real logic against moto's DynamoDB and S3 as its role,
 * and as its Batch job the worker image's own `verify` entrypoint (batch-worker/src/verify-job.ts) run with
 * the Command the machine built. Also the set-up those tests share: a real EBS archive (an ext4 loop-device
 * disk exported by the real worker into moto's S3) and the ledger record the dispatcher leaves for it.
 */
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { exportVolume } from "../../batch-worker/src/export-volume";
import { makeS3Client, S3Store } from "../../batch-worker/src/store";
import { verifyJobMain } from "../../batch-worker/src/verify-job";
import { parseDrillEnv, parseDrillRequest, type DrillRequest } from "../../core/drill";
import type { MetricDefinition } from "../../core/metrics";
import type { Workflow } from "../../core/workflows";
import { handleDrill } from "../../lambdas/drill/logic";
import { executeStateMachine, TaskResolver, type AslDefinition, type ExecutionResult } from "../../testing/asl";
import { AttemptFailure, withRetryStrategy } from "../../testing/batch-retry";
import { createDiskFixture, type DiskFixture } from "../../testing/fixtures/disks";
import { recording } from "../../testing/iam/recorder";
import { ACCOUNT, type Bench, lambdaEnvironment, REGION } from "./pipeline-bench";

export const DRILL_MACHINE = "backup-actions-restore-drill";
const DRILL_FUNCTION = "backup-actions-drill";
const DRILL_FUNCTION_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${DRILL_FUNCTION}`;
/** The volume the EBS archives of the drill tests were exported from. */
export const DRILL_VOLUME_ARN = `arn:aws:ec2:${REGION}:${ACCOUNT}:volume/vol-0123456789abcdef0`;

/** SHA-256 of the archive's manifest.json, as the dispatcher records it in the ledger. */
export async function manifestSha256Of(bucket: string, prefix: string): Promise<string> {
  // set-up read: the worker's client, not recorded (no role)
  const s3 = makeS3Client();
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}manifest.json` }));
    return createHash("sha256")
      .update(Buffer.from(await out.Body!.transformToByteArray()))
      .digest("hex");
  } finally {
    s3.destroy();
  }
}

/** A real ext4 disk on a loop device, exported by the real worker under `prefix` of the bench's archive bucket. */
export async function exportEbsArchive(
  bench: Bench,
  prefix: string,
): Promise<{ fixture: DiskFixture; manifestSha256: string }> {
  const fixture = await createDiskFixture("ext4");
  await exportVolume({
    device: fixture.device,
    store: new S3Store(makeS3Client(), bench.archiveBucket, prefix),
    concurrency: 2,
  });
  return { fixture, manifestSha256: await manifestSha256Of(bench.archiveBucket, prefix) };
}

export interface DrillRecord {
  readonly recoveryPointArn: string;
  /** Names the dispatcher execution that wrote the record. */
  readonly name: string;
  readonly prefix: string;
  readonly sha256: string;
  /** @default "ebs" */
  readonly workflow?: Workflow;
  /** @default DRILL_VOLUME_ARN */
  readonly resourceArn?: string;
  /** The drill samples the newest of each workflow first. @default "2026-11-01T03:00:00.000Z" */
  readonly startedAt?: string;
}

/** The record the dispatcher leaves in the ledger for a verified export. */
export async function seedDrillRecord(bench: Bench, r: DrillRecord): Promise<void> {
  const startedAt = r.startedAt ?? "2026-11-01T03:00:00.000Z";
  await bench.clients.ddb.send(
    new PutItemCommand({
      TableName: bench.ledgerTable,
      Item: {
        recoveryPointArn: { S: r.recoveryPointArn },
        status: { S: "SUCCEEDED" },
        workflow: { S: r.workflow ?? "ebs" },
        backupVaultName: { S: "Default" },
        resourceArn: { S: r.resourceArn ?? DRILL_VOLUME_ARN },
        startedAt: { S: startedAt },
        finishedAt: { S: startedAt },
        archiveUrl: { S: `s3://${bench.archiveBucket}/${r.prefix}` },
        bytes: { N: "4096" },
        sha256: { S: r.sha256 },
        executionArn: { S: `arn:aws:states:${REGION}:${ACCOUNT}:execution:backup-actions-dispatcher:${r.name}` },
      },
    }),
  );
}

export interface DrillRunOptions {
  /** Wraps each call of the drill function: the test's view between two calls (e.g. a Glacier restore's hours). */
  readonly aroundDrillCall?: (request: DrillRequest, call: () => Promise<unknown>) => Promise<unknown>;
  /** The drill function's clock. */
  readonly now?: () => Date;
}

export interface DrillRun {
  readonly result: ExecutionResult;
  /** What the drill function emitted. */
  readonly metrics: Array<{ metric: MetricDefinition; value: number }>;
  /** The Command of every verify job the machine submitted, as Batch hands it to the image's entrypoint. */
  readonly commands: string[][];
  /** The drill function's synthesized environment. */
  readonly env: Record<string, string>;
}

/** Runs the synthesized drill: the drill function's logic as its role, the worker's verify as the job. */
export async function runDrill(
  bench: Bench,
  drill: AslDefinition,
  executionName: string,
  options: DrillRunOptions = {},
): Promise<DrillRun> {
  const metrics: DrillRun["metrics"] = [];
  const commands: string[][] = [];
  // The function's synthesized environment, its one interpolation (the ledger's name) valued as terraform apply would.
  const env = lambdaEnvironment(bench, DRILL_FUNCTION);
  expect(env.LEDGER_TABLE).toMatch(/^\$\{aws_dynamodb_table\.ledger_this_\w+\.name\}$/);
  const settings = parseDrillEnv({ ...env, LEDGER_TABLE: bench.ledgerTable });
  const deps = {
    ddb: recording(new DynamoDBClient({ region: REGION })),
    s3: bench.clients.s3,
    logger: { info: () => undefined, warn: () => undefined },
    metrics: { add: (metric: MetricDefinition, value: number) => metrics.push({ metric, value }) },
    ...(options.now ? { now: options.now } : {}),
  };
  const job = withRetryStrategy(bench.retryStrategy, async (_n, j) => {
    const command = (j.request.ContainerOverrides as { Command: string[] }).Command;
    commands.push(command);
    // The image's ENTRYPOINT is the worker; Batch's Command is its argv: `verify <url> --expect-manifest-sha256 <hex> …`.
    expect(command[0]).toBe("verify");
    const code = await verifyJobMain(command.slice(1));
    if (code !== 0) throw new AttemptFailure("Essential container in task exited", `verify exited ${code}`, code);
  });
  const around = options.aroundDrillCall ?? ((_request, call) => call());
  const tasks = new TaskResolver()
    .runsAs(bench.as("drill-machine"))
    .lambda(
      DRILL_FUNCTION_ARN,
      (payload) => {
        const request = parseDrillRequest(payload);
        return around(request, () => handleDrill(request, deps, settings));
      },
      bench.as("drill"),
    )
    .batchJob("backup-actions-ebs-worker", job, bench.as("worker-job"));
  const result = await executeStateMachine(drill, {}, { tasks, executionName, stateMachineName: DRILL_MACHINE });
  return { result, metrics, commands, env };
}
