/**
 * The EBS child state machine, executed: our definition, moto's EC2 (real CreateVolume,
 * DescribeVolumes, DeleteVolume calls through the SDK), and an in-process Batch job in
 * place of `submitJob.sync`. After every run: no volume of the pipeline is left.
 */
import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeVolumesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { executeStateMachine, TaskCall, TaskResolver } from "../../../testing/asl";
import { describeWithPrereqs } from "../../../testing/prereq";
import { ebsExportDefinition, type EbsExportProps } from "../../../stacks/workflows/ebs-export";
import { motoMissing } from "../../../testing/moto/availability";

const PIPELINE_TAG = { key: "backup-actions:pipeline", value: "ebs-exec-test" };
const JOB_DEFINITION = "ba-worker";
// The typed definition is plain JSON: the executor takes it as synthesized.
const definition = ebsExportDefinition({
  partition: "aws",
  placements: [
    { availabilityZone: "us-east-1a", jobQueueArn: "arn:aws:batch:us-east-1:123456789012:job-queue/ba-a" },
    { availabilityZone: "us-east-1b", jobQueueArn: "arn:aws:batch:us-east-1:123456789012:job-queue/ba-b" },
  ],
  jobDefinitionName: JOB_DEFINITION,
  volume: { throughputMiBps: 250, iops: 4000 },
  pipelineTag: PIPELINE_TAG,
  securityTag: "backup-actions:managed",
  compressionLevel: 3,
});

/** The definition with one placement (us-east-1a), no security tag, and `props` on top. */
const onePlacement = (props: Pick<EbsExportProps, "volume"> & Partial<EbsExportProps>) =>
  ebsExportDefinition({
    partition: "aws",
    placements: [
      { availabilityZone: "us-east-1a", jobQueueArn: "arn:aws:batch:us-east-1:123456789012:job-queue/ba-a" },
    ],
    jobDefinitionName: JOB_DEFINITION,
    pipelineTag: PIPELINE_TAG,
    compressionLevel: 3,
    ...props,
  });

const missing = motoMissing();

describeWithPrereqs("EBS export state machine, executed against moto", missing, () => {
  const ec2 = new EC2Client({ region: "us-east-1" });
  let recoveryPointArn: string;

  beforeAll(async () => {
    const source = await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1a", Size: 2 }));
    const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: source.VolumeId! }));
    recoveryPointArn = `arn:aws:ec2:us-east-1::snapshot/${snap.SnapshotId}`;
  });

  const pipelineVolumes = async () =>
    (
      await ec2.send(
        new DescribeVolumesCommand({ Filters: [{ Name: `tag:${PIPELINE_TAG.key}`, Values: [PIPELINE_TAG.value] }] }),
      )
    ).Volumes ?? [];
  // A test that leaks a volume fails on its own assertion; the next one starts clean.
  afterEach(async () => {
    for (const v of await pipelineVolumes()) await ec2.send(new DeleteVolumeCommand({ VolumeId: v.VolumeId! }));
  });
  const input = (placementIndex = 1) => ({ recoveryPointArn, archiveUrl: "s3://archive/ebs/x/", placementIndex });

  it("restores a tagged gp3 volume in the queue's AZ, runs the worker on it, then deletes it", async () => {
    // GIVEN a worker that checks what it was given
    const seen: Array<Record<string, unknown>> = [];
    const tasks = new TaskResolver().batchJob(JOB_DEFINITION, async (job) => {
      const volume = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [job.parameters.volumeId!] })))
        .Volumes![0]!;
      seen.push({
        ...job.parameters,
        queue: job.jobQueue,
        az: volume.AvailabilityZone,
        type: volume.VolumeType,
        iops: volume.Iops,
        snapshot: volume.SnapshotId,
        tags: volume.Tags,
      });
      return {};
    });
    // WHEN
    const result = await executeStateMachine(definition, input(1), { tasks, executionName: "ebs-success" });
    // THEN
    expect(result.status).toBe("SUCCEEDED");
    expect(seen).toEqual([
      expect.objectContaining({
        targetUrl: "s3://archive/ebs/x/",
        compressionLevel: "3",
        queue: "arn:aws:batch:us-east-1:123456789012:job-queue/ba-b",
        az: "us-east-1b",
        type: "gp3",
        iops: 4000,
        snapshot: recoveryPointArn.split("/")[1],
        tags: expect.arrayContaining([
          { Key: PIPELINE_TAG.key, Value: PIPELINE_TAG.value },
          { Key: "backup-actions:recovery-point", Value: recoveryPointArn },
          { Key: "backup-actions:managed", Value: "true" },
        ]),
      }),
    ]);
    expect(result.output).toEqual({
      volumeId: seen[0]!.volumeId,
      jobId: expect.any(String),
      archiveUrl: "s3://archive/ebs/x/",
    });
    expect(await pipelineVolumes()).toEqual([]);
  });

  it("deletes the volume and fails with the job's failure when the worker fails", async () => {
    const tasks = new TaskResolver().batchJob(JOB_DEFINITION, () => {
      throw new Error("Essential container in task exited (exit code 3: manifest not written)");
    });
    const result = await executeStateMachine(definition, input(0), { tasks, executionName: "ebs-worker-fails" });
    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("States.TaskFailed");
    expect(result.cause).toContain("exit code 3");
    expect(await pipelineVolumes()).toEqual([]);
  });

  it("retries a throttled CreateVolume and still creates exactly one volume", async () => {
    const tasks = new TaskResolver()
      .injectFault({
        resource: "arn:aws:states:::aws-sdk:ec2:createVolume",
        calls: [1, 2],
        error: "Ec2.Ec2Exception",
        cause: "Request limit exceeded. (Service: Ec2, Status Code: 503, Error Code: RequestLimitExceeded)",
      })
      .batchJob(JOB_DEFINITION, () => ({}));
    const result = await executeStateMachine(definition, input(0), { tasks, executionName: "ebs-throttled" });
    expect(result.status).toBe("SUCCEEDED");
    expect(tasks.calls.filter((c) => c.stateName === "CreateVolume").map((c) => Boolean(c.fault))).toEqual([
      true,
      true,
      false,
    ]);
    expect(await pipelineVolumes()).toEqual([]);
  });

  // ── every Catch reaches the cleanup: each test fails if a Catch skips it (a volume is left) ──

  /** describeVolumes through moto, except that the named state's calls fail as EC2 fails them. */
  const describeFailingIn = (failing: string) => async (call: TaskCall) => {
    if (call.stateName === failing) {
      throw Object.assign(
        new Error("Request limit exceeded. (Service: Ec2, Status Code: 503, Error Code: RequestLimitExceeded)"),
        { name: "Ec2.Ec2Exception" },
      );
    }
    const out = await ec2.send(new DescribeVolumesCommand(call.parameters as never));
    return JSON.parse(JSON.stringify({ Volumes: out.Volumes })) as never;
  };

  it("(a) a DescribeVolume that keeps failing still reaches the cleanup: the volume is deleted, the export fails", async () => {
    let workerRan = false;
    const tasks = new TaskResolver()
      .on("arn:aws:states:::aws-sdk:ec2:describeVolumes", describeFailingIn("DescribeVolume"))
      .batchJob(JOB_DEFINITION, () => {
        workerRan = true;
        return {};
      });
    const result = await executeStateMachine(definition, input(0), { tasks, executionName: "ebs-describe-fails" });
    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("Ec2.Ec2Exception");
    expect(workerRan).toBe(false);
    // One call and five retries, then the Catch; the cleanup deleted what CreateVolume made.
    expect(tasks.calls.filter((c) => c.stateName === "DescribeVolume")).toHaveLength(6);
    expect(tasks.calls.filter((c) => c.stateName === "DeleteVolume")).toHaveLength(1);
    expect(await pipelineVolumes()).toEqual([]);
  });

  it("(b) a cleanup whose own DescribeVolumes fails still deletes the volume", async () => {
    const tasks = new TaskResolver()
      .on("arn:aws:states:::aws-sdk:ec2:describeVolumes", describeFailingIn("CleanupDescribe"))
      .batchJob(JOB_DEFINITION, () => ({}));
    const result = await executeStateMachine(definition, input(0), {
      tasks,
      executionName: "ebs-cleanup-describe-fails",
    });
    // The export itself succeeded: a failed look before the delete does not change that.
    expect(result.status).toBe("SUCCEEDED");
    expect(tasks.calls.filter((c) => c.stateName === "CleanupDescribe")).toHaveLength(6);
    expect(tasks.calls.filter((c) => c.stateName === "DeleteVolume")).toHaveLength(1);
    expect(await pipelineVolumes()).toEqual([]);
  });

  it("(c) a CreateVolume that EC2 carried out but answered with a throttle is retried under its ClientToken: one volume", async () => {
    // GIVEN EC2 creates the volume on the first call and the answer is lost to a throttle (moto sees
    // both calls; the launcher's patch makes moto honour ClientToken as EC2 does)
    const created: string[] = [];
    const tasks = new TaskResolver()
      .on("arn:aws:states:::aws-sdk:ec2:createVolume", async (call) => {
        const out = await call.clients.call("ec2", "createVolume", call.parameters);
        created.push(String(out.VolumeId));
        if (created.length === 1) {
          throw Object.assign(
            new Error("Request limit exceeded. (Service: Ec2, Status Code: 503, Error Code: RequestLimitExceeded)"),
            { name: "Ec2.Ec2Exception" },
          );
        }
        return JSON.parse(JSON.stringify({ ...out, $metadata: undefined })) as never;
      })
      .batchJob(JOB_DEFINITION, () => ({}));
    const result = await executeStateMachine(definition, input(0), {
      tasks,
      executionName: "ebs-create-applied-throttled",
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(created).toHaveLength(2);
    // THEN both calls named the same volume, and it is gone: nothing leaked
    expect(new Set(created).size).toBe(1);
    expect(await pipelineVolumes()).toEqual([]);
  });

  it("detaches a volume the worker left attached before deleting it", async () => {
    let describes = 0;
    const tasks = new TaskResolver()
      .batchJob(JOB_DEFINITION, () => ({}))
      // The worker's instance was reclaimed with the volume still attached: the first cleanup look sees an attachment.
      .on("arn:aws:states:::aws-sdk:ec2:describeVolumes", async (call) => {
        const out = (await ec2.send(new DescribeVolumesCommand(call.parameters as never))) as any;
        if (call.stateName === "CleanupDescribe" && describes++ === 0)
          out.Volumes[0].Attachments = [{ InstanceId: "i-0123", State: "attached" }];
        return JSON.parse(JSON.stringify({ Volumes: out.Volumes }));
      })
      .on("arn:aws:states:::aws-sdk:ec2:detachVolume", () => ({}));
    const result = await executeStateMachine(definition, input(0), { tasks, executionName: "ebs-detach" });
    expect(result.status).toBe("SUCCEEDED");
    expect(tasks.calls.map((c) => c.stateName).filter((n) => /Detach|DeleteVolume/.test(n))).toEqual([
      "DetachVolume",
      "DeleteVolume",
    ]);
    expect(await pipelineVolumes()).toEqual([]);
  });

  it("keeps the worst-case history far below Step Functions' 25,000 events", async () => {
    // Every bounded loop runs to its bound and every retry to its maximum: the volume never
    // becomes available, stays attached during cleanup, and every detach and delete fails.
    const tasks = new TaskResolver()
      .on("arn:aws:states:::aws-sdk:ec2:describeVolumes", (call) =>
        call.stateName === "DescribeVolume"
          ? { Volumes: [{ State: "creating" }] }
          : { Volumes: [{ State: "in-use", Attachments: [{ InstanceId: "i-1", State: "attached" }] }] },
      )
      .injectFault({ resource: "arn:aws:states:::aws-sdk:ec2:detachVolume", error: "Ec2.Ec2Exception" })
      .injectFault({ resource: "arn:aws:states:::aws-sdk:ec2:deleteVolume", error: "Ec2.Ec2Exception" });
    const result = await executeStateMachine(definition, input(0), { tasks, executionName: "ebs-worst-case" });
    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("VolumeNotAvailable");
    expect(tasks.calls.filter((c) => c.stateName === "DescribeVolume")).toHaveLength(91);
    // One call and five retries per detach, thirty detach rounds; one delete and eight retries.
    expect(tasks.calls.filter((c) => c.stateName === "DetachVolume")).toHaveLength(30 * 6);
    expect(tasks.calls.filter((c) => c.stateName === "DeleteVolume")).toHaveLength(9);
    expect(result.history.length).toBeLessThan(5_000);
    // The volume of this run was left for the janitor (its delete "failed"); remove it here.
    const left = await pipelineVolumes();
    for (const v of left) await ec2.send(new DeleteVolumeCommand({ VolumeId: v.VolumeId! }));
  });

  // ── the bounds and settings the definition is built from (from the mutation run's survivors) ──

  const SDK_THROTTLE = "Request limit exceeded. (Service: Ec2, Status Code: 503, Error Code: RequestLimitExceeded)";
  const ec2Error = (name = "Ec2.Ec2Exception") => Object.assign(new Error(SDK_THROTTLE), { name });
  /** describeVolumes through moto, answering "creating" for the given state's calls and recording when each came. */
  const describeCreatingIn = (state: string, times: number[]) => async (call: TaskCall) => {
    const out = await ec2.send(new DescribeVolumesCommand(call.parameters as never));
    if (call.stateName === state) {
      times.push(call.now().getTime());
      out.Volumes![0]!.State = "creating";
    }
    return JSON.parse(JSON.stringify({ Volumes: out.Volumes })) as never;
  };

  it("sends the configured initialization rate and throughput, and no security tag when none is configured", async () => {
    const plain = onePlacement({
      volume: { throughputMiBps: 300, iops: 3000, initializationRateMiBps: 200 },
    });
    const tasks = new TaskResolver().batchJob(JOB_DEFINITION, () => ({}));
    const result = await executeStateMachine(plain, input(0), { tasks, executionName: "ebs-settings" });
    expect(result.status).toBe("SUCCEEDED");
    const create = tasks.calls.find((c) => c.stateName === "CreateVolume")!.parameters as Record<string, unknown>;
    expect(create).toMatchObject({ VolumeType: "gp3", Throughput: 300, Iops: 3000, VolumeInitializationRate: 200 });
    expect(create.TagSpecifications).toEqual([
      {
        ResourceType: "volume",
        Tags: [
          { Key: PIPELINE_TAG.key, Value: PIPELINE_TAG.value },
          { Key: "backup-actions:recovery-point", Value: recoveryPointArn },
        ],
      },
    ]);
    // and without a configured rate, no VolumeInitializationRate at all (EC2 then reads at the snapshot's pace)
    const tasks2 = new TaskResolver().batchJob(JOB_DEFINITION, () => ({}));
    await executeStateMachine(definition, input(0), { tasks: tasks2, executionName: "ebs-settings-default" });
    expect(tasks2.calls.find((c) => c.stateName === "CreateVolume")!.parameters).not.toHaveProperty(
      "VolumeInitializationRate",
    );
    expect(await pipelineVolumes()).toEqual([]);
  });

  it("retries an SDK client error of EC2 like a throttle", async () => {
    const tasks = new TaskResolver()
      .injectFault({
        resource: "arn:aws:states:::aws-sdk:ec2:createVolume",
        calls: [1],
        error: "Ec2.SdkClientException",
      })
      .batchJob(JOB_DEFINITION, () => ({}));
    const result = await executeStateMachine(definition, input(0), { tasks, executionName: "ebs-sdk-client" });
    expect(result.status).toBe("SUCCEEDED");
    expect(tasks.calls.filter((c) => c.stateName === "CreateVolume")).toHaveLength(2);
    expect(await pipelineVolumes()).toEqual([]);
  });

  it("backs EC2 retries off exponentially from 2 s, each delay a random share of its cap (full jitter)", async () => {
    const times: number[] = [];
    const tasks = new TaskResolver()
      .on("arn:aws:states:::aws-sdk:ec2:createVolume", async (call) => {
        times.push(call.now().getTime());
        if (times.length <= 5) throw ec2Error();
        const out = await call.clients.call("ec2", "createVolume", call.parameters);
        return JSON.parse(JSON.stringify({ ...out, $metadata: undefined })) as never;
      })
      .batchJob(JOB_DEFINITION, () => ({}));
    // random() = 0.5: every delay is half of min(2 x 2^n, 60) s
    const result = await executeStateMachine(definition, input(0), {
      tasks,
      executionName: "ebs-backoff",
      clock: 0,
      random: () => 0.5,
    });
    expect(result.status).toBe("SUCCEEDED");
    expect(times.slice(1).map((t, i) => (t - times[i]!) / 1000)).toEqual([1, 2, 4, 8, 16]);
    expect(await pipelineVolumes()).toEqual([]);
  });

  it("waits pollSeconds between volume checks, gives up after maxVolumePolls, and still deletes the volume", async () => {
    const bounded = onePlacement({
      volume: { throughputMiBps: 250, iops: 4000 },
      maxVolumePolls: 3,
      pollSeconds: 7,
    });
    const times: number[] = [];
    let workerRan = false;
    const tasks = new TaskResolver()
      .on("arn:aws:states:::aws-sdk:ec2:describeVolumes", describeCreatingIn("DescribeVolume", times))
      .batchJob(JOB_DEFINITION, () => {
        workerRan = true;
        return {};
      });
    const result = await executeStateMachine(bounded, input(0), { tasks, executionName: "ebs-poll-bound", clock: 0 });
    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("VolumeNotAvailable");
    expect(result.cause).toMatch(/^volume vol-[0-9a-f]+ is creating after 3 polls$/);
    expect(workerRan).toBe(false);
    // the first check and one per poll, each after a 7 s wait
    expect(times.map((t) => t / 1000)).toEqual([7, 14, 21, 28]);
    expect(tasks.calls.filter((c) => c.stateName === "DeleteVolume")).toHaveLength(1);
    expect(await pipelineVolumes()).toEqual([]);
  });

  it("does not poll a volume that is neither available nor creating: straight to the cleanup", async () => {
    const tasks = new TaskResolver()
      .on("arn:aws:states:::aws-sdk:ec2:describeVolumes", async (call) => {
        const out = await ec2.send(new DescribeVolumesCommand(call.parameters as never));
        if (call.stateName === "DescribeVolume") out.Volumes![0]!.State = "error";
        return JSON.parse(JSON.stringify({ Volumes: out.Volumes })) as never;
      })
      .batchJob(JOB_DEFINITION, () => ({}));
    const result = await executeStateMachine(definition, input(0), { tasks, executionName: "ebs-volume-error" });
    expect(result.status).toBe("FAILED");
    expect(result.error).toBe("VolumeNotAvailable");
    expect(result.cause).toContain(" is error ");
    expect(tasks.calls.filter((c) => c.stateName === "DescribeVolume")).toHaveLength(1);
    expect(tasks.calls.filter((c) => c.stateName === "DeleteVolume")).toHaveLength(1);
    expect(await pipelineVolumes()).toEqual([]);
  });

  it("stops detaching after maxCleanupPolls rounds, pollSeconds apart, and deletes anyway", async () => {
    const bounded = onePlacement({
      volume: { throughputMiBps: 250, iops: 4000 },
      maxCleanupPolls: 2,
      pollSeconds: 5,
    });
    const looks: number[] = [];
    const tasks = new TaskResolver()
      .batchJob(JOB_DEFINITION, () => ({}))
      // the volume never shows detached
      .on("arn:aws:states:::aws-sdk:ec2:describeVolumes", async (call) => {
        const out = (await ec2.send(new DescribeVolumesCommand(call.parameters as never))) as any;
        if (call.stateName === "CleanupDescribe") {
          looks.push(call.now().getTime());
          out.Volumes[0].Attachments = [{ InstanceId: "i-0123", State: "attached" }];
        }
        return JSON.parse(JSON.stringify({ Volumes: out.Volumes }));
      })
      .on("arn:aws:states:::aws-sdk:ec2:detachVolume", () => ({}));
    const result = await executeStateMachine(bounded, input(0), { tasks, executionName: "ebs-detach-bound", clock: 0 });
    expect(result.status).toBe("SUCCEEDED");
    expect(tasks.calls.map((c) => c.stateName).filter((n) => /Detach|DeleteVolume/.test(n))).toEqual([
      "DetachVolume",
      "DetachVolume",
      "DeleteVolume",
    ]);
    expect(looks.slice(1).map((t, i) => (t - looks[i]!) / 1000)).toEqual([5, 5]);
    expect(await pipelineVolumes()).toEqual([]);
  });

  it("names its own volume in every EC2 call, force-detaches it, and tags the worker's job with the pipeline", async () => {
    let describes = 0;
    const tasks = new TaskResolver()
      .batchJob(JOB_DEFINITION, () => ({}))
      .on("arn:aws:states:::aws-sdk:ec2:describeVolumes", async (call) => {
        const out = (await ec2.send(new DescribeVolumesCommand(call.parameters as never))) as any;
        if (call.stateName === "CleanupDescribe" && describes++ === 0)
          out.Volumes[0].Attachments = [{ InstanceId: "i-0123", State: "attached" }];
        return JSON.parse(JSON.stringify({ Volumes: out.Volumes }));
      })
      .on("arn:aws:states:::aws-sdk:ec2:detachVolume", () => ({}));
    const result = await executeStateMachine(definition, input(0), { tasks, executionName: "ebs-own-volume" });
    expect(result.status).toBe("SUCCEEDED");
    const volumeId = (result.output as { volumeId: string }).volumeId;
    const create = tasks.calls.find((c) => c.stateName === "CreateVolume")!.parameters as Record<string, unknown>;
    expect(create.TagSpecifications).toEqual([
      {
        ResourceType: "volume",
        Tags: [
          { Key: PIPELINE_TAG.key, Value: PIPELINE_TAG.value },
          { Key: "backup-actions:recovery-point", Value: recoveryPointArn },
          { Key: "backup-actions:managed", Value: "true" },
        ],
      },
    ]);
    const byState = (name: string) => tasks.calls.filter((c) => c.stateName === name).map((c) => c.parameters);
    for (const name of ["DescribeVolume", "CleanupDescribe"]) {
      expect(byState(name).length).toBeGreaterThan(0);
      for (const p of byState(name)) expect(p).toEqual({ VolumeIds: [volumeId] });
    }
    expect(byState("DetachVolume")).toEqual([{ VolumeId: volumeId, Force: true }]);
    expect(byState("DeleteVolume")).toEqual([{ VolumeId: volumeId }]);
    expect(byState("RunWorker")).toEqual([
      expect.objectContaining({ Tags: { [PIPELINE_TAG.key]: PIPELINE_TAG.value } }),
    ]);
    expect(await pipelineVolumes()).toEqual([]);
  });

  it.each(["Batch.AWSBatchException", "Batch.TooManyRequestsException"])(
    "retries a submitJob answered with %s, then runs the worker once",
    async (error) => {
      let runs = 0;
      const tasks = new TaskResolver()
        .injectFault({ resource: "arn:aws:states:::batch:submitJob.sync", calls: [1], error })
        .batchJob(JOB_DEFINITION, () => {
          runs++;
          return {};
        });
      const result = await executeStateMachine(definition, input(0), {
        tasks,
        executionName: `ebs-${error.replace(".", "-")}`,
      });
      expect(result.status).toBe("SUCCEEDED");
      expect(tasks.calls.filter((c) => c.stateName === "RunWorker")).toHaveLength(2);
      expect(runs).toBe(1);
      expect(await pipelineVolumes()).toEqual([]);
    },
  );
});
