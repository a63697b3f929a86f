/**
 * The restore drill, executed: the drill state machine exactly as the pipeline stack synthesizes it
 * (drills.enabled), the drill function's real logic against moto's DynamoDB and S3, and as its Batch
 * job the worker image's own `verify` entrypoint (batch-worker/src/verify-job.ts, the Command the
 * machine submits) re-reading a real archive: an ext4 loop-device disk exported by the real worker
 * into moto's S3. Each run's result is read back from the ledger, the events bus and the metric.
 */
import { DeleteItemCommand, PutItemCommand } from "@aws-sdk/client-dynamodb";
import {
  CopyObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type StorageClass,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { exportVolume } from "../../batch-worker/src/export-volume";
import { makeS3Client, S3Store } from "../../batch-worker/src/store";
import { verifyJobMain } from "../../batch-worker/src/verify-job";
import { parseDrillEnv, parseDrillRequest } from "../../core/drill";
import type { MetricDefinition } from "../../core/metrics";
import { handleDrill } from "../../lambdas/drill/logic";
import { executeStateMachine, TaskResolver, type AslDefinition } from "../../testing/asl";
import { AttemptFailure, withRetryStrategy } from "../../testing/batch-retry";
import {
  cleanupStaleFixtures,
  createDiskFixture,
  diskPrerequisites,
  type DiskFixture,
} from "../../testing/fixtures/disks";
import { recording } from "../../testing/iam/recorder";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";
import { expectOutcomeEvent } from "../helpers/outcome-events";
import { Bench, createBench, lambdaEnvironment, ledgerItem, outcomeEvents, REGION } from "../helpers/pipeline-bench";

const missing = [...diskPrerequisites().missing, ...motoMissing(), ...backupFakeMissing()];

describeWithPrereqs("restore drill, executed with the worker's real verify on a real archive", missing, () => {
  jest.setTimeout(300_000);
  let bench: Bench;
  let fixture: DiskFixture;
  let drill: AslDefinition;
  const goodPrefix = "ebs/111111111111/us-east-1/vol-0123456789abcdef0/2026/11/01/drill-good/";
  let manifestSha256: string;
  const seeded: string[] = [];
  const setupS3 = makeS3Client();

  beforeAll(async () => {
    cleanupStaleFixtures();
    bench = await createBench({ drills: { enabled: true, sampleSize: 5, glacier: "skip" } });
    drill = bench.definitionOf("backup-actions-restore-drill");
    fixture = await createDiskFixture("ext4");
    // The real worker exports the loop device into moto's S3 (as the EBS job does).
    await exportVolume({
      device: fixture.device,
      store: new S3Store(makeS3Client(), bench.archiveBucket, goodPrefix),
      concurrency: 2,
    });
    manifestSha256 = createHash("sha256")
      .update(await objectBytes(`${goodPrefix}manifest.json`))
      .digest("hex");
  });
  afterAll(async () => {
    await fixture?.cleanup();
  });
  afterEach(async () => {
    for (const arn of seeded.splice(0))
      await bench.clients.ddb.send(
        new DeleteItemCommand({ TableName: bench.ledgerTable, Key: { recoveryPointArn: { S: arn } } }),
      );
  });

  async function objectBytes(key: string): Promise<Buffer> {
    // set-up reads: the worker's client (a copied multipart object's checksum is per part, not of the whole)
    const out = await setupS3.send(new GetObjectCommand({ Bucket: bench.archiveBucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  }

  /** A copy of the good archive under its own prefix (optionally in another storage class). */
  async function copyArchive(name: string, storageClass?: StorageClass): Promise<string> {
    const prefix = goodPrefix.replace("drill-good/", `drill-${name}/`);
    const list = await bench.clients.s3.send(
      new ListObjectsV2Command({ Bucket: bench.archiveBucket, Prefix: goodPrefix }),
    );
    for (const o of list.Contents ?? [])
      await bench.clients.s3.send(
        new CopyObjectCommand({
          Bucket: bench.archiveBucket,
          Key: prefix + o.Key!.slice(goodPrefix.length),
          CopySource: `${bench.archiveBucket}/${o.Key}`,
          ...(storageClass ? { StorageClass: storageClass } : {}),
        }),
      );
    return prefix;
  }

  /** The record the dispatcher leaves for a verified export. */
  async function seedLedger(name: string, prefix: string): Promise<string> {
    const arn = `arn:aws:ec2:${REGION}::snapshot/snap-0drill${Buffer.from(name).toString("hex").padEnd(10, "0").slice(0, 10)}`;
    seeded.push(arn);
    await bench.clients.ddb.send(
      new PutItemCommand({
        TableName: bench.ledgerTable,
        Item: {
          recoveryPointArn: { S: arn },
          status: { S: "SUCCEEDED" },
          workflow: { S: "ebs" },
          backupVaultName: { S: "Default" },
          resourceArn: { S: `arn:aws:ec2:${REGION}:111111111111:volume/vol-0123456789abcdef0` },
          startedAt: { S: "2026-11-01T03:00:00.000Z" },
          finishedAt: { S: "2026-11-01T03:10:00.000Z" },
          archiveUrl: { S: `s3://${bench.archiveBucket}/${prefix}` },
          bytes: { N: "4096" },
          sha256: { S: manifestSha256 },
          executionArn: { S: `arn:aws:states:${REGION}:111111111111:execution:backup-actions-dispatcher:${name}` },
        },
      }),
    );
    return arn;
  }

  /** Runs the synthesized drill: the drill function's logic as its role, the worker's verify as the job. */
  async function runDrill(executionName: string) {
    const metrics: Array<{ metric: MetricDefinition; value: number }> = [];
    const commands: string[][] = [];
    // The function's synthesized environment, its one interpolation (the ledger's name) valued as terraform apply would.
    const env = lambdaEnvironment(bench, "backup-actions-drill");
    expect(env.LEDGER_TABLE).toMatch(/^\$\{aws_dynamodb_table\.ledger_this_\w+\.name\}$/);
    const settings = parseDrillEnv({ ...env, LEDGER_TABLE: bench.ledgerTable });
    const deps = {
      ddb: recording(new DynamoDBClient({ region: REGION })),
      s3: bench.clients.s3,
      logger: { info: () => undefined, warn: () => undefined },
      metrics: { add: (metric: MetricDefinition, value: number) => metrics.push({ metric, value }) },
    };
    const job = withRetryStrategy(bench.retryStrategy, async (_n, j) => {
      const command = (j.request.ContainerOverrides as { Command: string[] }).Command;
      commands.push(command);
      // The image's ENTRYPOINT is the worker; Batch's Command is its argv: `verify <url> --expect-manifest-sha256 <hex>`.
      expect(command[0]).toBe("verify");
      const code = await verifyJobMain(command.slice(1));
      if (code !== 0) throw new AttemptFailure("Essential container in task exited", `verify exited ${code}`, code);
    });
    const tasks = new TaskResolver()
      .runsAs(bench.as("drill-machine"))
      .lambda(
        "arn:aws:lambda:us-east-1:111111111111:function:backup-actions-drill",
        (payload) => handleDrill(parseDrillRequest(payload), deps, settings),
        bench.as("drill"),
      )
      .batchJob("backup-actions-ebs-worker", job, bench.as("worker-job"));
    const result = await executeStateMachine(
      drill,
      {},
      {
        tasks,
        executionName,
        stateMachineName: "backup-actions-restore-drill",
      },
    );
    return { result, metrics, commands, tasks };
  }

  it("a good archive: the worker's verify re-reads it, the ledger says PASSED, DrillFailed is 0", async () => {
    const arn = await seedLedger("good", goodPrefix);
    const { result, metrics, commands } = await runDrill("drill-good");
    expect(result.status).toBe("SUCCEEDED");
    expect(result.output).toEqual({ passed: 1, failed: 0, skipped: 0 });
    expect(commands).toEqual([
      ["verify", `s3://${bench.archiveBucket}/${goodPrefix}`, "--expect-manifest-sha256", manifestSha256],
    ]);
    const item = await ledgerItem(bench, arn);
    expect(item).toMatchObject({ status: "SUCCEEDED", lastVerifyResult: "PASSED" });
    expect(item.lastVerifiedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    expect(item).not.toHaveProperty("lastVerifyCause");
    expect(metrics.map((m) => [m.metric.name, m.value])).toEqual([["DrillFailed", 0]]);
  });

  it("a corrupted object: the drill fails, the ledger says FAILED with the cause, Drill Failed and DrillFailed 1", async () => {
    const prefix = await copyArchive("corrupt");
    const list = await bench.clients.s3.send(new ListObjectsV2Command({ Bucket: bench.archiveBucket, Prefix: prefix }));
    const tar = list.Contents!.find((o) => o.Key!.endsWith(".tar.zst"))!.Key!;
    const body = await objectBytes(tar);
    body[Math.floor(body.length / 2)] ^= 0x01;
    await bench.clients.s3.send(new PutObjectCommand({ Bucket: bench.archiveBucket, Key: tar, Body: body }));
    const arn = await seedLedger("corrupt", prefix);

    const { result, metrics } = await runDrill("drill-corrupt");

    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("DrillFailed");
    const item = await ledgerItem(bench, arn);
    expect(item).toMatchObject({ status: "SUCCEEDED", lastVerifyResult: "FAILED" });
    expect(item.lastVerifyCause).toMatch(/^States\.TaskFailed: .*Essential container in task exited/);
    expect(metrics.map((m) => [m.metric.name, m.value])).toEqual([["DrillFailed", 1]]);
    const events = (await outcomeEvents(bench, arn)).filter((e) => e["detail-type"] === "Drill Failed");
    expect(events).toHaveLength(1);
    expectOutcomeEvent(events[0]!, "Drill Failed", {
      recoveryPointArn: arn,
      resourceArn: `arn:aws:ec2:${REGION}:111111111111:volume/vol-0123456789abcdef0`,
      resourceType: "EBS",
      workflow: "ebs",
      pipeline: "backup-actions",
      executionArn: expect.stringMatching(/:execution:backup-actions-restore-drill:drill-corrupt$/) as never,
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as never,
      durationSeconds: null,
      archiveUrl: `s3://${bench.archiveBucket}/${prefix}`,
      bytes: 4096,
      error: "States.TaskFailed",
      cause: expect.stringContaining("Essential container in task exited") as never,
      reason: null,
    });
  });

  it("a manifest other than the ledger's is refused: FAILED", async () => {
    const prefix = await copyArchive("other-manifest");
    // Still a valid manifest, listing the same objects: only the ledger's SHA-256 tells it apart.
    const manifest = (await objectBytes(`${prefix}manifest.json`)).toString("utf8") + "\n";
    await bench.clients.s3.send(
      new PutObjectCommand({ Bucket: bench.archiveBucket, Key: `${prefix}manifest.json`, Body: manifest }),
    );
    const arn = await seedLedger("tampered", prefix);
    const { result } = await runDrill("drill-tampered");
    expect(result.status).toBe("FAILED");
    expect(await ledgerItem(bench, arn)).toMatchObject({ lastVerifyResult: "FAILED" });
  });

  it("an archive in Glacier with glacier skip: skipped and reported, no job runs, no failure", async () => {
    const prefix = await copyArchive("glacier", "GLACIER");
    const arn = await seedLedger("glacier", prefix);
    const { result, metrics, commands } = await runDrill("drill-glacier");
    expect(result.status).toBe("SUCCEEDED");
    expect(result.output).toEqual({ passed: 0, failed: 0, skipped: 1 });
    expect(commands).toEqual([]);
    const item = await ledgerItem(bench, arn);
    expect(item.lastVerifyResult).toBe("SKIPPED");
    expect(item.lastVerifyCause).toMatch(
      /object\(s\) of the archive are in GLACIER: drills\.glacier is "skip" \(a Bulk restore would cost about \$0\)/,
    );
    expect(metrics.map((m) => [m.metric.name, m.value])).toEqual([["DrillFailed", 0]]);
  });
});
