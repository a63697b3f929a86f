import {
  AttachVolumeCommand,
  DescribeInstancesCommand,
  DescribeVolumesCommand,
  DetachVolumeCommand,
  EC2Client,
  Volume,
} from "@aws-sdk/client-ec2";
import { instrumented } from "../../core/aws-client-hook";
import { SCRATCH_TAG_KEY } from "../../core/tags";
import { Cleanup } from "./cleanup";
import { DEFAULT_COMPRESSION_LEVEL, DEFAULT_CONCURRENCY, exportVolume, ExportOptions } from "./export-volume";
import { DEFAULT_BLOCK_CONCURRENCY, DEFAULT_RATE, exportSnapshot, SnapshotExportOptions } from "./export-snapshot";
import { instanceIdentity, InstanceIdentity } from "./imds";
import { log } from "./log";
import { Manifest } from "../../core/manifest";
import { waitForNvmeDevice } from "./nvme";
import { parseTarget } from "../../core/s3-url";
import { openStore } from "./store";
import { JobParams, JobParamsError, parseJobParams } from "../../core/worker-job";

export { JobParamsError } from "../../core/worker-job";
export type { JobParams } from "../../core/worker-job";

/** The job as Batch passes it (core/worker-job.ts is the contract with the job definition). */
export function jobParams(argv: string[], env: NodeJS.ProcessEnv = process.env): JobParams {
  return parseJobParams(argv, env, {
    compressionLevel: DEFAULT_COMPRESSION_LEVEL,
    concurrency: DEFAULT_CONCURRENCY,
    directRead: { requestsPerSecond: DEFAULT_RATE, parallelism: DEFAULT_BLOCK_CONCURRENCY },
  });
}

export interface EntrypointDeps {
  ec2: EC2Client;
  identity: () => Promise<InstanceIdentity>;
  /** Finds the attached volume's block device (by NVMe serial in production). */
  findDevice: (volumeId: string, timeoutMs: number) => Promise<string>;
  runExport: (o: ExportOptions) => Promise<Manifest>;
  /** readPath `direct`: fills the scratch from the snapshot, then exports it. @default exportSnapshot */
  runSnapshotExport?: (o: SnapshotExportOptions) => Promise<Manifest>;
  pollMs?: number;
}

export const defaultDeps = (): EntrypointDeps => ({
  ec2: instrumented(new EC2Client({})),
  identity: () => instanceIdentity(),
  findDevice: (volumeId, timeoutMs) => waitForNvmeDevice(volumeId, { timeoutMs }),
  runExport: exportVolume,
  runSnapshotExport: exportSnapshot,
});

async function describeVolume(ec2: EC2Client, volumeId: string): Promise<Volume> {
  const r = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }));
  const v = r.Volumes?.[0];
  if (!v) throw new Error(`volume ${volumeId} not found`);
  return v;
}

async function until<T>(
  what: string,
  timeoutMs: number,
  pollMs: number,
  check: () => Promise<T | undefined>,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await check();
    if (r !== undefined) return r;
    if (Date.now() > deadline) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((res) => setTimeout(res, pollMs));
  }
}

/** Device-name hints for AttachVolume: NVMe ignores the name, but EC2 still wants an unused one. */
const HINTS = "fghijklmnop".split("").map((c) => `/dev/xvd${c}`);

async function attach(ec2: EC2Client, volumeId: string, instanceId: string): Promise<void> {
  const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instanceId] }));
  const used = new Set(
    (r.Reservations?.[0]?.Instances?.[0]?.BlockDeviceMappings ?? []).map((m) =>
      m.DeviceName?.replace("/dev/sd", "/dev/xvd"),
    ),
  );
  let lastError: unknown;
  for (const hint of HINTS.filter((h) => !used.has(h))) {
    try {
      await ec2.send(new AttachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId, Device: hint }));
      log.info(`attaching ${volumeId} to ${instanceId} (device hint ${hint})`);
      return;
    } catch (e) {
      lastError = e;
      // another job on the same host took this name a moment ago: try the next one
      if (!/already in use|InvalidParameterValue/i.test(`${(e as Error).name} ${(e as Error).message}`)) throw e;
    }
  }
  throw new Error(`no free device name to attach ${volumeId}: ${(lastError as Error)?.message}`);
}

/**
 * The Batch job: attach the restored volume to this instance, find it by NVMe serial, export it,
 * and detach it on every path (success, failure, SIGTERM) so the state machine can delete it.
 */
export async function runBatchJob(p: JobParams, deps: EntrypointDeps, cleanup = new Cleanup()): Promise<Manifest> {
  const pollMs = deps.pollMs ?? 2000;
  const timeoutMs = p.attachTimeoutSeconds * 1000;
  const me = await deps.identity();
  log.info(`instance ${me.instanceId} in ${me.availabilityZone}; volume ${p.volumeId} -> ${p.target}`);
  const vol = await describeVolume(deps.ec2, p.volumeId);
  if (vol.AvailabilityZone !== me.availabilityZone) {
    throw new Error(
      `volume ${p.volumeId} is in ${vol.AvailabilityZone}, this instance in ${me.availabilityZone}: the job queue must match the volume's AZ`,
    );
  }
  const resume = p.readPath === "direct" ? checkScratchVolume(p, vol) : false;
  const attachedHere = vol.Attachments?.some((a) => a.InstanceId === me.instanceId);
  try {
    if (!attachedHere) {
      // a previous attempt on another (interrupted Spot) instance may still hold it
      await until(`${p.volumeId} to become available`, timeoutMs, pollMs, async () =>
        (await describeVolume(deps.ec2, p.volumeId)).State === "available" ? true : undefined,
      );
      await attach(deps.ec2, p.volumeId, me.instanceId);
    }
    cleanup.add(`detach ${p.volumeId}`, () => detach(deps.ec2, p.volumeId, me.instanceId, timeoutMs, pollMs));
    await until(`${p.volumeId} to be attached`, timeoutMs, pollMs, async () =>
      (await describeVolume(deps.ec2, p.volumeId)).Attachments?.some(
        (a) => a.InstanceId === me.instanceId && a.State === "attached",
      )
        ? true
        : undefined,
    );
    const device = await deps.findDevice(p.volumeId, timeoutMs);
    log.info(`${p.volumeId} is ${device}`);
    // the export's own cleanup (mounts, loop devices) runs before the detach registered above
    const common = {
      store: openStore(parseTarget(p.target)),
      compressionLevel: p.compressionLevel,
      concurrency: p.concurrency,
      volumeId: p.volumeId,
      cleanup,
    };
    if (p.readPath === "direct") {
      return await (deps.runSnapshotExport ?? exportSnapshot)({
        ...common,
        snapshotId: p.snapshotId!,
        scratch: device,
        resume,
        rate: p.directRead?.requestsPerSecond,
        blockConcurrency: p.directRead?.parallelism,
        lease: p.directRead?.lease,
      });
    }
    return await deps.runExport({ ...common, device, snapshotId: p.snapshotId });
  } finally {
    await cleanup.runAll();
  }
}

/**
 * A direct read's scratch must be a blank volume the EBS child made for this snapshot: not restored from a
 * snapshot, tagged as the scratch of this one. Returns whether the worker may resume over data on it: only on a
 * retried attempt (a Spot reclaim), whose predecessor wrote this snapshot's blocks there; a first attempt must find
 * the volume blank (export-snapshot.ts checks the device).
 */
function checkScratchVolume(p: JobParams, vol: Volume): boolean {
  if (vol.SnapshotId)
    throw new JobParamsError(
      `--read-path direct: volume ${p.volumeId} was created from ${vol.SnapshotId}; a direct read needs a blank scratch volume`,
    );
  const scratchOf = vol.Tags?.find((t) => t.Key === SCRATCH_TAG_KEY)?.Value;
  const ours = scratchOf === p.snapshotId;
  if (p.attempt > 1 && !ours)
    log.warn(`${p.volumeId}: tag ${SCRATCH_TAG_KEY} is "${scratchOf ?? ""}", not ${p.snapshotId}: not resuming`);
  return p.attempt > 1 && ours;
}

async function detach(
  ec2: EC2Client,
  volumeId: string,
  instanceId: string,
  timeoutMs: number,
  pollMs: number,
): Promise<void> {
  await ec2.send(new DetachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId }));
  await until(`${volumeId} to detach`, timeoutMs, pollMs, async () => {
    const v = await describeVolume(ec2, volumeId);
    return v.State === "available" || !v.Attachments?.some((a) => a.InstanceId === instanceId) ? true : undefined;
  });
  log.info(`detached ${volumeId}`);
}
