/**
 * The one price table behind `backup-actions cost` and the README's Costs section.
 *
 * us-east-1 (N. Virginia) list prices in USD. Other regions are NOT converted by a factor:
 * the cost command prints them with these prices and says so ("us-east-1 prices").
 * Every entry names the AWS pricing page it comes from and the date it was read. Where a
 * figure is an assumption rather than a published price, `assumption` says why.
 *
 * Billing units: AWS bills storage "GB" as 2^30 bytes (GiB); a month is 730 hours.
 * To change a price, edit it here and run `npm run docs:costs` (the README block is generated).
 */

export const PRICES_REGION = "us-east-1";
/** The day every price below was read. */
export const PRICES_READ_ON = "2026-12-02";
export const HOURS_PER_MONTH = 730;

export interface Price {
  readonly usd: number;
  /** What one `usd` buys, e.g. "GB-month", "hour", "1,000 requests". */
  readonly unit: string;
  readonly what: string;
  readonly source: string;
  readonly readOn: string;
  /** Set when the figure is not a list price (Spot, estimates): says what was assumed. */
  readonly assumption?: string;
}

const EBS = "https://aws.amazon.com/ebs/pricing/";
const EBS_ARCHIVE = "https://docs.aws.amazon.com/ebs/latest/userguide/snapshot-archive-pricing.html";
const EC2_ON_DEMAND = "https://aws.amazon.com/ec2/pricing/on-demand/";
const SPOT = "https://aws.amazon.com/ec2/spot/pricing/";
const S3 = "https://aws.amazon.com/s3/pricing/";
const PRIVATELINK = "https://aws.amazon.com/privatelink/pricing/";
const VPC = "https://aws.amazon.com/vpc/pricing/";
const RDS = "https://aws.amazon.com/rds/pricing/";
const AURORA = "https://aws.amazon.com/rds/aurora/pricing/";
const DYNAMODB = "https://aws.amazon.com/dynamodb/pricing/on-demand/";
const BACKUP = "https://aws.amazon.com/backup/pricing/";
const SFN = "https://aws.amazon.com/step-functions/pricing/";
const DEEP_ARCHIVE_BULK =
  "NOT VERIFIED against the pricing page itself (re-checked 2026-12-04: its stored copy renders the price tables as " +
  "unfilled templates; AWS's RestoreObject reference and S3 User Guide call Bulk the lowest-cost Deep Archive option " +
  "without a figure): the us-east-1 figure of third-party summaries of it";

const SPOT_ASSUMPTION =
  "assumed Spot price: 40 % of the on-demand price of the family's .xlarge (a typical 60 % Spot discount in us-east-1);" +
  " Spot prices move every few minutes, see the source";

const price = (usd: number, unit: string, what: string, source: string, assumption?: string): Price => ({
  usd,
  unit,
  what,
  source,
  readOn: PRICES_READ_ON,
  ...(assumption ? { assumption } : {}),
});

export const PRICES = {
  // --- EC2 (the Batch worker) ---
  spotC6iVcpuHour: price(
    0.017,
    "vCPU-hour",
    "Spot, c6i family (2 GiB per vCPU)",
    SPOT,
    `${SPOT_ASSUMPTION}; c6i.xlarge on demand $0.17/h (${EC2_ON_DEMAND}) / 4 vCPU x 0.4`,
  ),
  spotM6iVcpuHour: price(
    0.0192,
    "vCPU-hour",
    "Spot, m6i family (4 GiB per vCPU)",
    SPOT,
    `${SPOT_ASSUMPTION}; m6i.xlarge on demand $0.192/h / 4 vCPU x 0.4`,
  ),
  spotR6iVcpuHour: price(
    0.0252,
    "vCPU-hour",
    "Spot, r6i family (8 GiB per vCPU)",
    SPOT,
    `${SPOT_ASSUMPTION}; r6i.xlarge on demand $0.252/h / 4 vCPU x 0.4`,
  ),
  publicIpv4Hour: price(0.005, "hour", "public IPv4 address (in use or idle)", VPC),

  // --- EBS ---
  gp3GbMonth: price(0.08, "GB-month", "gp3 volume storage", EBS),
  gp3IopsMonth: price(0.005, "IOPS-month", "gp3 IOPS above the free 3,000", EBS),
  gp3ThroughputMonth: price(0.04, "MiB/s-month", "gp3 throughput above the free 125 MiB/s", EBS),
  ebsInitializationGb: price(
    0.0015,
    "GB",
    "EBS Provisioned Rate for Volume Initialization, per GB initialized",
    EBS,
    "NOT VERIFIED: no published figure was found in the sources read on the date above; placeholder estimate." +
      " Only used when worker.volume.initializationRateMiBps is set (the default config leaves it unset)",
  ),
  ebsDirectGetBlocks: price(0.003, "1,000 requests", "EBS direct APIs: GetSnapshotBlock (one 512 KiB block each)", EBS),
  ebsDirectListRequests: price(0.0006, "1,000 requests", "EBS direct APIs: ListSnapshotBlocks", EBS),
  snapshotStandardGbMonth: price(0.05, "GB-month", "EBS snapshot, standard tier", EBS),
  snapshotArchiveGbMonth: price(0.0125, "GB-month", "EBS snapshot, archive tier (90-day minimum)", EBS_ARCHIVE),

  // --- S3 ---
  s3PutRequests: price(0.005, "1,000 requests", "S3 PUT, COPY, POST, LIST (each multipart part is one)", S3),
  s3GetRequests: price(0.0004, "1,000 requests", "S3 GET (the verify step re-reads the archive)", S3),
  s3StandardGbMonth: price(0.023, "GB-month", "S3 Standard, first 50 TB", S3),
  s3GlacierFlexibleGbMonth: price(0.0036, "GB-month", "S3 Glacier Flexible Retrieval (90-day minimum)", S3),
  s3DeepArchiveGbMonth: price(0.00099, "GB-month", "S3 Glacier Deep Archive (180-day minimum)", S3),
  s3TransitionGlacierFlexible: price(
    0.03,
    "1,000 requests",
    "lifecycle transition into Glacier Flexible Retrieval",
    S3,
  ),
  s3TransitionDeepArchive: price(0.05, "1,000 requests", "lifecycle transition into Glacier Deep Archive", S3),
  // The restore drill's RestoreObject (Tier Bulk) of archived objects (core/drill.ts restoreCostUsd).
  // "Bulk retrievals are free for objects that are stored in S3 Glacier Flexible Retrieval" (S3 User Guide,
  // https://docs.aws.amazon.com/AmazonS3/latest/userguide/restoring-objects-retrieval-options.html; the RestoreObject
  // API reference, Tier Bulk, says the same; both re-read 2026-12-04).
  s3GlacierFlexibleBulkRetrievalGb: price(0, "GB", "Bulk retrieval from Glacier Flexible Retrieval (free)", S3),
  s3GlacierFlexibleBulkRequests: price(0, "1,000 requests", "Bulk restore requests, Glacier Flexible Retrieval", S3),
  s3DeepArchiveBulkRetrievalGb: price(0.0025, "GB", "Bulk retrieval from Glacier Deep Archive", S3, DEEP_ARCHIVE_BULK),
  s3DeepArchiveBulkRequests: price(
    0.025,
    "1,000 requests",
    "Bulk restore requests, Glacier Deep Archive",
    S3,
    DEEP_ARCHIVE_BULK,
  ),

  // --- network ---
  interfaceEndpointAzHour: price(
    0.01,
    "endpoint-AZ-hour",
    "interface VPC endpoint, per AZ it has an interface in",
    PRIVATELINK,
  ),
  interfaceEndpointGb: price(0.01, "GB", "interface endpoint data processed (first 1 PB)", PRIVATELINK),
  natGatewayHour: price(0.045, "hour", "NAT gateway", VPC),
  natGatewayGb: price(0.045, "GB", "NAT gateway data processed", VPC),

  // --- RDS / Aurora ---
  rdsExportGb: price(0.01, "GB", "RDS/Aurora snapshot export to S3, per GB of snapshot size", RDS),
  rdsSnapshotGbMonth: price(0.095, "GB-month", "RDS backup storage beyond the free allowance", RDS),
  auroraSnapshotGbMonth: price(0.021, "GB-month", "Aurora backup storage beyond the free allowance", AURORA),

  // --- DynamoDB ---
  dynamodbWriteRequestUnits: price(
    0.625,
    "million write request units",
    "DynamoDB on-demand writes (the direct read's lease: PutItem, DeleteItem of an item under 1 KB, 1 unit each)",
    DYNAMODB,
    "NOT re-read on the pricing page from here: the on-demand request price since November 2024",
  ),
  dynamodbReadRequestUnits: price(
    0.125,
    "million read request units",
    "DynamoDB on-demand reads (the direct read's lease count: a strongly consistent Query under 4 KB, 1 unit)",
    DYNAMODB,
    "NOT re-read on the pricing page from here: the on-demand request price since November 2024",
  ),
  dynamodbExportGb: price(0.1, "GB", "DynamoDB export to S3 (full export), per GB of table size", DYNAMODB),
  dynamodbBackupGbMonth: price(0.1, "GB-month", "DynamoDB on-demand backup storage (warm)", DYNAMODB),
  dynamodbColdBackupGbMonth: price(
    0.03,
    "GB-month",
    "DynamoDB backup in AWS Backup cold storage (advanced features)",
    BACKUP,
  ),

  // --- orchestration ---
  sfnTransitions: price(0.025, "1,000 state transitions", "Step Functions standard workflow", SFN),
} as const satisfies Record<string, Price>;

export type PriceKey = keyof typeof PRICES;

/**
 * What the original project stated per 100 GB and for its network (issue 13), kept beside
 * ours in the README so the difference is visible.
 */
export const ORIGINAL_FIGURES = {
  ebsPer100Gb: 0.65,
  rdsPer100Gb: 1.05,
  dynamodbPer100Gb: 10.05,
  sevenInterfaceEndpointsMonthly: 151,
} as const;

/** Targets of issue 13: checked against the default config in the README block. */
export const COST_TARGETS = {
  ebsExportOf100GibUsd: 0.3,
  monthlyFixedSingleAzEndpointsUsd: 50,
} as const;
