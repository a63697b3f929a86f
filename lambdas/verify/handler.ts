/** Dispatcher's VerifyArchive task: thin adapter over `handleVerify`. */
import { Logger } from "@aws-lambda-powertools/logger";
import { S3Client } from "@aws-sdk/client-s3";
import { instrumented } from "../../core/aws-client-hook";
import { lambdaMetrics } from "../../core/lambda-metrics";
import type { VerifyAnswer } from "../../core/verify-contract";
import { handleVerify } from "./logic";

const logger = new Logger({ serviceName: "backup-actions-verify" });
const s3 = instrumented(new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) }));

const metrics = lambdaMetrics("verify");

export async function handler(payload: unknown): Promise<VerifyAnswer> {
  try {
    return await handleVerify(payload, { s3, logger, metrics });
  } finally {
    metrics.publish();
  }
}
