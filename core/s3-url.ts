/**
 * Archive locations as URLs: `s3://bucket/prefix/` (the archive bucket) or `file:///dir/` (a
 * local directory, for tests and hand-run exports). The one parser for the worker, the verify
 * Lambda and the CLI. An S3 prefix is normalised to end in "/" (or be empty), so object keys
 * are `prefix + name` and one export never overlaps another whose prefix merely starts with the
 * same characters.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { BackupActionsError } from "./errors";

/** Where an export lives: an S3 bucket + key prefix, or a local directory (file:// URL). */
export type Target = { kind: "s3"; bucket: string; prefix: string } | { kind: "file"; dir: string };

export interface S3Location {
  readonly bucket: string;
  /** Empty or ending in "/". */
  readonly prefix: string;
}

export class TargetUrlError extends BackupActionsError {
  override readonly name: string = "TargetUrlError";
}

const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

/** Parses `s3://bucket/prefix/` or `file:///abs/dir/`; throws TargetUrlError naming what is wrong. */
export function parseTarget(url: string): Target {
  if (url.startsWith("s3://")) {
    const rest = url.slice("s3://".length);
    const slash = rest.indexOf("/");
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    let prefix = slash < 0 ? "" : rest.slice(slash + 1);
    if (!BUCKET.test(bucket)) throw new TargetUrlError(`invalid S3 bucket name in ${url}`);
    if (prefix.startsWith("/")) throw new TargetUrlError(`S3 prefix must not start with "/": ${url}`);
    if (prefix !== "" && !prefix.endsWith("/")) prefix += "/";
    return { kind: "s3", bucket, prefix };
  }
  if (url.startsWith("file://")) {
    let dir: string;
    try {
      dir = fileURLToPath(url);
    } catch (e) {
      throw new TargetUrlError(`invalid file URL ${url}: ${(e as Error).message}`);
    }
    return { kind: "file", dir: path.resolve(dir) };
  }
  throw new TargetUrlError(`unsupported target ${url}: expected s3://BUCKET/PREFIX/ or file:///DIR/`);
}

/** Parses an `s3://bucket/prefix/` URL only (the verify Lambda reads the archive bucket, never a directory). */
export function parseS3Url(url: string): S3Location {
  if (!url.startsWith("s3://")) throw new TargetUrlError(`not an s3://bucket/prefix/ URL: ${JSON.stringify(url)}`);
  const target = parseTarget(url);
  if (target.kind !== "s3") throw new TargetUrlError(`not an s3://bucket/prefix/ URL: ${JSON.stringify(url)}`);
  return { bucket: target.bucket, prefix: target.prefix };
}

export function formatTarget(t: Target): string {
  return t.kind === "s3" ? `s3://${t.bucket}/${t.prefix}` : `file://${t.dir}/`;
}
