/**
 * `backup-actions reconcile` through the built CLI, against the AWS Backup fake and moto: the
 * deployment comes from BACKUP_ACTIONS_CONFIG (vaults, `<name>-ledger`, the region's dispatcher).
 */
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  ListExecutionsCommand,
  SFNClient,
} from "@aws-sdk/client-sfn";
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { dispatcherStateMachineName } from "../../core/state-machines";
import { seedRecoveryPoints } from "../../testing/backup-fake/control";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { awsClientConfig } from "../../testing/moto/client-config";
import { describeWithPrereqs } from "../../testing/prereq";
import { createLedgerTable } from "../helpers/ledger-table";

const ROOT = path.resolve(__dirname, "..", "..");
const BIN = path.join(ROOT, "cli", "bin.js");
const ACCOUNT = "123456789012";
const REGION = "us-east-1";
const NAME = `rcli${process.pid % 100000}`;
const VAULT = `rcli-${process.pid}`;
const hoursAgo = (h: number) => new Date(Date.now() - h * 3_600_000).toISOString();
const snapshot = (hex: string) => `arn:aws:ec2:${REGION}::snapshot/snap-${hex}`;

describeWithPrereqs("backup-actions reconcile", [...motoMissing(), ...backupFakeMissing()], () => {
  const ddb = new DynamoDBClient(awsClientConfig());
  const sfn = new SFNClient(awsClientConfig());
  const dir = mkdtempSync(path.join(tmpdir(), "reconcile-cli-"));
  const configFile = path.join(dir, "config.json");
  let machineArn: string;
  const cli = (...args: string[]) =>
    spawnSync(process.execPath, [BIN, "reconcile", ...args], {
      encoding: "utf8",
      env: { ...process.env, AWS_REGION: REGION, BACKUP_ACTIONS_CONFIG: configFile },
    });
  const writeConfig = (vaults: string[]) =>
    writeFileSync(
      configFile,
      JSON.stringify({
        name: NAME,
        accounts: [{ id: ACCOUNT, regions: [REGION] }],
        backupVaults: vaults,
        tags: { project: "backup-actions" },
        stateBackend: { type: "s3", bucket: "state-bucket-111", region: REGION },
      }),
    );
  const executions = async () =>
    (await sfn.send(new ListExecutionsCommand({ stateMachineArn: machineArn }))).executions ?? [];

  beforeAll(async () => {
    writeConfig([VAULT]);
    await createLedgerTable(ddb, `${NAME}-ledger`);
    machineArn = (
      await sfn.send(
        new CreateStateMachineCommand({
          name: dispatcherStateMachineName(NAME),
          roleArn: `arn:aws:iam::${ACCOUNT}:role/reconcile-cli-test`,
          definition: JSON.stringify({ StartAt: "Hold", States: { Hold: { Type: "Wait", Seconds: 3600, End: true } } }),
        }),
      )
    ).stateMachineArn!;
    const ebs = (hex: string, createdHoursAgo: number) => ({
      RecoveryPointArn: snapshot(hex),
      BackupVaultName: VAULT,
      ResourceArn: `arn:aws:ec2:${REGION}:${ACCOUNT}:volume/vol-${hex}`,
      ResourceType: "EBS",
      CreationDate: hoursAgo(createdHoursAgo),
    });
    await seedRecoveryPoints([ebs("0aaaaaaa", 5), ebs("0bbbbbbb", 5), ebs("0ccccccc", 0.1)]);
    await ddb.send(
      new PutItemCommand({
        TableName: `${NAME}-ledger`,
        Item: {
          recoveryPointArn: { S: snapshot("0bbbbbbb") },
          status: { S: "SUCCEEDED" },
          startedAt: { S: hoursAgo(4) },
          workflow: { S: "ebs" },
        },
      }),
    );
  });

  afterAll(async () => {
    if (machineArn) await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: machineArn }));
    rmSync(dir, { recursive: true, force: true });
    ddb.destroy();
    sfn.destroy();
  });

  it("--dry-run --json prints the plan and starts nothing", async () => {
    const r = cli("--dry-run", "--json");
    expect(r.stderr).not.toContain("backup-actions reconcile:");
    expect(r.status).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.dryRun).toBe(true);
    expect(plan.missing.map((p: { recoveryPointArn: string }) => p.recoveryPointArn)).toEqual([snapshot("0aaaaaaa")]);
    expect(plan.alreadyExported.map((p: { recoveryPointArn: string }) => p.recoveryPointArn)).toEqual([
      snapshot("0bbbbbbb"),
    ]);
    expect(plan.tooYoung.map((p: { recoveryPointArn: string }) => p.recoveryPointArn)).toEqual([snapshot("0ccccccc")]);
    expect(plan).not.toHaveProperty("started");
    expect(await executions()).toEqual([]);
  });

  it("prints a summary per bucket and starts the missing one on the config's dispatcher", async () => {
    const r = cli();
    expect(r.status).toBe(0);
    expect(r.stdout).toContain("missing: 1\n");
    expect(r.stdout).toContain(`  ${snapshot("0aaaaaaa")}  EBS  ${VAULT}  no ledger record: EBS recovery point`);
    expect(r.stdout).toContain(
      `alreadyExported: 1\n  ${snapshot("0bbbbbbb")}  EBS  ${VAULT}  the ledger says SUCCEEDED`,
    );
    expect(r.stdout).toContain("tooYoung: 1\n");
    expect(r.stdout).toContain("started 1, already running 0\n");
    expect((await executions()).map((e) => e.name)).toEqual([
      expect.stringMatching(/^ebs-snap-0aaaaaaa-[0-9a-f]{32}$/),
    ]);
  });

  it("a bad option is a usage error (exit 2)", () => {
    const r = cli("--days", "0");
    expect(r.status).toBe(2);
    expect(r.stderr).toContain('--days must be an integer from 1 to 365, got "0"');
  });

  it("a failing AWS call (a vault AWS Backup does not have) exits 1 naming it", () => {
    writeConfig([VAULT, "no-such-vault-rcli"]);
    try {
      const r = cli("--dry-run");
      expect(r.status).toBe(1);
      expect(r.stderr).toContain("no-such-vault-rcli");
    } finally {
      writeConfig([VAULT]);
    }
  });
});
