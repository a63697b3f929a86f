/**
 * Where an export lands in the archive bucket (README, "How one recovery point is exported": archive layout):
 *
 *   <workflow>/<account>/<region>/<resource-id>/<yyyy>/<mm>/<dd>/<recovery-point-id>/
 *
 * The date is the recovery point's (the completion event's time, UTC), so the same
 * recovery point always maps to the same prefix, however often its event is delivered.
 */
import { createHash } from "node:crypto";
import type { RecoveryPointFacts } from "./events";
import { partitionOf } from "./partition";
import { parseRecoveryPointArn } from "./recovery-point-arn";

export interface ArchiveLocation {
  readonly bucket: string;
  /** Ends with "/". */
  readonly prefix: string;
  /** `s3://<bucket>/<prefix>` */
  readonly url: string;
}

/** The archive bucket of one pipeline: unique per name, account and region. */
export function archiveBucketName(name: string, accountId: string, region: string): string {
  return `${name}-archive-${accountId}-${region}`;
}

/** A path segment that is safe in S3 keys and readable: anything else becomes "_". */
export function keySegment(value: string): string {
  const cleaned = value.replace(/[^A-Za-z0-9._-]/g, "_").replace(/^\.+/, "_");
  return cleaned === "" ? "_" : cleaned.slice(0, 200);
}

/** The last segment of a resource ARN (`vol-…`, a DB identifier, a table name). */
export function resourceIdOf(resourceArn: string | null): string {
  if (!resourceArn) return "unknown";
  const tail =
    resourceArn
      .split(/[/:]/)
      .filter((s) => s !== "")
      .at(-1) ?? "unknown";
  return keySegment(tail);
}

export function archiveLocation(bucket: string, rp: RecoveryPointFacts, time: string): ArchiveLocation {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) throw new Error(`archiveLocation: not a time: ${JSON.stringify(time)}`);
  const yyyy = String(date.getUTCFullYear()).padStart(4, "0");
  const mm = String(date.getUTCMonth() + 1).padStart(2, "0");
  const dd = String(date.getUTCDate()).padStart(2, "0");
  const prefix =
    [rp.workflow, rp.account, rp.region, resourceIdOf(rp.resourceArn), yyyy, mm, dd, keySegment(rp.id)].join("/") + "/";
  return { bucket, prefix, url: `s3://${bucket}/${prefix}` };
}

/**
 * Which of `count` placements (AZ + job queue) an export uses: a stable function of the
 * recovery point, so retries and duplicates land in the same AZ and exports spread evenly.
 */
export function placementIndexOf(recoveryPointArn: string, count: number): number {
  if (!Number.isInteger(count) || count < 1)
    throw new Error(`placementIndexOf: count must be a positive integer (got ${count})`);
  return createHash("sha256").update(recoveryPointArn).digest().readUInt32BE(0) % count;
}

const EBS_PREFIX = /^ebs\/(\d{12})\/([a-z0-9-]+)\/[^/]+\/\d{4}\/\d{2}\/\d{2}\/([^/]+)\/$/;

/**
 * The recovery point ARN an EBS archive prefix was written for, read back from the prefix (the
 * inverse of archiveLocation for the ebs workflow): `arn:<partition>:ec2:<region>::snapshot/snap-…`,
 * or for a recovery point that only AWS Backup knows `arn:<partition>:backup:<region>:<account>:recovery-point:<id>`.
 * Undefined for any other prefix, and for an id that keySegment may have changed (then the ARN must be given).
 */
export function ebsRecoveryPointArnOf(prefix: string): string | undefined {
  const m = EBS_PREFIX.exec(prefix);
  if (!m) return undefined;
  const [, account, region, id] = m as unknown as [string, string, string, string];
  const partition = partitionOf(region);
  const arn = /^snap-[0-9a-f]{8,17}$/.test(id)
    ? `arn:${partition}:ec2:${region}::snapshot/${id}`
    : /^[A-Za-z0-9-]+$/.test(id)
      ? `arn:${partition}:backup:${region}:${account}:recovery-point:${id}`
      : undefined;
  return arn !== undefined && parseRecoveryPointArn(arn) ? arn : undefined;
}
