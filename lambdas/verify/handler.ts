/** Dispatcher's VerifyArchive task: thin adapter over `verifyArchive`. */
import { S3Client } from "@aws-sdk/client-s3";
import { instrumented } from "../../core/aws-client-hook";
import { verifyArchive, VerifyRequest, VerifyResult } from "./logic";

const s3 = instrumented(new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL) }));

export async function handler(event: VerifyRequest): Promise<VerifyResult> {
  if (!event || typeof event.archiveUrl !== "string") throw new Error("VerifyArchive: the payload needs archiveUrl");
  const result = await verifyArchive(s3, event);
  console.log(JSON.stringify({ level: result.verified ? "INFO" : "WARN", message: "verify", archiveUrl: event.archiveUrl, ...result }));
  return result;
}
