/**
 * The ledger: one DynamoDB item per recovery point, written by the dispatcher state
 * machine and read by `backup-actions ledger`. The table's key schema and its index
 * (stacks/constructs/ledger-table.ts) are built from the names below, so the
 * infrastructure, the state machines and the CLI cannot drift apart.
 */
import type { StartedBy } from "./execution-input";
import type { DrillLedgerResult } from "./drill";
import type { Workflow } from "./workflows";

/** What the dispatcher writes (__tests__/stacks/workflows/ledger-writes.test.ts checks both ways). */
export const LEDGER_STATUSES = ["RUNNING", "SUCCEEDED", "FAILED", "SKIPPED", "UNSUPPORTED"] as const;
export type LedgerStatus = (typeof LEDGER_STATUSES)[number];

/** Partition key (type S): the recovery point ARN, unique per export. */
export const LEDGER_PARTITION_KEY = "recoveryPointArn";

/**
 * Index for "recent exports": partition `status`, sort `startedAt` (ISO 8601 strings sort
 * chronologically). Query it per status with `ScanIndexForward: false` and a `Limit`.
 */
export const LEDGER_RECENT_INDEX = { name: "by-status-started", partitionKey: "status", sortKey: "startedAt" } as const;

/** One item of the ledger table. Optional attributes are absent until they are known. */
export interface LedgerRecord {
  /** ARN of the recovery point: `arn:aws:ec2:…:snapshot/…`, `arn:aws:rds:…`, `arn:aws:backup:…:recovery-point:…`. */
  readonly recoveryPointArn: string;
  /**
   * RUNNING (the dispatcher started) → SUCCEEDED | FAILED | UNSUPPORTED (the child found no export path for the
   * resource, e.g. an engine version); SKIPPED when no exporter for its workflow is deployed.
   */
  readonly status: LedgerStatus;
  /** Which child workflow exports it. */
  readonly workflow: Workflow;
  /** The AWS Backup vault that holds the recovery point. */
  readonly backupVaultName: string;
  /** ARN of the backed-up resource (volume, DB instance or cluster, table). */
  readonly resourceArn: string;
  /** ISO 8601 UTC time the dispatcher started, e.g. `2026-11-26T05:12:04.123Z`. */
  readonly startedAt: string;
  /** ISO 8601 UTC time the export reached a final status. */
  readonly finishedAt?: string;
  /** Archive location: `s3://<bucket>/<resource-type>/<account>/<region>/<resource-id>/<yyyy>/<mm>/<dd>/<recovery-point-id>/`. */
  readonly archiveUrl?: string;
  /** Compressed bytes written to the archive (sum over the manifest's objects). */
  readonly bytes?: number;
  /** SHA-256 (hex) of `manifest.json`, which itself lists each object's SHA-256. */
  readonly sha256?: string;
  /** Why the export FAILED, was SKIPPED or is UNSUPPORTED (error name and message, or the child's reason). */
  readonly failureReason?: string;
  /** ARN of the dispatcher execution that wrote this record. */
  readonly executionArn: string;
  /**
   * Who started that execution: "event" (the starter, from an AWS Backup event) or "reconciler" (a
   * recovery point whose event was lost). Absent on records written before it existed.
   */
  readonly startedBy?: StartedBy;
  /** Set (to true) only once AWS Backup no longer has the recovery point after an auto-delete. */
  readonly recoveryPointDeleted?: true;
  /** ISO 8601 UTC time the deletion was confirmed. */
  readonly deletedAt?: string;
  /** Why an auto-delete did not happen or was not confirmed (tag not exactly "true", refused, EXPIRED, still there). */
  readonly recoveryPointNotDeletedReason?: string;
  // ── written by the restore drill (stacks/workflows/restore-drill.ts), never by the dispatcher ──
  /** ISO 8601 UTC time the last restore drill that picked this archive recorded its result. */
  readonly lastVerifiedAt?: string;
  /**
   * That drill's result: PASSED (re-read and verified end to end), FAILED, or SKIPPED (archived in Glacier,
   * `drills.glacier` "skip"); RESTORING while it waits for the archive's Bulk restore (`drills.glacier` "restore").
   */
  readonly lastVerifyResult?: DrillLedgerResult;
  /** Why that drill FAILED or SKIPPED (the error and its cause), or what RESTORING asked and costs; removed when a drill passes. */
  readonly lastVerifyCause?: string;
}

/** Every attribute of LedgerRecord the dispatcher writes; with LEDGER_DRILL_ATTRIBUTES the type check below keeps the lists and the interface one. */
export const LEDGER_ATTRIBUTES = [
  "recoveryPointArn",
  "status",
  "workflow",
  "startedAt",
  "finishedAt",
  "archiveUrl",
  "bytes",
  "sha256",
  "failureReason",
  "executionArn",
  "startedBy",
  "backupVaultName",
  "resourceArn",
  "recoveryPointDeleted",
  "deletedAt",
  "recoveryPointNotDeletedReason",
] as const satisfies readonly (keyof LedgerRecord)[];

/** The attributes the restore drill writes (__tests__/stacks/workflows/restore-drill.test.ts checks them). */
export const LEDGER_DRILL_ATTRIBUTES = [
  "lastVerifiedAt",
  "lastVerifyResult",
  "lastVerifyCause",
] as const satisfies readonly (keyof LedgerRecord)[];
type Unlisted = Exclude<
  keyof LedgerRecord,
  (typeof LEDGER_ATTRIBUTES)[number] | (typeof LEDGER_DRILL_ATTRIBUTES)[number]
>;
const everyAttributeListed: [Unlisted] extends [never] ? true : Unlisted = true;
void everyAttributeListed;
