/**
 * The direct read path (worker.readPath "direct", ADR 0008), executed: the dispatcher and the EBS child as
 * synthesized for it, moto's EC2 and EBS direct APIs, and in place of the Batch job the real job entry
 * (runBatchJob, its argv built from the synthesized job definition's command and its environment): it attaches
 * the blank scratch volume the child created, a blank loop device standing for it, fills it from the snapshot's
 * blocks and exports it to moto's S3; the verify Lambda's logic checks the archive. The snapshot is built on moto
 * with StartSnapshot/PutSnapshotBlock from the bench's ext4 disk. After every run: no volume of the pipeline is
 * left, whatever the job did. Every request is judged by the IAM proof against the direct stack's policies.
 */
import { execFileSync } from "node:child_process";
import { promises as fs } from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import {
  DeleteVolumeCommand,
  DescribeImagesCommand,
  DescribeSnapshotsCommand,
  DescribeVolumesCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { defaultDeps, jobParams, runBatchJob } from "../../batch-worker/src/batch-entrypoint";
import { EbsDirectClient } from "../../batch-worker/src/ebs-direct";
import { executeStateMachine, TaskResolver, type BatchJob } from "../../testing/asl";
import { seedRecoveryPoints } from "../../testing/backup-fake/control";
import { cleanupStaleFixtures, createDiskFixture, diskPrerequisites, DiskFixture } from "../../testing/fixtures/disks";
import { clearRecorded, recorded, runAs } from "../../testing/iam/recorder";
import { evaluate } from "../../testing/iam/evaluate";
import { buildModel } from "../../testing/iam/model";
import { policyDocuments, rewritePolicyDocument } from "../../testing/policy-documents";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";
import { snapshotOf } from "../helpers/ebs-snapshot";
import {
  batchArgv,
  Bench,
  createBench,
  ledgerItem,
  leftoverVolumes,
  recoveryPoint,
  REGION,
  resolverFor,
} from "../helpers/pipeline-bench";

const missing = [...diskPrerequisites().missing, ...motoMissing(), ...backupFakeMissing()];
const GiB = 2 ** 30;

/** An EC2 instance in moto in the volume's AZ, standing for the Batch host (set-up: not recorded). */
async function hostFor(volumeId: string): Promise<{ instanceId: string; availabilityZone: string }> {
  const ec2 = new EC2Client({ region: REGION });
  try {
    const volume = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes![0]!;
    const image = (await ec2.send(new DescribeImagesCommand({}))).Images![0]!.ImageId!;
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: image,
        MinCount: 1,
        MaxCount: 1,
        InstanceType: "m6i.large",
        Placement: { AvailabilityZone: volume.AvailabilityZone },
      }),
    );
    return { instanceId: run.Instances![0]!.InstanceId!, availabilityZone: volume.AvailabilityZone! };
  } finally {
    ec2.destroy();
  }
}

describeWithPrereqs("the EBS child's direct read path, executed with the real job entry", missing, () => {
  jest.setTimeout(300_000);
  let bench: Bench;
  let fixture: DiskFixture;
  let work: string;
  let snapshot: { snapshotId: string; volumeId: string; written: number };
  /** What moto's EC2 reports for the scratch volume while the job runs (set-up reads: not recorded). */
  const scratchSeen: Array<Record<string, unknown>> = [];

  beforeAll(async () => {
    cleanupStaleFixtures();
    bench = await createBench({ worker: { readPath: "direct" } });
    fixture = await createDiskFixture("ext4");
    work = await fs.mkdtemp(path.join(os.tmpdir(), "ba-direct-"));
    const ebs = new EbsDirectClient(); // set-up outside any role: not recorded
    try {
      const snap = await snapshotOf(ebs, fixture.imagePath);
      const described = await new EC2Client({ region: REGION }).send(
        new DescribeSnapshotsCommand({ SnapshotIds: [snap.id] }),
      );
      snapshot = { snapshotId: snap.id, volumeId: described.Snapshots![0]!.VolumeId!, written: snap.written };
    } finally {
      ebs.destroy();
    }
  });
  // A test that leaks a volume fails on its own assertion; the next one starts clean (set-up: not recorded).
  afterEach(async () => {
    const ec2 = new EC2Client({ region: REGION });
    for (const id of await runAs(undefined, () => leftoverVolumes(bench)))
      await ec2.send(new DeleteVolumeCommand({ VolumeId: id })).catch(() => undefined);
    ec2.destroy();
  });
  afterAll(async () => {
    await fixture?.cleanup();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  /** A blank loop device of the volume's size: what a new EBS volume reads as. */
  async function blankDevice(sizeGiB: number): Promise<{ device: string; detach: () => void }> {
    const backing = path.join(work, `scratch-${Date.now()}.img`);
    await fs.writeFile(backing, "");
    await fs.truncate(backing, sizeGiB * GiB);
    const device = execFileSync("losetup", ["--find", "--show", backing], { encoding: "utf8" }).trim();
    return { device, detach: () => execFileSync("losetup", ["-d", device]) };
  }

  /** The Batch job as the container runs it: argv from the synthesized command, the definition's environment. */
  const realJob = async (job: BatchJob) => {
    const params = jobParams(batchArgv(bench, job.parameters), {
      ...bench.job.environment,
      AWS_BATCH_JOB_ATTEMPT: "1",
      AWS_BATCH_JOB_ID: `job-${scratchSeen.length}-${Date.now()}`,
    });
    const ec2 = new EC2Client({ region: REGION });
    const volume = (
      await runAs(undefined, () => ec2.send(new DescribeVolumesCommand({ VolumeIds: [params.volumeId] })))
    ).Volumes![0]!;
    ec2.destroy();
    scratchSeen.push({
      readPath: params.readPath,
      snapshotId: params.snapshotId,
      rate: params.directRead?.requestsPerSecond,
      size: volume.Size,
      fromSnapshot: volume.SnapshotId ?? "",
      encrypted: volume.Encrypted,
      kmsKeyId: volume.KmsKeyId,
      type: volume.VolumeType,
      tags: volume.Tags,
    });
    const host = await runAs(undefined, () => hostFor(params.volumeId));
    const scratch = await blankDevice(volume.Size!);
    try {
      await runBatchJob(params, {
        ...defaultDeps(),
        identity: async () => host,
        findDevice: async () => scratch.device,
        pollMs: 20,
      });
    } finally {
      scratch.detach();
    }
  };

  it("fills a blank encrypted scratch of the snapshot's size, exports and verifies it, then deletes the scratch", async () => {
    // GIVEN an AWS Backup recovery point whose snapshot was written block by block
    const rp = await recoveryPoint(bench, snapshot);
    await seedRecoveryPoints([
      {
        RecoveryPointArn: rp.arn,
        BackupVaultName: "Default",
        ResourceArn: rp.event.detail.resourceArn,
        ResourceType: "EBS",
        Status: "COMPLETED",
      },
    ]);
    scratchSeen.length = 0;
    clearRecorded();
    // WHEN the dispatcher runs it
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks: resolverFor(bench, realJob),
      executionName: rp.input.plan.executionName!,
    });
    // THEN the job got a blank scratch: no snapshot behind it, the snapshot's size, the pipeline's key and tags
    expect({ status: result.status, error: result.error, cause: result.cause }).toEqual({ status: "SUCCEEDED" });
    expect(scratchSeen).toEqual([
      {
        readPath: "direct",
        snapshotId: snapshot.snapshotId,
        // its static share, the floor: 600 requests/s over 64/4 jobs in each of the bench's 2 AZs
        rate: 18,
        size: 1,
        fromSnapshot: "",
        encrypted: true,
        kmsKeyId: bench.kmsKeyArn,
        type: "gp3",
        tags: expect.arrayContaining([
          { Key: "backup-actions:pipeline", Value: bench.config.name },
          { Key: "backup-actions:recovery-point", Value: rp.arn },
          { Key: "backup-actions:scratch-of", Value: snapshot.snapshotId },
          { Key: "backup-actions:managed", Value: "true" },
        ]),
      },
    ]);
    // the archive the worker wrote from the blocks passed verification, and the scratch is gone
    expect(await ledgerItem(bench, rp.arn)).toMatchObject({ status: "SUCCEEDED" });
    expect(await leftoverVolumes(bench)).toEqual([]);
    // the job shared the budget through its lease: written and renewed, counted, deleted, each allowed to its role
    // on the lease table by the synthesized policy (the IAM proof's evaluator, ShareDirectReadBudget)
    const leaseTable = `${bench.config.name}-direct-read-leases`;
    const lease = (await evaluate(buildModel(bench.deployment.tf, "111111111111", REGION), recorded())).filter(
      (v) => v.request.action.startsWith("dynamodb:") && v.request.resource.endsWith(`:table/${leaseTable}`),
    );
    expect(new Set(lease.map((v) => `${v.role.key} ${v.request.action} ${v.result}`))).toEqual(
      new Set([
        "worker-job dynamodb:PutItem Allowed",
        "worker-job dynamodb:Query Allowed",
        "worker-job dynamodb:DeleteItem Allowed",
      ]),
    );
    expect(lease.flatMap((v) => v.allowedBy)).toEqual(lease.map(() => expect.stringMatching(/ShareDirectReadBudget$/)));
    // and they are judged: without that statement each of them is denied
    const tf = JSON.parse(JSON.stringify(bench.deployment.tf));
    const doc = Object.keys(policyDocuments(tf)).find((k) => /^worker-job_job-role-policy_/.test(k))!;
    rewritePolicyDocument(tf, doc, (d) => {
      d.Statement = d.Statement.filter((st) => st.Sid !== "ShareDirectReadBudget");
    });
    const denied = (
      await evaluate(
        buildModel(tf, "111111111111", REGION),
        lease.map((v) => v.record),
      )
    ).map((v) => `${v.request.action} ${v.result}`);
    expect(new Set(denied)).toEqual(
      new Set([
        "dynamodb:PutItem ImplicitlyDenied",
        "dynamodb:Query ImplicitlyDenied",
        "dynamodb:DeleteItem ImplicitlyDenied",
      ]),
    );
  });

  /** The EBS child alone, as its role, with `job` in place of the Batch job. */
  const runChild = (job: (j: BatchJob) => unknown, executionName: string) =>
    executeStateMachine(
      bench.ebs,
      {
        recoveryPointArn: `arn:aws:ec2:${REGION}::snapshot/${snapshot.snapshotId}`,
        archiveUrl: `s3://${bench.archiveBucket}/ebs/direct/${executionName}/`,
        placementIndex: 1,
      },
      {
        tasks: new TaskResolver().runsAs(bench.as("ebs-export")).batchJob("*", job as never, bench.as("worker-job")),
        executionName,
      },
    );

  it("deletes the scratch when the job fails, and fails with the job's failure", async () => {
    const seen: string[] = [];
    const result = await runChild((job) => {
      seen.push(job.parameters.volumeId!);
      throw new Error("Essential container in task exited (exit code 1: export failed)");
    }, "direct-job-fails");
    expect(result.status).toBe("FAILED");
    expect(result.cause).toContain("exit code 1");
    expect(seen).toHaveLength(1);
    expect(await leftoverVolumes(bench)).toEqual([]);
  });

  it("deletes the scratch when the worker refuses it (a first attempt that finds data on it)", async () => {
    const result = await runChild(async (job) => {
      const params = jobParams(batchArgv(bench, job.parameters), {
        ...bench.job.environment,
        AWS_BATCH_JOB_ID: "job-not-blank",
      });
      const host = await runAs(undefined, () => hostFor(params.volumeId));
      // the device behind the volume holds a filesystem: not a blank volume
      await runBatchJob(params, {
        ...defaultDeps(),
        identity: async () => host,
        findDevice: async () => fixture.device,
        pollMs: 20,
      });
    }, "direct-not-blank");
    expect(result.status).toBe("FAILED");
    expect(result.cause).toMatch(/is not blank: byte \d+ is not zero/);
    expect(await leftoverVolumes(bench)).toEqual([]);
  });

  it("deletes a scratch that never becomes available, after the bounded wait, without running the job", async () => {
    let ran = false;
    const tasks = new TaskResolver()
      .runsAs(bench.as("ebs-export"))
      // EC2 keeps answering "creating" to the wait's polls (the cleanup's own look sees the truth)
      .on("arn:aws:states:::aws-sdk:ec2:describeVolumes", async (call) =>
        call.stateName === "DescribeVolume"
          ? { Volumes: [{ State: "creating" }] }
          : (JSON.parse(JSON.stringify(await call.clients.call("ec2", "describeVolumes", call.parameters))) as never),
      )
      .batchJob("*", () => {
        ran = true;
        return {};
      });
    const result = await executeStateMachine(
      bench.ebs,
      {
        recoveryPointArn: `arn:aws:ec2:${REGION}::snapshot/${snapshot.snapshotId}`,
        archiveUrl: `s3://${bench.archiveBucket}/ebs/direct/never-available/`,
        placementIndex: 0,
      },
      { tasks, executionName: "direct-never-available" },
    );
    expect({ status: result.status, error: result.error }).toEqual({ status: "FAILED", error: "VolumeNotAvailable" });
    expect(ran).toBe(false);
    expect(tasks.calls.filter((c) => c.stateName === "DescribeVolume")).toHaveLength(91);
    expect(await leftoverVolumes(bench)).toEqual([]);
  });

  it("creates nothing for a snapshot that does not exist", async () => {
    let ran = false;
    const result = await executeStateMachine(
      bench.ebs,
      {
        recoveryPointArn: `arn:aws:ec2:${REGION}::snapshot/snap-0123456789abcdef0`,
        archiveUrl: `s3://${bench.archiveBucket}/ebs/direct/none/`,
        placementIndex: 0,
      },
      {
        tasks: new TaskResolver().runsAs(bench.as("ebs-export")).batchJob("*", () => {
          ran = true;
          return {};
        }),
        executionName: "direct-no-snapshot",
      },
    );
    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("Ec2.Ec2Exception");
    expect(ran).toBe(false);
    expect(await leftoverVolumes(bench)).toEqual([]);
  });
});
