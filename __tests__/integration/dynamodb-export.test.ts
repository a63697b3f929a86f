/**
 * The DynamoDB child as the pipeline stack synthesizes it, run by the synthesized dispatcher
 * against moto (DynamoDB backups, PITR, exports into the archive bucket; the patches of
 * testing/moto/dynamodb_patches.py make them behave as DynamoDB does), the AWS Backup fake and
 * the verify Lambda's own code. After each run: moto holds no temporary table, the archive has
 * AWS's export layout and table.json, the ledger and the recovery point are as the path says.
 */
import { DescribeTableCommand, ScanCommand } from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, ListObjectsV2Command } from "@aws-sdk/client-s3";
import { main } from "../../cli/main";
import { executeStateMachine } from "../../testing/asl";
import { storedRecoveryPoints } from "../../testing/backup-fake/control";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";
import {
  dynamodbChild,
  DynamoDbChild,
  dynamodbRecoveryPoint,
  dynamodbResolver,
  leftoverTables,
} from "../helpers/dynamodb-bench";
import { Bench, createBench, ledgerItem, notifications } from "../helpers/pipeline-bench";

const missing = [...motoMissing(), ...backupFakeMissing()];

describeWithPrereqs("DynamoDB child, executed by the dispatcher", missing, () => {
  let bench: Bench;
  let child: DynamoDbChild;
  beforeAll(async () => {
    bench = await createBench({ deleteRecoveryPoint: { enabled: true, requiredTag: "backup-actions:delete" } });
    child = dynamodbChild(bench);
  });

  const keys = async (prefix: string) =>
    (
      (await bench.clients.s3.send(new ListObjectsV2Command({ Bucket: bench.archiveBucket, Prefix: prefix })))
        .Contents ?? []
    )
      .map((o) =>
        o
          .Key!.slice(prefix.length)
          .replace(/\d{14}-[0-9a-f]{8}/, "<id>")
          .replace(/data\/[a-z0-9]+\./, "data/<f>."),
      )
      .sort();
  const stillStored = async (arn: string) => (await storedRecoveryPoints()).some((p) => p.RecoveryPointArn === arn);
  const run = async (rp: Awaited<ReturnType<typeof dynamodbRecoveryPoint>>, tasks = dynamodbResolver(bench, child)) => {
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.executionName,
    });
    return { result, tasks, states: tasks.calls.map((c) => c.stateName) };
  };
  const exportLayout = [
    "AWSDynamoDB/<id>/_started",
    "AWSDynamoDB/<id>/data/<f>.json.gz",
    "AWSDynamoDB/<id>/manifest-files.checksum",
    "AWSDynamoDB/<id>/manifest-files.json",
    "AWSDynamoDB/<id>/manifest-summary.checksum",
    "AWSDynamoDB/<id>/manifest-summary.json",
    "table.json",
  ];

  it("PITR covers the backup: exports the source table at the backup's time, restores nothing", async () => {
    const rp = await dynamodbRecoveryPoint(bench, { pitr: "before" });
    const { result, tasks, states } = await run(rp);

    expect([result.status, result.error, result.cause]).toEqual(["SUCCEEDED", undefined, undefined]);
    expect(states).toContain("ExportAtBackupTime");
    expect(states).not.toContain("RestoreTempTable");
    const exportCall = tasks.calls.find((c) => c.stateName === "ExportAtBackupTime")!.parameters as any;
    expect(exportCall).toMatchObject({
      TableArn: expect.stringContaining(`:table/${rp.table}`),
      ExportFormat: "DYNAMODB_JSON",
      S3Bucket: bench.archiveBucket,
      S3Prefix: rp.prefix.slice(0, -1),
      S3SseAlgorithm: "KMS",
      ClientToken: expect.stringMatching(/^[0-9a-f]{32}$/),
    });
    expect(await keys(rp.prefix)).toEqual(exportLayout);
    const table = JSON.parse(
      await (
        await bench.clients.s3.send(
          new GetObjectCommand({ Bucket: bench.archiveBucket, Key: `${rp.prefix}table.json` }),
        )
      ).Body!.transformToString(),
    );
    expect(table).toMatchObject({
      version: 1,
      exportFormat: "DYNAMODB_JSON",
      exportedFrom: "pitr",
      sourceTableDetails: { TableName: rp.table, KeySchema: [{ AttributeName: "pk" }, { AttributeName: "sk" }] },
      sourceTableFeatureDetails: { GlobalSecondaryIndexes: [expect.objectContaining({ IndexName: "by-status" })] },
      attributeDefinitions: expect.arrayContaining([{ AttributeName: "sk", AttributeType: "N" }]),
    });
    expect(await ledgerItem(bench, rp.arn)).toMatchObject({ status: "SUCCEEDED", workflow: "dynamodb" });
    expect(await leftoverTables(bench)).toEqual([]);
    await notifications(bench);
  });

  it.each([
    ["PITR off", { pitr: "off" as const }],
    ["the backup older than the PITR window", { pitr: "after" as const }],
    ["the source table deleted", { pitr: "before" as const, deleteSource: true }],
  ])("%s: restores the backup to a temporary table, exports it, deletes the table", async (_name, options) => {
    const rp = await dynamodbRecoveryPoint(bench, options);
    const { result, tasks, states } = await run(rp);

    expect(result.status).toBe("SUCCEEDED");
    expect(states).not.toContain("ExportAtBackupTime");
    expect(states).toEqual(
      expect.arrayContaining([
        "RestoreTempTable",
        "TagTempTable",
        "EnableTempPitr",
        "ExportTempTable",
        "DeleteTempTable",
      ]),
    );
    const tags = (tasks.calls.find((c) => c.stateName === "TagTempTable")!.parameters as any).Tags;
    expect(tags).toEqual(
      expect.arrayContaining([
        { Key: "backup-actions:pipeline", Value: bench.config.name },
        { Key: "backup-actions:recovery-point", Value: rp.arn },
      ]),
    );
    expect(await keys(rp.prefix)).toEqual(exportLayout);
    const item = await ledgerItem(bench, rp.arn);
    expect(item).toMatchObject({ status: "SUCCEEDED", workflow: "dynamodb" });
    expect(await leftoverTables(bench)).toEqual([]);
    await notifications(bench);
  });

  it("export FAILED: the temporary table is deleted, the ledger says FAILED with DynamoDB's code, the recovery point stays", async () => {
    // A table tagged moto-bench:export-failure ends its exports FAILED in moto (dynamodb_patches.py).
    // The temporary table exists only during the run, so the tag is put on it just before its export.
    const rp = await dynamodbRecoveryPoint(bench, { pitr: "off" });
    const tasks = dynamodbResolver(bench, child);
    tasks.on("arn:aws:states:::aws-sdk:dynamodb:exportTableToPointInTime", async (call) => {
      const { DynamoDBClient, TagResourceCommand } = await import("@aws-sdk/client-dynamodb");
      const ddb = new DynamoDBClient({ region: "us-east-1" });
      await ddb.send(
        new TagResourceCommand({
          ResourceArn: (call.parameters as any).TableArn,
          Tags: [{ Key: "moto-bench:export-failure", Value: "S3AccessDenied" }],
        }),
      );
      ddb.destroy();
      const out = await call.clients.call("dynamodb", "exportTableToPointInTime", call.parameters);
      return JSON.parse(JSON.stringify({ ...out, $metadata: undefined }));
    });
    const { result, states } = await run(rp, tasks);

    expect(result.status).toBe("FAILED");
    expect(states).toContain("DeleteTempTable");
    expect(await leftoverTables(bench)).toEqual([]);
    const item = await ledgerItem(bench, rp.arn);
    expect(item.status).toBe("FAILED");
    // A failed child is States.TaskFailed for the dispatcher, its Error and Cause in the execution's description.
    expect(item.failureReason).toMatch(/^States\.TaskFailed: /);
    expect(JSON.parse(String(item.failureReason).slice("States.TaskFailed: ".length))).toMatchObject({
      Error: "DynamoDbExportFailed",
      Cause: expect.stringMatching(/^export arn:aws:dynamodb:.*\/export\/.* FAILED: S3AccessDenied: /),
    });
    expect(await stillStored(rp.arn)).toBe(true);
    expect(await notifications(bench)).toEqual([expect.objectContaining({ status: "FAILED" })]);
  });

  it("a failure while the temporary table exists (PITR cannot be switched on): the table is deleted", async () => {
    const rp = await dynamodbRecoveryPoint(bench, { pitr: "off" });
    const tasks = dynamodbResolver(bench, child).injectFault({
      resource: "arn:aws:states:::aws-sdk:dynamodb:updateContinuousBackups",
      error: "DynamoDb.DynamoDbException",
      cause: "injected: access denied",
    });
    const { result, states } = await run(rp, tasks);

    expect(result.status).toBe("FAILED");
    expect(states).toEqual(expect.arrayContaining(["RestoreTempTable", "EnableTempPitr", "DeleteTempTable"]));
    expect(await leftoverTables(bench)).toEqual([]);
    expect((await ledgerItem(bench, rp.arn)).failureReason).toContain('"Error":"DynamoDb.DynamoDbException"');
    expect(await stillStored(rp.arn)).toBe(true);
    await notifications(bench);
  });

  it("a recovery point of AWS Backup's advanced features: UNSUPPORTED with the reason, kept", async () => {
    const rp = await dynamodbRecoveryPoint(bench, { pitr: "before" });
    const arn = "arn:aws:backup:us-east-1:111111111111:recovery-point:1a2b3c4d-5e6f-7a8b-9c0d-1e2f3a4b5c6d";
    const { seedRecoveryPoints } = await import("../../testing/backup-fake/control");
    await seedRecoveryPoints([
      {
        RecoveryPointArn: arn,
        BackupVaultName: "Default",
        ResourceArn: rp.input.recoveryPoint.resourceArn,
        ResourceType: "DynamoDB",
        Status: "COMPLETED",
      },
    ]);
    const input = { ...rp.input, recoveryPoint: { ...rp.input.recoveryPoint, arn } };
    const result = await executeStateMachine(bench.dispatcher, input as never, {
      tasks: dynamodbResolver(bench, child),
      executionName: "dynamodb-advanced",
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(await ledgerItem(bench, arn)).toMatchObject({
      status: "UNSUPPORTED",
      failureReason: expect.stringContaining("backup:StartRestoreJob"),
    });
    expect(await stillStored(arn)).toBe(true);
    await notifications(bench);
  });

  describe("backup-actions restore <url> --to-dynamodb-table NAME", () => {
    const ddb = () => bench.clients.ddb;
    const scan = async (table: string) =>
      ((await ddb().send(new ScanCommand({ TableName: table }))).Items ?? [])
        .map((i) => JSON.stringify(Object.fromEntries(Object.entries(i).sort())))
        .sort();
    const cli = async (...args: string[]) => {
      const out: string[] = [];
      const err: string[] = [];
      const so = jest.spyOn(process.stdout, "write").mockImplementation((c) => (out.push(String(c)), true));
      const se = jest.spyOn(process.stderr, "write").mockImplementation((c) => (err.push(String(c)), true));
      try {
        return { code: await main(["restore", ...args]), stdout: out.join(""), stderr: err.join("") };
      } finally {
        so.mockRestore();
        se.mockRestore();
      }
    };

    it("imports the archive of a backup into a new table: every item, the key schema and the GSI", async () => {
      const rp = await dynamodbRecoveryPoint(bench, { pitr: "off", items: 7 });
      expect((await run(rp)).result.status).toBe("SUCCEEDED");
      const restored = `${rp.table}-restored`;

      const { code, stdout, stderr } = await cli(rp.input.archive.url, "--to-dynamodb-table", restored);

      expect([code, stderr]).toEqual([0, `restore: 7 items imported into table ${restored}\n`]);
      expect(JSON.parse(stdout)).toMatchObject({ table: restored, items: 7 });
      expect(await scan(restored)).toEqual(await scan(rp.table));
      const table = (await ddb().send(new DescribeTableCommand({ TableName: restored }))).Table!;
      expect(table.KeySchema).toEqual([
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ]);
      expect(table.GlobalSecondaryIndexes?.map((g) => g.IndexName)).toEqual(["by-status"]);
      await notifications(bench);
    });

    it("refuses a table name that exists, and imports nothing", async () => {
      const rp = await dynamodbRecoveryPoint(bench, { pitr: "before", items: 2 });
      expect((await run(rp)).result.status).toBe("SUCCEEDED");
      const before = await scan(rp.table);
      const { code, stderr } = await cli(rp.input.archive.url, "--to-dynamodb-table", rp.table);
      expect([code, stderr]).toEqual([
        1,
        `backup-actions restore: table ${rp.table} exists: ImportTable restores into a new table only; name another\n`,
      ]);
      expect(await scan(rp.table)).toEqual(before);
      await notifications(bench);
    });

    it("refuses an archive that is no DynamoDB export, and --to-dynamodb-table with --to", async () => {
      const url = `s3://${bench.archiveBucket}/dynamodb/none/`;
      expect((await cli(url, "--to-dynamodb-table", "fresh-table")).stderr).toBe(
        `backup-actions restore: table.json s3://${bench.archiveBucket}/dynamodb/none/table.json is missing: ${url} is no DynamoDB export\n`,
      );
      expect(await cli(url, "--to-dynamodb-table", "fresh-table", "--to", "/tmp/x")).toMatchObject({
        code: 2,
        stderr: expect.stringContaining("--to-dynamodb-table excludes --to"),
      });
    });
  });
});
