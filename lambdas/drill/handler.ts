/** The restore drill's function (sample, restore-status, report): thin adapter over `handleDrill`. */
import { Logger } from "@aws-lambda-powertools/logger";
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { instrumented } from "../../core/aws-client-hook";
import { parseDrillEnv, parseDrillRequest } from "../../core/drill";
import { lambdaMetrics } from "../../core/lambda-metrics";
import { handleDrill } from "./logic";

const logger = new Logger({ serviceName: "backup-actions-drill" });
const ddb = instrumented(new DynamoDBClient({}));
const s3 = instrumented(new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) }));
const metrics = lambdaMetrics("drill");

export async function handler(payload: unknown): Promise<unknown> {
  try {
    return await handleDrill(parseDrillRequest(payload), { ddb, s3, logger, metrics }, parseDrillEnv(process.env));
  } finally {
    metrics.publish();
  }
}
