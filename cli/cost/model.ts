/**
 * The arithmetic of `backup-actions cost`: pure functions of the inputs and the price table
 * (core/prices.ts). Every figure is an item `quantity x unitPrice = usd` naming its source,
 * so a reader can redo any line by hand.
 *
 * What one export costs, and what is fixed per month, are modelled as follows (assumptions are
 * listed in ASSUMPTIONS and printed with every report):
 * - EBS: the worker reads the used bytes at the read path's rate — a volume restored from the
 *   snapshot at its provisioned initialization rate, or, without one, at the rate of lazy loading
 *   (LAZY_LOAD_MIBPS); the direct read at the job's rate under the shared GetSnapshotBlock budget (the budget over
 *   the exports running at once, one by default, never below the static share: core/direct-read.ts); either
 *   capped by the volume's throughput — plus a fixed overhead for volume creation, Batch
 *   scheduling and instance start. The gp3 volume (restored, or the direct read's blank scratch),
 *   its throughput and IOPS above the free baseline, and the worker's vCPUs are billed for that
 *   time; the direct read also pays per block read and for its lease (a PutItem and a Query per heartbeat, one
 *   DeleteItem). Each multipart part is one PUT.
 * - RDS/Aurora: StartExportTask's fee per GB of snapshot size. DynamoDB: the export fee per GB
 *   of table size (the PITR path; the restore-to-a-temporary-table path costs more).
 * - Keeping the recovery point versus keeping the archive: GB-months over the retention.
 */
import { LEASE_HEARTBEAT_SECONDS } from "../../core/direct-read";
import { MIB, partSizeFor } from "../../core/part-size";
import { HOURS_PER_MONTH, PRICES, PRICES_REGION, Price, PriceKey } from "../../core/prices";

export const COST_TYPES = ["ebs", "rds", "aurora", "dynamodb"] as const;
export type CostType = (typeof COST_TYPES)[number];

export const GIB = 1024 * MIB;
/** 365 / 12 days: a 730-hour billing month. */
export const DAYS_PER_MONTH = HOURS_PER_MONTH / 24;

/** Assumed fixed time per EBS export, in minutes, on top of reading the data (see ASSUMPTIONS). */
export const EBS_OVERHEAD_MINUTES = 10;
/**
 * Assumed read rate of a volume restored from a snapshot without a provisioned initialization rate: every
 * block is fetched from S3 on its first read. AWS publishes no figure (its rate "fluctuates"); this is what a
 * peer measured on a cold volume (300 GiB in about 24 h, issue 14). Set worker.volume.initializationRateMiBps
 * or worker.readPath "direct" to price a faster read.
 */
export const LAZY_LOAD_MIBPS = 3.5;
/** Bytes of one EBS snapshot block, as the EBS direct APIs read them. */
export const SNAPSHOT_BLOCK_BYTES = 512 * 1024;
/** Blocks one ListSnapshotBlocks page names at most (MaxResults). */
export const LIST_BLOCKS_PER_PAGE = 10_000;

/** Assumed Step Functions state transitions per export (dispatcher + child + verify + ledger). */
export const STATE_TRANSITIONS_PER_EXPORT = 60;
/** Assumed API and log traffic through interface endpoints or NAT per export, in GB. */
export const API_TRAFFIC_GB_PER_EXPORT = 0.05;
/** S3 GET/HEAD requests of the verify step (manifest, then a HEAD per archive object). */
export const VERIFY_REQUESTS = 3;
export const DEFAULT_COMPRESSION_RATIO = 0.5;

export const ASSUMPTIONS = [
  `prices are ${PRICES_REGION} list prices read on the date in core/prices.ts;` +
    " Spot prices are an assumption (40 % of on demand)",
  "the archive is compression x used bytes (--compression, default 0.5); measure yours with the worker's manifest",
  `an EBS export takes used bytes / read rate + ${EBS_OVERHEAD_MINUTES} min (volume creation, Batch, instance start);` +
    ` the read rate is the provisioned initialization rate, ${LAZY_LOAD_MIBPS} MiB/s for a lazily loaded volume` +
    " without one (a peer's measurement: AWS publishes none), or the direct read's requests/s x 512 KiB" +
    " (worker.directRead.requestsPerSecond over --concurrent-exports, default 1, never below the static share)," +
    " at most the volume's throughput",
  "the worker's share of its instance is its vcpus at the Spot price of the family" +
    " its memory per vCPU needs (c6i, m6i, r6i)",
  "one archive object per export (one filesystem); each multipart part, the create, the complete and the manifest are PUTs",
  `${STATE_TRANSITIONS_PER_EXPORT} Step Functions state transitions and` +
    ` ${API_TRAFFIC_GB_PER_EXPORT} GB of API/log traffic` +
    " through interface endpoints or NAT per export (S3 and DynamoDB use the free gateway endpoints)",
  "keeping a recovery point: a full (first) snapshot of the used bytes;" +
    " later snapshots in a chain cost less in the standard tier",
] as const;

export interface CostInputs {
  readonly type: CostType;
  /** Volume, snapshot or table size in bytes. */
  readonly sizeBytes: number;
  /** Fraction of the volume in use (EBS only), 0 < used <= 1. */
  readonly usedFraction: number;
  /** Archive bytes / used bytes. */
  readonly compressionRatio: number;
  readonly region: string;
  readonly retentionDays: number;
  readonly worker: {
    readonly vcpus: number;
    readonly memoryMiB: number;
    readonly volume: {
      readonly throughputMiBps: number;
      readonly iops: number;
      readonly initializationRateMiBps?: number;
    };
    /**
     * worker.readPath: "volume" with the MiB/s a restored volume reads at without a provisioned initialization
     * rate (LAZY_LOAD_MIBPS from a config), "direct" with the requests/s one job sends (leasedShare of the budget).
     */
    readonly read:
      | { readonly path: "volume"; readonly lazyLoadMiBps: number }
      | { readonly path: "direct"; readonly requestsPerSecond: number };
  };
  readonly network: {
    readonly egress: "endpoints" | "nat" | "public";
    readonly endpointAzCount: number;
    /** The interface endpoints the network stack creates in `endpoints` mode. */
    readonly interfaceEndpoints: readonly string[];
  };
  readonly lifecycle: { readonly glacier?: number; readonly deepArchive?: number; readonly expiration?: number };
}

export interface CostItem {
  readonly name: string;
  readonly quantity: number;
  readonly unit: string;
  /** USD per one `unit`; usd = quantity x unitPrice. */
  readonly unitPrice: number;
  readonly usd: number;
  readonly source: string;
  readonly note?: string;
}

export interface CostSection {
  readonly total: number;
  readonly items: readonly CostItem[];
}

export interface CostReport {
  readonly type: CostType;
  readonly region: string;
  /** Set when `region` is not the table's: the figures are us-east-1 prices. */
  readonly priceRegionNote?: string;
  readonly sizeGiB: number;
  readonly usedGiB: number;
  readonly archiveGiB: number;
  readonly compressionRatio: number;
  /** EBS: hours the volume and the worker exist for one export. */
  readonly exportHours?: number;
  readonly perExport: CostSection;
  readonly monthlyFixed: CostSection;
  readonly retention: {
    readonly days: number;
    readonly keepRecoveryPoint: {
      readonly standard: CostSection;
      readonly archive?: CostSection;
      readonly archiveNote?: string;
    };
    readonly keepS3Archive: CostSection;
    readonly notes: readonly string[];
  };
  readonly assumptions: readonly string[];
}

/** Nine decimals: sub-cent items (a few requests) keep their value; float noise goes. */
const round = (n: number) => Math.round(n * 1e9) / 1e9;

function item(name: string, quantity: number, unit: string, key: PriceKey, per = 1, note?: string): CostItem {
  const p: Price = PRICES[key];
  const unitPrice = Number((p.usd / per).toPrecision(12));
  return {
    name,
    quantity: round(quantity),
    unit,
    unitPrice,
    usd: round(quantity * unitPrice),
    source: p.source,
    ...(note ? { note } : {}),
  };
}

function section(items: CostItem[]): CostSection {
  const kept = items.filter((i) => i.quantity > 0);
  return { total: round(kept.reduce((sum, i) => sum + i.usd, 0)), items: kept };
}

/** The Spot price per vCPU-hour of the cheapest family whose memory per vCPU fits the job. */
export function spotPriceKey(vcpus: number, memoryMiB: number): PriceKey {
  const gibPerVcpu = memoryMiB / 1024 / vcpus;
  if (gibPerVcpu <= 2) return "spotC6iVcpuHour";
  if (gibPerVcpu <= 4) return "spotM6iVcpuHour";
  return "spotR6iVcpuHour";
}

/** MiB/s the worker reads the used bytes at, by read path (see the module comment), at most the volume's throughput. */
export function ebsReadMiBps(worker: CostInputs["worker"]): number {
  const v = worker.volume;
  const rate =
    worker.read.path === "direct"
      ? (worker.read.requestsPerSecond * SNAPSHOT_BLOCK_BYTES) / MIB
      : (v.initializationRateMiBps ?? worker.read.lazyLoadMiBps);
  return Math.min(v.throughputMiBps, rate);
}

/** Hours one EBS export keeps the volume and the worker: used bytes at the read rate + overhead. */
export function ebsExportHours(inputs: CostInputs): number {
  const readSeconds = (inputs.sizeBytes * inputs.usedFraction) / (ebsReadMiBps(inputs.worker) * MIB);
  return readSeconds / 3600 + EBS_OVERHEAD_MINUTES / 60;
}

/** S3 PUT requests of one EBS export: the parts (core part-size rule) + create + complete + manifest. */
export function ebsPutRequests(
  sizeBytes: number,
  archiveBytes: number,
): { parts: number; partSize: number; requests: number } {
  const partSize = partSizeFor(sizeBytes);
  const parts = Math.max(1, Math.ceil(archiveBytes / partSize));
  return { parts, partSize, requests: parts + 3 };
}

function perExport(inputs: CostInputs, usedGiB: number, archiveGiB: number, hours: number | undefined): CostSection {
  const items: CostItem[] = [];
  const sizeGiB = inputs.sizeBytes / GIB;
  if (inputs.type === "ebs" && hours !== undefined) {
    const { vcpus, memoryMiB, volume } = inputs.worker;
    const months = hours / HOURS_PER_MONTH;
    const spot = spotPriceKey(vcpus, memoryMiB);
    items.push(item(`worker compute (${vcpus} vCPU, ${memoryMiB} MiB, Spot)`, vcpus * hours, "vCPU-hour", spot));
    const direct = inputs.worker.read.path === "direct";
    const volumeName = direct ? "blank gp3 scratch volume" : "restored gp3 volume";
    items.push(item(`${volumeName} (${round(sizeGiB)} GiB)`, sizeGiB * months, "GB-month", "gp3GbMonth"));
    items.push(
      item(
        `gp3 throughput above 125 MiB/s (${volume.throughputMiBps})`,
        (volume.throughputMiBps - 125) * months,
        "MiB/s-month",
        "gp3ThroughputMonth",
      ),
    );
    items.push(
      item(`gp3 IOPS above 3,000 (${volume.iops})`, (volume.iops - 3000) * months, "IOPS-month", "gp3IopsMonth"),
    );
    if (direct) {
      const blocks = Math.ceil((inputs.sizeBytes * inputs.usedFraction) / SNAPSHOT_BLOCK_BYTES);
      items.push(item(`GetSnapshotBlock (${blocks} blocks of 512 KiB)`, blocks, "request", "ebsDirectGetBlocks", 1000));
      items.push(
        item(
          "ListSnapshotBlocks (pages of 10,000 blocks)",
          Math.ceil(inputs.sizeBytes / SNAPSHOT_BLOCK_BYTES / LIST_BLOCKS_PER_PAGE),
          "request",
          "ebsDirectListRequests",
          1000,
        ),
      );
      // the lease (batch-worker/src/rate-lease.ts): renewed and counted every heartbeat while the job runs
      const heartbeats = Math.ceil((hours * 3600) / LEASE_HEARTBEAT_SECONDS) + 1;
      items.push(
        item(
          `lease writes (a PutItem every ${LEASE_HEARTBEAT_SECONDS} s, one DeleteItem)`,
          heartbeats + 1,
          "write request unit",
          "dynamodbWriteRequestUnits",
          1e6,
        ),
      );
      items.push(
        item(
          `lease counts (a Query every ${LEASE_HEARTBEAT_SECONDS} s)`,
          heartbeats,
          "read request unit",
          "dynamodbReadRequestUnits",
          1e6,
        ),
      );
    } else if (volume.initializationRateMiBps !== undefined) {
      items.push(
        item(
          `provisioned initialization (${volume.initializationRateMiBps} MiB/s)`,
          usedGiB,
          "GB",
          "ebsInitializationGb",
          1,
          PRICES.ebsInitializationGb.assumption,
        ),
      );
    }
    const puts = ebsPutRequests(inputs.sizeBytes, archiveGiB * GIB);
    items.push(
      item(
        `S3 PUT (${puts.parts} parts of ${puts.partSize / MIB} MiB + create, complete, manifest)`,
        puts.requests,
        "request",
        "s3PutRequests",
        1000,
      ),
    );
    if (inputs.network.egress === "public") {
      items.push(item("public IPv4 of the worker instance", hours, "hour", "publicIpv4Hour"));
    }
  } else {
    // StartExportTask / ExportTableToPointInTime write their own objects; their request charges are not modelled.
    items.push(
      inputs.type === "dynamodb"
        ? item("DynamoDB export to S3", sizeGiB, "GB", "dynamodbExportGb")
        : item(`${inputs.type === "aurora" ? "Aurora" : "RDS"} snapshot export to S3`, sizeGiB, "GB", "rdsExportGb"),
    );
    items.push(item("S3 PUT (manifest)", 1, "request", "s3PutRequests", 1000));
  }
  items.push(item("S3 GET/HEAD (verify)", VERIFY_REQUESTS, "request", "s3GetRequests", 1000));
  items.push(
    item("Step Functions state transitions", STATE_TRANSITIONS_PER_EXPORT, "transition", "sfnTransitions", 1000),
  );
  if (inputs.network.egress === "endpoints") {
    items.push(item("interface endpoint data processed", API_TRAFFIC_GB_PER_EXPORT, "GB", "interfaceEndpointGb"));
  } else if (inputs.network.egress === "nat") {
    items.push(item("NAT gateway data processed", API_TRAFFIC_GB_PER_EXPORT, "GB", "natGatewayGb"));
  }
  return section(items);
}

/** The network's cost per 730-hour month, whether anything is exported or not. */
export function monthlyFixed(network: CostInputs["network"]): CostSection {
  if (network.egress === "endpoints") {
    const n = network.interfaceEndpoints.length;
    return section([
      item(
        `interface endpoints (${n} x ${network.endpointAzCount} AZ: ${network.interfaceEndpoints.join(", ")})`,
        n * network.endpointAzCount * HOURS_PER_MONTH,
        "endpoint-AZ-hour",
        "interfaceEndpointAzHour",
      ),
    ]);
  }
  if (network.egress === "nat") {
    return section([
      item("NAT gateway (one)", HOURS_PER_MONTH, "hour", "natGatewayHour"),
      item("public IPv4 of the NAT gateway", HOURS_PER_MONTH, "hour", "publicIpv4Hour"),
    ]);
  }
  return section([]);
}

/**
 * Days the archive spends in each S3 class under the lifecycle rules, over `days` (capped at
 * the expiration), with Glacier's minimum storage durations applied (90 days Flexible
 * Retrieval, 180 days Deep Archive: an earlier transition or deletion is billed as if kept).
 */
export function s3ClassDays(
  days: number,
  lifecycle: CostInputs["lifecycle"],
): { standard: number; glacier: number; deepArchive: number } {
  const end = Math.min(days, lifecycle.expiration ?? Number.POSITIVE_INFINITY);
  const glacierAt = lifecycle.glacier !== undefined && lifecycle.glacier < end ? lifecycle.glacier : undefined;
  const deepAt = lifecycle.deepArchive !== undefined && lifecycle.deepArchive < end ? lifecycle.deepArchive : undefined;
  const standard = Math.min(end, glacierAt ?? end, deepAt ?? end);
  let glacier = 0;
  if (glacierAt !== undefined && (deepAt === undefined || glacierAt < deepAt))
    glacier = Math.max((deepAt ?? end) - glacierAt, 90);
  const deepArchive = deepAt !== undefined ? Math.max(end - deepAt, 180) : 0;
  return { standard, glacier, deepArchive };
}

function retention(inputs: CostInputs, usedGiB: number, archiveGiB: number): CostReport["retention"] {
  const days = inputs.retentionDays;
  const months = days / DAYS_PER_MONTH;
  const notes: string[] = [];
  const sizeGiB = inputs.sizeBytes / GIB;
  let standard: CostSection;
  let archive: CostSection | undefined;
  let archiveNote: string | undefined;
  if (inputs.type === "ebs") {
    standard = section([item("EBS snapshot, standard tier", usedGiB * months, "GB-month", "snapshotStandardGbMonth")]);
    archive = section([
      item(
        "EBS snapshot, archive tier",
        (usedGiB * Math.max(days, 90)) / DAYS_PER_MONTH,
        "GB-month",
        "snapshotArchiveGbMonth",
      ),
    ]);
  } else if (inputs.type === "dynamodb") {
    standard = section([item("DynamoDB backup storage", sizeGiB * months, "GB-month", "dynamodbBackupGbMonth")]);
    archive = section([
      item("DynamoDB backup, AWS Backup cold storage", sizeGiB * months, "GB-month", "dynamodbColdBackupGbMonth"),
    ]);
  } else {
    const key = inputs.type === "aurora" ? "auroraSnapshotGbMonth" : "rdsSnapshotGbMonth";
    standard = section([
      item(`${inputs.type === "aurora" ? "Aurora" : "RDS"} snapshot storage`, sizeGiB * months, "GB-month", key),
    ]);
    archiveNote = "RDS and Aurora snapshots have no archive tier";
    notes.push("RDS/Aurora backup storage up to the provisioned database size is free while the database exists");
  }

  const split = s3ClassDays(days, inputs.lifecycle);
  if (inputs.lifecycle.expiration !== undefined && inputs.lifecycle.expiration < days) {
    notes.push(
      `lifecycleRules.expiration (${inputs.lifecycle.expiration} days) deletes the archive before the retention ends`,
    );
  }
  // EBS: the archive object and the manifest; the services' exports write many objects (not counted).
  const objects = inputs.type === "ebs" ? 2 : 1;
  const s3Items = [
    item(
      `S3 Standard (${split.standard} days)`,
      (archiveGiB * split.standard) / DAYS_PER_MONTH,
      "GB-month",
      "s3StandardGbMonth",
    ),
    item(
      `S3 Glacier Flexible Retrieval (${split.glacier} days)`,
      (archiveGiB * split.glacier) / DAYS_PER_MONTH,
      "GB-month",
      "s3GlacierFlexibleGbMonth",
    ),
    item(
      `S3 Glacier Deep Archive (${split.deepArchive} days)`,
      (archiveGiB * split.deepArchive) / DAYS_PER_MONTH,
      "GB-month",
      "s3DeepArchiveGbMonth",
    ),
  ];
  if (split.glacier > 0)
    s3Items.push(item("lifecycle transitions to Glacier", objects, "request", "s3TransitionGlacierFlexible", 1000));
  if (split.deepArchive > 0)
    s3Items.push(item("lifecycle transitions to Deep Archive", objects, "request", "s3TransitionDeepArchive", 1000));
  return {
    days,
    keepRecoveryPoint: { standard, ...(archive ? { archive } : {}), ...(archiveNote ? { archiveNote } : {}) },
    keepS3Archive: section(s3Items),
    notes,
  };
}

/** `$0`, `$0.0521`, `$0.65`, `$65.70`: cents from $0.10 up, four decimals below. */
export function formatUsd(n: number): string {
  if (n === 0) return "$0";
  return `$${Math.abs(n) >= 0.1 ? n.toFixed(2) : n.toFixed(4)}`;
}

export function costReport(inputs: CostInputs): CostReport {
  const usedFraction = inputs.type === "ebs" ? inputs.usedFraction : 1;
  const usedGiB = (inputs.sizeBytes * usedFraction) / GIB;
  const archiveGiB = usedGiB * inputs.compressionRatio;
  const hours = inputs.type === "ebs" ? ebsExportHours(inputs) : undefined;
  return {
    type: inputs.type,
    region: inputs.region,
    ...(inputs.region !== PRICES_REGION
      ? { priceRegionNote: `us-east-1 prices: no price table for ${inputs.region}` }
      : {}),
    sizeGiB: round(inputs.sizeBytes / GIB),
    usedGiB: round(usedGiB),
    archiveGiB: round(archiveGiB),
    compressionRatio: inputs.compressionRatio,
    ...(hours !== undefined ? { exportHours: round(hours) } : {}),
    perExport: perExport(inputs, usedGiB, archiveGiB, hours),
    monthlyFixed: monthlyFixed(inputs.network),
    retention: retention(inputs, usedGiB, archiveGiB),
    assumptions: ASSUMPTIONS,
  };
}
