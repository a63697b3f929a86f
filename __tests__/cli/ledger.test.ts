import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { formatLedger, recentExports } from "../../core/ledger-query";
import { describeWithPrereqs } from "../../testing/prereq";
import { motoMissing } from "../../testing/moto/availability";
import { createLedgerTable } from "../helpers/ledger-table";

const ROOT = path.resolve(__dirname, "..", "..");
const BIN = path.join(ROOT, "cli", "bin.js");
const missing = motoMissing();

describeWithPrereqs("backup-actions ledger against moto's DynamoDB", missing, () => {
  const ddb = new DynamoDBClient({ region: "us-east-1" });
  const table = "ledger-cli-test";

  beforeAll(async () => {
    await createLedgerTable(ddb, table);
    const put = (
      arn: string,
      status: string,
      startedAt: string,
      extra: Record<string, { S?: string; N?: string }> = {},
    ) =>
      ddb.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            recoveryPointArn: { S: arn },
            status: { S: status },
            startedAt: { S: startedAt },
            workflow: { S: "ebs" },
            ...extra,
          },
        }),
      );
    await put("arn:aws:ec2:us-east-1::snapshot/snap-1", "SUCCEEDED", "2026-11-20T01:00:00Z", {
      bytes: { N: "3221225472" },
      archiveUrl: { S: "s3://a/ebs/1/" },
    });
    await put("arn:aws:ec2:us-east-1::snapshot/snap-2", "FAILED", "2026-11-21T01:00:00Z", {
      failureReason: { S: "States.TaskFailed: exit 3" },
    });
    await put("arn:aws:ec2:us-east-1::snapshot/snap-3", "RUNNING", "2026-11-22T01:00:00Z");
  });

  it("lists recent exports newest first, across statuses, through the index", async () => {
    const records = await recentExports(ddb, { table, limit: 2 });
    expect(records.map((r) => r.recoveryPointArn)).toEqual([
      "arn:aws:ec2:us-east-1::snapshot/snap-3",
      "arn:aws:ec2:us-east-1::snapshot/snap-2",
    ]);
    expect((await recentExports(ddb, { table, statuses: ["SUCCEEDED"] }))[0]).toMatchObject({
      bytes: 3221225472,
      archiveUrl: "s3://a/ebs/1/",
    });
  });

  it("prints a table from the CLI, and JSON with --json", () => {
    const text = spawnSync(process.execPath, [BIN, "ledger", "--table", table], { encoding: "utf8", env: process.env });
    expect(text.status).toBe(0);
    expect(text.stdout.split("\n")[0]).toMatch(/^STATUS\s+STARTED\s+SIZE\s+RECOVERY POINT\s+ARCHIVE \/ REASON$/);
    expect(text.stdout).toContain("FAILED     2026-11-21T01:00:00Z  -");
    expect(text.stdout).toContain("3.0 GiB");
    const json = spawnSync(process.execPath, [BIN, "ledger", "--table", table, "--status", "failed", "--json"], {
      encoding: "utf8",
      env: process.env,
    });
    expect(JSON.parse(json.stdout)).toEqual([
      expect.objectContaining({ status: "FAILED", failureReason: "States.TaskFailed: exit 3" }),
    ]);
  });

  it("rejects an unknown status with the usage", () => {
    const r = spawnSync(process.execPath, [BIN, "ledger", "--table", table, "--status", "DONE"], {
      encoding: "utf8",
      env: process.env,
    });
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--status must be one of RUNNING, SUCCEEDED, FAILED, SKIPPED, UNSUPPORTED, got "DONE"');
  });
});

describe("formatLedger", () => {
  it("says so when nothing is recorded", () => {
    expect(formatLedger([])).toBe("no exports recorded\n");
  });
});

describe("backup-actions plan-event through the CLI", () => {
  it("prints the plan for a documented event and exits 0", () => {
    const r = spawnSync(
      process.execPath,
      [BIN, "plan-event", path.join(ROOT, "__tests__/fixtures/events/backup-job-ebs.json")],
      { encoding: "utf8", env: { ...process.env, BACKUP_ACTIONS_CONFIG: "" } },
    );
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({
      action: "export",
      workflow: "ebs",
      recoveryPointArn: "arn:aws:ec2:us-east-1::snapshot/snap-0726fe70935586180",
    });
  });
});
