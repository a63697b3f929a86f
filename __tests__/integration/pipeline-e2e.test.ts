/**
 * End to end on this machine: an AWS Backup event for a real (moto) snapshot goes through
 * the dispatcher and EBS machines as synthesized; in place of the Batch job the real
 * worker CLI exports a loop-device disk (an ext4 fixture) to moto's S3; the verify
 * Lambda's code checks it; the ledger records it. Then `backup-actions restore` brings
 * the archive back and every file is compared with the fixture's tree.
 */
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { executeStateMachine } from "../../testing/asl";
import { seedRecoveryPoints, storedRecoveryPoints } from "../../testing/backup-fake/control";
import { withRetryStrategy, AttemptFailure } from "../../testing/batch-retry";
import {
  cleanupStaleFixtures,
  createDiskFixture,
  diskPrerequisites,
  DiskFixture,
  hashTree,
} from "../../testing/fixtures/disks";
import { describeWithPrereqs } from "../../testing/prereq";
import {
  Bench,
  createBench,
  ledgerItem,
  leftoverVolumes,
  recoveryPoint,
  resolverFor,
  tagSnapshot,
} from "../helpers/pipeline-bench";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { subprocessEnv } from "../../testing/iam/recorder";

const ROOT = path.resolve(__dirname, "..", "..");
const missing = [...diskPrerequisites().missing, ...motoMissing(), ...backupFakeMissing()];

function cli(args: string[], env: NodeJS.ProcessEnv = process.env): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(ROOT, "cli", "bin.js"), ...args], {
      env,
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code: code ?? 1, stderr }));
  });
}

describeWithPrereqs("pipeline end to end with the real worker on a loop device", missing, () => {
  jest.setTimeout(300_000);
  let bench: Bench;
  let fixture: DiskFixture;
  let work: string;

  beforeAll(async () => {
    cleanupStaleFixtures();
    bench = await createBench({ deleteRecoveryPoint: { enabled: true, requiredTag: "backup-actions:delete" } });
    fixture = await createDiskFixture("ext4");
    work = await mkdtemp(path.join(os.tmpdir(), "ba-e2e-"));
  });
  afterAll(async () => {
    await fixture?.cleanup();
    if (work) await rm(work, { recursive: true, force: true });
  });

  it("exports, verifies, records and deletes; the restored tree matches the disk file by file", async () => {
    const rp = await recoveryPoint(bench);
    await seedRecoveryPoints([
      {
        RecoveryPointArn: rp.arn,
        BackupVaultName: "Default",
        ResourceArn: "arn:aws:ec2:us-east-1:111111111111:volume/vol-1",
        ResourceType: "EBS",
        Status: "COMPLETED",
      },
    ]);
    // The deletion tag of an EBS recovery point lives on its EC2 snapshot, as in AWS.
    await tagSnapshot(bench, rp.arn, { "backup-actions:delete": "true" });
    const worker = withRetryStrategy(bench.retryStrategy, async (_n, job) => {
      // The real worker, as the container runs it; the loop device stands in for the attached volume.
      // Its AWS requests are the job role's (recorded for the IAM proof, testing/README.md).
      const args = [
        "export-volume",
        "--device",
        fixture.device,
        "--to",
        job.parameters.targetUrl!,
        "--compression-level",
        job.parameters.compressionLevel!,
      ];
      const run = await cli(args, subprocessEnv(bench.as("worker-job")));
      if (run.code !== 0)
        throw new AttemptFailure("Essential container in task exited", run.stderr.slice(-500), run.code);
    });

    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks: resolverFor(bench, worker),
      executionName: rp.input.plan.executionName!,
    });

    expect(result.status).toBe("SUCCEEDED");
    expect(await leftoverVolumes(bench)).toEqual([]);
    expect(await ledgerItem(bench, rp.arn)).toMatchObject({ status: "SUCCEEDED", recoveryPointDeleted: true });
    expect((await storedRecoveryPoints()).some((p) => p.RecoveryPointArn === rp.arn)).toBe(false);

    // the manifest is the one the pipeline recorded: its SHA-256 is compared with the ledger's
    const verify = await cli(["verify", rp.input.archive.url, "--ledger-table", bench.ledgerTable]);
    expect(verify.stderr).toContain(`manifest.json matches the SHA-256 ledger ${bench.ledgerTable}`);
    expect(verify.code).toBe(0);
    const restore = await cli(["restore", rp.input.archive.url, "--to", work, "--ledger-table", bench.ledgerTable]);
    expect(restore.code).toBe(0);
    const volume = fixture.volumes[0]!;
    expect(await hashTree(path.join(work, volume.name), volume.capabilities)).toEqual(volume.tree);
  });
});
