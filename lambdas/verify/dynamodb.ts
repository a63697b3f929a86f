/**
 * Verifies a DynamoDB export (stacks/workflows/dynamodb-export.ts) through DynamoDB's own
 * manifests (core/dynamodb-export.ts):
 *
 * - manifest-summary.json (the key the child reports, under the archive prefix) names the
 *   export the child started, in the format it asked for;
 * - manifest-files.json lists the data objects: each exists, has the manifest's ETag, and its
 *   bytes have the manifest's MD5 (read in full: with SSE-KMS an ETag is no MD5 of the data);
 * - the data files' item counts add up to the summary's itemCount;
 * - table.json (the key schema and attribute types ImportTable needs) is present and names
 *   an attribute type for every key attribute.
 *
 * Like the manifest verifier, it answers `verified: false` with the reason for a bad archive and
 * throws only for errors of S3 itself (access denied, throttling), which the dispatcher records.
 */
import { GetObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import type { Readable } from "node:stream";
import {
  ExportManifestError,
  keyUnderPrefix,
  parseExportFiles,
  parseExportSummary,
  TABLE_DESCRIPTION_NAME,
  type TableDescriptionFile,
} from "../../core/dynamodb-export";
import { parseS3Url, type S3Location } from "../../core/s3-url";
import { notVerified, type VerifyRequest, type VerifyResult } from "../../core/verify-contract";

const isNotFound = (err: unknown) => ["NoSuchKey", "NotFound"].includes((err as Error).name);

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

  const read = async (key: string): Promise<string | undefined> => {
    try {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return await out.Body!.transformToString("utf8");
    } catch (err) {
      if (isNotFound(err)) return undefined;
      throw err;
    }
  };

  const summaryText = await read(summaryKey);
  if (summaryText === undefined) return notVerified(`${summaryKey} is missing: the export did not finish`);
  const sha256 = createHash("sha256").update(summaryText).digest("hex");
  let summary;
  let files;
  try {
    summary = parseExportSummary(summaryText, summaryKey);
    if (typeof exported.exportArn === "string" && summary.exportArn !== exported.exportArn)
      return notVerified(`${summaryKey} is of export ${summary.exportArn}, not ${exported.exportArn}`, 0, sha256);
    if (typeof exported.exportFormat === "string" && summary.outputFormat !== exported.exportFormat)
      return notVerified(
        `${summaryKey} says ${summary.outputFormat}, the export asked for ${exported.exportFormat}`,
        0,
        sha256,
      );
    const filesKey = keyUnderPrefix(prefix, summary.manifestFilesS3Key);
    if (!filesKey)
      return notVerified(`manifestFilesS3Key ${summary.manifestFilesS3Key} is not under the archive`, 0, sha256);
    const filesText = await read(filesKey);
    if (filesText === undefined) return notVerified(`${filesKey} is missing`, 0, sha256);
    files = parseExportFiles(filesText, filesKey);
  } catch (err) {
    if (err instanceof ExportManifestError) return notVerified(err.message, 0, sha256);
    throw err;
  }

  let bytes = 0;
  let items = 0;
  for (const file of files) {
    const key = keyUnderPrefix(prefix, file.dataFileS3Key);
    if (!key) return notVerified(`data file ${file.dataFileS3Key} is not under the archive`, bytes, sha256);
    let head;
    try {
      head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
    } catch (err) {
      if (isNotFound(err)) return notVerified(`data file ${key} is missing`, bytes, sha256);
      throw err;
    }
    const etag = (head.ETag ?? "").replace(/"/g, "");
    if (etag !== file.etag)
      return notVerified(
        `data file ${key} has ETag ${etag}, the manifest says ${file.etag}: it was rewritten`,
        bytes,
        sha256,
      );
    const md5 = await md5Of(s3, bucket, key);
    if (md5 !== file.md5Checksum)
      return notVerified(`data file ${key} has MD5 ${md5}, the manifest says ${file.md5Checksum}`, bytes, sha256);
    bytes += head.ContentLength ?? 0;
    items += file.itemCount;
  }
  if (items !== summary.itemCount)
    return notVerified(
      `the data files hold ${items} items, manifest-summary.json says ${summary.itemCount}`,
      bytes,
      sha256,
      files.length,
    );

  const tableKey = `${prefix}${TABLE_DESCRIPTION_NAME}`;
  const tableText = await read(tableKey);
  if (tableText === undefined)
    return notVerified(
      `${TABLE_DESCRIPTION_NAME} is missing: the table cannot be imported from the archive`,
      bytes,
      sha256,
    );
  const problem = tableDescriptionProblem(tableText);
  if (problem) return notVerified(`${TABLE_DESCRIPTION_NAME}: ${problem}`, bytes, sha256);

  return {
    verified: true,
    bytes,
    sha256,
    reason: `${files.length} data files with the manifest's ETags and MD5s, ${items} items as the summary says, ${TABLE_DESCRIPTION_NAME} present`,
    objects: files.length,
  };
}

/** What is wrong with a table.json, or undefined: a key schema whose every attribute has a type. */
export function tableDescriptionProblem(text: string): string | undefined {
  let d: Partial<TableDescriptionFile>;
  try {
    d = JSON.parse(text) as Partial<TableDescriptionFile>;
  } catch {
    return "not JSON";
  }
  const keys = d.sourceTableDetails?.KeySchema;
  if (!Array.isArray(keys) || keys.length === 0) return "sourceTableDetails.KeySchema is missing";
  const types = new Set((d.attributeDefinitions ?? []).map((a) => a.AttributeName));
  const untyped = keys.filter((k) => !types.has(k.AttributeName)).map((k) => k.AttributeName);
  if (untyped.length > 0) return `no attribute type for the key attribute(s) ${untyped.join(", ")}`;
  return undefined;
}

async function md5Of(s3: S3Client, bucket: string, key: string): Promise<string> {
  const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
  const hash = createHash("md5");
  for await (const chunk of out.Body as Readable) hash.update(chunk as Buffer);
  return hash.digest("base64");
}
