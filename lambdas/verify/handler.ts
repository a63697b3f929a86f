/** Dispatcher's VerifyArchive task: thin adapter over `verifyArchive`. */
import { S3Client } from "@aws-sdk/client-s3";
import { instrumented } from "../../core/aws-client-hook";
import { parseVerifyRequest, VerifyResult } from "../../core/verify-contract";
import { verifyArchive } from "./logic";

const s3 = instrumented(new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) }));

export async function handler(payload: unknown): Promise<VerifyResult> {
  const event = parseVerifyRequest(payload);
  const result = await verifyArchive(s3, event);
  console.log(JSON.stringify({ level: result.verified ? "INFO" : "WARN", message: "verify", archiveUrl: event.archiveUrl, ...result }));
  return result;
}
