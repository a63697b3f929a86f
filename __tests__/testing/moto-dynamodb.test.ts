/**
 * The launcher's DynamoDB patches (testing/moto/dynamodb_patches.py): backups, PITR and
 * exports answer and refuse as DynamoDB's API reference says, and an export writes the
 * layout of "DynamoDB table export output format".
 */
import {
  CreateBackupCommand,
  CreateTableCommand,
  DescribeBackupCommand,
  DescribeContinuousBackupsCommand,
  DescribeExportCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ExportTableToPointInTimeCommand,
  ImportTableCommand,
  PutItemCommand,
  RestoreTableFromBackupCommand,
  TagResourceCommand,
  UpdateContinuousBackupsCommand,
} from "@aws-sdk/client-dynamodb";
import {
  CreateBucketCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListObjectsV2Command,
  S3Client,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import { motoMissing } from "../../testing/moto/availability";
import { awsClientConfig } from "../../testing/moto/client-config";
import { describeWithPrereqs } from "../../testing/prereq";

const BUCKET = "dynamodb-patch-tests";
const KEY = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";

describeWithPrereqs("moto launcher patches: DynamoDB backups, PITR and exports", motoMissing(), () => {
  const ddb = new DynamoDBClient(awsClientConfig());
  const s3 = new S3Client(awsClientConfig());
  afterAll(() => {
    ddb.destroy();
    s3.destroy();
  });
  let n = 0;
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });

  async function table(opts: { pitr: boolean; items?: number }) {
    const name = `patched-${++n}`;
    const out = await ddb.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        AttributeDefinitions: [
          { AttributeName: "pk", AttributeType: "S" },
          { AttributeName: "g", AttributeType: "S" },
        ],
        GlobalSecondaryIndexes: [
          {
            IndexName: "by-g",
            KeySchema: [{ AttributeName: "g", KeyType: "HASH" }],
            Projection: { ProjectionType: "KEYS_ONLY" },
          },
        ],
        BillingMode: "PAY_PER_REQUEST",
      }),
    );
    for (let i = 0; i < (opts.items ?? 3); i++)
      await ddb.send(
        new PutItemCommand({
          TableName: name,
          Item: { pk: { S: `k${i}` }, g: { S: "x" }, n: { N: `${i}.5` }, b: { B: Buffer.from([i]) } },
        }),
      );
    if (opts.pitr)
      await ddb.send(
        new UpdateContinuousBackupsCommand({
          TableName: name,
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        }),
      );
    return { name, arn: out.TableDescription!.TableArn! };
  }
  const exportOf = (tableArn: string, extra: Record<string, unknown> = {}) =>
    ddb.send(
      new ExportTableToPointInTimeCommand({
        TableArn: tableArn,
        S3Bucket: BUCKET,
        S3Prefix: `exports/${n}`,
        S3SseAlgorithm: "KMS",
        S3SseKmsKeyId: KEY,
        ...extra,
      }),
    );
  const text = async (Key: string) =>
    (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key }))).Body!.transformToByteArray();

  it("writes AWS's layout: _started, data/*.json.gz, manifest-files.json and manifest-summary.json, SSE-KMS", async () => {
    const t = await table({ pitr: true, items: 3 });
    const started = await exportOf(t.arn);
    expect(started.ExportDescription).toMatchObject({
      ExportArn: expect.stringMatching(new RegExp(`^${t.arn}/export/\\d{14}-[0-9a-f]{8}$`)),
      ExportStatus: "IN_PROGRESS",
      ExportFormat: "DYNAMODB_JSON",
    });
    const done = (await ddb.send(new DescribeExportCommand({ ExportArn: started.ExportDescription!.ExportArn! })))
      .ExportDescription!;
    const id = done.ExportArn!.split("/").pop()!;
    expect(done).toMatchObject({
      ExportStatus: "COMPLETED",
      ItemCount: 3,
      ExportManifest: `exports/${n}/AWSDynamoDB/${id}/manifest-summary.json`,
    });
    const keys = (
      (await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `exports/${n}/` }))).Contents ?? []
    ).map((o) => o.Key!);
    const data = keys.filter((k) => /\/data\/[a-z0-9]+\.json\.gz$/.test(k));
    expect(keys.sort()).toEqual(
      [
        `exports/${n}/AWSDynamoDB/${id}/_started`,
        data[0]!,
        ...["manifest-files.checksum", "manifest-files.json", "manifest-summary.checksum", "manifest-summary.json"].map(
          (f) => `exports/${n}/AWSDynamoDB/${id}/${f}`,
        ),
      ].sort(),
    );
    const summary = JSON.parse(Buffer.from(await text(done.ExportManifest!)).toString());
    expect(summary).toMatchObject({
      version: "2020-06-30",
      exportArn: done.ExportArn,
      itemCount: 3,
      outputFormat: "DYNAMODB_JSON",
      s3SseAlgorithm: "KMS",
      s3SseKmsKeyId: KEY,
    });
    const files = Buffer.from(await text(summary.manifestFilesS3Key))
      .toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    const bytes = await text(files[0].dataFileS3Key);
    const head = await s3.send(new HeadObjectCommand({ Bucket: BUCKET, Key: files[0].dataFileS3Key }));
    expect(files).toEqual([
      {
        itemCount: 3,
        md5Checksum: createHash("md5").update(bytes).digest("base64"),
        etag: head.ETag!.replace(/"/g, ""),
        dataFileS3Key: data[0],
      },
    ]);
    expect([head.ServerSideEncryption, head.SSEKMSKeyId]).toEqual(["aws:kms", KEY]);
    const items = gunzipSync(bytes)
      .toString()
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(items).toContainEqual({ Item: { pk: { S: "k1" }, g: { S: "x" }, n: { N: "1.5" }, b: { B: "AQ==" } } });
  });

  it("writes ION as $ion_1_0 lines in data/*.ion.gz", async () => {
    const t = await table({ pitr: true, items: 1 });
    const started = await exportOf(t.arn, { ExportFormat: "ION" });
    const done = (await ddb.send(new DescribeExportCommand({ ExportArn: started.ExportDescription!.ExportArn! })))
      .ExportDescription!;
    const summary = JSON.parse(Buffer.from(await text(done.ExportManifest!)).toString());
    const file = JSON.parse(Buffer.from(await text(summary.manifestFilesS3Key)).toString());
    expect(file.dataFileS3Key).toMatch(/\.ion\.gz$/);
    expect(gunzipSync(await text(file.dataFileS3Key)).toString()).toBe(
      '$ion_1_0 {Item:{"pk":"k0","g":"x","n":0.5,"b":{{AA==}}}}\n',
    );
  });

  it("refuses an export of a table without PITR (PointInTimeRecoveryUnavailableException)", async () => {
    const t = await table({ pitr: false });
    await expect(exportOf(t.arn)).rejects.toMatchObject({ name: "PointInTimeRecoveryUnavailableException" });
  });

  it("answers the PITR window from the clock, and refuses an ExportTime outside it (InvalidExportTimeException)", async () => {
    const t = await table({ pitr: false });
    const backup = await ddb.send(new CreateBackupCommand({ TableName: t.name, BackupName: "before-pitr" }));
    await new Promise((r) => setTimeout(r, 20));
    await ddb.send(
      new UpdateContinuousBackupsCommand({
        TableName: t.name,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
    const first = (await ddb.send(new DescribeContinuousBackupsCommand({ TableName: t.name })))
      .ContinuousBackupsDescription!.PointInTimeRecoveryDescription!;
    await new Promise((r) => setTimeout(r, 20));
    const later = (await ddb.send(new DescribeContinuousBackupsCommand({ TableName: t.name })))
      .ContinuousBackupsDescription!.PointInTimeRecoveryDescription!;
    expect(later.EarliestRestorableDateTime).toEqual(first.EarliestRestorableDateTime);
    expect(later.LatestRestorableDateTime!.getTime()).toBeGreaterThan(first.LatestRestorableDateTime!.getTime());
    const created = backup.BackupDetails!.BackupCreationDateTime!;
    expect(created.getTime()).toBeLessThan(first.EarliestRestorableDateTime!.getTime());
    await expect(exportOf(t.arn, { ExportTime: created })).rejects.toMatchObject({
      name: "InvalidExportTimeException",
    });
    await expect(exportOf(t.arn, { ExportTime: new Date(Date.now() + 3_600_000) })).rejects.toMatchObject({
      name: "InvalidExportTimeException",
    });
    const inside = await exportOf(t.arn, { ExportTime: first.LatestRestorableDateTime });
    expect(inside.ExportDescription!.ExportTime).toEqual(first.LatestRestorableDateTime);
  });

  it("treats a repeated ClientToken as the same export, and refuses it with other parameters", async () => {
    const t = await table({ pitr: true });
    const a = await exportOf(t.arn, { ClientToken: `token-${n}` });
    const b = await exportOf(t.arn, { ClientToken: `token-${n}` });
    expect(b.ExportDescription!.ExportArn).toBe(a.ExportDescription!.ExportArn);
    await expect(exportOf(t.arn, { ClientToken: `token-${n}`, ExportFormat: "ION" })).rejects.toMatchObject({
      name: "ExportConflictException",
    });
  });

  it("ends the export of a table tagged moto-bench:export-failure FAILED with that code", async () => {
    const t = await table({ pitr: true });
    await ddb.send(
      new TagResourceCommand({
        ResourceArn: t.arn,
        Tags: [{ Key: "moto-bench:export-failure", Value: "S3AccessDenied" }],
      }),
    );
    const started = await exportOf(t.arn);
    const done = (await ddb.send(new DescribeExportCommand({ ExportArn: started.ExportDescription!.ExportArn! })))
      .ExportDescription!;
    expect(done).toMatchObject({ ExportStatus: "FAILED", FailureCode: "S3AccessDenied" });
    expect(done.ExportManifest).toBeUndefined();
  });

  it("describes a backup as DynamoDB does: no attribute types, indexes in SourceTableFeatureDetails, the table's TableId", async () => {
    const t = await table({ pitr: false });
    const backup = await ddb.send(new CreateBackupCommand({ TableName: t.name, BackupName: "shape" }));
    const d = (await ddb.send(new DescribeBackupCommand({ BackupArn: backup.BackupDetails!.BackupArn! })))
      .BackupDescription!;
    const live = (await ddb.send(new DescribeTableCommand({ TableName: t.name }))).Table!;
    expect(d.SourceTableDetails).not.toHaveProperty("AttributeDefinitions");
    expect(d.SourceTableDetails).toMatchObject({
      TableName: t.name,
      TableId: live.TableId,
      BillingMode: "PAY_PER_REQUEST",
    });
    expect(live.TableId).toMatch(/^[0-9a-f-]{36}$/);
    expect(d.SourceTableFeatureDetails!.GlobalSecondaryIndexes).toMatchObject([
      {
        IndexName: "by-g",
        KeySchema: [{ AttributeName: "g", KeyType: "HASH" }],
        Projection: { ProjectionType: "KEYS_ONLY" },
      },
    ]);
    const restored = await ddb.send(
      new RestoreTableFromBackupCommand({
        TargetTableName: `${t.name}-r`,
        BackupArn: backup.BackupDetails!.BackupArn!,
      }),
    );
    expect(restored.TableDescription!.TableId).not.toBe(live.TableId);
    const pitr = await ddb.send(new DescribeContinuousBackupsCommand({ TableName: `${t.name}-r` }));
    expect(pitr.ContinuousBackupsDescription!.PointInTimeRecoveryDescription!.PointInTimeRecoveryStatus).toBe(
      "DISABLED",
    );
  });

  it("refuses ImportTable into a table name that exists (ResourceInUseException)", async () => {
    const t = await table({ pitr: false });
    await expect(
      ddb.send(
        new ImportTableCommand({
          S3BucketSource: { S3Bucket: BUCKET, S3KeyPrefix: "nothing/" },
          InputFormat: "DYNAMODB_JSON",
          TableCreationParameters: {
            TableName: t.name,
            KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
            AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
            BillingMode: "PAY_PER_REQUEST",
          },
        }),
      ),
    ).rejects.toMatchObject({ name: "ResourceInUseException" });
  });
});
