import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { planEventCommand } from "../../cli/commands/plan-event";
import { fixturePath } from "../helpers/events";

function run(argv: string[], env: NodeJS.ProcessEnv) {
  let stdout = "";
  let stderr = "";
  const io = { stdout: { write: (s: string) => (stdout += s) }, stderr: { write: (s: string) => (stderr += s) }, env };
  return planEventCommand(argv, io).then((code) => ({ code, stdout, stderr }));
}

describe("backup-actions plan-event FILE", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "plan-event-"));
  const configFile = path.join(dir, "config.json");
  writeFileSync(
    configFile,
    JSON.stringify({
      accounts: [{ id: "111111111111", regions: ["us-east-1"] }],
      backupVaults: ["Default"],
      tags: { project: "backup-actions" },
      stateBackend: { type: "s3", bucket: "state-bucket-111", region: "us-east-1" },
    }),
  );
  const env = { BACKUP_ACTIONS_CONFIG: configFile };

  it("prints one JSON object with exactly the five keys for an export, exit 0", async () => {
    const { code, stdout, stderr } = await run([fixturePath("backup-job-ebs.json")], env);
    expect(code).toBe(0);
    expect(stderr).toBe("");
    expect(stdout.endsWith("\n")).toBe(true);
    expect(stdout.trim().split("\n")).toHaveLength(1);
    const plan = JSON.parse(stdout);
    expect(Object.keys(plan)).toEqual(["action", "workflow", "executionName", "recoveryPointArn", "reason"]);
    expect(plan).toEqual({
      action: "export",
      workflow: "ebs",
      executionName: "ebs-snap-0726fe70935586180-767f49bf4c6c0e793d30ada7c40fc117",
      recoveryPointArn: "arn:aws:ec2:us-east-1::snapshot/snap-0726fe70935586180",
      reason:
        'EBS recovery point snap-0726fe70935586180 in vault "Default" (111111111111/us-east-1) from a Backup Job State Change; the dispatcher runs backup-actions-ebs-export',
    });
  });

  it("answers a copy job and a failed job (skip with its reason), exit 0", async () => {
    // copy-job-ebs.json arrives in us-west-2 (the source region) and copies into us-east-1.
    const bothRegions = path.join(dir, "both-regions.json");
    writeFileSync(
      bothRegions,
      JSON.stringify({
        accounts: [{ id: "111111111111", regions: ["us-west-2", "us-east-1"] }],
        backupVaults: ["Default"],
        tags: { project: "backup-actions" },
        stateBackend: { type: "s3", bucket: "state-bucket-111", region: "us-east-1" },
      }),
    );
    const { code, stdout } = await run([fixturePath("copy-job-ebs.json")], { BACKUP_ACTIONS_CONFIG: bothRegions });
    expect(code).toBe(0);
    const plan = JSON.parse(stdout);
    expect(Object.keys(plan)).toEqual(["action", "workflow", "executionName", "recoveryPointArn", "reason"]);
    expect(plan).toEqual({
      action: "export",
      workflow: "ebs",
      executionName: "ebs-snap-0f00d1e5c0ffee123-0bdc86c500aba3fe5669c850e2058dbe",
      recoveryPointArn: "arn:aws:ec2:us-east-1::snapshot/snap-0f00d1e5c0ffee123",
      reason:
        'EBS recovery point snap-0f00d1e5c0ffee123 in vault "Default" (111111111111/us-east-1) from a Copy Job State Change; AWS Backup sent the event to us-west-2, the us-east-1 pipeline exports it; the dispatcher runs backup-actions-ebs-export',
    });
    // Only us-east-1 deployed: the event arrives in us-west-2, where nothing receives it.
    const eastOnly = await run([fixturePath("copy-job-ebs.json")], env);
    expect(JSON.parse(eastOnly.stdout)).toMatchObject({
      action: "skip",
      recoveryPointArn: "arn:aws:ec2:us-east-1::snapshot/snap-0f00d1e5c0ffee123",
    });
    expect(JSON.parse(eastOnly.stdout).reason).toMatch(
      /^the event reached 111111111111\/us-west-2, where the config deploys no pipeline \(regions: us-east-1\)/,
    );
    const failed = await run([fixturePath("doc-backup-job-failed.json")], env);
    expect(failed.code).toBe(0);
    expect(JSON.parse(failed.stdout)).toEqual({
      action: "skip",
      workflow: null,
      executionName: null,
      recoveryPointArn: null,
      reason: 'state is "FAILED", not "COMPLETED"',
    });
  });

  it.each([
    ["backup-job-rds.json", undefined, "rds", "; the dispatcher runs backup-actions-rds-export (format dump)"],
    [
      "backup-job-aurora.json",
      { aurora: { format: "both" } },
      "aurora",
      "; the dispatcher runs backup-actions-aurora-export (format both)",
    ],
    [
      "backup-job-rds.json",
      { rds: { format: "parquet" } },
      "rds",
      "; the dispatcher runs backup-actions-rds-export (format parquet)",
    ],
    [
      "backup-job-dynamodb.json",
      { dynamodb: { format: "ION" } },
      "dynamodb",
      "; the dispatcher runs backup-actions-dynamodb-export (format ION; ExportTableToPointInTime at the backup's time when the table's PITR window covers it, else from a temporary table restored from the backup)",
    ],
  ])("says what the deployed dispatcher does with %s (exports %j)", async (fixture, exportsConfig, workflow, then) => {
    const file = path.join(dir, `config-${workflow}-${JSON.stringify(exportsConfig ?? {}).length}.json`);
    writeFileSync(
      file,
      JSON.stringify({
        accounts: [{ id: "111111111111", regions: ["us-east-1"] }],
        backupVaults: ["Default"],
        tags: { project: "backup-actions" },
        stateBackend: { type: "s3", bucket: "state-bucket-111", region: "us-east-1" },
        ...(exportsConfig ? { exports: exportsConfig } : {}),
      }),
    );
    const { code, stdout } = await run([fixturePath(fixture)], { BACKUP_ACTIONS_CONFIG: file });
    expect(code).toBe(0);
    const plan = JSON.parse(stdout);
    expect(plan.workflow).toBe(workflow);
    expect(plan.reason.endsWith(then)).toBe(true);
  });

  it("uses config/default.json when BACKUP_ACTIONS_CONFIG is unset (vault Default, account 111111111111, us-east-1)", async () => {
    const { code, stdout } = await run([fixturePath("backup-job-dynamodb.json")], {});
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({
      action: "export",
      workflow: "dynamodb",
      reason: expect.stringMatching(
        /; the dispatcher runs backup-actions-dynamodb-export \(format DYNAMODB_JSON; ExportTableToPointInTime at the backup's time when the table's PITR window covers it, else from a temporary table restored from the backup\)$/,
      ),
    });
  });

  it("a file that is not JSON: clear message on stderr, exit 1, nothing on stdout", async () => {
    const file = fixturePath("garbage.json");
    const { code, stdout, stderr } = await run([file], env);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toMatch(
      new RegExp(`^plan-event: ${file.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")} is not valid JSON: `),
    );
  });

  it("a missing file: exit 1 naming the file", async () => {
    const { code, stdout, stderr } = await run([path.join(dir, "nope.json")], env);
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toBe(`plan-event: cannot read ${path.join(dir, "nope.json")}: ENOENT\n`);
  });

  it("an invalid config: exit 1 naming the bad key", async () => {
    const bad = path.join(dir, "bad.json");
    writeFileSync(
      bad,
      JSON.stringify({
        accounts: [{ id: "1", regions: ["us-east-1"] }],
        tags: { a: "b" },
        stateBackend: { type: "cloud", organization: "o", workspacePrefix: "w" },
      }),
    );
    const { code, stdout, stderr } = await run([fixturePath("backup-job-ebs.json")], { BACKUP_ACTIONS_CONFIG: bad });
    expect(code).toBe(1);
    expect(stdout).toBe("");
    expect(stderr).toContain("accounts[0].id: must be 12 digits");
  });

  it("wrong usage: exit 2 with the usage", async () => {
    for (const argv of [[], ["a.json", "b.json"], ["--verbose"]]) {
      const { code, stderr } = await run(argv, env);
      expect(code).toBe(2);
      expect(stderr).toContain("usage: backup-actions plan-event FILE");
    }
    const help = await run(["--help"], env);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("usage: backup-actions plan-event FILE");
  });
});
