import path from "node:path";
import { fileURLToPath } from "node:url";

/** Where an export lives: an S3 bucket + key prefix, or a local directory (file:// URL). */
export type Target = { kind: "s3"; bucket: string; prefix: string } | { kind: "file"; dir: string };

export class TargetUrlError extends Error {
  override readonly name = "TargetUrlError";
}

/**
 * Parses `s3://bucket/prefix/` or `file:///abs/dir/`. The S3 prefix is normalised to end in "/"
 * (or be empty) so that object keys are `prefix + name` and one export never overlaps another
 * whose prefix merely starts with the same characters.
 */
export function parseTarget(url: string): Target {
  if (url.startsWith("s3://")) {
    const rest = url.slice("s3://".length);
    const slash = rest.indexOf("/");
    const bucket = slash < 0 ? rest : rest.slice(0, slash);
    let prefix = slash < 0 ? "" : rest.slice(slash + 1);
    if (!/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(bucket)) throw new TargetUrlError(`invalid S3 bucket name in ${url}`);
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

export function formatTarget(t: Target): string {
  return t.kind === "s3" ? `s3://${t.bucket}/${t.prefix}` : `file://${t.dir}/`;
}
