import {
  CreateSnapshotCommand,
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeVolumesCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import http from "node:http";
import { AddressInfo } from "node:net";
import { jobParams, runBatchJob } from "../../batch-worker/src/batch-entrypoint";
import { instanceIdentity } from "../../batch-worker/src/imds";
import { exportVolume } from "../../batch-worker/src/export-volume";
import { S3Store, makeS3Client } from "../../batch-worker/src/store";
import { verifyExport } from "../../batch-worker/src/verify";
import { describeWithPrereqs, motoMissing, newBucket } from "./helpers";
// At merge: import from "../../testing/fixtures/disks".
import { createDiskFixture, diskPrerequisites } from "../../testing/fixtures/disks";

/** A fake IMDSv2: answers only with the session token it handed out. */
async function fakeImds(instanceId: string, az: string): Promise<{ url: string; close: () => void }> {
  const token = "tok-123";
  const server = http.createServer((req, res) => {
    if (req.method === "PUT" && req.url === "/latest/api/token" && req.headers["x-aws-ec2-metadata-token-ttl-seconds"])
      res.end(token);
    else if (req.headers["x-aws-ec2-metadata-token"] !== token) res.writeHead(401).end();
    else if (req.url === "/latest/meta-data/instance-id") res.end(instanceId);
    else if (req.url === "/latest/meta-data/placement/availability-zone") res.end(az);
    else res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, close: () => server.close() };
}

describe("job parameters", () => {
  it("come from flags or environment, with defaults", () => {
    expect(
      jobParams([], { BACKUP_ACTIONS_VOLUME_ID: "vol-0123456789abcdef0", BACKUP_ACTIONS_TARGET: "s3://bkt/p/" }),
    ).toEqual({
      volumeId: "vol-0123456789abcdef0",
      target: "s3://bkt/p/",
      snapshotId: undefined,
      compressionLevel: 3,
      concurrency: 4,
      attachTimeoutSeconds: 600,
      attempt: 1,
      readPath: "volume",
    });
    expect(
      jobParams(["--volume-id", "vol-0aaaaaaaaaaaaaaaa", "--to", "s3://bkt/x/", "--concurrency", "8"], {}),
    ).toMatchObject({
      volumeId: "vol-0aaaaaaaaaaaaaaaa",
      concurrency: 8,
    });
  });

  it("reject a missing volume, a bad target and out-of-range numbers", () => {
    expect(() => jobParams([], { BACKUP_ACTIONS_TARGET: "s3://bkt/p/" })).toThrow(/volume id .* is required/);
    expect(() => jobParams(["--volume-id", "vol-0123456789abcdef0", "--to", "/tmp"], {})).toThrow(/unsupported target/);
    expect(() =>
      jobParams(["--volume-id", "vol-0123456789abcdef0", "--to", "s3://bkt/p/", "--compression-level", "30"], {}),
    ).toThrow(/compression level must be an integer from 1 to 19/);
  });
});

describeWithPrereqs(
  "Batch entrypoint against moto EC2 + S3",
  [...motoMissing(), ...diskPrerequisites().missing],
  () => {
    jest.setTimeout(120_000);
    let ec2: EC2Client;
    let instanceId: string;
    const az = "us-east-1a";
    let imds: { url: string; close: () => void };

    beforeAll(async () => {
      ec2 = new EC2Client({});
      const images = await ec2.send(new DescribeImagesCommand({}));
      const r = await ec2.send(
        new RunInstancesCommand({
          ImageId: images.Images![0].ImageId!,
          MinCount: 1,
          MaxCount: 1,
          InstanceType: "m6i.large",
          Placement: { AvailabilityZone: az },
        }),
      );
      instanceId = r.Instances![0].InstanceId!;
      imds = await fakeImds(instanceId, az);
    });
    afterAll(() => imds?.close());

    it("reads identity through IMDSv2", async () => {
      await expect(instanceIdentity(imds.url)).resolves.toEqual({ instanceId, availabilityZone: az });
    });

    async function newVolume(): Promise<string> {
      return (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: az, Size: 1, VolumeType: "gp3" }))).VolumeId!;
    }

    it("attaches the volume, exports the device found for it, and detaches", async () => {
      const fx = await createDiskFixture("ext4");
      try {
        const volumeId = await newVolume();
        const bucket = await newBucket();
        const seen: string[] = [];
        const manifest = await runBatchJob(
          {
            volumeId,
            target: `s3://${bucket}/ebs/${volumeId}/`,
            compressionLevel: 3,
            concurrency: 2,
            attachTimeoutSeconds: 30,
            readPath: "volume",
            attempt: 1,
            snapshotId: "snap-0123",
          },
          {
            ec2,
            identity: () => instanceIdentity(imds.url),
            findDevice: async (id) => {
              // the kernel side: by now EC2 must report the volume attached to this instance
              const v = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [id] }))).Volumes![0];
              seen.push(`${v.Attachments?.[0]?.InstanceId}:${v.Attachments?.[0]?.State}`);
              return fx.device;
            },
            runExport: exportVolume,
            pollMs: 50,
          },
        );
        expect(seen).toEqual([`${instanceId}:attached`]);
        expect(manifest.device).toMatchObject({ volumeId, snapshotId: "snap-0123" });
        await expect(verifyExport(new S3Store(makeS3Client(), bucket, `ebs/${volumeId}/`))).resolves.toMatchObject({
          ok: true,
        });
        const after = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes![0];
        expect(after.State).toBe("available");
        expect(after.Attachments ?? []).toEqual([]);
      } finally {
        await fx.cleanup();
      }
    });

    it("detaches the volume when the export fails", async () => {
      const volumeId = await newVolume();
      await expect(
        runBatchJob(
          {
            volumeId,
            target: "s3://no-such-bucket-xyz/p/",
            compressionLevel: 3,
            concurrency: 2,
            attachTimeoutSeconds: 30,
            readPath: "volume",
            attempt: 1,
          },
          {
            ec2,
            identity: () => instanceIdentity(imds.url),
            findDevice: async () => "/dev/null",
            runExport: async () => {
              throw new Error("tar failed (exit 2)");
            },
            pollMs: 50,
          },
        ),
      ).rejects.toThrow("tar failed (exit 2)");
      const after = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes![0];
      expect(after.State).toBe("available");
    });

    it("refuses a volume in another AZ", async () => {
      const volumeId = (await ec2.send(new CreateVolumeCommand({ AvailabilityZone: "us-east-1b", Size: 1 }))).VolumeId!;
      await expect(
        runBatchJob(
          {
            volumeId,
            target: "s3://bkt/p/",
            compressionLevel: 3,
            concurrency: 2,
            attachTimeoutSeconds: 30,
            readPath: "volume",
            attempt: 1,
          },
          {
            ec2,
            identity: () => instanceIdentity(imds.url),
            findDevice: async () => "/dev/null",
            runExport: exportVolume,
            pollMs: 50,
          },
        ),
      ).rejects.toThrow(/is in us-east-1b, this instance in us-east-1a/);
    });

    describe("a direct read (--read-path direct)", () => {
      const SNAP = "snap-0123456789abcdef0";
      const direct = (volumeId: string, attempt: number) => ({
        volumeId,
        target: "s3://bkt/p/",
        compressionLevel: 3,
        concurrency: 2,
        attachTimeoutSeconds: 30,
        readPath: "direct" as const,
        snapshotId: SNAP,
        attempt,
        directRead: { requestsPerSecond: 18, parallelism: 8 },
      });
      const scratch = async (scratchOf?: string) =>
        (
          await ec2.send(
            new CreateVolumeCommand({
              AvailabilityZone: az,
              Size: 1,
              VolumeType: "gp3",
              ...(scratchOf
                ? {
                    TagSpecifications: [
                      { ResourceType: "volume", Tags: [{ Key: "backup-actions:scratch-of", Value: scratchOf }] },
                    ],
                  }
                : {}),
            }),
          )
        ).VolumeId!;
      /** Runs the job with a stand-in for the hydration and export; returns what it was given. */
      const run = async (p: ReturnType<typeof direct>) => {
        const given: Array<Record<string, unknown>> = [];
        await runBatchJob(p, {
          ec2,
          identity: () => instanceIdentity(imds.url),
          findDevice: async () => "/dev/loop-scratch",
          runExport: async () => {
            throw new Error("a direct read must not export the volume as restored");
          },
          runSnapshotExport: async (o) => {
            given.push({
              scratch: o.scratch,
              snapshotId: o.snapshotId,
              resume: o.resume,
              rate: o.rate,
              blocks: o.blockConcurrency,
            });
            return {} as never;
          },
          pollMs: 50,
        });
        return given;
      };

      it("fills the attached scratch with the job's budget; a first attempt never resumes", async () => {
        expect(await run(direct(await scratch(SNAP), 1))).toEqual([
          { scratch: "/dev/loop-scratch", snapshotId: SNAP, resume: false, rate: 18, blocks: 8 },
        ]);
      });

      it("resumes only a retried attempt's own scratch: tagged as the scratch of this snapshot", async () => {
        expect((await run(direct(await scratch(SNAP), 2)))[0]).toMatchObject({ resume: true });
        expect((await run(direct(await scratch("snap-0fffffffffffffff0"), 2)))[0]).toMatchObject({ resume: false });
        expect((await run(direct(await scratch(), 2)))[0]).toMatchObject({ resume: false });
      });

      it("refuses a volume made from a snapshot, before attaching it", async () => {
        const source = await newVolume();
        const snap = await ec2.send(new CreateSnapshotCommand({ VolumeId: source }));
        const restored = (
          await ec2.send(new CreateVolumeCommand({ AvailabilityZone: az, SnapshotId: snap.SnapshotId! }))
        ).VolumeId!;
        await expect(run(direct(restored, 1))).rejects.toThrow(
          `--read-path direct: volume ${restored} was created from ${snap.SnapshotId}; a direct read needs a blank scratch volume`,
        );
        const after = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [restored] }))).Volumes![0]!;
        expect(after.Attachments ?? []).toEqual([]);
      });
    });
  },
);
