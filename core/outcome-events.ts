/**
 * The events backup-actions publishes: one per outcome of a dispatcher execution, on the default
 * event bus of the pipeline's account and region (EventBridge PutEvents through the Step Functions
 * optimized integration, stacks/workflows/dispatcher.ts; "Export Timed Out" and "Export Aborted" by
 * the backstop, stacks/workflows/backstop.ts, since such an execution cannot publish its own; "Drill
 * Failed" by the restore drill, stacks/workflows/restore-drill.ts; "Recovery Point Missed" by the scheduled
 * reconciler, lambdas/reconciler, through the EventBridge API).
 * docs/events.md documents them; its field table is checked against OUTCOME_DETAIL_FIELDS.
 *
 * Every event's `detail` carries every field of OutcomeDetail: a field that is not known for an
 * outcome is `null`, never absent, so subscribers read one shape.
 */

/** `source` of every event backup-actions publishes. */
export const OUTCOME_EVENT_SOURCE = "backup-actions";

export const OUTCOME_DETAIL_TYPES = {
  exportSucceeded: "Export Succeeded",
  exportFailed: "Export Failed",
  exportSkipped: "Export Skipped",
  exportUnsupported: "Export Unsupported",
  exportTimedOut: "Export Timed Out",
  exportAborted: "Export Aborted",
  recoveryPointDeleted: "Recovery Point Deleted",
  recoveryPointNotDeleted: "Recovery Point Not Deleted",
  drillFailed: "Drill Failed",
  recoveryPointMissed: "Recovery Point Missed",
} as const;

export type OutcomeDetailType = (typeof OUTCOME_DETAIL_TYPES)[keyof typeof OUTCOME_DETAIL_TYPES];

export const ALL_OUTCOME_DETAIL_TYPES: readonly OutcomeDetailType[] = Object.values(OUTCOME_DETAIL_TYPES);

/** `detail` of an outcome event. */
export interface OutcomeDetail {
  readonly recoveryPointArn: string;
  readonly resourceArn: string | null;
  readonly resourceType: string;
  readonly workflow: string;
  readonly pipeline: string;
  readonly executionArn: string | null;
  readonly startedAt: string | null;
  readonly durationSeconds: number | null;
  readonly archiveUrl: string | null;
  readonly bytes: number | null;
  readonly error: string | null;
  readonly cause: string | null;
  readonly reason: string | null;
}

export interface OutcomeField {
  /** As docs/events.md writes it. */
  readonly type: "string" | "string or null" | "number or null";
  /** The detail types in which the field is set (not null). */
  readonly setIn: readonly OutcomeDetailType[];
  /** Detail types in which it is set on some paths and null on others (the meaning says which). */
  readonly orNullIn?: readonly OutcomeDetailType[];
  readonly meaning: string;
}

const T = OUTCOME_DETAIL_TYPES;
const EXPORTED = [T.exportSucceeded, T.recoveryPointDeleted, T.recoveryPointNotDeleted] as const;
const FROM_DISPATCHER = ALL_OUTCOME_DETAIL_TYPES.filter(
  (t) => t !== T.exportTimedOut && t !== T.exportAborted && t !== T.recoveryPointMissed,
);
const EXECUTIONS = ALL_OUTCOME_DETAIL_TYPES.filter((t) => t !== T.recoveryPointMissed);
/** The failure types: an export's, the backstop's, a drill's (stacks/workflows/restore-drill.ts). */
const FAILED = [T.exportFailed, T.exportTimedOut, T.exportAborted, T.drillFailed] as const;

/** The one list of detail fields: the dispatcher's and the backstop's payloads and docs/events.md follow it. */
export const OUTCOME_DETAIL_FIELDS: { readonly [K in keyof OutcomeDetail]: OutcomeField } = {
  recoveryPointArn: {
    type: "string",
    setIn: ALL_OUTCOME_DETAIL_TYPES,
    meaning: "The recovery point (EBS: the EC2 snapshot's ARN; RDS/Aurora: the DB (cluster) snapshot's).",
  },
  resourceArn: {
    type: "string or null",
    setIn: ALL_OUTCOME_DETAIL_TYPES,
    meaning:
      "The backed-up resource (volume, DB instance or cluster, table), as AWS Backup's event named it; null when the event did not.",
  },
  resourceType: {
    type: "string",
    setIn: ALL_OUTCOME_DETAIL_TYPES,
    meaning: "AWS Backup's resource type: EBS, RDS, Aurora or DynamoDB.",
  },
  workflow: {
    type: "string",
    setIn: ALL_OUTCOME_DETAIL_TYPES,
    meaning: "The export workflow: ebs, rds, aurora or dynamodb.",
  },
  pipeline: {
    type: "string",
    setIn: ALL_OUTCOME_DETAIL_TYPES,
    meaning: "The pipeline's name (config `name`); the event's account and region say which pipeline stack.",
  },
  executionArn: {
    type: "string or null",
    setIn: EXECUTIONS,
    orNullIn: [T.recoveryPointMissed],
    meaning:
      "The dispatcher execution that handled the recovery point; for Drill Failed, the restore drill's execution; for Recovery Point Missed, the execution the reconciler started (or found already running), null when it started none (retention too short).",
  },
  startedAt: {
    type: "string or null",
    setIn: FROM_DISPATCHER,
    meaning:
      "When that execution started (ISO 8601). The event's `time` is when it was published: `time` - `startedAt` is how long the execution had run by then. Null from the backstop and in Recovery Point Missed.",
  },
  durationSeconds: {
    type: "number or null",
    setIn: EXPORTED,
    orNullIn: [T.exportFailed],
    meaning:
      "Seconds (0.1 s precision) from `startedAt` until the verify Lambda judged the archive: how long the export and its verification took (a deletion after it is not counted). Export Failed has it when the export failed at or after the verification, null when it failed before. Null from the backstop and in Drill Failed: no Lambda runs on their paths and JSONPath cannot subtract times (`time` - `startedAt` is the drill's run so far).",
  },
  archiveUrl: {
    type: "string or null",
    setIn: [...EXPORTED, T.drillFailed],
    meaning:
      "The verified archive (`s3://bucket/prefix/`, manifest.json inside); for Drill Failed, the archive that failed its drill; null when nothing was exported.",
  },
  bytes: {
    type: "number or null",
    setIn: [...EXPORTED, T.drillFailed],
    meaning: "Compressed bytes of the archive's objects, as the verification counted them (the ledger's `bytes`).",
  },
  error: {
    type: "string or null",
    setIn: FAILED,
    meaning:
      "The ASL error that ended the export or failed the drill (e.g. VerificationFailed, States.TaskFailed, States.Timeout, States.Aborted).",
  },
  cause: {
    type: "string or null",
    setIn: FAILED,
    meaning: "What went wrong, in words (the error's Cause; a drill's Batch job failure is its DescribeJobs entry).",
  },
  reason: {
    type: "string or null",
    setIn: [T.exportSkipped, T.exportUnsupported, T.recoveryPointNotDeleted, T.recoveryPointMissed],
    meaning:
      "Why the recovery point was not exported (Skipped, Unsupported) or is still there although auto-delete is on (Not Deleted); for Recovery Point Missed, what the reconciler found and did (started, already running, or not started: retention too short).",
  },
};

/** The detail types an execution's outcome publishes, in one PutEvents call: meaning of each. */
export const OUTCOME_DETAIL_TYPE_MEANINGS: { readonly [K in OutcomeDetailType]: string } = {
  "Export Succeeded": "The archive was written and verified, and the ledger says SUCCEEDED.",
  "Export Failed": "The export or its verification failed; the recovery point is kept.",
  "Export Skipped": "No exporter for the recovery point's workflow is deployed (exports.<type> is off).",
  "Export Unsupported": "The child found no export path (e.g. an engine version StartExportTask cannot export).",
  "Export Timed Out": "The dispatcher execution hit its TimeoutSeconds (published by the backstop).",
  "Export Aborted": "The dispatcher execution was stopped (StopExecution; published by the backstop).",
  "Recovery Point Deleted":
    "Auto-delete removed the recovery point after a verified export (sent with Export Succeeded).",
  "Recovery Point Not Deleted":
    "Auto-delete is on but the recovery point is still there: its tag could not be read, or the deletion it consented to failed, ended EXPIRED or was not confirmed (sent with Export Succeeded). A recovery point kept for want of consent sends Export Succeeded only.",
  "Drill Failed":
    "A restore drill re-read the archive and it did not verify (or a Glacier restore did not finish); the ledger's lastVerifyResult says FAILED (published by the drill, stacks/workflows/restore-drill.ts).",
  "Recovery Point Missed":
    "The scheduled reconciler found a COMPLETED recovery point that no event had started (its AWS Backup event was lost): it started the export, found it already running, or, when AWS Backup deletes it before an export could finish, left it (one event per recovery point, published by lambdas/reconciler).",
};
