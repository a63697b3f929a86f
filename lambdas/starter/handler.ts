/**
 * Lambda entry point of the starter (SQS event source with ReportBatchItemFailures).
 * Environment: BACKUP_ACTIONS_INTAKE_CONFIG (the classification slice of the config) and
 * BACKUP_ACTIONS_DISPATCHERS (its own account and region, the config's name and the
 * placement count of each region of the account, from which each region's dispatcher and
 * archive bucket are derived), both written by the pipeline stack, and BACKUP_ACTIONS_PIPELINE
 * (the metrics' Pipeline dimension, core/metrics.ts). A missing or bad
 * setting fails the cold start, so messages stay in the queue instead of being dropped.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { SFNClient } from "@aws-sdk/client-sfn";
import { instrumented } from "../../core/aws-client-hook";
import { DISPATCHERS_ENV, parseDispatcherRoutes } from "../../core/dispatcher-routes";
import { INTAKE_CONFIG_ENV, parseIntakeConfig } from "../../core/intake-config";
import { lambdaMetrics } from "../../core/lambda-metrics";
import { startBatch } from "./logic";
import type { SqsBatchResponse, SqsEvent } from "./sqs";

const logger = new Logger({ serviceName: "backup-actions-starter" });
const config = parseIntakeConfig(process.env[INTAKE_CONFIG_ENV]);
const routes = parseDispatcherRoutes(process.env[DISPATCHERS_ENV], config);
const metrics = lambdaMetrics("starter");
// One client per region, built on first use: a copy job's event arrives in the source
// region and starts the destination region's dispatcher.
const clients = new Map<string, SFNClient>();
const sfnFor = (region: string): SFNClient => {
  let client = clients.get(region);
  if (!client) clients.set(region, (client = instrumented(new SFNClient({ region }))));
  return client;
};

export async function handler(event: SqsEvent): Promise<SqsBatchResponse> {
  try {
    return await startBatch(event, { sfnFor, routes, config, logger, metrics });
  } finally {
    metrics.publish();
  }
}
