/**
 * The starter: one SQS batch of AWS Backup events → one dispatcher execution per
 * recovery point to export.
 *
 * Per record:
 * - body not JSON, or the event is not for us (skip) → logged with the reason and
 *   dropped: retrying would never change the answer, so it is not a batch failure;
 * - export → StartExecution named after the recovery point ARN, on the dispatcher of the
 *   region where the recovery point is: this region's, or for a copy job into another
 *   region of the account (whose event arrives here, in the source region), that
 *   region's (ADR 0006); `ExecutionAlreadyExists` means a duplicate delivery of something
 *   already started, in either region: success;
 * - any other error (throttling, 5xx, access denied) → the record's messageId goes into
 *   `batchItemFailures`, SQS redelivers it, and after the queue's maxReceiveCount it
 *   lands in the DLQ. The other records of the batch are not retried.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { SFNClient, StartExecutionCommand } from "@aws-sdk/client-sfn";
import type { DispatcherRoutes } from "../../core/dispatcher-routes";
import { analyzeEvent } from "../../core/events";
import { executionInputOf } from "../../core/execution-input";
import type { IntakeConfig } from "../../core/intake-config";
import { shortIdOf } from "../../core/execution-name";
import { NO_METRICS, type MetricsRecorder } from "../../core/lambda-metrics";
import { DROP_REASONS, METRICS, RESOURCE_TYPE_DIMENSION, REASON_DIMENSION } from "../../core/metrics";
import type { SqsBatchResponse, SqsEvent, SqsRecord } from "./sqs";

export interface StarterDeps {
  /** A Step Functions client for a region (the handler builds one per region, once). */
  readonly sfnFor: (region: string) => SFNClient;
  /** This starter's account and region, and the dispatcher of each region of the account. */
  readonly routes: DispatcherRoutes;
  readonly config: IntakeConfig;
  readonly logger: Logger;
  /** Events received, dropped (by reason), executions started. @default not counted */
  readonly metrics?: MetricsRecorder;
}

export type RecordOutcome = "started" | "already-started" | "skipped" | "failed";

export async function startBatch(event: SqsEvent, deps: StarterDeps): Promise<SqsBatchResponse> {
  const batchItemFailures: SqsBatchResponse["batchItemFailures"] = [];
  // One record at a time: the logger's per-record keys (appendKeys) stay correct, and
  // ten StartExecution calls take well under the function's timeout.
  for (const record of event.Records) {
    const outcome = await startRecord(record, deps);
    if (outcome === "failed") batchItemFailures.push({ itemIdentifier: record.messageId });
  }
  return { batchItemFailures };
}

export async function startRecord(record: SqsRecord, deps: StarterDeps): Promise<RecordOutcome> {
  const { logger } = deps;
  const metrics = deps.metrics ?? NO_METRICS;
  metrics.add(METRICS.starterEventsReceived, 1);
  // Every line of this record carries the recovery point id ("unknown" until it is read).
  logger.appendKeys({
    messageId: record.messageId,
    recoveryPointId: "unknown",
    receiveCount: record.attributes?.ApproximateReceiveCount,
  });
  try {
    let body: unknown;
    try {
      body = JSON.parse(record.body);
    } catch (err) {
      logger.warn("dropped: the message body is not JSON", {
        reason: (err as Error).message,
        bodyStart: record.body.slice(0, 200),
      });
      metrics.add(METRICS.starterEventsDropped, 1, { [REASON_DIMENSION]: DROP_REASONS.notJson });
      return "skipped";
    }

    const { routes } = deps;
    const classification = analyzeEvent(body, deps.config, { account: routes.account, region: routes.region });
    const { plan } = classification;
    if (plan.recoveryPointArn)
      logger.appendKeys({ recoveryPointId: shortIdOf(plan.recoveryPointArn), recoveryPointArn: plan.recoveryPointArn });
    if (plan.action === "skip") {
      logger.info("skipped", { reason: plan.reason, eventId: classification.event?.eventId ?? null });
      metrics.add(METRICS.starterEventsDropped, 1, { [REASON_DIMENSION]: DROP_REASONS.notExportable });
      return "skipped";
    }

    // The classifier exports only recovery points of this account in a deployed region,
    // and the routes cover exactly those regions (checked at cold start).
    const region = classification.recoveryPoint!.region;
    const dispatcher = routes.dispatchers[region];
    if (!dispatcher) {
      logger.error("no dispatcher for the recovery point's region; the message will be retried", {
        region,
        regions: Object.keys(routes.dispatchers),
      });
      return "failed";
    }
    const input = executionInputOf(
      classification,
      { archiveBucket: dispatcher.archiveBucket, placementCount: dispatcher.placementCount },
      "event",
    );
    logger.appendKeys({ recoveryPointId: input.recoveryPoint.id, executionName: plan.executionName, region });
    try {
      const out = await deps.sfnFor(region).send(
        new StartExecutionCommand({
          stateMachineArn: dispatcher.stateMachineArn,
          name: plan.executionName!,
          input: JSON.stringify(input),
        }),
      );
      logger.info("started the dispatcher", { workflow: plan.workflow, executionArn: out.executionArn });
      metrics.add(METRICS.starterExecutionsStarted, 1, { [RESOURCE_TYPE_DIMENSION]: plan.workflow! });
      return "started";
    } catch (err) {
      if (errorName(err) === "ExecutionAlreadyExists") {
        logger.info("already started: duplicate delivery", { workflow: plan.workflow });
        return "already-started";
      }
      logger.error("StartExecution failed; the message will be retried", {
        error: errorName(err),
        message: (err as Error)?.message,
      });
      return "failed";
    }
  } finally {
    logger.resetKeys();
  }
}

function errorName(err: unknown): string {
  return typeof err === "object" && err !== null && "name" in err
    ? String((err as { name: unknown }).name)
    : String(err);
}
