/**
 * The DynamoDB export check (core/dynamodb-verify.ts: DynamoDB's manifests, every data object's ETag
 * and MD5, the item count, table.json) reading S3, for the export the child reports: its
 * `manifestKey`, `exportArn` and `exportFormat`.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { keyUnderPrefix } from "../../core/dynamodb-export";
import { verifyDynamoDbExport as verifyExport } from "../../core/dynamodb-verify";
import { parseS3Url, type S3Location } from "../../core/s3-url";
import { notVerified, type VerifyRequest, type VerifyResult } from "../../core/verify-contract";
import { s3ExportObjects } from "./s3-objects";

export async function verifyDynamoDbExport(s3: S3Client, request: VerifyRequest): Promise<VerifyResult> {
  let location: S3Location;
  try {
    location = parseS3Url(request.archiveUrl);
  } catch (err) {
    return notVerified((err as Error).message);
  }
  const { bucket, prefix } = location;
  const exported = request.export ?? {};
  const manifestKey = typeof exported.manifestKey === "string" ? exported.manifestKey : undefined;
  if (!manifestKey) return notVerified("the DynamoDB child reported no manifestKey: the export did not finish");
  const summaryKey = keyUnderPrefix(prefix, manifestKey);
  if (!summaryKey) return notVerified(`manifestKey ${manifestKey} is not under ${request.archiveUrl}`);
  return verifyExport(s3ExportObjects(s3, bucket), {
    prefix,
    summaryKey,
    ...(typeof exported.exportArn === "string" ? { exportArn: exported.exportArn } : {}),
    ...(typeof exported.exportFormat === "string" ? { exportFormat: exported.exportFormat } : {}),
  });
}
