import {
  AttachVolumeCommand,
  CreateVolumeCommand,
  DeleteVolumeCommand,
  DescribeImagesCommand,
  DescribeVolumesCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import { describeWithPrereqs } from "../../testing/prereq";
import { RuntimeConfigError } from "../../core/errors";
import { runJanitor } from "../../lambdas/janitor/logic";
import { motoMissing } from "../../testing/moto/availability";
import { withCapturedLogs } from "../helpers/logs";
import { janitorEnvironment } from "../../core/janitor-contract";
import { METRICS } from "../../core/metrics";

const TAG = { key: "backup-actions:pipeline", value: "janitor-test" };
const missing = motoMissing();

describeWithPrereqs("janitor against moto's EC2", missing, () => {
  const ec2 = new EC2Client({ region: "us-east-1" });
  const run = (now: Date, maxAgeHours: number) =>
    withCapturedLogs((logger) => runJanitor({ ec2, now: () => now, logger }, { pipelineTag: TAG, maxAgeHours }));
  const create = async (tags: Array<{ Key: string; Value: string }>) =>
    (
      await ec2.send(
        new CreateVolumeCommand({
          AvailabilityZone: "us-east-1a",
          Size: 1,
          VolumeType: "gp3",
          TagSpecifications: [{ ResourceType: "volume", Tags: tags }],
        }),
      )
    ).VolumeId!;
  const exists = async (id: string) =>
    ((await ec2.send(new DescribeVolumesCommand({ Filters: [{ Name: "volume-id", Values: [id] }] }))).Volumes ?? [])
      .length === 1;

  let leakedA: string, leakedB: string, foreign: string, otherPipeline: string;
  beforeAll(async () => {
    leakedA = await create([
      { Key: TAG.key, Value: TAG.value },
      { Key: "backup-actions:recovery-point", Value: "arn:aws:ec2:us-east-1::snapshot/snap-1" },
    ]);
    leakedB = await create([{ Key: TAG.key, Value: TAG.value }]);
    foreign = await create([{ Key: "team", Value: "db" }]);
    otherPipeline = await create([{ Key: TAG.key, Value: "another-install" }]);
  });

  it("keeps tagged volumes that may still belong to a running export", async () => {
    const { result: report } = await run(new Date(), 30);
    expect(report.deleted).toEqual([]);
    expect(report.kept.map((k) => k.reason)).toEqual(["younger than 30 h", "younger than 30 h"]);
    expect(await exists(leakedA)).toBe(true);
  });

  it("deletes this pipeline's unattached volumes once they outlived the longest export, and nothing else", async () => {
    const { result: report, lines } = await run(new Date(Date.now() + 48 * 3600_000), 30);
    expect(report.deleted.sort()).toEqual([leakedA, leakedB].sort());
    expect(report.failed).toEqual([]);
    expect(await exists(leakedA)).toBe(false);
    expect(await exists(leakedB)).toBe(false);
    expect(await exists(foreign)).toBe(true);
    expect(await exists(otherPipeline)).toBe(true);
    // Each line about a volume carries it and the recovery point it was restored from (or "unknown").
    const deletions = lines.filter((l) => l.message === "deleted leaked volume");
    expect(deletions.map((l) => [l.level, l.volumeId, l.recoveryPointId, l.recoveryPointArn]).sort()).toEqual(
      [
        ["INFO", leakedA, "snap-1", "arn:aws:ec2:us-east-1::snapshot/snap-1"],
        ["INFO", leakedB, "unknown", undefined],
      ].sort(),
    );
    // The run's summary names no volume; its counts become metrics in the handler (janitor-handler.test.ts).
    const summary = lines.at(-1)!;
    expect(summary).toMatchObject({ level: "INFO", message: "janitor run finished", failed: 0 });
    expect([...summary.deleted].sort()).toEqual([leakedA, leakedB].sort());
    expect(summary).not.toHaveProperty("volumeId");
    expect(summary).not.toHaveProperty("recoveryPointId");
    expect(summary).not.toHaveProperty("_aws");
  });

  it("refuses a non-positive age", async () => {
    const refused = run(new Date(), 0);
    await expect(refused).rejects.toThrow(RuntimeConfigError);
    await expect(refused).rejects.toThrow("maxAgeHours must be positive (got 0)");
  });

  it("keeps an old volume that is attached", async () => {
    const later = new Date(Date.now() + 48 * 3600_000);
    const image = (await ec2.send(new DescribeImagesCommand({ Owners: ["amazon"] }))).Images![0]!.ImageId!;
    const launch = new RunInstancesCommand({
      ImageId: image,
      MinCount: 1,
      MaxCount: 1,
      Placement: { AvailabilityZone: "us-east-1a" },
    });
    const instance = (await ec2.send(launch)).Instances![0]!.InstanceId!;
    const attached = await create([{ Key: TAG.key, Value: TAG.value }]);
    await ec2.send(new AttachVolumeCommand({ VolumeId: attached, InstanceId: instance, Device: "/dev/sdf" }));
    const { result: report } = await run(later, 30);
    expect(report.kept).toEqual([{ volumeId: attached, reason: "attached" }]);
    expect(await exists(attached)).toBe(true);
  });

  it("reports a volume it could not delete and goes on with the others", async () => {
    const later = new Date(Date.now() + 48 * 3600_000);
    const stuck = await create([{ Key: TAG.key, Value: TAG.value }]);
    const other = await create([{ Key: TAG.key, Value: TAG.value }]);
    // the fault: EC2 refuses to delete `stuck` (as it does for a volume that became attached meanwhile)
    const faulty = new EC2Client({ region: "us-east-1" });
    faulty.middlewareStack.add(
      (next) => async (args) => {
        const input = args.input as { VolumeId?: string };
        if (input.VolumeId === stuck) {
          throw Object.assign(new Error(`Volume ${stuck} is currently attached`), { name: "VolumeInUse" });
        }
        return next(args);
      },
      { step: "initialize", name: "injectVolumeInUse" },
    );
    const { result: report, lines: logs } = await withCapturedLogs((logger) =>
      runJanitor({ ec2: faulty, now: () => later, logger }, { pipelineTag: TAG, maxAgeHours: 30 }),
    );
    expect(report.failed).toEqual([{ volumeId: stuck, error: "VolumeInUse" }]);
    expect(report.deleted).toContain(other);
    expect(await exists(stuck)).toBe(true);
    expect(logs.find((l) => l.volumeId === stuck)).toMatchObject({
      level: "ERROR",
      message: "could not delete leaked volume",
    });
    expect(logs.at(-1)).toMatchObject({ message: "janitor run finished", failed: 1 });
    await ec2.send(new DeleteVolumeCommand({ VolumeId: stuck }));
  });

  it("the handler publishes what it removed as EMF (Powertools Metrics), zeros included", async () => {
    const env = {
      ...janitorEnvironment({ pipelineTag: { key: TAG.key, value: "janitor-handler-test" }, maxAgeHours: 30 }),
      BACKUP_ACTIONS_PIPELINE: "pipeline-111111111111-us-east-1",
      AWS_REGION: "us-east-1",
    };
    const saved = { ...process.env };
    Object.assign(process.env, env);
    let mod: typeof import("../../lambdas/janitor/handler") | undefined;
    try {
      jest.isolateModules(() => {
        // eslint-disable-next-line @typescript-eslint/no-require-imports -- jest.isolateModules needs a synchronous load
        mod = require("../../lambdas/janitor/handler");
      });
      // EMF goes to stdout (stderr may carry Node's warnings)
      const written: string[] = [];
      const out = jest.spyOn(process.stdout, "write").mockImplementation((c) => (written.push(String(c)), true));
      try {
        expect(await mod!.handler()).toEqual({ deleted: [], failed: 0 });
      } finally {
        out.mockRestore();
      }
      const emf = written
        .join("")
        .split("\n")
        .filter((l) => l.includes('"_aws"'))
        .map((l) => JSON.parse(l));
      expect(emf).toHaveLength(1);
      expect(emf[0]!._aws.CloudWatchMetrics).toEqual([
        {
          Namespace: "BackupActions",
          Dimensions: [["service", "Pipeline", "ResourceType"]],
          Metrics: [
            { Name: METRICS.janitorResourcesRemoved.name, Unit: "Count" },
            { Name: METRICS.janitorRemovalsFailed.name, Unit: "Count" },
          ],
        },
      ]);
      expect(emf[0]).toMatchObject({
        service: "backup-actions-janitor",
        Pipeline: "pipeline-111111111111-us-east-1",
        ResourceType: "ebs",
        JanitorResourcesRemoved: 0,
        JanitorRemovalsFailed: 0,
      });
    } finally {
      process.env = saved;
    }
  });
});
