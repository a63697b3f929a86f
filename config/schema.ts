/**
 * The one configuration schema. Everything else in the repo receives the typed,
 * already-validated `Config` (or a slice of it) and never reads JSON itself.
 *
 * Every object is strict: an unknown key is an error, so a typo such as
 * `deleteRecoveryPoint.enable` cannot silently leave auto-delete off (or on).
 */
import { z } from "zod";
import { DRILL_GLACIER_MODES } from "../core/drill";
import { DYNAMODB_EXPORT_FORMATS } from "../core/dynamodb-export";
import { DEFAULT_DIRECT_READ_PARALLELISM, DEFAULT_DIRECT_READ_REQUESTS_PER_SECOND } from "../core/direct-read";
import { PIPELINE_NAME } from "../core/state-machines";
import { DATABASE_EXPORT_FORMATS, DEFAULT_DATABASE_EXPORT_FORMAT, type DatabaseExportFormat } from "../core/workflows";

export const EGRESS_MODES = ["endpoints", "nat", "public"] as const;
export type EgressMode = (typeof EGRESS_MODES)[number];

const ACCOUNT_ID = /^\d{12}$/;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
const IAM_ROLE_ARN = /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/;
// a single-Region key (a UUID) or a multi-Region key (`mrk-` and 32 hex digits)
const KMS_KEY_ARN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:\d{12}:key\/([0-9a-f-]{36}|mrk-[0-9a-f]{32})$/;
const VAULT_NAME = /^[a-zA-Z0-9\-_]{2,50}$/;
const BUCKET_NAME = /^(?!xn--)(?!.*\.\.)[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;
const TAG_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const CIDR = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})\/(\d{1,2})$/;
const VPC_ID = /^vpc-[0-9a-f]{8,17}$/;
const SUBNET_ID = /^subnet-[0-9a-f]{8,17}$/;
const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

/**
 * `exports.rds` / `exports.aurora`: `false` (off), `true` (on, the defaults) or
 * `{ "format": "parquet" | "dump" | "both", "instanceClass": "db.…" }`; resolved to `false` or
 * `{ format, instanceClass }`. `instanceClass` is the class of the temporary instance the native dump
 * restores (Aurora: the one instance of the temporary cluster).
 */
const DB_INSTANCE_CLASS = /^db\.[a-z0-9-]+\.[a-z0-9]+$/;
export const DEFAULT_DUMP_INSTANCE_CLASS = { rds: "db.t4g.medium", aurora: "db.r6g.large" } as const;
const databaseExport = (instanceClass: string) =>
  z
    .union(
      [
        z.boolean(),
        z.strictObject({
          format: z
            .enum(DATABASE_EXPORT_FORMATS, { error: 'must be "parquet", "dump" or "both"' })
            .default(DEFAULT_DATABASE_EXPORT_FORMAT),
          instanceClass: z
            .string({ error: 'must be a DB instance class like "db.t4g.medium"' })
            .regex(DB_INSTANCE_CLASS, { error: 'must be a DB instance class like "db.t4g.medium"' })
            .default(instanceClass),
        }),
      ],
      { error: 'must be true, false or { "format": "parquet" | "dump" | "both", "instanceClass": "db.…" }' },
    )
    .transform((v): false | { readonly format: DatabaseExportFormat; readonly instanceClass: string } =>
      v === true ? { format: DEFAULT_DATABASE_EXPORT_FORMAT, instanceClass } : v,
    );

const positiveDays = z
  .number()
  .int({ error: "must be a whole number of days" })
  .positive({ error: "must be a positive number of days" });

const cidr = z.string().refine(
  (value) => {
    const m = CIDR.exec(value);
    if (!m) return false;
    const octets = m.slice(1, 5).map(Number);
    const prefix = Number(m[5]);
    return octets.every((o) => o <= 255) && prefix >= 16 && prefix <= 24;
  },
  { error: "must be an IPv4 CIDR block with a prefix from /16 to /24 (e.g. 10.42.0.0/16)" },
);

const egress = z.enum(EGRESS_MODES, { error: `must be one of ${EGRESS_MODES.map((m) => `"${m}"`).join(", ")}` });

export const newVpc = z.strictObject({
  /** CIDR of the VPC the network stack creates. */
  vpcCidr: cidr,
  /** Availability zones that get a private subnet (and a Batch compute environment). */
  azCount: z
    .number()
    .int({ error: "must be a whole number" })
    .min(1, { error: "must be at least 1" })
    .max(6, { error: "must be at most 6" })
    .default(2),
  /**
   * The zones of those subnets by letter, in subnet order (`["a", "b"]`: `<region>a`, `<region>b` in every region):
   * the subnets and Batch lanes are then addressed by zone name, so adding or dropping the last zone leaves the
   * others where they are. @default the first `azCount` available zones, addressed by position
   */
  availabilityZones: z
    .array(
      z.string().regex(/^[a-z]$/, {
        error:
          'must be the letter of an availability zone ("a", "b", ...): in each region the zone is <region><letter>',
      }),
    )
    .min(1, { error: "must list at least one zone" })
    .max(6, { error: "must list at most 6 zones" })
    .refine((zones) => new Set(zones).size === zones.length, { error: "must not repeat a zone" })
    .optional(),
  /** Availability zones that get interface endpoint network interfaces; one is cheapest. */
  endpointAzCount: z
    .number()
    .int({ error: "must be a whole number" })
    .min(1, { error: "must be at least 1" })
    .max(6, { error: "must be at most 6" })
    .default(1),
  egress: egress.default("endpoints"),
});

export const existingVpc = z.strictObject({
  /** An existing VPC; the network stack adds endpoints and security groups to it. */
  vpcId: z.string().regex(VPC_ID, { error: "must be a VPC id like vpc-0123456789abcdef0" }),
  /** Private subnets of that VPC, one per availability zone the workers may use. */
  subnetIds: z
    .array(z.string().regex(SUBNET_ID, { error: "must be a subnet id like subnet-0123456789abcdef0" }))
    .min(1, { error: "must list at least one subnet" }),
  /** Route tables of those subnets, for the S3 and DynamoDB gateway endpoints. */
  routeTableIds: z
    .array(z.string().regex(/^rtb-[0-9a-f]{8,17}$/, { error: "must be a route table id like rtb-0123456789abcdef0" }))
    .min(1, {
      error: "must list the route tables of subnetIds (the S3 and DynamoDB gateway endpoints are wired to them)",
    }),
  endpointAzCount: z
    .number()
    .int({ error: "must be a whole number" })
    .min(1, { error: "must be at least 1" })
    .max(6, { error: "must be at most 6" })
    .default(1),
  egress: egress.default("endpoints"),
});

/**
 * A network is either a new VPC (`vpcCidr`) or an existing one (`vpcId`). The union
 * is decided by which key is present so the error names the right keys.
 */
const network = z.custom<unknown>().transform((value, ctx) => {
  const schema = isObject(value) && "vpcId" in value ? existingVpc : newVpc;
  const result = schema.safeParse(value);
  if (!result.success) {
    for (const issue of result.error.issues) ctx.addIssue({ ...issue, path: issue.path } as never);
    return z.NEVER;
  }
  const net = result.data as NetworkConfig;
  // Named zones decide the count (config/rules.ts refuses an azCount that says otherwise).
  if ("availabilityZones" in net && net.availabilityZones) return { ...net, azCount: net.availabilityZones.length };
  return net;
});

export type NewVpcConfig = z.output<typeof newVpc>;
export type ExistingVpcConfig = z.output<typeof existingVpc>;
export type NetworkConfig = NewVpcConfig | ExistingVpcConfig;

const account = z.strictObject({
  id: z.string({ error: "must be 12 digits (as a string)" }).regex(ACCOUNT_ID, { error: "must be 12 digits" }),
  regions: z
    .array(z.string().regex(REGION, { error: "must be an AWS region name like us-east-1" }))
    .min(1, { error: "must list at least one region" })
    .refine((r) => new Set(r).size === r.length, { error: "must not repeat a region" }),
  /** Role Terraform assumes in this account (deploying from a central account). */
  assumeRoleArn: z.string().regex(IAM_ROLE_ARN, { error: "must be an IAM role ARN" }).optional(),
  /** Overrides the top-level `network` for this account (e.g. its own existing VPC). */
  network: network.optional(),
});

export const s3Backend = z.strictObject({
  type: z.literal("s3"),
  bucket: z
    .string()
    .regex(BUCKET_NAME, { error: "must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)" }),
  region: z.string().regex(REGION, { error: "must be an AWS region name like us-east-1" }),
  keyPrefix: z
    .string()
    .regex(/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/, {
      error: "must be an S3 key prefix without leading or trailing '/'",
    })
    .default("backup-actions"),
  /**
   * Account that holds the state bucket (the bootstrap stack pins it with allowed_account_ids).
   * Unset: the first account without assumeRoleArn, whose stacks run with the same credentials.
   */
  accountId: z
    .string({ error: "must be 12 digits (as a string)" })
    .regex(ACCOUNT_ID, { error: "must be 12 digits" })
    .optional(),
});

export const cloudBackend = z.strictObject({
  type: z.literal("cloud"),
  organization: z.string().min(1, { error: "must not be empty" }),
  workspacePrefix: z
    .string()
    .regex(/^[A-Za-z0-9_-]{1,60}$/, { error: "must be letters, digits, '-' or '_' (at most 60)" }),
  hostname: z
    .string()
    .regex(/^[a-z0-9.-]+$/, { error: "must be a host name like app.terraform.io" })
    .optional(),
  /**
   * The role each account's workspaces assume through dynamic provider credentials (OIDC,
   * TFC_AWS_RUN_ROLE_ARN): account id → role ARN, one per account of `accounts` (rules.ts).
   */
  runRoleArns: z.record(
    z.string().regex(ACCOUNT_ID, { error: "must be keyed by 12-digit account ids" }),
    z.string().regex(IAM_ROLE_ARN, { error: "must be an IAM role ARN" }),
    { error: "must map each account id to the IAM role its workspaces' runs assume (dynamic credentials)" },
  ),
  /** VCS-driven workspaces (runs on every push, speculative plans on pull requests); unset: CLI-driven. */
  vcs: z
    .strictObject({
      /** `<organization>/<repository>` of the repository that holds the committed `cdktf.out`. */
      identifier: z
        .string()
        .regex(/^[^/\s]+\/[^/\s]+$/, { error: "must be <organization>/<repository>, like acme/backup-actions" }),
      /** Branch the workspaces apply from. @default the repository's default branch */
      branch: z.string().min(1, { error: "must not be empty" }).optional(),
      /** The OAuth token of the organization's VCS connection (Settings → Providers). */
      oauthTokenId: z.string().regex(/^ot-[A-Za-z0-9]+$/, { error: "must be an OAuth token id like ot-AbCd1234" }),
    })
    .optional(),
  /** An existing project the workspaces go into. @default the organization's default project */
  project: z.string().min(1, { error: "must not be empty" }).optional(),
  /** Where the `workspaces` stack keeps its own state. @default the local file terraform.workspaces.tfstate */
  workspacesState: z
    .strictObject({
      bucket: z.string().regex(BUCKET_NAME, {
        error: "must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)",
      }),
      region: z.string().regex(REGION, { error: "must be an AWS region name like us-east-1" }),
      key: z
        .string()
        .regex(/^[A-Za-z0-9!_.*'()-]+(\/[A-Za-z0-9!_.*'()-]+)*$/, {
          error: "must be an S3 key without leading or trailing '/'",
        })
        .default("backup-actions/workspaces.tfstate"),
    })
    .optional(),
});

const stateBackend = z.custom<unknown>().transform((value, ctx) => {
  const type = isObject(value) ? value.type : undefined;
  const schema = type === "s3" ? s3Backend : type === "cloud" ? cloudBackend : undefined;
  if (!schema) {
    ctx.addIssue({ code: "custom", path: isObject(value) ? ["type"] : [], message: 'must be "s3" or "cloud"' });
    return z.NEVER;
  }
  const result = schema.safeParse(value);
  if (!result.success) {
    for (const issue of result.error.issues) ctx.addIssue({ ...issue, path: issue.path } as never);
    return z.NEVER;
  }
  return result.data as StateBackendConfig;
});

export type S3BackendConfig = z.output<typeof s3Backend>;

/**
 * The account of the S3 state bucket: `stateBackend.accountId`, else the first account that
 * Terraform reaches with the deploying credentials themselves (no assumeRoleArn): the bootstrap
 * stack runs with those credentials too. rules.ts refuses a config where neither exists.
 */
export function stateBucketAccountId(config: {
  stateBackend: StateBackendConfig;
  accounts: readonly { id: string; assumeRoleArn?: string }[];
}): string {
  const explicit = config.stateBackend.type === "s3" ? config.stateBackend.accountId : undefined;
  const own = explicit ?? config.accounts.find((a) => a.assumeRoleArn === undefined)?.id;
  if (!own) throw new Error("stateBackend.accountId is required when every account sets assumeRoleArn");
  return own;
}
export type CloudBackendConfig = z.output<typeof cloudBackend>;
export type StateBackendConfig = S3BackendConfig | CloudBackendConfig;

/**
 * x86_64 families only: the worker image is built from `batch-worker/` by `docker build`
 * on the deploying machine, which makes a single-architecture (normally amd64) image.
 * Graviton families (c7g, m7g, ...) need a multi-arch image: set `worker.imageUri` to one.
 * Compute (c), general (m) and memory (r) families of the last two Intel and AMD
 * generations give Spot many capacity pools per AZ, which is what keeps reclaims rare.
 */
export const DEFAULT_INSTANCE_FAMILIES = [
  "c6i",
  "c6a",
  "c7i",
  "c7a",
  "m6i",
  "m6a",
  "m7i",
  "m7a",
  "r6i",
  "r7i",
] as const;

/** An EC2 family (`c6i`, `m7i-flex`) or a type (`c6i.2xlarge`). */
const INSTANCE_FAMILY = /^[a-z][a-z0-9]*\d[a-z0-9]*(-flex)?(\.[a-z0-9]+)?$/;
/** `[registry[:port]/]repository[:tag | @sha256:digest]` with a tag or a digest (never an implicit `latest`). */
const IMAGE_URI = /^([a-z0-9.-]+(:\d+)?\/)?[a-z0-9]+([._/-][a-z0-9]+)*(:[\w][\w.-]{0,127}|@sha256:[0-9a-f]{64})$/;

const wholeInRange = (min: number, max: number, unit = "") => {
  const range = `must be from ${min} to ${max}${unit}`;
  return z.number().int({ error: "must be a whole number" }).min(min, { error: range }).max(max, { error: range });
};

const workerVolume = z.strictObject({
  /** gp3 throughput of the volume restored from the snapshot. */
  throughputMiBps: wholeInRange(125, 1000, " MiB/s").default(500),
  /** gp3 IOPS of that volume. */
  iops: wholeInRange(3000, 16000).default(6000),
  /** EBS Provisioned Rate for Volume Initialization; unset = default (lazy) hydration. */
  initializationRateMiBps: wholeInRange(100, 300, " MiB/s").optional(),
});

/** Default of `worker.maxVolumeGiB`: 16 TiB, the largest gp2/io1/st1/sc1 volume and the size most fleets stay under. */
export const DEFAULT_MAX_VOLUME_GIB = 16384;
/** gp3 and io2 Block Express volumes grow to 64 TiB. */
export const LARGEST_EBS_VOLUME_GIB = 65536;

const worker = z.strictObject({
  /** vCPUs of one EBS export job (tar + multi-threaded zstd + upload). */
  vcpus: wholeInRange(1, 192).default(4),
  /** Memory of one job, in MiB. Leave headroom: the ECS agent reserves some of each instance. */
  memoryMiB: wholeInRange(1024, 786432, " MiB").default(8192),
  /** Upper bound of each per-AZ Spot compute environment (the minimum is always 0). */
  maxVcpus: wholeInRange(1, 10000).default(64),
  /** Batch attempt timeout of one job; rules.ts checks it against maxVolumeGiB at the volume's read rate. */
  timeoutHours: wholeInRange(1, 168, " hours").default(24),
  /** The largest volume (GiB) an export must finish within one attempt; sizes the timeout and part buffers. */
  maxVolumeGiB: wholeInRange(1, LARGEST_EBS_VOLUME_GIB, " GiB").default(DEFAULT_MAX_VOLUME_GIB),
  /** Attempts Batch makes when Spot reclaims the host (`Host EC2*`); any other failure is final. */
  spotRetries: wholeInRange(1, 10).default(3),
  /** Families (or types) Batch may launch; see DEFAULT_INSTANCE_FAMILIES. */
  instanceFamilies: z
    .array(
      z.string().regex(INSTANCE_FAMILY, { error: "must be an EC2 instance family or type like c6i or c6i.2xlarge" }),
    )
    .min(1, { error: "must list at least one instance family" })
    .refine((f) => new Set(f).size === f.length, { error: "must not repeat a family" })
    .default([...DEFAULT_INSTANCE_FAMILIES]),
  /** Adds an on-demand compute environment after Spot in each job queue. */
  onDemandFallback: z.boolean({ error: "must be true or false" }).default(false),
  /** A prebuilt worker image; unset = built from `batch-worker/` and pushed to the pipeline's ECR repository at deploy time. */
  imageUri: z
    .string()
    .regex(IMAGE_URI, {
      error:
        "must be an image URI with a tag or digest, like 123456789012.dkr.ecr.us-east-1.amazonaws.com/worker:1.2.0",
    })
    .optional(),
  volume: workerVolume.default({ throughputMiBps: 500, iops: 6000 }),
  /**
   * How the worker reads a snapshot (ADR 0008): `volume` restores it as a volume (lazily loaded from S3);
   * `direct`: the EBS child creates a blank encrypted scratch volume and the worker fills it with the snapshot's
   * blocks through the EBS direct APIs before exporting it.
   */
  readPath: z.enum(["volume", "direct"], { error: 'must be "volume" or "direct"' }).default("volume"),
  /**
   * The direct read's budget (readPath `direct`): `requestsPerSecond` is the pipeline's share of the account's
   * GetSnapshotBlock quota (1,000/s by default), divided among the most jobs that can run at once
   * (core/direct-read.ts); `parallelism` is the blocks one job has in flight.
   */
  directRead: z
    .strictObject({
      requestsPerSecond: wholeInRange(1, 10000, " requests/s").default(DEFAULT_DIRECT_READ_REQUESTS_PER_SECOND),
      parallelism: wholeInRange(1, 256).default(DEFAULT_DIRECT_READ_PARALLELISM),
    })
    .default({
      requestsPerSecond: DEFAULT_DIRECT_READ_REQUESTS_PER_SECOND,
      parallelism: DEFAULT_DIRECT_READ_PARALLELISM,
    }),
});

export type WorkerConfig = z.output<typeof worker>;

export const OBJECT_LOCK_MODES = ["GOVERNANCE", "COMPLIANCE"] as const;
/** Default of `archive.noncurrentVersionRetentionDays`: a year outlives any plausible incident response. */
export const DEFAULT_NONCURRENT_VERSION_DAYS = 365;

const archive = z.strictObject({
  /**
   * S3 Object Lock on the archive bucket with a default retention: every object version the
   * pipeline writes can be neither deleted nor overwritten (GOVERNANCE: except by a principal with
   * s3:BypassGovernanceRetention; COMPLIANCE: by nobody, root included) for `retentionDays`.
   */
  objectLock: z
    .strictObject({
      mode: z.enum(OBJECT_LOCK_MODES, { error: 'must be "GOVERNANCE" or "COMPLIANCE"' }),
      retentionDays: wholeInRange(1, 36500, " days"),
    })
    .optional(),
  /** Days a replaced or deleted object version is kept before it expires. */
  noncurrentVersionRetentionDays: positiveDays.default(DEFAULT_NONCURRENT_VERSION_DAYS),
});

export type ArchiveConfig = z.output<typeof archive>;

// ── restore drills (README "Restore drills", core/drill.ts) ──
/** 03:00 UTC on the first day of every month. */
export const DEFAULT_DRILL_SCHEDULE = "cron(0 3 1 * ? *)";
export const DEFAULT_DRILL_SAMPLE_SIZE = 3;
const RATE_EXPRESSION = /^rate\((\d+) (minute|minutes|hour|hours|day|days)\)$/;
const CRON_EXPRESSION = /^cron\(\S+( \S+){5}\)$/;
/** An EventBridge schedule expression: rate(1 day), rate(30 days) (singular unit for 1, plural above), or cron() with six fields. */
function isScheduleExpression(value: string): boolean {
  const rate = RATE_EXPRESSION.exec(value);
  if (rate) {
    const n = Number(rate[1]);
    return n >= 1 && (n === 1) === !rate[2]!.endsWith("s");
  }
  return CRON_EXPRESSION.test(value);
}
const DRILLS_DEFAULT = {
  enabled: false,
  schedule: DEFAULT_DRILL_SCHEDULE,
  sampleSize: DEFAULT_DRILL_SAMPLE_SIZE,
  glacier: "skip",
  restoreDumps: false,
} as const;
const drills = z.strictObject({
  enabled: z.boolean({ error: 'must be true or false (a JSON boolean, not a string like "false")' }).default(false),
  schedule: z
    .string()
    .refine(isScheduleExpression, {
      error:
        'must be an EventBridge schedule expression: "rate(N unit)" (unit minute(s), hour(s) or day(s), singular for 1) or "cron(min hour day-of-month month day-of-week year)"',
    })
    .default(DEFAULT_DRILL_SCHEDULE),
  sampleSize: wholeInRange(0, 100, " archives").default(DEFAULT_DRILL_SAMPLE_SIZE),
  glacier: z.enum(DRILL_GLACIER_MODES, { error: 'must be "skip" or "restore"' }).default("skip"),
  /** A drilled native dump is also loaded into a scratch server in the verify job (`verify --restore-scratch`). */
  restoreDumps: z
    .boolean({ error: 'must be true or false (a JSON boolean, not a string like "false")' })
    .default(false),
});
export type DrillsConfig = z.output<typeof drills>;

export const CENTRAL_ARCHIVE_MODES = ["write", "copy"] as const;
export type CentralArchiveMode = (typeof CENTRAL_ARCHIVE_MODES)[number];
const ORGANIZATION_ID = /^o-[a-z0-9]{10,32}$/;

/**
 * One archive for every pipeline (docs/adr/0009-central-archive.md). Unset: each pipeline keeps its own
 * archive bucket and key, as before.
 * - `write`: an `archive-<account>-<region>` stack in the archive account owns the bucket and its key;
 *   the pipelines (all in `region`, config/rules.ts) write their exports into it across accounts.
 * - `copy`: the members' backup plans copy their recovery points into a vault of the archive account,
 *   whose own pipeline (an account-region of `accounts`) is the only one that exports.
 */
const centralArchive = z.strictObject({
  account: z.string({ error: "must be 12 digits (as a string)" }).regex(ACCOUNT_ID, { error: "must be 12 digits" }),
  region: z.string().regex(REGION, { error: "must be an AWS region name like us-east-1" }),
  /** AWS Organizations id: the bucket and key policies also require aws:PrincipalOrgID. @default none */
  organizationId: z
    .string()
    .regex(ORGANIZATION_ID, { error: "must be an AWS Organizations id: o- and 10 to 32 lowercase letters or digits" })
    .optional(),
  mode: z.enum(CENTRAL_ARCHIVE_MODES, { error: 'must be "write" or "copy"' }),
  /**
   * Role Terraform assumes in the archive account for the archive stack (mode "write"). @default the
   * assumeRoleArn of that account in `accounts`, else the deployer's own credentials
   */
  assumeRoleArn: z.string().regex(IAM_ROLE_ARN, { error: "must be an IAM role ARN" }).optional(),
});

export type CentralArchiveConfig = z.output<typeof centralArchive>;

/** Defaults of the scheduled reconciler (lambdas/reconciler; README "Reconciling lost events"). */
export const DEFAULT_RECONCILER = { enabled: true, intervalHours: 6, lookBackDays: 7 } as const;

/**
 * The scheduled reconciler: every `intervalHours` it lists the watched vaults' COMPLETED recovery
 * points of the last `lookBackDays` and starts those whose event was lost (config/rules.ts: the
 * look-back must be longer than the interval, or a recovery point could fall between two runs).
 */
const reconciler = z.strictObject({
  enabled: z
    .boolean({ error: 'must be true or false (a JSON boolean, not a string like "false")' })
    .default(DEFAULT_RECONCILER.enabled),
  intervalHours: wholeInRange(1, 168, " hours").default(DEFAULT_RECONCILER.intervalHours),
  lookBackDays: wholeInRange(1, 365, " days").default(DEFAULT_RECONCILER.lookBackDays),
});

export const configSchema = z.strictObject({
  /** Short name used in resource names; lets two installations share an account. */
  name: z
    .string()
    .regex(PIPELINE_NAME, { error: "must be 2-20 lowercase letters, digits or '-', starting with a letter" })
    .default("backup-actions"),
  accounts: z.array(account).min(1, { error: "must list at least one account" }),
  backupVaults: z
    .array(z.string().regex(VAULT_NAME, { error: "must be a backup vault name (2-50 letters, digits, '-' or '_')" }))
    .min(1, { error: "must list at least one vault" })
    .default(["Default"]),
  deleteRecoveryPoint: z
    .strictObject({
      enabled: z.boolean({ error: 'must be true or false (a JSON boolean, not a string like "false")' }),
      requiredTag: z
        .string()
        .regex(TAG_KEY, { error: "must be a tag key (1-128 characters)" })
        .default("backup-actions:delete"),
    })
    .default({ enabled: false, requiredTag: "backup-actions:delete" }),
  notificationEmail: z.string().regex(EMAIL, { error: "must be an email address" }).optional(),
  kmsKeyArn: z
    .string()
    .regex(KMS_KEY_ARN, { error: "must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)" })
    .optional(),
  tags: z
    .record(
      z.string().regex(TAG_KEY, { error: "must be a tag key (1-128 characters)" }),
      z.string().max(256, { error: "must be at most 256 characters" }),
    )
    .refine((t) => Object.keys(t).length > 0, { error: "must have at least one tag" })
    .refine((t) => Object.keys(t).length <= 40, {
      error: "must have at most 40 tags (AWS allows 50 and the pipeline adds its own)",
    }),
  accessLogs: z
    .strictObject({
      bucket: z.string().regex(BUCKET_NAME, { error: "must be a valid S3 bucket name" }),
      prefix: z.string().max(200, { error: "must be at most 200 characters" }).default(""),
    })
    .optional(),
  securityTag: z.string().regex(TAG_KEY, { error: "must be a tag key (1-128 characters)" }).optional(),
  lifecycleRules: z
    .strictObject({
      glacier: positiveDays.optional(),
      deepArchive: positiveDays.optional(),
      expiration: positiveDays.optional(),
    })
    .default({}),
  /** Restore drills: a scheduled re-verification of a sample of archives by the worker. */
  drills: drills.default(DRILLS_DEFAULT),
  /** The archive bucket's protection of what it holds. */
  archive: archive.default({ noncurrentVersionRetentionDays: DEFAULT_NONCURRENT_VERSION_DAYS }),
  /** One archive for every pipeline. @default none: each pipeline has its own archive bucket and key */
  centralArchive: centralArchive.optional(),
  stateBackend,
  network: network.default({ vpcCidr: "10.42.0.0/16", azCount: 2, endpointAzCount: 1, egress: "endpoints" }),
  exports: z
    .strictObject({
      ebs: z.boolean({ error: "must be true or false" }).default(true),
      rds: databaseExport(DEFAULT_DUMP_INSTANCE_CLASS.rds).default({
        format: DEFAULT_DATABASE_EXPORT_FORMAT,
        instanceClass: DEFAULT_DUMP_INSTANCE_CLASS.rds,
      }),
      aurora: databaseExport(DEFAULT_DUMP_INSTANCE_CLASS.aurora).default({
        format: DEFAULT_DATABASE_EXPORT_FORMAT,
        instanceClass: DEFAULT_DUMP_INSTANCE_CLASS.aurora,
      }),
      /**
       * DynamoDB: `true`/`false`, or `{ format }` to choose the export's format (switched on).
       * DYNAMODB_JSON is the default: ImportTable and every JSON reader take it (README).
       */
      dynamodb: z
        .union(
          [
            z.boolean(),
            z.strictObject({
              format: z
                .enum(DYNAMODB_EXPORT_FORMATS, { error: 'must be "DYNAMODB_JSON" or "ION"' })
                .default("DYNAMODB_JSON"),
            }),
          ],
          { error: 'must be true, false or { "format": "DYNAMODB_JSON" | "ION" }' },
        )
        .default(true),
      /** zstd level of the EBS worker: 1 (fastest) to 19; 3 is zstd's default. */
      compressionLevel: z
        .number()
        .int({ error: "must be a whole number" })
        .min(1, { error: "must be from 1 to 19" })
        .max(19, { error: "must be from 1 to 19" })
        .default(3),
    })
    .default({
      ebs: true,
      rds: { format: DEFAULT_DATABASE_EXPORT_FORMAT, instanceClass: DEFAULT_DUMP_INSTANCE_CLASS.rds },
      aurora: { format: DEFAULT_DATABASE_EXPORT_FORMAT, instanceClass: DEFAULT_DUMP_INSTANCE_CLASS.aurora },
      dynamodb: true,
      compressionLevel: 3,
    }),
  /** The scheduled reconciler of lost AWS Backup events. */
  reconciler: reconciler.default({ ...DEFAULT_RECONCILER }),
  /** The EBS export worker: Batch on Spot, its image and the volume it reads. */
  worker: worker.default({
    vcpus: 4,
    memoryMiB: 8192,
    maxVcpus: 64,
    timeoutHours: 24,
    maxVolumeGiB: DEFAULT_MAX_VOLUME_GIB,
    spotRetries: 3,
    instanceFamilies: [...DEFAULT_INSTANCE_FAMILIES],
    onDemandFallback: false,
    volume: { throughputMiBps: 500, iops: 6000 },
    readPath: "volume",
    directRead: {
      requestsPerSecond: DEFAULT_DIRECT_READ_REQUESTS_PER_SECOND,
      parallelism: DEFAULT_DIRECT_READ_PARALLELISM,
    },
  }),
});

export type Config = z.output<typeof configSchema>;
export type AccountConfig = Config["accounts"][number];
export type LifecycleRules = Config["lifecycleRules"];
export type ExportsConfig = Config["exports"];

/** A config problem: `path` is the key path as users write it, e.g. `accounts[0].id`. */
export interface ConfigProblem {
  readonly path: string;
  readonly message: string;
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
