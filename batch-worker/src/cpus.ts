/**
 * How many CPUs this job may use, for zstd's `-T`. `zstd -T0` counts the host's cores: on a
 * 48-core Spot host running a 4-vCPU job it starts 48 workers that compete with tar and the
 * uploader for 4 CPUs' worth of time (and take 48 workers' memory).
 *
 * AWS Batch on EC2 turns a job's VCPU requirement into CPU shares (1,024 per vCPU, a relative
 * weight), not a quota, so the cgroup alone does not say how many CPUs the job was given: the job
 * definition passes its vCPUs in BACKUP_ACTIONS_VCPUS. The smallest of what is known wins:
 * - BACKUP_ACTIONS_VCPUS (the job definition's VCPU requirement);
 * - cgroup v2 `cpu.max` "<quota> <period>" (quota "max" = no limit), rounded up;
 * - cgroup v1 `cpu/cpu.cfs_quota_us` / `cpu.cfs_period_us` (quota -1 = no limit), rounded up;
 * - the CPUs this process may run on (os.availableParallelism(): affinity and cpusets), like nproc.
 */
import { readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { WORKER_ENVIRONMENT } from "../../core/worker-job";
import { BackupActionsError } from "../../core/errors";

export const VCPUS_ENV = WORKER_ENVIRONMENT.vcpus;

export interface CpuSources {
  readonly env?: NodeJS.ProcessEnv;
  /** Mount point of the cgroup filesystem. @default /sys/fs/cgroup */
  readonly cgroupRoot?: string;
  /** @default os.availableParallelism() */
  readonly availableParallelism?: number;
}

export interface JobCpus {
  readonly cpus: number;
  /** Where the figure came from, for the log. */
  readonly source: string;
}

export class CpuLimitError extends BackupActionsError {
  override readonly name: string = "CpuLimitError";
}

function readOptional(file: string): string | undefined {
  try {
    return readFileSync(file, "utf8").trim();
  } catch {
    return undefined;
  }
}

/** CPUs granted by a cgroup v2 `cpu.max` line; undefined when unlimited or absent. */
export function cpusFromCpuMax(line: string | undefined): number | undefined {
  if (line === undefined) return undefined;
  const [quota, period = "100000"] = line.split(/\s+/);
  if (quota === "max") return undefined;
  const q = Number(quota);
  const p = Number(period);
  if (!Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return undefined;
  return Math.max(1, Math.ceil(q / p));
}

/** CPUs granted by cgroup v1 CFS quota and period; undefined when unlimited (-1) or absent. */
export function cpusFromCfs(quota: string | undefined, period: string | undefined): number | undefined {
  if (quota === undefined || period === undefined) return undefined;
  const q = Number(quota);
  const p = Number(period);
  if (!Number.isFinite(q) || !Number.isFinite(p) || q <= 0 || p <= 0) return undefined;
  return Math.max(1, Math.ceil(q / p));
}

export function jobCpus(sources: CpuSources = {}): JobCpus {
  const env = sources.env ?? process.env;
  const root = sources.cgroupRoot ?? "/sys/fs/cgroup";
  const candidates: JobCpus[] = [];

  const declared = env[VCPUS_ENV];
  if (declared !== undefined && declared !== "") {
    const n = Number(declared);
    if (!Number.isInteger(n) || n < 1)
      throw new CpuLimitError(`${VCPUS_ENV} must be a positive whole number, got "${declared}"`);
    candidates.push({ cpus: n, source: VCPUS_ENV });
  }
  const v2 = cpusFromCpuMax(readOptional(path.join(root, "cpu.max")));
  if (v2 !== undefined) candidates.push({ cpus: v2, source: `${path.join(root, "cpu.max")} quota` });
  const v1Dir = path.join(root, "cpu");
  const v1 = cpusFromCfs(
    readOptional(path.join(v1Dir, "cpu.cfs_quota_us")),
    readOptional(path.join(v1Dir, "cpu.cfs_period_us")),
  );
  if (v1 !== undefined) candidates.push({ cpus: v1, source: `${v1Dir} CFS quota` });
  const parallelism = sources.availableParallelism ?? os.availableParallelism();
  candidates.push({ cpus: Math.max(1, parallelism), source: "available parallelism (nproc)" });

  return candidates.reduce((a, b) => (b.cpus < a.cpus ? b : a));
}
