/**
 * What the checks of an export that is not ours read (core/parquet-export.ts: an RDS / Aurora Parquet
 * export; core/dynamodb-verify.ts: a DynamoDB export), wherever the export is: S3 for the verify Lambda
 * (lambdas/verify/s3-objects.ts), S3 or a local directory for `backup-actions verify`
 * (batch-worker/src/store.ts). Each check has one implementation, and both read through this.
 *
 * Keys are the store's own: full keys of the bucket for the Lambda, keys under the URL for the CLI.
 */
export interface ExportObjects {
  /** Every object whose key starts with `prefix`, with its size. */
  list(prefix: string): Promise<{ key: string; size: number }[]>;
  /** The object as UTF-8, or undefined when there is none. */
  readText(key: string): Promise<string | undefined>;
  /** Bytes [start, end) of the object. */
  readRange(key: string, start: number, end: number): Promise<ArrayBuffer>;
  /**
   * The object's size and S3's ETag (without quotes; undefined for a store that has none, a directory),
   * or undefined when there is no such object.
   */
  stat(key: string): Promise<{ size: number; etag?: string } | undefined>;
  /** The object's bytes, in order. */
  read(key: string): Promise<AsyncIterable<Uint8Array> | Iterable<Uint8Array>>;
  /** The key as the URL a person reads in a reason (`s3://bucket/key`, `file:///dir/key`). */
  urlOf(key: string): string;
}

/** The names S3 (and the SDK) give a missing object. */
export function isMissingObject(err: unknown): boolean {
  return ["NoSuchKey", "NotFound"].includes((err as Error | undefined)?.name ?? "");
}
