/**
 * The restore drill's contract (issue 13 item 2): which archives it re-verifies, what it records
 * in the ledger, the drill function's environment and requests, and what a Glacier restore costs.
 * Shared by the drill Lambda (lambdas/drill), its state machine (stacks/workflows/restore-drill.ts)
 * and construct (stacks/constructs/restore-drill.ts), so the three cannot drift.
 *
 * The drill picks, per run, the newest SUCCEEDED archive of every workflow it can verify plus
 * `sampleSize` others at random, and runs the worker image's `verify` on each as a Batch job: every
 * object re-read, sizes, SHA-256, S3 checksums, tar listings and dump tables of contents checked,
 * and the manifest's SHA-256 compared with the one the ledger recorded.
 */
import { createHash } from "node:crypto";
import { RuntimeConfigError } from "./errors";
import { PRICES } from "./prices";
import { databaseExportFormatOf, hasDump, WORKFLOWS, type Workflow, type WorkflowSwitch } from "./workflows";

/** Results a drill records in `lastVerifyResult`. */
export const DRILL_RESULTS = ["PASSED", "FAILED", "SKIPPED"] as const;
export type DrillResult = (typeof DRILL_RESULTS)[number];

/**
 * What the ledger's `lastVerifyResult` says while a drill waits for the Bulk restore of an archive's
 * objects (`drills.glacier` "restore"): not a result yet, and not a failure; `lastVerifyCause` says what
 * was asked and what it costs. The same drill replaces it with PASSED or FAILED.
 */
export const DRILL_RESTORING = "RESTORING";
/** Every value the drill writes to `lastVerifyResult`. */
export const DRILL_LEDGER_RESULTS = [...DRILL_RESULTS, DRILL_RESTORING] as const;
export type DrillLedgerResult = (typeof DRILL_LEDGER_RESULTS)[number];

/** What the drill does with an archive that has objects in an archive storage class (config `drills.glacier`). */
export const DRILL_GLACIER_MODES = ["skip", "restore"] as const;
export type DrillGlacierMode = (typeof DRILL_GLACIER_MODES)[number];

/**
 * Storage classes S3 cannot read without a RestoreObject first (S3 User Guide, "Working with archived
 * objects"). Glacier Instant Retrieval (GLACIER_IR) is read like Standard, so it is not one of them.
 * ListObjectsV2 names these classes (the ones the archive bucket's lifecycle rules move objects to). An
 * INTELLIGENT_TIERING object is archived only in its opt-in Archive Access or Deep Archive Access tier,
 * which only HeadObject's `ArchiveStatus` tells (INTELLIGENT_TIERING_ARCHIVE_TIERS).
 */
export const ARCHIVE_STORAGE_CLASSES = ["GLACIER", "DEEP_ARCHIVE"] as const;
/** An INTELLIGENT_TIERING object in an archive tier, named by its HeadObject `ArchiveStatus`. */
export const INTELLIGENT_TIERING_ARCHIVE_TIERS = {
  ARCHIVE_ACCESS: "INTELLIGENT_TIERING ARCHIVE_ACCESS",
  DEEP_ARCHIVE_ACCESS: "INTELLIGENT_TIERING DEEP_ARCHIVE_ACCESS",
} as const;
export type ArchiveStorageClass =
  | (typeof ARCHIVE_STORAGE_CLASSES)[number]
  | (typeof INTELLIGENT_TIERING_ARCHIVE_TIERS)[keyof typeof INTELLIGENT_TIERING_ARCHIVE_TIERS];

/**
 * Days a restored copy stays readable (RestoreRequest Days, required for GLACIER and DEEP_ARCHIVE): long enough
 * for a queued Batch job to read it. An Intelligent-Tiering restore takes no Days: the object moves back to its
 * Frequent Access tier, and a request with Days fails (S3 User Guide, "Restore objects with Batch Operations").
 */
export const DRILL_RESTORE_DAYS = 3;
/** A restored copy that expires sooner than this is restored again (its expiry moves; S3 charges the request only). */
export const DRILL_RESTORE_MIN_REMAINING_HOURS = 24;

/** HeadObject's `Restore` (x-amz-restore) of an archived object. */
export type RestoreState =
  | { readonly state: "none" }
  | { readonly state: "ongoing" }
  | { readonly state: "restored"; readonly expiry: Date | null };

/**
 * Reads x-amz-restore: absent (no restore asked, or the copy expired), `ongoing-request="true"`, or
 * `ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"` (HeadObject API reference).
 */
export function restoreStateOf(header: string | undefined): RestoreState {
  if (!header) return { state: "none" };
  if (/ongoing-request="true"/.test(header)) return { state: "ongoing" };
  if (/ongoing-request="false"/.test(header)) {
    const date = /expiry-date="([^"]+)"/.exec(header)?.[1];
    const expiry = date ? new Date(date) : null;
    return { state: "restored", expiry: expiry && !Number.isNaN(expiry.getTime()) ? expiry : null };
  }
  throw new RuntimeConfigError(`HeadObject Restore header not understood: ${JSON.stringify(header)}`);
}

/** What the drill's state machine needs of one ledger record. */
export interface DrillCandidate {
  readonly recoveryPointArn: string;
  readonly workflow: Workflow;
  readonly archiveUrl: string;
  /** SHA-256 of manifest.json the ledger recorded: the verify job refuses another manifest. */
  readonly sha256: string;
  readonly startedAt: string;
  readonly resourceArn: string | null;
  readonly bytes: number | null;
}

/**
 * The archives of one drill: the newest of each workflow, then `sampleSize` of the rest drawn
 * without replacement (`random` in [0, 1), Math.random in the Lambda). Candidates in any order.
 */
export function pickDrillSample(
  candidates: readonly DrillCandidate[],
  sampleSize: number,
  random: () => number = Math.random,
): DrillCandidate[] {
  if (!Number.isInteger(sampleSize) || sampleSize < 0)
    throw new RuntimeConfigError(`drill sample size must be a whole number ≥ 0, got ${sampleSize}`);
  const newestFirst = [...candidates].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const newest = new Map<Workflow, DrillCandidate>();
  for (const c of newestFirst) if (!newest.has(c.workflow)) newest.set(c.workflow, c);
  const chosen = [...newest.values()];
  const rest = newestFirst.filter((c) => !chosen.includes(c));
  for (let i = 0; i < Math.min(sampleSize, rest.length); i++) {
    const j = i + Math.floor(random() * (rest.length - i));
    [rest[i], rest[j]] = [rest[j]!, rest[i]!];
    chosen.push(rest[i]!);
  }
  return chosen;
}

/** AWS Backup's resource type of a workflow, as the outcome events name it. */
export const RESOURCE_TYPE_OF: { readonly [W in Workflow]: string } = {
  ebs: "EBS",
  rds: "RDS",
  aurora: "Aurora",
  dynamodb: "DynamoDB",
};

/** What the drill does with one archive. */
export type DrillAction = "verify" | "skip" | "restore";

/** One archive of the sample, as the drill function answers the state machine. */
export interface DrillArchive extends DrillCandidate {
  /** Batch job name (letters, digits, `-`; at most 128): `drill-` and a hash of the recovery point. */
  readonly jobName: string;
  readonly resourceType: string;
  readonly action: DrillAction;
  /** Objects of the archive in an archive storage class, and their bytes. */
  readonly archivedObjects: number;
  readonly archivedBytes: number;
  /** USD of the Bulk retrieval of those objects (restoreCostUsd). */
  readonly restoreCostUsd: number;
  /**
   * Why it is skipped (action "skip"), or what was asked of S3 and what it costs (action "restore", written
   * to the ledger's lastVerifyCause while the drill waits); null for "verify".
   */
  readonly reason: string | null;
  /** Action "restore": the archived objects' restores this run asked for, found under way, found done. */
  readonly restores: { readonly requested: number; readonly inProgress: number; readonly restored: number } | null;
}

export function drillJobName(recoveryPointArn: string): string {
  return `drill-${createHash("sha256").update(recoveryPointArn).digest("hex").slice(0, 32)}`;
}

const GIB = 2 ** 30;

/**
 * USD of a Bulk retrieval of objects in an archive storage class: per GB (2^30 bytes) and per request.
 * Bulk is free from Glacier Flexible Retrieval and from Intelligent-Tiering (RestoreObject API reference,
 * Tier Bulk); Deep Archive charges both.
 */
export function restoreCostUsd(objects: ReadonlyArray<{ storageClass: ArchiveStorageClass; bytes: number }>): number {
  let usd = 0;
  for (const o of objects) {
    if (o.storageClass !== "GLACIER" && o.storageClass !== "DEEP_ARCHIVE") continue; // Intelligent-Tiering: free
    const [gb, requests] =
      o.storageClass === "GLACIER"
        ? [PRICES.s3GlacierFlexibleBulkRetrievalGb, PRICES.s3GlacierFlexibleBulkRequests]
        : [PRICES.s3DeepArchiveBulkRetrievalGb, PRICES.s3DeepArchiveBulkRequests];
    usd += (o.bytes / GIB) * gb.usd + requests.usd / 1000;
  }
  return Math.round(usd * 1e6) / 1e6;
}

/** The drill function's environment: written by the construct, read by the handler. */
export const DRILL_ENV = {
  ledgerTable: "LEDGER_TABLE",
  sampleSize: "DRILL_SAMPLE_SIZE",
  glacier: "DRILL_GLACIER",
  /** Comma-separated workflows whose archives the worker's `verify` reads (ebs; rds/aurora with a dump format). */
  workflows: "DRILL_WORKFLOWS",
} as const;

export interface DrillSettings {
  readonly ledgerTable: string;
  readonly sampleSize: number;
  readonly glacier: DrillGlacierMode;
  readonly workflows: readonly Workflow[];
}

export function drillEnvironment(s: DrillSettings): Record<string, string> {
  return {
    [DRILL_ENV.ledgerTable]: s.ledgerTable,
    [DRILL_ENV.sampleSize]: String(s.sampleSize),
    [DRILL_ENV.glacier]: s.glacier,
    [DRILL_ENV.workflows]: s.workflows.join(","),
  };
}

export function parseDrillEnv(env: NodeJS.ProcessEnv): DrillSettings {
  const need = (name: string) => {
    const v = env[name];
    if (!v) throw new RuntimeConfigError(`${name} is not set`);
    return v;
  };
  const sampleSize = Number(need(DRILL_ENV.sampleSize));
  if (!Number.isInteger(sampleSize) || sampleSize < 0)
    throw new RuntimeConfigError(
      `${DRILL_ENV.sampleSize} must be a whole number ≥ 0, got "${env[DRILL_ENV.sampleSize]}"`,
    );
  const glacier = need(DRILL_ENV.glacier);
  if (!(DRILL_GLACIER_MODES as readonly string[]).includes(glacier))
    throw new RuntimeConfigError(`${DRILL_ENV.glacier} must be "skip" or "restore", got "${glacier}"`);
  const workflows = need(DRILL_ENV.workflows).split(",");
  for (const w of workflows)
    if (!(WORKFLOWS as readonly string[]).includes(w))
      throw new RuntimeConfigError(`${DRILL_ENV.workflows}: "${w}" is not a workflow (${WORKFLOWS.join(", ")})`);
  return {
    ledgerTable: need(DRILL_ENV.ledgerTable),
    sampleSize,
    glacier: glacier as DrillGlacierMode,
    workflows: workflows as Workflow[],
  };
}

/** The drill function's three requests (its Payload from the state machine). */
export type DrillRequest =
  | { readonly action: "sample" }
  | { readonly action: "restore-status"; readonly archiveUrl: string }
  | {
      readonly action: "report";
      readonly results: ReadonlyArray<{ readonly result: DrillResult; readonly recoveryPointArn: string }>;
      /** The sample or the Map failed as a whole: counted as one failed drill. */
      readonly error?: { readonly Error?: string; readonly Cause?: string } | null;
    };

export class DrillRequestError extends RuntimeConfigError {
  override readonly name: string = "DrillRequestError";
}

export function parseDrillRequest(payload: unknown): DrillRequest {
  const p = (payload ?? {}) as Record<string, unknown>;
  switch (p.action) {
    case "sample":
      return { action: "sample" };
    case "restore-status":
      if (typeof p.archiveUrl !== "string" || !p.archiveUrl.startsWith("s3://"))
        throw new DrillRequestError(`restore-status needs an archiveUrl s3://..., got ${JSON.stringify(p.archiveUrl)}`);
      return { action: "restore-status", archiveUrl: p.archiveUrl };
    case "report": {
      if (!Array.isArray(p.results)) throw new DrillRequestError("report needs results (a list)");
      for (const r of p.results as Array<Record<string, unknown>>)
        if (!(DRILL_RESULTS as readonly unknown[]).includes(r?.result))
          throw new DrillRequestError(`report: result ${JSON.stringify(r?.result)} is not one of ${DRILL_RESULTS}`);
      return {
        action: "report",
        results: p.results as Array<{ result: DrillResult; recoveryPointArn: string }>,
        error: (p.error as { Error?: string; Cause?: string } | undefined) ?? null,
      };
    }
    default:
      throw new DrillRequestError(
        `unknown drill action ${JSON.stringify(p.action)} (sample, restore-status or report)`,
      );
  }
}

/**
 * The workflows whose archives the worker's `verify` reads: EBS exports, and RDS/Aurora native dumps
 * (format "dump" or "both"; a Parquet export has no manifest of ours, and DynamoDB exports are
 * checked by the verify Lambda only). The worker's job role already reads exactly these prefixes.
 */
export function drillableWorkflows(exports: {
  readonly ebs: WorkflowSwitch;
  readonly rds: WorkflowSwitch;
  readonly aurora: WorkflowSwitch;
}): Workflow[] {
  const dump = (s: WorkflowSwitch) => {
    const f = databaseExportFormatOf(s);
    return f !== undefined && hasDump(f);
  };
  return [
    ...(exports.ebs !== false ? (["ebs"] as const) : []),
    ...(dump(exports.rds) ? (["rds"] as const) : []),
    ...(dump(exports.aurora) ? (["aurora"] as const) : []),
  ];
}

/**
 * Workflows whose drilled archives are native database dumps (drillableWorkflows keeps rds and aurora only
 * with format "dump" or "both"): with config `drills.restoreDumps` their verify job gets `--restore-scratch`.
 */
export const DUMP_DRILL_WORKFLOWS = ["rds", "aurora"] as const satisfies readonly Workflow[];
