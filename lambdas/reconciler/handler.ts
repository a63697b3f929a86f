/**
 * Scheduled reconciler (EventBridge rule, stacks/constructs/reconciler.ts): thin adapter over
 * `runReconciler`. Environment: BACKUP_ACTIONS_INTAKE_CONFIG (the starter's classification slice),
 * BACKUP_ACTIONS_RECONCILER (ledger, dispatcher, look-back: core/reconciler-contract.ts) and
 * BACKUP_ACTIONS_PIPELINE (the metrics' Pipeline dimension). A missing or bad setting fails the
 * cold start.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { BackupClient } from "@aws-sdk/client-backup";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { EventBridgeClient } from "@aws-sdk/client-eventbridge";
import { SFNClient } from "@aws-sdk/client-sfn";
import { instrumented } from "../../core/aws-client-hook";
import { INTAKE_CONFIG_ENV, parseIntakeConfig } from "../../core/intake-config";
import { lambdaMetrics } from "../../core/lambda-metrics";
import { parseReconcilerEnv } from "../../core/reconciler-contract";
import { runReconciler, type ReconcilerReport } from "./logic";

const logger = new Logger({ serviceName: "backup-actions-reconciler" });
const config = parseIntakeConfig(process.env[INTAKE_CONFIG_ENV]);
const settings = parseReconcilerEnv(process.env);
const metrics = lambdaMetrics("reconciler");
const backup = instrumented(new BackupClient({}));
const ddb = instrumented(new DynamoDBClient({}));
const sfn = instrumented(new SFNClient({}));
const events = instrumented(new EventBridgeClient({}));

export async function handler(): Promise<ReconcilerReport> {
  try {
    return await runReconciler({ backup, ddb, sfn, events, logger, metrics, now: () => new Date() }, settings, config);
  } finally {
    metrics.publish();
  }
}
