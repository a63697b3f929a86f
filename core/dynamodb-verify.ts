/**
 * Verifies a DynamoDB export (stacks/workflows/dynamodb-export.ts) through DynamoDB's own manifests
 * (core/dynamodb-export.ts), wherever the archive is (core/export-objects.ts): S3 for the verify Lambda
 * (lambdas/verify/dynamodb.ts), S3 or a directory for `backup-actions verify`.
 *
 * - manifest-summary.json names the export the child started, in the format it asked for (when told);
 * - manifest-files.json lists the data objects: each exists, has the manifest's ETag (where the store has
 *   ETags: S3, not a directory), and its bytes have the manifest's MD5 (read in full: with SSE-KMS an
 *   ETag is no MD5 of the data);
 * - the data files' item counts add up to the summary's itemCount;
 * - table.json (the key schema and attribute types ImportTable needs) is present and names an attribute
 *   type for every key attribute.
 *
 * The manifests name keys of the bucket the export was written to (under the summary's `s3Prefix`); a
 * copy of the archive elsewhere (a directory) is read by moving them from that prefix to the archive's.
 * A bad archive is answered `verified: false` with the reason naming the object; errors of the store
 * itself (access denied, throttling) are thrown, and the dispatcher records them.
 */
import { createHash } from "node:crypto";
import {
  ExportManifestError,
  keyUnderPrefix,
  parseExportFiles,
  parseExportSummary,
  TABLE_DESCRIPTION_NAME,
  type TableDescriptionFile,
} from "./dynamodb-export";
import type { ExportObjects } from "./export-objects";
import { notVerified, type VerifyResult } from "./verify-contract";

export interface DynamoDbExportRef {
  /** The archive's prefix in the store's keys, with its trailing `/` ("" for the store's root). */
  readonly prefix: string;
  /** manifest-summary.json, as a key of the store under `prefix`. */
  readonly summaryKey: string;
  /** The export the child started: the summary must be of it. @default not compared */
  readonly exportArn?: string;
  /** The format the child asked for: the summary must say it. @default not compared */
  readonly exportFormat?: string;
}

/** The store's key of a key the manifests name: moved from the prefix DynamoDB wrote under to the archive's. */
function keyInArchive(ref: DynamoDbExportRef, writtenUnder: string | null | undefined, key: string) {
  const from = writtenUnder ? `${writtenUnder.replace(/\/+$/, "")}/` : "";
  const relative = from && key.startsWith(from) ? key.slice(from.length) : key;
  return keyUnderPrefix(ref.prefix, relative);
}

export async function verifyDynamoDbExport(store: ExportObjects, ref: DynamoDbExportRef): Promise<VerifyResult> {
  const { prefix, summaryKey } = ref;
  const summaryText = await store.readText(summaryKey);
  if (summaryText === undefined) return notVerified(`${summaryKey} is missing: the export did not finish`);
  const sha256 = createHash("sha256").update(summaryText).digest("hex");
  let summary;
  let files;
  try {
    summary = parseExportSummary(summaryText, summaryKey);
    if (ref.exportArn !== undefined && summary.exportArn !== ref.exportArn)
      return notVerified(`${summaryKey} is of export ${summary.exportArn}, not ${ref.exportArn}`, 0, sha256);
    if (ref.exportFormat !== undefined && summary.outputFormat !== ref.exportFormat)
      return notVerified(
        `${summaryKey} says ${summary.outputFormat}, the export asked for ${ref.exportFormat}`,
        0,
        sha256,
      );
    const filesKey = keyInArchive(ref, summary.s3Prefix, summary.manifestFilesS3Key);
    if (!filesKey)
      return notVerified(`manifestFilesS3Key ${summary.manifestFilesS3Key} is not under the archive`, 0, sha256);
    const filesText = await store.readText(filesKey);
    if (filesText === undefined) return notVerified(`${filesKey} is missing`, 0, sha256);
    files = parseExportFiles(filesText, filesKey);
  } catch (err) {
    if (err instanceof ExportManifestError) return notVerified(err.message, 0, sha256);
    throw err;
  }

  let bytes = 0;
  let items = 0;
  let etags = 0;
  for (const file of files) {
    const key = keyInArchive(ref, summary.s3Prefix, file.dataFileS3Key);
    if (!key) return notVerified(`data file ${file.dataFileS3Key} is not under the archive`, bytes, sha256);
    const stat = await store.stat(key);
    if (!stat) return notVerified(`data file ${key} is missing`, bytes, sha256);
    if (stat.etag !== undefined) {
      if (stat.etag !== file.etag)
        return notVerified(
          `data file ${key} has ETag ${stat.etag}, the manifest says ${file.etag}: it was rewritten`,
          bytes,
          sha256,
        );
      etags++;
    }
    const md5 = createHash("md5");
    for await (const chunk of await store.read(key)) md5.update(chunk);
    const digest = md5.digest("base64");
    if (digest !== file.md5Checksum)
      return notVerified(`data file ${key} has MD5 ${digest}, the manifest says ${file.md5Checksum}`, bytes, sha256);
    bytes += stat.size;
    items += file.itemCount;
  }
  if (items !== summary.itemCount)
    return notVerified(
      `the data files hold ${items} items, manifest-summary.json says ${summary.itemCount}`,
      bytes,
      sha256,
      files.length,
    );

  const tableText = await store.readText(`${prefix}${TABLE_DESCRIPTION_NAME}`);
  if (tableText === undefined)
    return notVerified(
      `${TABLE_DESCRIPTION_NAME} is missing: the table cannot be imported from the archive`,
      bytes,
      sha256,
    );
  const problem = tableDescriptionProblem(tableText);
  if (problem) return notVerified(`${TABLE_DESCRIPTION_NAME}: ${problem}`, bytes, sha256);

  const checked =
    etags === files.length
      ? "ETags and MD5s"
      : etags === 0
        ? "MD5s (the store keeps no ETags)"
        : `MD5s (${etags} with ETags)`;
  return {
    verified: true,
    bytes,
    sha256,
    reason: `${files.length} data files with the manifest's ${checked}, ${items} items as the summary says, ${TABLE_DESCRIPTION_NAME} present`,
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
