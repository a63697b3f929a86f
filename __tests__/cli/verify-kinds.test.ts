/**
 * `backup-actions verify URL` on each kind of archive the pipeline writes that has no manifest.json of
 * ours: an RDS Parquet export (written as RDS writes it: testing/rds-export-fake.ts) and a DynamoDB
 * export (written by moto's ExportTableToPointInTime as DynamoDB writes it), each in moto's S3 and copied
 * to a directory (file://). A good archive passes and says what it is and what was checked; a missing
 * object, a wrong checksum and a truncated Parquet file each fail, naming the object. The checks are the
 * verify Lambda's own (core/parquet-export.ts, core/dynamodb-verify.ts): the fingerprints agree.
 */
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import {
  CreateBucketCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { main } from "../../cli/main";
import { verifyArchive } from "../../lambdas/verify/logic";
import { motoMissing } from "../../testing/moto/availability";
import { awsClientConfig } from "../../testing/moto/client-config";
import { dynamoDbArchive } from "../../testing/dynamodb-archive";
import { describeWithPrereqs } from "../../testing/prereq";
import { DEFAULT_TABLES, type FakeTable, writeRdsExport } from "../../testing/rds-export-fake";

const BUCKET = "verify-kinds-tests";

interface Report {
  ok: boolean;
  kind: string;
  checked: string[];
  items: { name: string; kind: string; ok: boolean; problems: string[]; files?: number; rows?: number }[];
  notes: string[];
}

async function verify(url: string, ...options: string[]): Promise<{ code: number; report?: Report; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const o = jest.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
  const e = jest.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
  let code: number;
  try {
    code = await main(["verify", url, ...options]);
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
  const text = out.join("");
  return { code, report: text ? (JSON.parse(text) as Report) : undefined, err: err.join("") };
}

describeWithPrereqs(
  "backup-actions verify: Parquet and DynamoDB exports, in S3 and in a directory",
  motoMissing(),
  () => {
    const s3 = new S3Client(awsClientConfig());
    const ddb = new DynamoDBClient(awsClientConfig());
    const dirs: string[] = [];
    let n = 0;
    beforeAll(async () => {
      await s3.send(new CreateBucketCommand({ Bucket: BUCKET }));
    });
    afterAll(async () => {
      s3.destroy();
      ddb.destroy();
      for (const d of dirs) await fs.rm(d, { recursive: true, force: true });
    });

    /** Every object under `prefix` copied to a new directory (as `aws s3 sync` would): its file:// URL. */
    async function copied(prefix: string): Promise<string> {
      const dir = await fs.mkdtemp(path.join(os.tmpdir(), "backup-actions-verify-kinds-"));
      dirs.push(dir);
      const page = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix }));
      for (const o of page.Contents ?? []) {
        const body = await (
          await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: o.Key! }))
        ).Body!.transformToByteArray();
        const file = path.join(dir, o.Key!.slice(prefix.length));
        await fs.mkdir(path.dirname(file), { recursive: true });
        await fs.writeFile(file, body);
      }
      return `file://${dir}/`;
    }

    const read = async (key: string) =>
      Buffer.from(
        await (await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }))).Body!.transformToByteArray(),
      );
    const put = (key: string, body: Uint8Array | string) =>
      s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));

    describe.each([
      ["S3", async (prefix: string) => `s3://${BUCKET}/${prefix}`],
      ["a directory", copied],
    ] as const)("in %s", (_where, at) => {
      describe("an RDS Parquet export", () => {
        /** An RDS child's archive prefix with its export under parquet/<id>/, as RDS writes it. */
        async function rdsArchive(tables: readonly FakeTable[] = DEFAULT_TABLES) {
          const i = ++n;
          const prefix = `rds/111111111111/us-east-1/shop-db/2026/12/03/rp-${i}/`;
          const id = `ba-rds-${i}-0123456789abcdef`;
          await writeRdsExport(s3, {
            id,
            sourceArn: `arn:aws:rds:us-east-1:111111111111:snapshot:awsbackup:job-${i}`,
            bucket: BUCKET,
            s3Prefix: `${prefix}parquet`,
            iamRoleArn: "arn:aws:iam::111111111111:role/export",
            kmsKeyId: "arn:aws:kms:us-east-1:111111111111:key/1",
            tables,
          });
          const exportPrefix = `${prefix}parquet/${id}/`;
          const dataKey = (dir: string) => `${exportPrefix}${dir}/1/part-00000-${id}.gz.parquet`;
          return { prefix, id, exportPrefix, dataKey };
        }

        it("passes, found at the archive's prefix and at the export's own, with every table's rows", async () => {
          const a = await rdsArchive();
          for (const url of [await at(a.prefix), await at(a.exportPrefix)]) {
            const r = await verify(url);
            expect({ code: r.code, kind: r.report?.kind, ok: r.report?.ok }).toEqual({
              code: 0,
              kind: "rds-parquet",
              ok: true,
            });
            expect(r.report!.items).toEqual([
              { name: "shop.public.orders", kind: "parquet-table", ok: true, problems: [], files: 1, rows: 3 },
              { name: "shop.public.customers", kind: "parquet-table", ok: true, problems: [], files: 1, rows: 2 },
            ]);
            expect(r.report!.checked).toEqual([expect.stringContaining(`Parquet export ${a.id} (${url}`)]);
            expect(r.err).toContain(`verify: rds-parquet at ${url}`);
          }
          // the Lambda's fingerprint of the same export, by the same code
          const lambda = await verifyArchive(s3, {
            archiveUrl: `s3://${BUCKET}/${a.prefix}`,
            workflow: "rds",
            export: { parquet: { exportTaskIdentifier: a.id, bucket: BUCKET, exportPrefix: a.exportPrefix } },
          });
          expect(lambda.verified).toBe(true);
          expect((await verify(await at(a.prefix))).report!.notes).toEqual([expect.stringContaining(lambda.sha256)]);
        });

        it("fails naming the table whose Parquet file is missing", async () => {
          const a = await rdsArchive();
          await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: a.dataKey("shop/public.customers") }));
          const url = await at(a.prefix);
          const r = await verify(url);
          expect(r.code).toBe(1);
          expect(r.report!.items).toEqual([
            {
              name: `parquet export ${a.id}`,
              kind: "rds-parquet",
              ok: false,
              problems: [
                `export_tables_info says shop.public.customers exported data, but no Parquet file of it is under ${url}parquet/${a.id}/`,
              ],
            },
          ]);
          expect(r.err).toContain(`verify: FAILED (parquet export ${a.id})`);
        });

        it("fails naming a truncated Parquet file", async () => {
          const a = await rdsArchive();
          const key = a.dataKey("shop/public.orders");
          const whole = await read(key);
          await put(key, whole.subarray(0, Math.floor(whole.length / 2)));
          const r = await verify(await at(a.prefix));
          expect(r.code).toBe(1);
          expect(r.report!.items[0]!.problems).toEqual([
            expect.stringMatching(
              new RegExp(`^shop/public\\.orders/1/part-00000-${a.id}\\.gz\\.parquet is not a readable Parquet file: `),
            ),
          ]);
        });

        it("fails naming a table RDS skipped", async () => {
          const a = await rdsArchive([
            DEFAULT_TABLES[0]!,
            { target: "shop.public.odd", rows: 0, status: "SKIPPED", warningMessage: "column name has a space" },
          ]);
          const r = await verify(await at(a.prefix));
          expect(r.code).toBe(1);
          expect(r.report!.items[0]!.problems).toEqual([
            "1 of 2 tables were not exported: shop.public.odd (SKIPPED: column name has a space)",
          ]);
        });

        it("refuses --expect-manifest-sha256: an export of RDS has no manifest.json to compare", async () => {
          const a = await rdsArchive();
          const url = await at(a.prefix);
          const r = await verify(url, "--expect-manifest-sha256", "0".repeat(64));
          expect({ code: r.code, report: r.report }).toEqual({ code: 1, report: undefined });
          expect(r.err).toContain(`${url} is an RDS Parquet export, which has no manifest.json`);
        });
      });

      describe("a DynamoDB export", () => {
        /** A table's export under a fresh archive prefix, with the table.json the child writes. */
        async function dynamoArchive() {
          const i = ++n;
          const table = `verify-kinds-${i}`;
          const a = await dynamoDbArchive(
            ddb,
            s3,
            BUCKET,
            table,
            `dynamodb/111111111111/us-east-1/${table}/2026/12/03/rp-${i}`,
          );
          return { ...a, prefix: `${a.prefix}/` };
        }

        it("passes: every data object with the manifest's checksums, the item count, table.json", async () => {
          const a = await dynamoArchive();
          const url = await at(a.prefix);
          const r = await verify(url);
          expect({ code: r.code, kind: r.report?.kind, ok: r.report?.ok }).toEqual({
            code: 0,
            kind: "dynamodb",
            ok: true,
          });
          expect(r.report!.checked).toEqual([
            expect.stringContaining("manifest-files.json: every data object present"),
          ]);
          expect(r.err).toContain(
            url.startsWith("s3:")
              ? "1 data files with the manifest's ETags and MD5s, 3 items as the summary says, table.json present"
              : "1 data files with the manifest's MD5s (the store keeps no ETags), 3 items as the summary says",
          );
          const lambda = await verifyArchive(s3, a.request);
          expect(lambda.verified).toBe(true);
          expect(r.report!.notes).toEqual([expect.stringContaining(lambda.sha256)]);
        });

        it("fails naming a missing data object", async () => {
          const a = await dynamoArchive();
          await s3.send(new DeleteObjectCommand({ Bucket: BUCKET, Key: a.dataKey }));
          const r = await verify(await at(a.prefix));
          expect(r.code).toBe(1);
          expect(r.report!.items[0]!.problems).toEqual([`data file ${a.dataKey.slice(a.prefix.length)} is missing`]);
          expect(r.err).toContain(`data file ${a.dataKey.slice(a.prefix.length)} is missing`);
        });

        it("fails naming a data object whose checksum is not the manifest's", async () => {
          const a = await dynamoArchive();
          await put(a.dataKey, "other bytes");
          const url = await at(a.prefix);
          const r = await verify(url);
          expect(r.code).toBe(1);
          const key = a.dataKey.slice(a.prefix.length);
          expect(r.report!.items[0]!.problems).toEqual([
            url.startsWith("s3:")
              ? expect.stringMatching(
                  new RegExp(`^data file ${key} has ETag \\S+, the manifest says \\S+: it was rewritten$`),
                )
              : expect.stringMatching(new RegExp(`^data file ${key} has MD5 \\S+, the manifest says \\S+$`)),
          ]);
        });
      });
    });

    it("names what it looked for when the URL holds no archive", async () => {
      const r = await verify(`s3://${BUCKET}/nothing/here/`);
      expect(r.code).toBe(1);
      expect(r.err).toContain(`s3://${BUCKET}/nothing/here/ holds no manifest.json, no export_info_*.json`);
    });
  },
);
