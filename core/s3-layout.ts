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
  const tail = resourceArn.split(/[/:]/).filter((s) => s !== "").at(-1) ?? "unknown";
  return keySegment(tail);
}

export function archiveLocation(bucket: string, rp: RecoveryPointFacts, time: string): ArchiveLocation {
  const date = new Date(time);
  if (Number.isNaN(date.getTime())) throw new Error(`archiveLocation: not a time: ${JSON.stringify(time)}`);
  const yyyy = String(date.getUTCFullYear()).padStart(4, "0");
  const mm = String(date.getUTCMonth() + 1).padStart(2, "0");
  const dd = String(date.getUTCDate()).padStart(2, "0");
  const prefix = [rp.workflow, rp.account, rp.region, resourceIdOf(rp.resourceArn), yyyy, mm, dd, keySegment(rp.id)].join("/") + "/";
  return { bucket, prefix, url: `s3://${bucket}/${prefix}` };
}

/**
 * Which of `count` placements (AZ + job queue) an export uses: a stable function of the
 * recovery point, so retries and duplicates land in the same AZ and exports spread evenly.
 */
export function placementIndexOf(recoveryPointArn: string, count: number): number {
  if (!Number.isInteger(count) || count < 1) throw new Error(`placementIndexOf: count must be a positive integer (got ${count})`);
  return createHash("sha256").update(recoveryPointArn).digest().readUInt32BE(0) % count;
}
