/**
 * The verify Lambda with an RDS child's format "both" answer (stacks/workflows/rds-export.ts AnswerExported:
 * `parquet` and `dump`), against moto's S3: the Parquet export and the dump's manifest.json are both checked,
 * and either one failing fails the export, the reason saying which.
 */
import { CreateBucketCommand, DeleteObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { parquetWriteBuffer } from "hyparquet-writer";
import { dumpKey } from "../../core/manifest";
import { verifyArchive } from "../../lambdas/verify/logic";
import { describeWithPrereqs } from "../../testing/prereq";
import { motoMissing } from "../../testing/moto/availability";
import { dumpManifest } from "../helpers/dump-manifest";

const ID = "rds-0123456789abcdef0123456789abcdef";

describeWithPrereqs("verify Lambda, RDS format both", motoMissing(), () => {
  const s3 = new S3Client({ region: "us-east-1", forcePathStyle: true });
  const bucket = `verify-both-${randomBytes(4).toString("hex")}`;
  const put = (key: string, body: string | Uint8Array) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));
  const dumpBytes = randomBytes(100);

  /** Under `prefix`: a Parquet export of shop.public.orders (3 rows) and a dump of database shop. */
  async function writeBoth(prefix: string): Promise<void> {
    const exportPrefix = `${prefix}parquet/${ID}/`;
    await put(
      `${exportPrefix}export_info_${ID}.json`,
      JSON.stringify({ exportTaskIdentifier: ID, status: "COMPLETE" }),
    );
    await put(
      `${exportPrefix}export_tables_info_${ID}_from_1_to_1.json`,
      JSON.stringify({ perTableStatus: [{ target: "shop.public.orders", status: "COMPLETE", sizeGB: 0.001 }] }),
    );
    const parquet = parquetWriteBuffer({ columnData: [{ name: "id", data: [1n, 2n, 3n], type: "INT64" }] });
    await put(`${exportPrefix}shop/public.orders/1/part-00000-${ID}.gz.parquet`, new Uint8Array(parquet));

    // S3 checksums left out: these objects are not the bytes the helper's checksums are of.
    const manifest = dumpManifest();
    for (const i of manifest.items) delete i.s3ChecksumSHA256;
    for (const i of manifest.items) await put(`${prefix}${i.key}`, dumpBytes);
    await put(`${prefix}manifest.json`, JSON.stringify(manifest));
  }

  const requestOf = (prefix: string) => ({
    archiveUrl: `s3://${bucket}/${prefix}`,
    workflow: "rds" as const,
    export: {
      outcome: "EXPORTED",
      parquet: { exportTaskIdentifier: ID, bucket, exportPrefix: `${prefix}parquet/${ID}/` },
      dump: { outcome: "EXPORTED", archiveUrl: `s3://${bucket}/${prefix}`, manifestKey: `${prefix}manifest.json` },
    },
  });

  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
  });

  it("passes when the Parquet export and the dump both verify, counting both", async () => {
    await writeBoth("ok/");
    const result = await verifyArchive(s3, requestOf("ok/"));
    expect(result).toMatchObject({
      verified: true,
      objects: 4,
      reason:
        "Parquet export: 1 tables exported, 1 Parquet files, 3 rows (shop.public.orders 3); " +
        "dump: 3 objects present with the manifest's sizes",
    });
    expect(result.sha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it("fails naming the dump's missing object when only the Parquet export is whole", async () => {
    await writeBoth("nodump/");
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `nodump/${dumpKey("db1-shop", "pg-custom")}` }));
    expect(await verifyArchive(s3, requestOf("nodump/"))).toMatchObject({
      verified: false,
      reason: `dump: db1-shop: object ${dumpKey("db1-shop", "pg-custom")} is missing`,
    });
  });

  it("fails naming the Parquet export's problem when only the dump is whole", async () => {
    await writeBoth("noparquet/");
    await s3.send(
      new DeleteObjectCommand({
        Bucket: bucket,
        Key: `noparquet/parquet/${ID}/shop/public.orders/1/part-00000-${ID}.gz.parquet`,
      }),
    );
    expect(await verifyArchive(s3, requestOf("noparquet/"))).toMatchObject({
      verified: false,
      reason: expect.stringMatching(
        /^Parquet export: export_tables_info says shop\.public\.orders exported data, but no Parquet file/,
      ),
    });
  });

  it("fails when the dump's manifest.json is missing", async () => {
    await writeBoth("nomanifest/");
    await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "nomanifest/manifest.json" }));
    expect(await verifyArchive(s3, requestOf("nomanifest/"))).toMatchObject({
      verified: false,
      reason: expect.stringMatching(/^dump: manifest\.json is missing under /),
    });
  });
});
