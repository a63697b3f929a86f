/**
 * The scheduled reconciler: one run of core/reconcile.ts (the same plan and start as
 * `backup-actions reconcile`) for this pipeline's watched vaults and its own dispatcher, then
 * the plan on the log and its counts as metrics (core/metrics.ts):
 * - `ReconcilerMissingFound`: COMPLETED recovery points old enough that have no ledger record,
 *   whether started now (missing) or not (retentionTooShort): each is an event that was lost.
 *   The `recovery-point-missed` alarm watches it;
 * - `ReconcilerExecutionsStarted` by resource type: executions this run started (an
 *   ExecutionAlreadyExists, i.e. its event arrived meanwhile, is not counted);
 * - `ReconcilerRetentionTooShort`: the missing ones AWS Backup deletes before an export could finish.
 * Zeros are counted too: a run that found nothing is a data point. A failing AWS call fails the
 * run (the Lambda's Errors metric); what it did not start, the next run finds again.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { BackupClient } from "@aws-sdk/client-backup";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { type EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import type { SFNClient } from "@aws-sdk/client-sfn";
import type { IntakeConfig } from "../../core/intake-config";
import { NO_METRICS, type MetricsRecorder } from "../../core/lambda-metrics";
import { ledgerStatusLookup } from "../../core/ledger-query";
import { METRICS, RESOURCE_TYPE_DIMENSION } from "../../core/metrics";
import { OUTCOME_EVENT_SOURCE } from "../../core/outcome-events";
import {
  BUCKETS,
  missedEvents,
  planReconciliation,
  startMissing,
  type MissedEvent,
  type StartResult,
} from "../../core/reconcile";
import type { ReconcilerSettings } from "../../core/reconciler-contract";

export interface ReconcilerDeps {
  readonly backup: BackupClient;
  readonly ddb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly events: EventBridgeClient;
  readonly logger: Logger;
  readonly now: () => Date;
  /** @default not counted */
  readonly metrics?: MetricsRecorder;
}

export interface ReconcilerReport {
  /** How many recovery points fell into each bucket (core/reconcile.ts BUCKETS). */
  readonly counts: Readonly<Record<(typeof BUCKETS)[number], number>>;
  readonly started: readonly StartResult[];
  /** The Recovery Point Missed events published (docs/events.md). */
  readonly events: readonly MissedEvent[];
}

export async function runReconciler(
  deps: ReconcilerDeps,
  settings: ReconcilerSettings,
  config: IntakeConfig,
): Promise<ReconcilerReport> {
  const { logger } = deps;
  const metrics = deps.metrics ?? NO_METRICS;
  const plan = await planReconciliation({
    backup: deps.backup,
    ledger: ledgerStatusLookup(deps.ddb, settings.ledgerTable),
    vaults: config.backupVaults,
    config,
    destination: { archiveBucket: settings.archiveBucket, placementCount: settings.placementCount },
    lookBackDays: settings.lookBackDays,
    graceMinutes: settings.graceMinutes,
    minRetentionHours: settings.minRetentionHours,
    now: deps.now(),
  });
  const counts = Object.fromEntries(BUCKETS.map((b) => [b, plan[b].length])) as ReconcilerReport["counts"];
  logger.info("reconciliation plan", { createdAfter: plan.createdAfter, vaults: plan.vaults, counts });
  for (const bucket of BUCKETS) {
    if (bucket === "skipped" || bucket === "alreadyExported") continue;
    for (const p of plan[bucket])
      logger.info(`reconcile: ${bucket}`, {
        bucket,
        recoveryPointArn: p.recoveryPointArn,
        resourceType: p.resourceType,
        vault: p.vault,
        executionName: p.executionName,
        why: p.why,
      });
  }
  metrics.add(METRICS.reconcilerMissingFound, plan.missing.length + plan.retentionTooShort.length);
  metrics.add(METRICS.reconcilerRetentionTooShort, plan.retentionTooShort.length);

  const started = await startMissing(plan, deps.sfn, settings.dispatcherArn);
  for (const [i, result] of started.entries()) {
    const point = plan.missing[i]!;
    logger.info(result.outcome === "started" ? "started the dispatcher" : "already running: its event came meanwhile", {
      recoveryPointArn: result.recoveryPointArn,
      executionName: result.executionName,
      executionArn: result.executionArn,
      workflow: point.workflow,
    });
    if (result.outcome === "started")
      metrics.add(METRICS.reconcilerExecutionsStarted, 1, { [RESOURCE_TYPE_DIMENSION]: point.workflow! });
  }
  const events = missedEvents(plan, started, settings.dispatcherArn, settings.pipelineName);
  await publish(deps.events, events);
  return { counts, started, events };
}

/** PutEvents takes at most 10 entries per call. */
const PUT_EVENTS_MAX_ENTRIES = 10;

/**
 * Publishes the events on the default bus, 10 per PutEvents call. An entry EventBridge refuses (FailedEntryCount)
 * fails the run once all are sent: the executions are started already, and the Lambda's error is what the
 * function-errors alarm sees.
 */
async function publish(client: EventBridgeClient, events: readonly MissedEvent[]): Promise<void> {
  const refused: string[] = [];
  for (let i = 0; i < events.length; i += PUT_EVENTS_MAX_ENTRIES) {
    const batch = events.slice(i, i + PUT_EVENTS_MAX_ENTRIES);
    const out = await client.send(
      new PutEventsCommand({
        Entries: batch.map((e) => ({
          Source: OUTCOME_EVENT_SOURCE,
          DetailType: e.detailType,
          Detail: JSON.stringify(e.detail),
          Resources: [e.detail.recoveryPointArn],
        })),
      }),
    );
    for (const [j, entry] of (out.Entries ?? []).entries())
      if (entry.ErrorCode)
        refused.push(`${batch[j]!.detail.recoveryPointArn}: ${entry.ErrorCode} ${entry.ErrorMessage ?? ""}`);
  }
  if (refused.length > 0)
    throw new Error(`EventBridge refused ${refused.length} Recovery Point Missed event(s): ${refused.join("; ")}`);
}
