/**
 * Lambda entry point of the starter (SQS event source with ReportBatchItemFailures).
 * Environment: DISPATCHER_STATE_MACHINE_ARN and BACKUP_ACTIONS_INTAKE_CONFIG (the
 * classification slice of the config, written by the pipeline stack). A missing or bad
 * setting fails the cold start, so messages stay in the queue instead of being dropped.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import { SFNClient } from "@aws-sdk/client-sfn";
import { RuntimeConfigError } from "../../core/errors";
import { INTAKE_CONFIG_ENV, parseIntakeConfig } from "../../core/intake-config";
import { startBatch } from "./logic";
import type { SqsBatchResponse, SqsEvent } from "./sqs";

export const STATE_MACHINE_ARN_ENV = "DISPATCHER_STATE_MACHINE_ARN";
export const ARCHIVE_BUCKET_ENV = "ARCHIVE_BUCKET";
export const PLACEMENT_COUNT_ENV = "PLACEMENT_COUNT";

const logger = new Logger({ serviceName: "backup-actions-starter" });
const stateMachineArn = process.env[STATE_MACHINE_ARN_ENV];
if (!stateMachineArn) throw new RuntimeConfigError(`${STATE_MACHINE_ARN_ENV} is not set`);
const archiveBucket = process.env[ARCHIVE_BUCKET_ENV];
if (!archiveBucket) throw new RuntimeConfigError(`${ARCHIVE_BUCKET_ENV} is not set`);
const placementCount = Number(process.env[PLACEMENT_COUNT_ENV]);
if (!Number.isInteger(placementCount) || placementCount < 1) throw new RuntimeConfigError(`${PLACEMENT_COUNT_ENV} must be a positive integer`);
const deps = {
  sfn: new SFNClient({}),
  stateMachineArn,
  config: parseIntakeConfig(process.env[INTAKE_CONFIG_ENV]),
  destination: { archiveBucket, placementCount },
  logger,
};

export const handler = (event: SqsEvent): Promise<SqsBatchResponse> => startBatch(event, deps);
