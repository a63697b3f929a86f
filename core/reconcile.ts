/**
 * Reconciliation: AWS Backup's EventBridge events are best effort, and a lost event means a
 * recovery point is never archived. The reconciler lists the recovery points of the watched
 * vaults, classifies each one exactly as the starter would classify its event (the same
 * `analyzeEvent`, so the same workflow and the same execution name), looks it up in the
 * ledger, and sorts it into one bucket. `startMissing` then starts a dispatcher execution for
 * each missing one, under the starter's execution name: a late event and the reconciler start
 * the same name, and Step Functions refuses the second (ExecutionAlreadyExists), so a recovery
 * point is never exported twice.
 *
 * The reconciler classifies a listed recovery point as if its `Backup Job State Change`
 * (COMPLETED) event had arrived in the vault's own account and region: the recovery point's
 * ARN, vault, resource type and resource ARN are all the classifier reads to decide the
 * workflow and the name, and they are the same whether the recovery point came from a backup
 * job or a copy job into this vault.
 */
import {
  BackupClient,
  ListRecoveryPointsByBackupVaultCommand,
  type RecoveryPointByBackupVault,
} from "@aws-sdk/client-backup";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import { analyzeEvent, BACKUP_JOB_STATE_CHANGE, EVENT_SOURCE, type Workflow } from "./events";
import { executionInputOf, type Destination, type ExecutionInput, type StartedBy } from "./execution-input";
import type { IntakeConfig } from "./intake-config";
import type { LedgerStatus } from "./ledger";
import { OUTCOME_DETAIL_TYPES, type OutcomeDetail } from "./outcome-events";
import { DEFAULT_GRACE_MINUTES } from "./reconciler-contract";
import { parseBackupVaultArn } from "./recovery-point-arn";

export { DEFAULT_GRACE_MINUTES } from "./reconciler-contract";
/** What `startedBy` says in an execution input the reconciler started (core/execution-input.ts STARTED_BY). */
export const RECONCILER = "reconciler" satisfies StartedBy;

export const BUCKETS = [
  "missing",
  "alreadyExported",
  "running",
  "failedBefore",
  "retentionTooShort",
  "tooYoung",
  "skipped",
] as const;
export type Bucket = (typeof BUCKETS)[number];

/** The ledger status of a recovery point, or null when the ledger has no record of it. */
export type LedgerLookup = (recoveryPointArn: string) => Promise<LedgerStatus | null>;

export interface ReconcileInput {
  readonly backup: BackupClient;
  readonly ledger: LedgerLookup;
  /** The vaults to list (the config's backupVaults). */
  readonly vaults: readonly string[];
  /** What the starter classifies with: deployed accounts and regions, watched vaults, workflows switched on. */
  readonly config: IntakeConfig;
  /** This region's dispatcher's archive bucket and placement count (as the starter's routes give them). */
  readonly destination: Destination;
  /** How far back to list (ByCreatedAfter = now − lookBackDays). */
  readonly lookBackDays: number;
  readonly now: Date;
  /** Recovery points created less than this long ago are left to their event. @default 60 */
  readonly graceMinutes?: number;
  /** A recovery point AWS Backup deletes sooner than this from now cannot be exported in time: reported only. */
  readonly minRetentionHours: number;
}

export interface PlannedPoint {
  readonly recoveryPointArn: string;
  readonly resourceType: string;
  /** The backed-up resource, as ListRecoveryPointsByBackupVault names it (null when it does not). */
  readonly resourceArn: string | null;
  readonly vault: string;
  /** The workflow that exports it (null when the classifier skips it). */
  readonly workflow: Workflow | null;
  /** The starter's execution name for it (null when the classifier skips it). */
  readonly executionName: string | null;
  /** Why it is in its bucket. */
  readonly why: string;
}

/** A missing recovery point also carries the dispatcher input the starter would have built. */
export interface MissingPoint extends PlannedPoint {
  readonly executionName: string;
  readonly input: ReconcilerInput;
}

export type ReconcilerInput = ExecutionInput & { readonly startedBy: typeof RECONCILER };

export interface ReconciliationPlan {
  readonly now: string;
  readonly createdAfter: string;
  readonly vaults: readonly string[];
  readonly missing: readonly MissingPoint[];
  readonly alreadyExported: readonly PlannedPoint[];
  readonly running: readonly PlannedPoint[];
  readonly failedBefore: readonly PlannedPoint[];
  readonly retentionTooShort: readonly PlannedPoint[];
  readonly tooYoung: readonly PlannedPoint[];
  /** COMPLETED recovery points the starter would not export either (workflow off, other region…), with its reason. */
  readonly skipped: readonly PlannedPoint[];
}

export async function planReconciliation(input: ReconcileInput): Promise<ReconciliationPlan> {
  const { now } = input;
  const graceMinutes = input.graceMinutes ?? DEFAULT_GRACE_MINUTES;
  if (!(input.lookBackDays > 0)) throw new Error(`lookBackDays must be positive, got ${input.lookBackDays}`);
  if (!(graceMinutes >= 0)) throw new Error(`graceMinutes must be 0 or more, got ${graceMinutes}`);
  if (!(input.minRetentionHours >= 0))
    throw new Error(`minRetentionHours must be 0 or more, got ${input.minRetentionHours}`);
  const createdAfter = new Date(now.getTime() - input.lookBackDays * 86_400_000);
  const youngSince = now.getTime() - graceMinutes * 60_000;
  const deleteNoSoonerThan = now.getTime() + input.minRetentionHours * 3_600_000;
  const buckets: { [B in Bucket]: PlannedPoint[] } = Object.fromEntries(BUCKETS.map((b) => [b, []])) as never;

  for (const vault of input.vaults) {
    for await (const point of listCompleted(input.backup, vault, createdAfter)) {
      const classification = analyzeEvent(eventOf(point), input.config);
      const { plan } = classification;
      const entry: PlannedPoint = {
        recoveryPointArn: point.RecoveryPointArn!,
        resourceType: point.ResourceType ?? "unknown",
        resourceArn: point.ResourceArn ?? null,
        vault,
        workflow: plan.workflow,
        executionName: plan.executionName,
        why: plan.reason,
      };
      if (plan.action === "skip") {
        buckets.skipped.push(entry);
        continue;
      }
      const status = await input.ledger(entry.recoveryPointArn);
      if (status === "SUCCEEDED") buckets.alreadyExported.push({ ...entry, why: "the ledger says SUCCEEDED" });
      else if (status === "RUNNING") buckets.running.push({ ...entry, why: "the ledger says RUNNING" });
      else if (status === "FAILED")
        buckets.failedBefore.push({
          ...entry,
          why: "the ledger says FAILED; not restarted automatically (see `backup-actions ledger --status FAILED`)",
        });
      else if (status !== null)
        buckets.skipped.push({ ...entry, why: `the ledger says ${status}: the dispatcher already decided` });
      else if (deleteAt(point) !== undefined && deleteAt(point)!.getTime() < deleteNoSoonerThan)
        buckets.retentionTooShort.push({
          ...entry,
          why: `AWS Backup deletes it at ${deleteAt(point)!.toISOString()}, less than ${input.minRetentionHours} h from now`,
        });
      else if (point.CreationDate!.getTime() > youngSince)
        buckets.tooYoung.push({
          ...entry,
          why: `created at ${point.CreationDate!.toISOString()}, less than ${graceMinutes} min ago: its event may still be in flight`,
        });
      else {
        const missing: MissingPoint = {
          ...entry,
          executionName: plan.executionName!,
          why: `no ledger record: ${plan.reason}`,
          input: executionInputOf(classification, input.destination, RECONCILER) as ReconcilerInput,
        };
        buckets.missing.push(missing);
      }
    }
  }
  return {
    now: now.toISOString(),
    createdAfter: createdAfter.toISOString(),
    vaults: [...input.vaults],
    ...buckets,
    missing: buckets.missing as MissingPoint[],
  };
}

export type StartOutcome = "started" | "already-running";

export interface StartResult {
  readonly recoveryPointArn: string;
  readonly executionName: string;
  readonly outcome: StartOutcome;
  readonly executionArn?: string;
}

/**
 * Starts one dispatcher execution per missing recovery point, named as the starter names it.
 * ExecutionAlreadyExists (its event arrived meanwhile, or an earlier run started it) counts as
 * running; any other error is thrown.
 */
export async function startMissing(
  plan: Pick<ReconciliationPlan, "missing">,
  sfn: SFNClient,
  dispatcherArn: string,
): Promise<StartResult[]> {
  const results: StartResult[] = [];
  for (const point of plan.missing) {
    try {
      const out = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: dispatcherArn,
          name: point.executionName,
          input: JSON.stringify(point.input),
        }),
      );
      results.push({ ...identity(point), outcome: "started", executionArn: out.executionArn });
    } catch (err) {
      if ((err as { name?: unknown })?.name !== "ExecutionAlreadyExists") throw err;
      results.push({ ...identity(point), outcome: "already-running" });
    }
  }
  return results;
}

/** A Recovery Point Missed event (docs/events.md): its detail type and detail. */
export interface MissedEvent {
  readonly detailType: typeof OUTCOME_DETAIL_TYPES.recoveryPointMissed;
  readonly detail: OutcomeDetail;
}

/**
 * One Recovery Point Missed event for each recovery point whose event was lost: each missing one, with
 * the execution `startMissing` started (or found running: its execution ARN follows from its name), and
 * each one left for its retention, with no execution. `started` is startMissing's result for `plan`.
 */
export function missedEvents(
  plan: ReconciliationPlan,
  started: readonly StartResult[],
  dispatcherArn: string,
  pipeline: string,
): MissedEvent[] {
  const results = new Map(started.map((r) => [r.recoveryPointArn, r]));
  const event = (p: PlannedPoint, executionArn: string | null, reason: string): MissedEvent => ({
    detailType: OUTCOME_DETAIL_TYPES.recoveryPointMissed,
    detail: {
      recoveryPointArn: p.recoveryPointArn,
      resourceArn: p.resourceArn,
      resourceType: p.resourceType,
      workflow: p.workflow ?? "unknown",
      pipeline,
      executionArn,
      startedAt: null,
      durationSeconds: null,
      archiveUrl: null,
      bytes: null,
      error: null,
      cause: null,
      reason,
    },
  });
  return [
    ...plan.missing.map((p) => {
      const result = results.get(p.recoveryPointArn);
      if (!result) throw new Error(`missedEvents: no start result for ${p.recoveryPointArn}`);
      const executionArn =
        result.executionArn ?? `${dispatcherArn.replace(":stateMachine:", ":execution:")}:${p.executionName}`;
      return result.outcome === "started"
        ? event(p, executionArn, `started by the reconciler (${p.why})`)
        : event(p, executionArn, "already running: its event arrived after the reconciler listed it");
    }),
    ...plan.retentionTooShort.map((p) => event(p, null, `not started, retention too short: ${p.why}`)),
  ];
}

const identity = (p: MissingPoint) => ({ recoveryPointArn: p.recoveryPointArn, executionName: p.executionName });

/** Every COMPLETED recovery point of `vault` created after `createdAfter`, page by page (NextToken). */
async function* listCompleted(
  backup: BackupClient,
  vault: string,
  createdAfter: Date,
): AsyncGenerator<RecoveryPointByBackupVault> {
  let nextToken: string | undefined;
  do {
    const page = await backup.send(
      new ListRecoveryPointsByBackupVaultCommand({
        BackupVaultName: vault,
        ByCreatedAfter: createdAfter,
        NextToken: nextToken,
      }),
    );
    for (const point of page.RecoveryPoints ?? [])
      if (point.Status === "COMPLETED" && point.RecoveryPointArn && point.CreationDate) yield point;
    nextToken = page.NextToken;
  } while (nextToken);
}

function deleteAt(point: RecoveryPointByBackupVault): Date | undefined {
  return point.CalculatedLifecycle?.DeleteAt;
}

/**
 * The `Backup Job State Change` (COMPLETED) event of a listed recovery point, delivered in its
 * vault's account and region. Its time is the completion time (what the event's time is), so
 * the archive location's date is the one the event would have given.
 */
function eventOf(point: RecoveryPointByBackupVault): unknown {
  const vault = parseBackupVaultArn(point.BackupVaultArn ?? "");
  return {
    source: EVENT_SOURCE,
    "detail-type": BACKUP_JOB_STATE_CHANGE,
    account: vault?.account,
    region: vault?.region,
    time: (point.CompletionDate ?? point.CreationDate)!.toISOString(),
    resources: [point.RecoveryPointArn],
    detail: {
      state: "COMPLETED",
      backupVaultName: point.BackupVaultName,
      resourceType: point.ResourceType,
      resourceArn: point.ResourceArn,
      ...(point.BackupSizeInBytes !== undefined ? { backupSizeInBytes: String(point.BackupSizeInBytes) } : {}),
    },
  };
}
