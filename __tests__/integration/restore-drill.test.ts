/**
 * The restore drill, executed: the drill state machine exactly as the pipeline stack synthesizes it
 * (drills.enabled), the drill function's real logic against moto's DynamoDB and S3, and as its Batch
 * job the worker image's own `verify` entrypoint (batch-worker/src/verify-job.ts, the Command the
 * machine submits) re-reading a real archive: an ext4 loop-device disk exported by the real worker
 * into moto's S3. Each run's result is read back from the ledger, the events bus and the metric.
 */
import { DeleteItemCommand } from "@aws-sdk/client-dynamodb";
import {
  CopyObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  type StorageClass,
} from "@aws-sdk/client-s3";
import { makeS3Client } from "../../batch-worker/src/store";
import type { AslDefinition } from "../../testing/asl";
import { cleanupStaleFixtures, diskPrerequisites, type DiskFixture } from "../../testing/fixtures/disks";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";
import { DRILL_VOLUME_ARN, exportEbsArchive, runDrill, seedDrillRecord } from "../helpers/drill-bench";
import { expectOutcomeEvent } from "../helpers/outcome-events";
import { Bench, createBench, ledgerItem, outcomeEvents, REGION } from "../helpers/pipeline-bench";

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
    // The real worker exports a loop device into moto's S3 (as the EBS job does).
    ({ fixture, manifestSha256 } = await exportEbsArchive(bench, goodPrefix));
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
    await seedDrillRecord(bench, { recoveryPointArn: arn, name, prefix, sha256: manifestSha256 });
    return arn;
  }

  it("a good archive: the worker's verify re-reads it, the ledger says PASSED, DrillFailed is 0", async () => {
    const arn = await seedLedger("good", goodPrefix);
    const { result, metrics, commands } = await runDrill(bench, drill, "drill-good");
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

    const { result, metrics } = await runDrill(bench, drill, "drill-corrupt");

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
      resourceArn: DRILL_VOLUME_ARN,
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
    const { result } = await runDrill(bench, drill, "drill-tampered");
    expect(result.status).toBe("FAILED");
    expect(await ledgerItem(bench, arn)).toMatchObject({ lastVerifyResult: "FAILED" });
  });

  it("an archive in Glacier with glacier skip: skipped and reported, no job runs, no failure", async () => {
    const prefix = await copyArchive("glacier", "GLACIER");
    const arn = await seedLedger("glacier", prefix);
    const { result, metrics, commands } = await runDrill(bench, drill, "drill-glacier");
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
