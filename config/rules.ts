/**
 * Rules that relate two or more keys. They run on the raw input next to the schema
 * (not as a zod refinement, which zod skips once any other key is wrong), so one run
 * reports every problem in the file.
 */
import { partitionOf } from "../core/partition";
import {
  MIN_PART_BUFFERS,
  partSizeMiBFor,
  readHours,
  readRateMiBps,
  requiredTimeoutHours,
  WORKER_BASE_RESERVE_MIB,
  WORKER_RESERVE_PER_VCPU_MIB,
} from "../core/worker-limits";
import { drillProblems } from "./drill-rules";
import { ConfigProblem, DEFAULT_MAX_VOLUME_GIB, DEFAULT_RECONCILER, isObject } from "./schema";

/** S3 Glacier Flexible Retrieval bills at least 90 days; Deep Archive at least 180. */
export const GLACIER_MINIMUM_DAYS = 90;
export const DEEP_ARCHIVE_MINIMUM_DAYS = 180;

const isDays = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v) && v > 0;

export function lifecycleProblems(raw: unknown): ConfigProblem[] {
  if (!isObject(raw) || !isObject(raw.lifecycleRules)) return [];
  const { glacier, deepArchive, expiration } = raw.lifecycleRules;
  const problems: ConfigProblem[] = [];
  if (isDays(glacier) && isDays(deepArchive) && deepArchive < glacier + GLACIER_MINIMUM_DAYS) {
    problems.push({
      path: "lifecycleRules.deepArchive",
      message: `must be at least ${GLACIER_MINIMUM_DAYS} days after glacier (${glacier})`,
    });
  }
  if (isDays(expiration)) {
    if (isDays(deepArchive) && expiration < deepArchive + DEEP_ARCHIVE_MINIMUM_DAYS) {
      problems.push({
        path: "lifecycleRules.expiration",
        message: `must be at least ${DEEP_ARCHIVE_MINIMUM_DAYS} days after deepArchive (${deepArchive})`,
      });
    } else if (!isDays(deepArchive) && isDays(glacier) && expiration < glacier + GLACIER_MINIMUM_DAYS) {
      problems.push({
        path: "lifecycleRules.expiration",
        message: `must be at least ${GLACIER_MINIMUM_DAYS} days after glacier (${glacier})`,
      });
    }
  }
  return problems;
}

export function accountProblems(raw: unknown): ConfigProblem[] {
  if (!isObject(raw) || !Array.isArray(raw.accounts)) return [];
  const problems: ConfigProblem[] = [];
  const firstIndexOf = new Map<string, number>();
  raw.accounts.forEach((account, i) => {
    if (!isObject(account) || typeof account.id !== "string" || !/^\d{12}$/.test(account.id)) return;
    const earlier = firstIndexOf.get(account.id);
    if (earlier !== undefined) {
      problems.push({
        path: `accounts[${i}].id`,
        message: `repeats accounts[${earlier}].id (${account.id}); list its regions once`,
      });
    } else {
      firstIndexOf.set(account.id, i);
    }
    // An account lives in one partition (GovCloud and China accounts are accounts of their own).
    const regions = Array.isArray(account.regions)
      ? account.regions.filter((r): r is string => typeof r === "string")
      : [];
    const partitions = [...new Set(regions.map(partitionOf))];
    if (partitions.length > 1) {
      const first = (p: string) => `${regions.find((r) => partitionOf(r) === p)} (${p})`;
      problems.push({
        path: `accounts[${i}].regions`,
        message: `must all be in one partition, but ${partitions.map(first).join(" and ")} are not`,
      });
    }
    const role = account.assumeRoleArn;
    if (typeof role === "string" && /^\d{12}$/.test(account.id)) {
      const [, rolePartition, roleAccount] = /^arn:(aws[a-z-]*):iam::(\d{12}):role\//.exec(role) ?? [];
      if (roleAccount && roleAccount !== account.id) {
        problems.push({
          path: `accounts[${i}].assumeRoleArn`,
          message: `must be a role in account ${account.id} (it is in ${roleAccount})`,
        });
      } else if (rolePartition && partitions.length === 1 && rolePartition !== partitions[0]) {
        problems.push({
          path: `accounts[${i}].assumeRoleArn`,
          message: `must be a role in ${partitions[0]}, the partition of the account's regions (it is in ${rolePartition})`,
        });
      }
    }
  });
  return problems;
}

export function networkProblems(raw: unknown): ConfigProblem[] {
  if (!isObject(raw)) return [];
  const problems: ConfigProblem[] = [];
  const check = (net: unknown, path: string) => {
    if (!isObject(net)) return;
    if (Array.isArray(net.availabilityZones) && typeof net.azCount === "number") {
      if (net.azCount !== net.availabilityZones.length)
        problems.push({
          path: `${path}.azCount`,
          message: `must equal the number of availabilityZones (${net.availabilityZones.length}), or be left out`,
        });
    }
    const endpointAz = net.endpointAzCount;
    if (typeof endpointAz !== "number") return;
    if ("vpcId" in net) {
      if (Array.isArray(net.subnetIds) && net.subnetIds.length > 0 && endpointAz > net.subnetIds.length) {
        problems.push({
          path: `${path}.endpointAzCount`,
          message: `must be at most the number of subnetIds (${net.subnetIds.length})`,
        });
      }
    } else {
      const zones = Array.isArray(net.availabilityZones) ? net.availabilityZones.length : undefined;
      const azCount = typeof net.azCount === "number" ? net.azCount : (zones ?? 2);
      if (endpointAz > azCount)
        problems.push({ path: `${path}.endpointAzCount`, message: `must be at most azCount (${azCount})` });
    }
  };
  check(raw.network, "network");
  const accounts = Array.isArray(raw.accounts) ? raw.accounts : [];
  accounts.forEach((a, i) => isObject(a) && check(a.network, `accounts[${i}].network`));

  // An existing VPC lives in one account and region: a top-level vpcId can only serve
  // every stack when there is exactly one (account, region) that does not override it.
  if (isObject(raw.network) && "vpcId" in raw.network) {
    const users = accounts.flatMap((a, i) =>
      isObject(a) && !isObject(a.network) && Array.isArray(a.regions)
        ? a.regions.map((r) => `accounts[${i}] ${String(r)}`)
        : [],
    );
    if (users.length > 1) {
      problems.push({
        path: "network.vpcId",
        message: `an existing VPC belongs to one account and region, but ${users.length} use it (${users.join(", ")}); set accounts[i].network instead`,
      });
    }
  }
  return problems;
}

/** gp3 delivers at most 0.25 MiB/s of throughput per provisioned IOPS. */
export const GP3_MIBPS_PER_IOPS = 0.25;

/** Graviton (arm64) families: a digit, then `g` (c7g, m7gd, c6gn, r8g, is4gen, t4g). */
const GRAVITON = /^[a-z]+\d+g[a-z]*(-flex)?(\.|$)/;

const isWhole = (v: unknown): v is number => typeof v === "number" && Number.isInteger(v);

export function workerProblems(raw: unknown): ConfigProblem[] {
  if (!isObject(raw) || !isObject(raw.worker)) return [];
  const worker = raw.worker;
  const problems: ConfigProblem[] = [];
  const vcpus = isWhole(worker.vcpus) ? worker.vcpus : 4;
  if (isWhole(worker.maxVcpus) && worker.maxVcpus < vcpus) {
    problems.push({
      path: "worker.maxVcpus",
      message: `must be at least worker.vcpus (${vcpus}), or no job ever fits`,
    });
  }
  if (isObject(worker.volume)) {
    const iops = isWhole(worker.volume.iops) ? worker.volume.iops : 6000;
    const throughput = worker.volume.throughputMiBps;
    if (isWhole(throughput) && throughput > iops * GP3_MIBPS_PER_IOPS) {
      problems.push({
        path: "worker.volume.throughputMiBps",
        message: `must be at most iops / 4 (${iops * GP3_MIBPS_PER_IOPS}): gp3 gives 0.25 MiB/s per provisioned IOPS`,
      });
    }
  }
  problems.push(...volumeLimitProblems(worker, vcpus));
  // The image built here is single-architecture (x86_64); only a prebuilt image can be multi-arch.
  if (Array.isArray(worker.instanceFamilies) && worker.imageUri === undefined) {
    worker.instanceFamilies.forEach((family, i) => {
      if (typeof family === "string" && GRAVITON.test(family)) {
        problems.push({
          path: `worker.instanceFamilies[${i}]`,
          message: `${family} is Graviton (arm64), but the image built from batch-worker/ is x86_64 only; remove it or set worker.imageUri to a multi-arch image`,
        });
      }
    });
  }
  return problems;
}

/**
 * What the largest volume to support (`worker.maxVolumeGiB`) asks of the job: an attempt timeout
 * long enough to read it at the configured rate, and memory for two of its parts (the worker keeps
 * parts in memory only, never on the instance's disk; core/worker-limits.ts).
 */
function volumeLimitProblems(worker: Record<string, unknown>, vcpus: number): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const maxVolumeGiB =
    isWhole(worker.maxVolumeGiB) && worker.maxVolumeGiB > 0 ? worker.maxVolumeGiB : DEFAULT_MAX_VOLUME_GIB;
  const volume = isObject(worker.volume) ? worker.volume : {};
  const throughput = isWhole(volume.throughputMiBps) && volume.throughputMiBps > 0 ? volume.throughputMiBps : 500;
  const initialization =
    isWhole(volume.initializationRateMiBps) && volume.initializationRateMiBps > 0
      ? volume.initializationRateMiBps
      : undefined;
  const rate = readRateMiBps({ throughputMiBps: throughput, initializationRateMiBps: initialization });
  const timeoutHours = isWhole(worker.timeoutHours) ? worker.timeoutHours : 24;
  const required = requiredTimeoutHours(maxVolumeGiB, rate);
  // Values out of their range are the schema's to report.
  if (timeoutHours >= 1 && timeoutHours < required) {
    const source =
      initialization !== undefined && initialization < throughput
        ? "worker.volume.initializationRateMiBps"
        : "worker.volume.throughputMiBps";
    problems.push({
      path: "worker.timeoutHours",
      message:
        `must be at least ${required} hours: reading worker.maxVolumeGiB (${maxVolumeGiB} GiB) at ${rate} MiB/s (${source}) ` +
        `takes ${readHours(maxVolumeGiB, rate).toFixed(1)} hours, plus 25 % and 1 hour of margin; ` +
        "raise timeoutHours (at most 168), raise the rate, or lower maxVolumeGiB",
    });
  }
  const memoryMiB = isWhole(worker.memoryMiB) ? worker.memoryMiB : 8192;
  if (memoryMiB >= 1024) {
    const partMiB = partSizeMiBFor(maxVolumeGiB);
    const reserve = WORKER_BASE_RESERVE_MIB + WORKER_RESERVE_PER_VCPU_MIB * vcpus;
    const needed = reserve + MIN_PART_BUFFERS * partMiB;
    if (memoryMiB < needed) {
      problems.push({
        path: "worker.memoryMiB",
        message:
          `must be at least ${needed} MiB: two part buffers of ${partMiB} MiB (the part size for worker.maxVolumeGiB, ${maxVolumeGiB} GiB) ` +
          `plus ${reserve} MiB for the worker, tar and zstd (${WORKER_BASE_RESERVE_MIB} + ${WORKER_RESERVE_PER_VCPU_MIB} per vCPU); ` +
          "raise memoryMiB or lower maxVolumeGiB",
      });
    }
  }
  return problems;
}

/**
 * A version under Object Lock cannot expire before its retention ends, so a shorter noncurrent
 * retention would only say something S3 will not do.
 */
export function archiveProblems(raw: unknown): ConfigProblem[] {
  if (!isObject(raw) || !isObject(raw.archive) || !isObject(raw.archive.objectLock)) return [];
  const retentionDays = raw.archive.objectLock.retentionDays;
  if (!isWhole(retentionDays) || retentionDays < 1) return [];
  const noncurrent = raw.archive.noncurrentVersionRetentionDays;
  const days = isWhole(noncurrent) ? noncurrent : 365;
  if (days >= retentionDays) return [];
  return [
    {
      path: "archive.noncurrentVersionRetentionDays",
      message: `must be at least archive.objectLock.retentionDays (${retentionDays}): S3 keeps a locked version until its retention ends whatever the lifecycle says`,
    },
  ];
}

/**
 * A KMS key lives in one account and region, and S3, SQS, DynamoDB and CloudWatch Logs use only
 * keys of their own region. A single-Region kmsKeyArn can therefore serve one pipeline; a
 * multi-Region key (`mrk-…`) serves every region of its account through its replicas.
 */
export function keyProblems(raw: unknown): ConfigProblem[] {
  if (!isObject(raw) || typeof raw.kmsKeyArn !== "string" || !Array.isArray(raw.accounts)) return [];
  const key = /^arn:(aws[a-z-]*):kms:([a-z0-9-]+):(\d{12}):key\/(mrk-)?/.exec(raw.kmsKeyArn);
  if (!key) return []; // the schema reports it
  const [, partition, region, account, multiRegion] = key;
  if (partitionOf(region!) !== partition) {
    return [
      {
        path: "kmsKeyArn",
        message: `names partition ${partition}, but its region ${region} is in ${partitionOf(region!)}`,
      },
    ];
  }
  const pipelines = raw.accounts.flatMap((a) =>
    isObject(a) && typeof a.id === "string" && Array.isArray(a.regions)
      ? a.regions.map((r) => ({ account: a.id as string, region: String(r) }))
      : [],
  );
  const unserved = pipelines
    .filter((p) => p.account !== account || (!multiRegion && p.region !== region))
    .map((p) => `${p.account}/${p.region}`);
  if (unserved.length === 0) return [];
  const shown =
    unserved.length > 3 ? `${unserved.slice(0, 3).join(", ")} and ${unserved.length - 3} more` : unserved.join(", ");
  return [
    {
      path: "kmsKeyArn",
      message: multiRegion
        ? `a multi-Region key serves the regions of its own account (${account}), but the config also deploys ${shown}; leave kmsKeyArn unset so each pipeline creates its own key`
        : `a KMS key serves only its own account and region (${account}/${region}), but the config also deploys ${shown}; leave kmsKeyArn unset so each pipeline creates its own key, or use a multi-Region key (key/mrk-…) replicated to each region`,
    },
  ];
}

/**
 * The bootstrap stack pins the state bucket's account. Without `stateBackend.accountId` that is
 * the first account deployed with the caller's own credentials; when every account is reached
 * through assumeRoleArn, the credentials' own account is not in the config and must be named.
 */
export function stateBackendProblems(raw: unknown): ConfigProblem[] {
  if (
    !isObject(raw) ||
    !isObject(raw.stateBackend) ||
    raw.stateBackend.type !== "s3" ||
    raw.stateBackend.accountId !== undefined
  )
    return [];
  const accounts = Array.isArray(raw.accounts) ? raw.accounts.filter(isObject) : [];
  if (accounts.length === 0 || accounts.some((a) => a.assumeRoleArn === undefined)) return [];
  return [
    {
      path: "stateBackend.accountId",
      message:
        "is required when every account sets assumeRoleArn: the state bucket lives in the account of the credentials that run terraform, which the config does not name otherwise",
    },
  ];
}

/**
 * A Terraform Cloud backend runs terraform remotely (VCS-driven, or CLI-driven `cdktf deploy`):
 * those runs have no Docker engine, so the pipeline cannot build the worker image, and they reach
 * AWS only through dynamic credentials, with one run role per account.
 */
export function cloudBackendProblems(raw: unknown): ConfigProblem[] {
  if (!isObject(raw) || !isObject(raw.stateBackend) || raw.stateBackend.type !== "cloud") return [];
  const problems: ConfigProblem[] = [];
  if (!isObject(raw.worker) || raw.worker.imageUri === undefined) {
    problems.push({
      path: "worker.imageUri",
      message:
        'is required with stateBackend.type "cloud": Terraform Cloud runs have no Docker engine, so the pipeline cannot build the worker image from batch-worker/; build and push it in CI and set its URI here',
    });
  }
  const roles = raw.stateBackend.runRoleArns;
  if (!isObject(roles)) return problems; // the schema reports it
  const accounts = Array.isArray(raw.accounts) ? raw.accounts : [];
  const ids = accounts.map((a) => (isObject(a) && typeof a.id === "string" ? a.id : undefined));
  ids.forEach((id, i) => {
    if (id !== undefined && /^\d{12}$/.test(id) && !(id in roles)) {
      problems.push({
        path: "stateBackend.runRoleArns",
        message: `has no role for account ${id} (accounts[${i}]): its workspaces reach AWS only through the run role they assume (dynamic credentials)`,
      });
    }
  });
  // The central archive's stack (mode "write") has a workspace of its own, in the archive account.
  const central = isObject(raw.centralArchive) && raw.centralArchive.mode === "write" ? raw.centralArchive : undefined;
  const archiveAccount = typeof central?.account === "string" ? central.account : undefined;
  if (archiveAccount !== undefined && /^\d{12}$/.test(archiveAccount) && !(archiveAccount in roles)) {
    problems.push({
      path: "stateBackend.runRoleArns",
      message: `has no role for account ${archiveAccount} (centralArchive.account): the archive stack's workspace reaches AWS only through the run role it assumes (dynamic credentials)`,
    });
  }
  for (const [id, role] of Object.entries(roles)) {
    if (!ids.includes(id) && id !== archiveAccount) {
      problems.push({
        path: `stateBackend.runRoleArns.${id}`,
        message: archiveAccount
          ? "names an account that neither accounts nor centralArchive.account lists"
          : "names an account that accounts does not list",
      });
      continue;
    }
    const roleAccount = typeof role === "string" ? /^arn:aws[a-z-]*:iam::(\d{12}):role\//.exec(role)?.[1] : undefined;
    if (roleAccount && roleAccount !== id) {
      problems.push({
        path: `stateBackend.runRoleArns.${id}`,
        message: `must be a role in account ${id} (it is in ${roleAccount})`,
      });
    }
  }
  return problems;
}

/**
 * The central archive (docs/adr/0009-central-archive.md). Mode "copy": the archive account's own
 * pipeline exports what the members copy into its vault, so it must be one of the deployed
 * account-regions. Mode "write": every pipeline writes into the one bucket, and an RDS snapshot
 * export (StartExportTask) and the S3 gateway endpoint of an `endpoints` network reach only a bucket
 * of their own region, so every pipeline must run in the archive's region. The archive stack keeps
 * its state where the other stacks do (an S3 key, or a Terraform Cloud workspace of its own).
 */
export function centralArchiveProblems(raw: unknown): ConfigProblem[] {
  if (!isObject(raw) || !isObject(raw.centralArchive)) return [];
  const { account, region, mode } = raw.centralArchive;
  if (typeof account !== "string" || !/^\d{12}$/.test(account) || typeof region !== "string") return [];
  const accounts = Array.isArray(raw.accounts) ? raw.accounts : [];
  const problems: ConfigProblem[] = [];
  if (mode === "copy") {
    const deployed = accounts.some(
      (a) => isObject(a) && a.id === account && Array.isArray(a.regions) && a.regions.includes(region),
    );
    if (!deployed) {
      problems.push({
        path: "centralArchive",
        message: `mode "copy" needs a pipeline in the archive account and region (${account}/${region}): it exports what the members copy into its vault; add ${region} to that account's regions in accounts`,
      });
    }
  }
  if (mode === "write") {
    accounts.forEach((a, i) => {
      if (!isObject(a) || !Array.isArray(a.regions)) return;
      a.regions.forEach((r, j) => {
        if (typeof r === "string" && r !== region) {
          problems.push({
            path: `accounts[${i}].regions[${j}]`,
            message: `is not the central archive's region (${region}): in mode "write" every pipeline writes into the archive bucket, and RDS snapshot exports and the S3 gateway endpoint reach only a bucket of their own region; deploy the pipelines in ${region} or use mode "copy"`,
          });
        }
      });
    });
  }
  return problems;
}

/**
 * Each run lists the recovery points created in the last `lookBackDays`: a window no longer than the
 * interval would let a recovery point created just after one run (too young for it) fall out of the
 * window before the next run lists it.
 */
export function reconcilerProblems(raw: unknown): ConfigProblem[] {
  if (!isObject(raw) || !isObject(raw.reconciler)) return [];
  const { intervalHours, lookBackDays } = raw.reconciler;
  const interval = isWhole(intervalHours) ? intervalHours : DEFAULT_RECONCILER.intervalHours;
  const days = isWhole(lookBackDays) ? lookBackDays : DEFAULT_RECONCILER.lookBackDays;
  if (days < 1 || interval < 1 || days * 24 > interval) return [];
  return [
    {
      path: "reconciler.lookBackDays",
      message: `must cover more than reconciler.intervalHours (${interval} h), but ${days} × 24 = ${days * 24} h: a recovery point created just after one run could fall out of the window before the next run lists it`,
    },
  ];
}

export function crossKeyProblems(raw: unknown): ConfigProblem[] {
  return [
    ...lifecycleProblems(raw),
    ...accountProblems(raw),
    ...networkProblems(raw),
    ...workerProblems(raw),
    ...keyProblems(raw),
    ...stateBackendProblems(raw),
    ...cloudBackendProblems(raw),
    ...archiveProblems(raw),
    ...centralArchiveProblems(raw),
    ...reconcilerProblems(raw),
    ...drillProblems(raw),
  ];
}
