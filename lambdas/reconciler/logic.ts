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
import type { SFNClient } from "@aws-sdk/client-sfn";
import type { IntakeConfig } from "../../core/intake-config";
import { NO_METRICS, type MetricsRecorder } from "../../core/lambda-metrics";
import { ledgerStatusLookup } from "../../core/ledger-query";
import { METRICS, RESOURCE_TYPE_DIMENSION } from "../../core/metrics";
import { BUCKETS, planReconciliation, startMissing, type StartResult } from "../../core/reconcile";
import type { ReconcilerSettings } from "../../core/reconciler-contract";

export interface ReconcilerDeps {
  readonly backup: BackupClient;
  readonly ddb: DynamoDBClient;
  readonly sfn: SFNClient;
  readonly logger: Logger;
  readonly now: () => Date;
  /** @default not counted */
  readonly metrics?: MetricsRecorder;
}

export interface ReconcilerReport {
  /** How many recovery points fell into each bucket (core/reconcile.ts BUCKETS). */
  readonly counts: Readonly<Record<(typeof BUCKETS)[number], number>>;
  readonly started: readonly StartResult[];
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
  return { counts, started };
}
