import { AttachVolumeCommand, DescribeInstancesCommand, DescribeVolumesCommand, DetachVolumeCommand, EC2Client, Volume } from "@aws-sdk/client-ec2";
import { parseArgs } from "node:util";
import { Cleanup } from "./cleanup";
import { DEFAULT_COMPRESSION_LEVEL, DEFAULT_CONCURRENCY, exportVolume, ExportOptions } from "./export-volume";
import { instanceIdentity, InstanceIdentity } from "./imds";
import { log } from "./log";
import { Manifest } from "../../core/manifest";
import { waitForNvmeDevice } from "./nvme";
import { parseTarget } from "./s3url";
import { openStore } from "./store";

/** Job parameters: command-line flags (Batch `Ref::` parameters) or environment variables. See batch-worker/README.md. */
export interface JobParams {
  volumeId: string;
  target: string;
  snapshotId?: string;
  compressionLevel: number;
  concurrency: number;
  attachTimeoutSeconds: number;
}

export class JobParamsError extends Error {
  override readonly name = "JobParamsError";
}

export function jobParams(argv: string[], env: NodeJS.ProcessEnv = process.env): JobParams {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      "volume-id": { type: "string" },
      to: { type: "string" },
      "snapshot-id": { type: "string" },
      "compression-level": { type: "string" },
      concurrency: { type: "string" },
    },
  });
  const volumeId = values["volume-id"] ?? env.BACKUP_ACTIONS_VOLUME_ID;
  const target = values.to ?? env.BACKUP_ACTIONS_TARGET;
  if (!volumeId || !/^vol-[0-9a-f]{8,17}$/.test(volumeId)) throw new JobParamsError(`a volume id (--volume-id or BACKUP_ACTIONS_VOLUME_ID) is required, got "${volumeId ?? ""}"`);
  if (!target) throw new JobParamsError("a target (--to or BACKUP_ACTIONS_TARGET, s3://BUCKET/PREFIX/) is required");
  parseTarget(target);
  const int = (v: string | undefined, name: string, def: number, min: number, max: number) => {
    if (v === undefined || v === "") return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max) throw new JobParamsError(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
    return n;
  };
  return {
    volumeId,
    target,
    snapshotId: values["snapshot-id"] ?? env.BACKUP_ACTIONS_SNAPSHOT_ID,
    compressionLevel: int(values["compression-level"] ?? env.BACKUP_ACTIONS_COMPRESSION_LEVEL, "compression level", DEFAULT_COMPRESSION_LEVEL, 1, 19),
    concurrency: int(values.concurrency ?? env.BACKUP_ACTIONS_CONCURRENCY, "concurrency", DEFAULT_CONCURRENCY, 1, 64),
    attachTimeoutSeconds: int(env.BACKUP_ACTIONS_ATTACH_TIMEOUT_SECONDS, "BACKUP_ACTIONS_ATTACH_TIMEOUT_SECONDS", 600, 10, 7200),
  };
}

export interface EntrypointDeps {
  ec2: EC2Client;
  identity: () => Promise<InstanceIdentity>;
  /** Finds the attached volume's block device (by NVMe serial in production). */
  findDevice: (volumeId: string, timeoutMs: number) => Promise<string>;
  runExport: (o: ExportOptions) => Promise<Manifest>;
  pollMs?: number;
}

export const defaultDeps = (): EntrypointDeps => ({
  ec2: new EC2Client({}),
  identity: () => instanceIdentity(),
  findDevice: (volumeId, timeoutMs) => waitForNvmeDevice(volumeId, { timeoutMs }),
  runExport: exportVolume,
});

async function describeVolume(ec2: EC2Client, volumeId: string): Promise<Volume> {
  const r = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }));
  const v = r.Volumes?.[0];
  if (!v) throw new Error(`volume ${volumeId} not found`);
  return v;
}

async function until<T>(what: string, timeoutMs: number, pollMs: number, check: () => Promise<T | undefined>): Promise<T> {
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
  const used = new Set((r.Reservations?.[0]?.Instances?.[0]?.BlockDeviceMappings ?? []).map((m) => m.DeviceName?.replace("/dev/sd", "/dev/xvd")));
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
    throw new Error(`volume ${p.volumeId} is in ${vol.AvailabilityZone}, this instance in ${me.availabilityZone}: the job queue must match the volume's AZ`);
  }
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
      (await describeVolume(deps.ec2, p.volumeId)).Attachments?.some((a) => a.InstanceId === me.instanceId && a.State === "attached") ? true : undefined,
    );
    const device = await deps.findDevice(p.volumeId, timeoutMs);
    log.info(`${p.volumeId} is ${device}`);
    // the export's own cleanup (mounts, loop devices) runs before the detach registered above
    return await deps.runExport({
      device,
      store: openStore(parseTarget(p.target)),
      compressionLevel: p.compressionLevel,
      concurrency: p.concurrency,
      volumeId: p.volumeId,
      snapshotId: p.snapshotId,
      cleanup,
    });
  } finally {
    await cleanup.runAll();
  }
}

async function detach(ec2: EC2Client, volumeId: string, instanceId: string, timeoutMs: number, pollMs: number): Promise<void> {
  await ec2.send(new DetachVolumeCommand({ VolumeId: volumeId, InstanceId: instanceId }));
  await until(`${volumeId} to detach`, timeoutMs, pollMs, async () => {
    const v = await describeVolume(ec2, volumeId);
    return v.State === "available" || !v.Attachments?.some((a) => a.InstanceId === instanceId) ? true : undefined;
  });
  log.info(`detached ${volumeId}`);
}
