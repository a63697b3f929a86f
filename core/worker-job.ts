/**
 * The contract between the Batch job definition of the EBS worker
 * (stacks/constructs/worker-job-definition.ts), the EBS state machine that submits the job
 * (stacks/workflows/ebs-export.ts) and the worker that reads it
 * (batch-worker/src/batch-entrypoint.ts): parameter names, command-line flags, environment
 * variable names, and the one parser. Both sides import these names, so they cannot drift.
 *
 * The state machine submits a job with the parameters below (`SubmitJob` `Parameters`); the
 * job definition substitutes them into the command as `Ref::<name>`, so they reach the worker
 * as flags. Settings that are the same for every job are environment variables.
 */
import { parseArgs } from "node:util";
import { BackupActionsError } from "./errors";
import { parseTarget } from "./s3-url";

/** Batch job parameters (`submitJob` `Parameters`), substituted into the command as `Ref::<name>`. */
export const WORKER_JOB_PARAMETERS = {
  /** The restored volume to export, `vol-…`, in the AZ of the queue the job runs in. */
  volumeId: "id of the restored EBS volume (vol-...)",
  /** Where the archive goes: `s3://<archive bucket>/<prefix>/` (the README's archive layout), ending in `/`. */
  targetUrl: "archive location, s3://<bucket>/<prefix>/",
  /** zstd level 1-19; the job definition's default is the config's `exports.compressionLevel`. */
  compressionLevel: "zstd level",
  /** The recovery point's snapshot, `snap-…`: recorded in the manifest; what a direct read reads. */
  snapshotId: "id of the snapshot being exported (snap-...)",
  /**
   * `volume`: `volumeId` was restored from the snapshot; `direct`: `volumeId` is a blank scratch volume the worker
   * fills with the snapshot's blocks through the EBS direct APIs first (ADR 0008). The job definition's default is
   * `volume`.
   */
  readPath: "volume | direct",
} as const;
export type WorkerJobParameter = keyof typeof WORKER_JOB_PARAMETERS;

/** `Parameters` of a SubmitJob Task: each job parameter, literal or as a JSONPath (`<name>.$`). */
export type WorkerJobParametersAsl = { readonly [K in WorkerJobParameter]?: string } & {
  readonly [K in WorkerJobParameter as `${K}.$`]?: string;
};

/** The worker's command-line flags. */
export const WORKER_FLAGS = {
  volumeId: "volume-id",
  target: "to",
  snapshotId: "snapshot-id",
  compressionLevel: "compression-level",
  concurrency: "concurrency",
  readPath: "read-path",
} as const;

/** One argument of the worker's command: a flag it parses, or a job parameter Batch substitutes. */
type WorkerCommandArg = `--${(typeof WORKER_FLAGS)[keyof typeof WORKER_FLAGS]}` | `Ref::${WorkerJobParameter}`;

/**
 * Arguments to the image's ENTRYPOINT (`node /app/worker.js`, batch-worker/Dockerfile):
 * Batch's `command` replaces the image's CMD, never its ENTRYPOINT.
 */
export const WORKER_COMMAND = [
  `--${WORKER_FLAGS.volumeId}`,
  "Ref::volumeId",
  `--${WORKER_FLAGS.target}`,
  "Ref::targetUrl",
  `--${WORKER_FLAGS.compressionLevel}`,
  "Ref::compressionLevel",
  `--${WORKER_FLAGS.snapshotId}`,
  "Ref::snapshotId",
  `--${WORKER_FLAGS.readPath}`,
  "Ref::readPath",
] satisfies readonly WorkerCommandArg[];

/**
 * Environment of every job. `VOLUME_ID` and `TARGET` are not set by the job definition (it
 * cannot substitute parameters into the environment); a submitter may set them through
 * `ContainerOverrides.Environment` instead of the parameters.
 */
export const WORKER_ENVIRONMENT = {
  /** zstd level, 1-19 (config `exports.compressionLevel`). */
  compressionLevel: "BACKUP_ACTIONS_COMPRESSION_LEVEL",
  /** Parts of the S3 multipart upload in flight at once (fewer when big parts exceed the part memory). */
  uploadConcurrency: "BACKUP_ACTIONS_CONCURRENCY",
  /** The job's vCPUs: zstd's threads (Batch gives CPU shares, not a quota the worker could read). */
  vcpus: "BACKUP_ACTIONS_VCPUS",
  /** MiB of the job's memory for upload part buffers (core/worker-limits.ts partBufferBudgetMiB). */
  partMemoryMiB: "BACKUP_ACTIONS_PART_MEMORY_MIB",
  volumeId: "BACKUP_ACTIONS_VOLUME_ID",
  target: "BACKUP_ACTIONS_TARGET",
  snapshotId: "BACKUP_ACTIONS_SNAPSHOT_ID",
  /** Seconds to wait for the volume to attach (and detach). */
  attachTimeoutSeconds: "BACKUP_ACTIONS_ATTACH_TIMEOUT_SECONDS",
  /**
   * EBS direct API requests per second this job may always send: its static share of the account's budget
   * (config `worker.directRead.requestsPerSecond` divided by the most jobs that can run at once, ADR 0008). With a
   * lease table it is the floor: the job's rate is the budget divided by the live leases, never less than this.
   */
  directReadRequestsPerSecond: "BACKUP_ACTIONS_DIRECT_READ_RPS",
  /** The whole budget the leases share (config `worker.directRead.requestsPerSecond`); with the lease table only. */
  directReadBudget: "BACKUP_ACTIONS_DIRECT_READ_BUDGET",
  /** The pipeline's lease table (core/direct-read.ts DIRECT_READ_LEASES); unset: the static share only. */
  directReadLeaseTable: "BACKUP_ACTIONS_DIRECT_READ_LEASE_TABLE",
  /** Set by Batch in every job's container: the job's id, the key of its lease. */
  jobId: "AWS_BATCH_JOB_ID",
  /** Snapshot blocks in flight in one job (config `worker.directRead.parallelism`). */
  directReadParallelism: "BACKUP_ACTIONS_DIRECT_READ_PARALLELISM",
  /** Set by Batch in every job's container: the attempt's number, 1 first (a Spot reclaim's retry is 2, …). */
  attempt: "AWS_BATCH_JOB_ATTEMPT",
} as const;

export const READ_PATHS = ["volume", "direct"] as const;
export type ReadPath = (typeof READ_PATHS)[number];

/** Job parameters: command-line flags (Batch `Ref::` parameters) or environment variables. See batch-worker/README.md. */
export interface JobParams {
  volumeId: string;
  target: string;
  snapshotId?: string;
  compressionLevel: number;
  concurrency: number;
  attachTimeoutSeconds: number;
  /** How the volume holds the snapshot (WORKER_JOB_PARAMETERS.readPath). */
  readPath: ReadPath;
  /** Batch's attempt number (1 unless a Spot reclaim retried the job). */
  attempt: number;
  /** The direct read's budget; only with readPath `direct`. */
  directRead?: { requestsPerSecond: number; parallelism: number; lease?: DirectReadLease };
}

/** The shared budget's lease (ADR 0008): present when the job definition names a lease table. */
export interface DirectReadLease {
  /** The lease table's name. */
  table: string;
  /** Requests per second all the pipeline's jobs share (requestsPerSecond above is this job's floor). */
  budget: number;
  /** This job's lease key (Batch's job id). */
  jobId: string;
}

export class JobParamsError extends BackupActionsError {
  override readonly name: string = "JobParamsError";
}

/** What the worker uses when neither a flag nor the environment says. */
export interface JobDefaults {
  readonly compressionLevel: number;
  readonly concurrency: number;
  readonly directRead: { readonly requestsPerSecond: number; readonly parallelism: number };
}

/** Reads the job from flags, else the environment; throws JobParamsError naming the bad flag or variable. */
export function parseJobParams(argv: string[], env: NodeJS.ProcessEnv, defaults: JobDefaults): JobParams {
  const { values } = parseArgs({
    args: argv,
    strict: true,
    options: {
      [WORKER_FLAGS.volumeId]: { type: "string" },
      [WORKER_FLAGS.target]: { type: "string" },
      [WORKER_FLAGS.snapshotId]: { type: "string" },
      [WORKER_FLAGS.compressionLevel]: { type: "string" },
      [WORKER_FLAGS.concurrency]: { type: "string" },
      [WORKER_FLAGS.readPath]: { type: "string" },
    },
  });
  const flag = (name: string) => (values as Record<string, string | undefined>)[name];
  const E = WORKER_ENVIRONMENT;
  const volumeId = flag(WORKER_FLAGS.volumeId) ?? env[E.volumeId];
  const target = flag(WORKER_FLAGS.target) ?? env[E.target];
  if (!volumeId || !/^vol-[0-9a-f]{8,17}$/.test(volumeId)) {
    throw new JobParamsError(
      `a volume id (--${WORKER_FLAGS.volumeId} or ${E.volumeId}) is required, got "${volumeId ?? ""}"`,
    );
  }
  if (!target)
    throw new JobParamsError(`a target (--${WORKER_FLAGS.target} or ${E.target}, s3://BUCKET/PREFIX/) is required`);
  parseTarget(target);
  const int = (v: string | undefined, name: string, def: number, min: number, max: number) => {
    if (v === undefined || v === "") return def;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min || n > max)
      throw new JobParamsError(`${name} must be an integer from ${min} to ${max}, got "${v}"`);
    return n;
  };
  const level = flag(WORKER_FLAGS.compressionLevel) ?? env[E.compressionLevel];
  // Batch substitutes a parameter the submission left out with the job definition's default: "" for snapshotId.
  const snapshotId = flag(WORKER_FLAGS.snapshotId) || env[E.snapshotId] || undefined;
  const readPath = flag(WORKER_FLAGS.readPath) || "volume";
  if (!(READ_PATHS as readonly string[]).includes(readPath))
    throw new JobParamsError(`--${WORKER_FLAGS.readPath} must be "volume" or "direct", got "${readPath}"`);
  if (readPath === "direct" && !/^snap-[0-9a-f]{8,17}$/.test(snapshotId ?? ""))
    throw new JobParamsError(
      `--${WORKER_FLAGS.readPath} direct needs the snapshot to read: --${WORKER_FLAGS.snapshotId} snap-..., got "${snapshotId ?? ""}"`,
    );
  return {
    volumeId,
    target,
    snapshotId,
    compressionLevel: int(level, "compression level", defaults.compressionLevel, 1, 19),
    concurrency: int(
      flag(WORKER_FLAGS.concurrency) ?? env[E.uploadConcurrency],
      "concurrency",
      defaults.concurrency,
      1,
      64,
    ),
    attachTimeoutSeconds: int(env[E.attachTimeoutSeconds], E.attachTimeoutSeconds, 600, 10, 7200),
    attempt: int(env[E.attempt], E.attempt, 1, 1, 10),
    readPath: readPath as ReadPath,
    ...(readPath === "direct"
      ? {
          directRead: {
            requestsPerSecond: int(
              env[E.directReadRequestsPerSecond],
              E.directReadRequestsPerSecond,
              defaults.directRead.requestsPerSecond,
              1,
              10_000,
            ),
            parallelism: int(
              env[E.directReadParallelism],
              E.directReadParallelism,
              defaults.directRead.parallelism,
              1,
              256,
            ),
            ...leaseOf(env),
          },
        }
      : {}),
  };
}

/** The lease settings, when the job definition names a lease table; JobParamsError naming what is wrong. */
function leaseOf(env: NodeJS.ProcessEnv): { lease?: DirectReadLease } {
  const E = WORKER_ENVIRONMENT;
  const table = env[E.directReadLeaseTable];
  if (table === undefined || table === "") return {};
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(table))
    throw new JobParamsError(`${E.directReadLeaseTable} must be a DynamoDB table name, got "${table}"`);
  const raw = env[E.directReadBudget];
  if (raw === undefined || !/^\d+$/.test(raw) || Number(raw) < 1 || Number(raw) > 10_000)
    throw new JobParamsError(
      `${E.directReadBudget} must be an integer from 1 to 10000 with ${E.directReadLeaseTable}, got "${raw ?? ""}"`,
    );
  const jobId = env[E.jobId];
  if (!jobId)
    throw new JobParamsError(`${E.directReadLeaseTable} needs ${E.jobId} (Batch sets it): the key of the job's lease`);
  return { lease: { table, budget: Number(raw), jobId } };
}
