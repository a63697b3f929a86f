/**
 * Verifies an export in the archive before the dispatcher records it as done (and,
 * when asked, deletes the recovery point). Cheap and exact, so it fits a Lambda for
 * archives of any size:
 *
 * - `manifest.json` exists and passes core/manifest.ts's checks (the worker writes it
 *   last: no manifest means the export is incomplete): version 2, safe and unique item
 *   names, every key the one its item's name and kind produce, sizes that add up, and
 *   byte ranges that cover the device exactly, so an export cannot leave data out unseen
 *   (a database dump's manifest: one dump per database it lists, and nothing else);
 * - every exported item's object exists with exactly the manifest's compressed size;
 * - when the manifest records S3's checksum of an object (`s3ChecksumSHA256`: the
 *   composite of the SHA-256 S3 verified for every part on upload), HeadObject with
 *   ChecksumMode ENABLED reports exactly that value. S3 keeps the checksum an object
 *   was uploaded with and always reports it in this mode, so a different value means
 *   other bytes, and none at all means the object was replaced by one uploaded without
 *   a SHA-256 checksum: both fail. (Manifests from before the field: sizes only.)
 *
 * The full re-read (every byte hashed, every tar listed) is `backup-actions verify`.
 * Never throws for a bad archive: it answers `verified: false` with the reason, which
 * the dispatcher records as the failure.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { GetObjectCommand, HeadObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { DumpItem, MANIFEST_NAME, ManifestError, ManifestItem, parseArchiveManifest } from "../../core/manifest";
import { parseS3Url, S3Location } from "../../core/s3-url";
import { shortIdOf } from "../../core/execution-name";
import {
  elapsedSeconds,
  notVerified,
  parseVerifyRequest,
  type VerifyAnswer,
  type VerifyRequest,
  type VerifyResult,
} from "../../core/verify-contract";
import type { Workflow } from "../../core/workflows";
import { NO_METRICS, type MetricsRecorder } from "../../core/lambda-metrics";
import { METRICS, RESOURCE_TYPE_DIMENSION } from "../../core/metrics";
import { verifyDynamoDbExport } from "./dynamodb";
import { parquetExportOf, verifyParquetExport } from "./parquet";

// The payload contract with the dispatcher lives in core.
export type { VerifyAnswer, VerifyRequest, VerifyResult } from "../../core/verify-contract";

/** One verifier per workflow: each knows the archive its child writes. */
type Verifier = (s3: S3Client, request: VerifyRequest) => Promise<VerifyResult>;

/** An archive with a `manifest.json` (core/manifest.ts): what the worker writes. */
const VERIFIERS: Readonly<Record<Workflow, Verifier>> = {
  ebs: verifyManifestArchive,
  rds: verifyDatabaseExport,
  aurora: verifyDatabaseExport,
  // DynamoDB's own manifest-summary.json and manifest-files.json, and table.json (./dynamodb.ts).
  dynamodb: verifyDynamoDbExport,
};

export function verifyArchive(s3: S3Client, request: VerifyRequest): Promise<VerifyResult> {
  return VERIFIERS[request.workflow ?? "ebs"](s3, request);
}

/**
 * An RDS / Aurora child's answer (stacks/workflows/rds-export.ts): a Parquet export (`parquet`) is
 * checked by lambdas/verify/parquet.ts; a native dump (`dump`) has a manifest.json like the worker's.
 * With format "both" the answer has both, and both must pass.
 */
async function verifyDatabaseExport(s3: S3Client, request: VerifyRequest): Promise<VerifyResult> {
  const parquet = parquetExportOf(request.export?.parquet);
  if (!parquet) return verifyManifestArchive(s3, request);
  const parquetResult = await verifyParquetExport(s3, parquet);
  if (request.export?.dump === undefined) return parquetResult;
  return bothVerified(parquetResult, await verifyManifestArchive(s3, request));
}

/**
 * Format "both": the Parquet export's and the dump's answers as one. Fails with the first that
 * failed, its reason saying which; passes with the sum of both, fingerprinted by both fingerprints.
 */
function bothVerified(parquet: VerifyResult, dump: VerifyResult): VerifyResult {
  if (!parquet.verified) return { ...parquet, reason: `Parquet export: ${parquet.reason}` };
  if (!dump.verified) return { ...dump, reason: `dump: ${dump.reason}` };
  return {
    verified: true,
    bytes: parquet.bytes + dump.bytes,
    sha256: createHash("sha256").update(`${parquet.sha256}\n${dump.sha256}`).digest("hex"),
    reason: `Parquet export: ${parquet.reason}; dump: ${dump.reason}`,
    objects: parquet.objects + dump.objects,
  };
}

async function verifyManifestArchive(s3: S3Client, request: VerifyRequest): Promise<VerifyResult> {
  let location: S3Location;
  try {
    location = parseS3Url(request.archiveUrl);
  } catch (err) {
    return notVerified((err as Error).message);
  }
  const { bucket, prefix } = location;

  let text: string;
  try {
    const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}${MANIFEST_NAME}` }));
    text = await out.Body!.transformToString("utf8");
  } catch (err) {
    const name = (err as Error).name;
    if (name === "NoSuchKey" || name === "NotFound")
      return notVerified(`${MANIFEST_NAME} is missing under ${request.archiveUrl}: the export did not finish`);
    // Access denied, or throttling that outlasted the SDK's own retries: thrown, so the dispatcher's Catch
    // records the export as FAILED with the S3 error's name (its Retry covers Lambda's service errors only).
    throw err;
  }
  const sha256 = createHash("sha256").update(text).digest("hex");
  let manifest;
  try {
    // version 2 only: the pipeline's worker writes it, and only it accounts for every byte of the device.
    // A database dump's manifest (one dump object per database) is checked the same way: sizes and S3 checksums.
    manifest = parseArchiveManifest(text, `s3://${bucket}/${prefix}${MANIFEST_NAME}`);
  } catch (err) {
    if (!(err instanceof ManifestError)) throw err;
    return notVerified(err.message, 0, sha256);
  }

  const items = (manifest.items as readonly (ManifestItem | DumpItem)[]).filter((i) => i.kind !== "skipped");
  if (items.length === 0) return notVerified("the manifest lists no exported item", 0, sha256);
  let bytes = 0;
  let checksummed = 0;
  for (const item of items) {
    const key = `${prefix}${item.key}`;
    let head;
    try {
      head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key, ChecksumMode: "ENABLED" }));
    } catch (err) {
      const name = (err as Error).name;
      if (name === "NotFound" || name === "NoSuchKey")
        return notVerified(`${item.name}: object ${item.key} is missing`, bytes, sha256);
      throw err;
    }
    if (head.ContentLength !== item.compressedBytes) {
      return notVerified(
        `${item.name}: object ${item.key} has ${head.ContentLength} bytes, the manifest says ${item.compressedBytes}`,
        bytes,
        sha256,
      );
    }
    const recorded = item.s3ChecksumSHA256;
    if (recorded !== undefined) {
      if (!head.ChecksumSHA256) {
        return notVerified(
          `${item.name}: S3 reports no SHA-256 checksum for object ${item.key}, the manifest records ${recorded}: ` +
            "the object was replaced after the export by one uploaded without it " +
            "(or this role may not use kms:Decrypt on the archive key, which S3 requires to return checksums)",
          bytes,
          sha256,
        );
      }
      if (head.ChecksumSHA256 !== recorded) {
        return notVerified(
          `${item.name}: object ${item.key} has S3 checksum ${head.ChecksumSHA256}, the manifest records ${recorded}: the object was rewritten after the export`,
          bytes,
          sha256,
        );
      }
      checksummed++;
    }
    bytes += item.compressedBytes ?? 0;
  }
  const checked =
    checksummed === items.length
      ? " and S3 checksums"
      : checksummed > 0
        ? `; ${checksummed} with the manifest's S3 checksum`
        : "";
  return {
    verified: true,
    bytes,
    sha256,
    reason: `${items.length} objects present with the manifest's sizes${checked}`,
    objects: items.length,
  };
}

const nowDate = () => new Date();

export interface VerifyDeps {
  readonly s3: S3Client;
  readonly logger: Logger;
  /** Archives verified / failed and bytes verified, by resource type. @default not counted */
  readonly metrics?: MetricsRecorder;
  /** The clock the answer's `durationSeconds` is read from. @default the system clock */
  readonly now?: () => Date;
}

/**
 * One invocation: the payload checked (InvalidEventError names what is missing), the archive verified,
 * the seconds since the execution started (`durationSeconds`, for the outcome events), one line with
 * the outcome (WARN when it failed). Every line carries the recovery point the payload
 * names, also the line of an error that is thrown on to the state machine.
 */
export async function handleVerify(payload: unknown, deps: VerifyDeps): Promise<VerifyAnswer> {
  const { logger } = deps;
  const arn = (payload as { recoveryPointArn?: unknown } | null)?.recoveryPointArn;
  logger.appendKeys(
    typeof arn === "string"
      ? { recoveryPointArn: arn, recoveryPointId: shortIdOf(arn) }
      : { recoveryPointId: "unknown" },
  );
  try {
    const request = parseVerifyRequest(payload);
    logger.appendKeys({ archiveUrl: request.archiveUrl });
    const verdict = await verifyArchive(deps.s3, request);
    const { executionStartTime } = request;
    const result: VerifyAnswer = {
      ...verdict,
      durationSeconds:
        executionStartTime === undefined ? null : elapsedSeconds(executionStartTime, (deps.now ?? nowDate)()),
    };
    if (result.verified) logger.info("verified", { ...result });
    else logger.warn("not verified", { ...result });
    const metrics = deps.metrics ?? NO_METRICS;
    const dims = { [RESOURCE_TYPE_DIMENSION]: request.workflow ?? "ebs" };
    if (result.verified) {
      metrics.add(METRICS.archivesVerified, 1, dims);
      metrics.add(METRICS.bytesVerified, result.bytes, dims);
    } else metrics.add(METRICS.archivesFailedVerification, 1, dims);
    return result;
  } catch (err) {
    logger.error("verify failed", err as Error);
    throw err;
  } finally {
    logger.resetKeys();
  }
}
