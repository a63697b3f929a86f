/**
 * Rules that relate two or more keys. They run on the raw input next to the schema
 * (not as a zod refinement, which zod skips once any other key is wrong), so one run
 * reports every problem in the file.
 */
import { partitionOf } from "../core/partition";
import { ConfigProblem, isObject } from "./schema";

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
      problems.push({ path: `accounts[${i}].id`, message: `repeats accounts[${earlier}].id (${account.id}); list its regions once` });
    } else {
      firstIndexOf.set(account.id, i);
    }
    // An account lives in one partition (GovCloud and China accounts are accounts of their own).
    const regions = Array.isArray(account.regions) ? account.regions.filter((r): r is string => typeof r === "string") : [];
    const partitions = [...new Set(regions.map(partitionOf))];
    if (partitions.length > 1) {
      const first = (p: string) => `${regions.find((r) => partitionOf(r) === p)} (${p})`;
      problems.push({ path: `accounts[${i}].regions`, message: `must all be in one partition, but ${partitions.map(first).join(" and ")} are not` });
    }
    const role = account.assumeRoleArn;
    if (typeof role === "string" && /^\d{12}$/.test(account.id)) {
      const [, rolePartition, roleAccount] = /^arn:(aws[a-z-]*):iam::(\d{12}):role\//.exec(role) ?? [];
      if (roleAccount && roleAccount !== account.id) {
        problems.push({ path: `accounts[${i}].assumeRoleArn`, message: `must be a role in account ${account.id} (it is in ${roleAccount})` });
      } else if (rolePartition && partitions.length === 1 && rolePartition !== partitions[0]) {
        problems.push({ path: `accounts[${i}].assumeRoleArn`, message: `must be a role in ${partitions[0]}, the partition of the account's regions (it is in ${rolePartition})` });
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
    const endpointAz = net.endpointAzCount;
    if (typeof endpointAz !== "number") return;
    if ("vpcId" in net) {
      if (Array.isArray(net.subnetIds) && net.subnetIds.length > 0 && endpointAz > net.subnetIds.length) {
        problems.push({ path: `${path}.endpointAzCount`, message: `must be at most the number of subnetIds (${net.subnetIds.length})` });
      }
    } else {
      const azCount = typeof net.azCount === "number" ? net.azCount : 2;
      if (endpointAz > azCount) problems.push({ path: `${path}.endpointAzCount`, message: `must be at most azCount (${azCount})` });
    }
  };
  check(raw.network, "network");
  const accounts = Array.isArray(raw.accounts) ? raw.accounts : [];
  accounts.forEach((a, i) => isObject(a) && check(a.network, `accounts[${i}].network`));

  // An existing VPC lives in one account and region: a top-level vpcId can only serve
  // every stack when there is exactly one (account, region) that does not override it.
  if (isObject(raw.network) && "vpcId" in raw.network) {
    const users = accounts.flatMap((a, i) =>
      isObject(a) && !isObject(a.network) && Array.isArray(a.regions) ? a.regions.map((r) => `accounts[${i}] ${String(r)}`) : [],
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
    problems.push({ path: "worker.maxVcpus", message: `must be at least worker.vcpus (${vcpus}), or no job ever fits` });
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
    return [{ path: "kmsKeyArn", message: `names partition ${partition}, but its region ${region} is in ${partitionOf(region!)}` }];
  }
  const pipelines = raw.accounts.flatMap((a) =>
    isObject(a) && typeof a.id === "string" && Array.isArray(a.regions) ? a.regions.map((r) => ({ account: a.id as string, region: String(r) })) : [],
  );
  const unserved = pipelines.filter((p) => p.account !== account || (!multiRegion && p.region !== region)).map((p) => `${p.account}/${p.region}`);
  if (unserved.length === 0) return [];
  const shown = unserved.length > 3 ? `${unserved.slice(0, 3).join(", ")} and ${unserved.length - 3} more` : unserved.join(", ");
  return [
    {
      path: "kmsKeyArn",
      message: multiRegion
        ? `a multi-Region key serves the regions of its own account (${account}), but the config also deploys ${shown}; leave kmsKeyArn unset so each pipeline creates its own key`
        : `a KMS key serves only its own account and region (${account}/${region}), but the config also deploys ${shown}; leave kmsKeyArn unset so each pipeline creates its own key, or use a multi-Region key (key/mrk-…) replicated to each region`,
    },
  ];
}

export function crossKeyProblems(raw: unknown): ConfigProblem[] {
  return [...lifecycleProblems(raw), ...accountProblems(raw), ...networkProblems(raw), ...workerProblems(raw), ...keyProblems(raw)];
}
