/**
 * The dispatcher with the RDS and Aurora children (format "parquet"; "dump": rds-dump.test.ts), as the pipeline
 * stack synthesizes them, executed against moto with testing/rds-export-fake.ts doing what RDS does
 * around moto's export tasks. After each run: the ledger record, the notification, moto's export
 * tasks and the archive's objects.
 */
import { DescribeExportTasksCommand } from "@aws-sdk/client-rds";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { executeStateMachine } from "../../testing/asl";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";
import { RdsExportFake } from "../../testing/rds-export-fake";
import { verifyParquetExport } from "../../lambdas/verify/parquet";
import { ledgerItem, notifications } from "../helpers/pipeline-bench";
import { createRdsBench, databaseRecoveryPoint, databaseResolver, type RdsBench } from "../helpers/rds-bench";

const missing = [...motoMissing(), ...backupFakeMissing()];

async function exportTasksOf(bench: RdsBench, sourceArn: string) {
  const out = await bench.rds.send(new DescribeExportTasksCommand({}));
  return (out.ExportTasks ?? []).filter((t) => t.SourceArn === sourceArn);
}

async function archiveKeys(bench: RdsBench, prefix: string): Promise<string[]> {
  const out = await bench.clients.s3.send(new ListObjectsV2Command({ Bucket: bench.archiveBucket, Prefix: prefix }));
  return (out.Contents ?? []).map((o) => o.Key!.slice(prefix.length)).sort();
}

describeWithPrereqs("RDS and Aurora exports to Parquet, executed", missing, () => {
  let bench: RdsBench;
  beforeAll(async () => {
    bench = await createRdsBench("parquet");
  });

  const run = async (kind: "rds" | "aurora", engine: string, prepare: (fake: RdsExportFake, arn: string) => void) => {
    const rp = await databaseRecoveryPoint(bench, { kind, engine });
    const fake = new RdsExportFake(bench.clients.s3, bench.as("rds-s3-export"));
    prepare(fake, rp.arn);
    const tasks = databaseResolver(bench, fake);
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    return { rp, fake, tasks, result, ledger: await ledgerItem(bench, rp.arn), notified: await notifications(bench) };
  };

  it("exports an RDS PostgreSQL snapshot to Parquet, verifies the files and records it", async () => {
    const { rp, result, ledger, notified, fake } = await run("rds", "postgres", () => undefined);

    expect(result.status).toBe("SUCCEEDED");
    expect(ledger).toMatchObject({ status: "SUCCEEDED", workflow: "rds", archiveUrl: rp.input.archive.url });
    expect(notified).toEqual([expect.objectContaining({ status: "SUCCEEDED", recoveryPointArn: rp.arn })]);
    const [task] = await exportTasksOf(bench, rp.arn);
    const id = [...fake.tasks.keys()][0]!;
    expect(id).toMatch(/^rds-[0-9a-f]{32}$/);
    expect(task).toMatchObject({
      ExportTaskIdentifier: id,
      S3Bucket: bench.archiveBucket,
      S3Prefix: `${rp.input.archive.prefix}parquet`,
      IamRoleArn: `arn:aws:iam::111111111111:role/${bench.config.name}-rds-s3-export-us-east-1`,
      KmsKeyId: bench.kmsKeyArn,
    });
    expect(await archiveKeys(bench, `${rp.input.archive.prefix}parquet/${id}/`)).toEqual([
      `export_info_${id}.json`,
      `export_tables_info_${id}_from_1_to_2.json`,
      `shop/public.customers/1/part-00000-${id}.gz.parquet`,
      `shop/public.orders/1/part-00000-${id}.gz.parquet`,
    ]);
    expect(Number(ledger.bytes)).toBeGreaterThan(0);
    // What the verify Lambda answered: both tables, their footers' row counts.
    const again = await verifyParquetExport(bench.clients.s3, {
      bucket: bench.archiveBucket,
      exportPrefix: `${rp.input.archive.prefix}parquet/${id}/`,
      exportTaskIdentifier: id,
    });
    expect(again).toMatchObject({
      verified: true,
      bytes: Number(ledger.bytes),
      sha256: ledger.sha256,
      objects: 2,
      reason: "2 tables exported, 2 Parquet files, 5 rows (shop.public.orders 3, shop.public.customers 2)",
    });
  });

  it("exports an Aurora MySQL cluster snapshot through the Aurora child", async () => {
    const { rp, result, ledger, fake } = await run("aurora", "aurora-mysql", (f) =>
      f.outcome({ tables: [{ target: "ledger.entries", rows: 4 }] }),
    );

    expect(result.status).toBe("SUCCEEDED");
    expect(ledger).toMatchObject({ status: "SUCCEEDED", workflow: "aurora" });
    const id = [...fake.tasks.keys()][0]!;
    expect(id).toMatch(/^aurora-[0-9a-f]{32}$/);
    expect(await exportTasksOf(bench, rp.arn)).toEqual([expect.objectContaining({ ExportTaskIdentifier: id })]);
    expect(await archiveKeys(bench, `${rp.input.archive.prefix}parquet/${id}/ledger/`)).toEqual([
      `ledger.entries/1/part-00000-${id}.gz.parquet`,
    ]);
  });

  it("fails the export with the task's FailureCause when the export task FAILED", async () => {
    const cause = "The IAM role doesn't have the permissions required for the export";
    const { rp, result, ledger, notified } = await run("rds", "mysql", (f) =>
      f.outcome({ polls: 2, status: "FAILED", failureCause: cause }),
    );

    expect(result.status).toBe("FAILED");
    expect(ledger).toMatchObject({ status: "FAILED", workflow: "rds" });
    expect(ledger.failureReason).toContain(cause);
    expect(notified).toEqual([expect.objectContaining({ status: "FAILED", recoveryPointArn: rp.arn })]);
    expect(await archiveKeys(bench, rp.input.archive.prefix)).toEqual([]);
  });

  it("fails the export naming the tables RDS skipped or could not export", async () => {
    const { rp, result, ledger } = await run("rds", "postgres", (f) =>
      f.outcome({
        tables: [
          { target: "shop.public.orders", rows: 3 },
          { target: "shop.public.weird names", rows: 1, status: "SKIPPED", warningMessage: "column name has a space" },
          { target: "shop.public.blobs", rows: 1, status: "FAILED" },
        ],
      }),
    );

    expect(result.status).toBe("FAILED");
    expect(ledger).toMatchObject({ status: "FAILED", workflow: "rds" });
    expect(ledger.failureReason).toBe(
      "VerificationFailed: 2 of 3 tables were not exported: shop.public.weird names (SKIPPED: column name has a space), shop.public.blobs (FAILED)",
    );
    // The recovery point stays (nothing deletes it without a passed verification), and so do the files.
    expect(await archiveKeys(bench, rp.input.archive.prefix)).toHaveLength(3);
  });

  it("fails the export when a data file is no readable Parquet file", async () => {
    const { result, ledger } = await run("rds", "postgres", (f) =>
      f.outcome({ tables: [{ target: "shop.public.orders", rows: 3, damaged: true }] }),
    );

    expect(result.status).toBe("FAILED");
    expect(ledger.failureReason).toMatch(
      /^VerificationFailed: shop\/public\.orders\/1\/part-00000-rds-[0-9a-f]{32}\.gz\.parquet is not a readable Parquet file: /,
    );
  });

  it("waits while five export tasks run in the account, then exports", async () => {
    const { result, ledger, fake, tasks } = await run("rds", "mysql", (f) => f.occupy(5, 3));

    expect(result.status).toBe("SUCCEEDED");
    expect(ledger).toMatchObject({ status: "SUCCEEDED" });
    expect(fake.attempts).toEqual([
      "ExportTaskLimitReachedFault",
      "ExportTaskLimitReachedFault",
      "ExportTaskLimitReachedFault",
      "started",
    ]);
    expect(tasks.calls.filter((c) => c.stateName === "StartExport")).toHaveLength(4);
  });

  it("waits while another task exports the same snapshot, then exports it", async () => {
    const { rp, result, ledger, fake } = await run("rds", "postgres", (f, arn) => f.exporting(arn, 2));

    expect(result.status).toBe("SUCCEEDED");
    expect(ledger).toMatchObject({ status: "SUCCEEDED" });
    expect(fake.attempts).toEqual(["InvalidExportSourceStateFault", "InvalidExportSourceStateFault", "started"]);
    expect(await exportTasksOf(bench, rp.arn)).toHaveLength(1);
  });

  it("records an engine StartExportTask cannot export as UNSUPPORTED, naming engine and version, and starts nothing", async () => {
    const { rp, result, ledger, notified, fake } = await run("rds", "sqlserver-ex", () => undefined);

    expect(result.status).toBe("SUCCEEDED");
    expect(ledger).toMatchObject({ status: "UNSUPPORTED", workflow: "rds" });
    expect(ledger.failureReason).toMatch(
      new RegExp(
        `^engine sqlserver-ex \\S+ of snapshot ${rp.arn.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}: StartExportTask exports only`,
      ),
    );
    expect(notified).toEqual([expect.objectContaining({ status: "UNSUPPORTED", recoveryPointArn: rp.arn })]);
    expect(fake.attempts).toEqual([]);
    expect(await exportTasksOf(bench, rp.arn)).toEqual([]);
  });
});
