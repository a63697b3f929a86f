/** Dispatcher's VerifyArchive task: thin adapter over `handleVerify`. */
import { Logger } from "@aws-lambda-powertools/logger";
import { S3Client } from "@aws-sdk/client-s3";
import { instrumented } from "../../core/aws-client-hook";
import type { VerifyResult } from "../../core/verify-contract";
import { handleVerify } from "./logic";

const logger = new Logger({ serviceName: "backup-actions-verify" });
const s3 = instrumented(new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) }));

export const handler = (payload: unknown): Promise<VerifyResult> => handleVerify(payload, { s3, logger });
