import { BackupActionsError } from "./errors";

/**
 * The EBS direct read budget (ADR 0008). GetSnapshotBlock is limited per account and region (1,000 requests/s by
 * default, a quota shared by every caller of the account, not by snapshot); each export job reads with a token
 * bucket of its own, and jobs do not talk to each other. So the budget is split statically: every job gets the
 * account-wide budget divided by the most jobs the pipeline's Batch compute environments can run at once. When
 * fewer run, the quota is under-used, never exceeded; a throttle that still happens (another caller in the
 * account) is retried with backoff by the reader.
 */

/** Of the account's default 1,000 GetSnapshotBlock requests/s, what the pipeline takes by default: room for others. */
export const DEFAULT_DIRECT_READ_REQUESTS_PER_SECOND = 600;
/** Blocks in flight in one job (512 KiB each: 16 MiB of buffers). */
export const DEFAULT_DIRECT_READ_PARALLELISM = 32;

export interface DirectReadCapacity {
  /** vCPUs of each compute environment (worker.maxVcpus). */
  readonly maxVcpus: number;
  /** vCPUs of one job (worker.vcpus). */
  readonly jobVcpus: number;
  /** Compute environments jobs may run in at once: one per AZ, twice that with the on-demand fallback. */
  readonly computeEnvironments: number;
}

/** The most export jobs that can run at the same time. */
export function maxConcurrentJobs(c: DirectReadCapacity): number {
  return Math.max(1, Math.floor(c.maxVcpus / c.jobVcpus)) * c.computeEnvironments;
}

export class DirectReadBudgetError extends BackupActionsError {
  override readonly name: string = "DirectReadBudgetError";
}

/** Requests per second one job may send: floor(budget / max concurrent jobs); at least 1, else an error. */
export function directReadShare(requestsPerSecond: number, c: DirectReadCapacity): number {
  const jobs = maxConcurrentJobs(c);
  const share = Math.floor(requestsPerSecond / jobs);
  if (share < 1)
    throw new DirectReadBudgetError(
      `worker.directRead.requestsPerSecond ${requestsPerSecond} leaves less than 1 request/s to each of the ${jobs} ` +
        `jobs that can run at once (${c.computeEnvironments} compute environment(s) of ${c.maxVcpus} vCPUs, ` +
        `${c.jobVcpus} per job): raise it or lower worker.maxVcpus`,
    );
  return share;
}

/** The worker settings the per-job share follows from (config `worker`). */
export interface DirectReadWorker {
  readonly vcpus: number;
  readonly maxVcpus: number;
  readonly onDemandFallback: boolean;
  readonly directRead: { readonly requestsPerSecond: number };
}

/** directReadShare for a worker config in a network of `placementCount` AZs (one compute environment each, two with the fallback). */
export function workerDirectReadShare(worker: DirectReadWorker, placementCount: number): number {
  return directReadShare(worker.directRead.requestsPerSecond, {
    maxVcpus: worker.maxVcpus,
    jobVcpus: worker.vcpus,
    computeEnvironments: placementCount * (worker.onDemandFallback ? 2 : 1),
  });
}

/**
 * The shared budget (ADR 0008): each running direct-read job holds a lease item in the pipeline's lease table and
 * renews it every LEASE_HEARTBEAT_SECONDS; its rate is the budget divided by the live leases, never less than the
 * static share (the floor every job is guaranteed, directReadShare), re-read on every heartbeat.
 */
export const DIRECT_READ_LEASES = {
  /** Partition key (S): the quota the leases share; one value, GetSnapshotBlock's. */
  partitionKey: "quota",
  /** The one partition: every job of the pipeline shares this quota. */
  quota: "ebs:GetSnapshotBlock",
  /** Sort key (S): the Batch job id (AWS_BATCH_JOB_ID): a retried attempt takes over its predecessor's lease. */
  sortKey: "jobId",
  /** Number, epoch seconds: when the lease stops counting. Also the table's TTL attribute (cleanup only). */
  expiresAt: "expiresAt",
} as const;

/** Seconds between a job's renewals of its lease (and re-reads of the live count). */
export const LEASE_HEARTBEAT_SECONDS = 5;
/** Seconds a lease counts after its last renewal: a crashed job's lease stops counting this long after it died. */
export const LEASE_TTL_SECONDS = 30;

/** The lease table of a pipeline (created with readPath "direct"). */
export const directReadLeaseTableName = (pipelineName: string): string => `${pipelineName}-direct-read-leases`;

/**
 * Requests per second one job may send while `liveLeases` jobs (itself included) hold a lease:
 * floor(budget / live), never below the static share (every job's guarantee, which the budget covers for every job
 * that can run at once) nor above the budget.
 */
export function leasedShare(budget: number, liveLeases: number, staticShare: number): number {
  const share = Math.floor(budget / Math.max(1, liveLeases));
  return Math.min(budget, Math.max(staticShare, share));
}
