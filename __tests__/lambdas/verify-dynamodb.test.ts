/**
 * The verify Lambda's DynamoDB verifier (lambdas/verify/dynamodb.ts) on exports moto writes as
 * DynamoDB does (testing/moto/dynamodb_patches.py), each check broken once on purpose.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { dynamoDbArchive } from "../../testing/dynamodb-archive";
import { verifyArchive } from "../../lambdas/verify/logic";
import { motoMissing } from "../../testing/moto/availability";
import { awsClientConfig } from "../../testing/moto/client-config";
import { describeWithPrereqs } from "../../testing/prereq";

const BUCKET = "verify-dynamodb-tests";

describeWithPrereqs("verify: a DynamoDB export, through its manifests", motoMissing(), () => {
  const ddb = new DynamoDBClient(awsClientConfig());
  const s3 = new S3Client(awsClientConfig());
  afterAll(() => {
    ddb.destroy();
    s3.destroy();
  });
  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
  });
  let n = 0;

  /** A table's export under a fresh prefix, with the table.json the child writes; the verify request for it. */
  async function exported() {
    const table = `verified-${++n}`;
    return dynamoDbArchive(ddb, s3, BUCKET, table, `dynamodb/111111111111/us-east-1/${table}/2026/12/02/rp-${n}`);
  }

  it("passes an export whose data files, ETags, MD5s, item counts and table.json are as the manifests say", async () => {
    const e = await exported();
    expect(await verifyArchive(s3, e.request)).toMatchObject({
      verified: true,
      objects: 1,
      bytes: expect.any(Number),
      sha256: expect.stringMatching(/^[0-9a-f]{64}$/),
      reason: "1 data files with the manifest's ETags and MD5s, 3 items as the summary says, table.json present",
    });
  });

  it("fails a missing data file", async () => {
    const e = await exported();
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: e.dataKey }));
    expect(await verifyArchive(s3, e.request)).toMatchObject({
      verified: false,
      reason: `data file ${e.dataKey} is missing`,
    });
  });

  it("fails a data file rewritten after the export (its ETag)", async () => {
    const e = await exported();
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: e.dataKey, Body: "other bytes" }));
    expect((await verifyArchive(s3, e.request)).reason).toMatch(
      new RegExp(`^data file ${e.dataKey} has ETag \\S+, the manifest says ${e.files.etag}: it was rewritten$`),
    );
  });

  it("fails a data file whose bytes are not the manifest's MD5", async () => {
    const e = await exported();
    const files = { ...e.files, md5Checksum: "AAAAAAAAAAAAAAAAAAAAAA==" };
    await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: e.filesKey, Body: `${JSON.stringify(files)}\n` }));
    expect((await verifyArchive(s3, e.request)).reason).toMatch(
      /has MD5 \S+, the manifest says AAAAAAAAAAAAAAAAAAAAAA==$/,
    );
  });

  it("fails item counts that do not add up to the summary's", async () => {
    const e = await exported();
    await s3.send(
      new PutObjectCommand({ Bucket: BUCKET, Key: e.summaryKey, Body: JSON.stringify({ ...e.summary, itemCount: 4 }) }),
    );
    expect(await verifyArchive(s3, e.request)).toMatchObject({
      verified: false,
      reason: "the data files hold 3 items, manifest-summary.json says 4",
    });
  });

  it("fails a summary of another export or format, and one the child did not report", async () => {
    const e = await exported();
    expect(
      (await verifyArchive(s3, { ...e.request, export: { ...e.request.export, exportFormat: "ION" } })).reason,
    ).toBe(`${e.summaryKey} says DYNAMODB_JSON, the export asked for ION`);
    expect(
      (await verifyArchive(s3, { ...e.request, export: { ...e.request.export, exportArn: "arn:x" } })).reason,
    ).toMatch(/is of export .*, not arn:x$/);
    expect((await verifyArchive(s3, { ...e.request, export: {} })).reason).toBe(
      "the DynamoDB child reported no manifestKey: the export did not finish",
    );
    expect(
      (await verifyArchive(s3, { ...e.request, export: { manifestKey: "../../other/manifest-summary.json" } })).reason,
    ).toMatch(/is not under/);
  });

  it("fails without table.json, or with one that cannot create the table", async () => {
    const e = await exported();
    await s3.send(
      new PutObjectCommand({
        Bucket: BUCKET,
        Key: `${e.prefix}/table.json`,
        Body: JSON.stringify({
          sourceTableDetails: { KeySchema: [{ AttributeName: "pk" }] },
          attributeDefinitions: [],
        }),
      }),
    );
    expect((await verifyArchive(s3, e.request)).reason).toBe(
      "table.json: no attribute type for the key attribute(s) pk",
    );
    await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: `${e.prefix}/table.json` }));
    expect((await verifyArchive(s3, e.request)).reason).toBe(
      "table.json is missing: the table cannot be imported from the archive",
    );
  });
});
