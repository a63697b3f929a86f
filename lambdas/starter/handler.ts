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

const logger = new Logger({ serviceName: "backup-actions-starter" });
const stateMachineArn = process.env[STATE_MACHINE_ARN_ENV];
if (!stateMachineArn) throw new RuntimeConfigError(`${STATE_MACHINE_ARN_ENV} is not set`);
const deps = { sfn: new SFNClient({}), stateMachineArn, config: parseIntakeConfig(process.env[INTAKE_CONFIG_ENV]), logger };

export const handler = (event: SqsEvent): Promise<SqsBatchResponse> => startBatch(event, deps);
