/**
 * The RDS / Aurora Parquet export check (core/parquet-export.ts) reading S3: the lists, the JSON files,
 * and the Parquet footers by ranged GETs.
 */
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { type ExportObjects, type ParquetExport, verifyParquetExport as verifyExport } from "../../core/parquet-export";
import type { VerifyResult } from "../../core/verify-contract";

export { parquetExportOf, type ParquetExport } from "../../core/parquet-export";

/** A bucket's objects as the Parquet check reads them. */
export function s3ExportObjects(s3: S3Client, bucket: string): ExportObjects {
  return {
    async list(prefix) {
      const out: { key: string; size: number }[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) out.push({ key: o.Key!, size: o.Size ?? 0 });
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    async readText(key) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await out.Body!.transformToString("utf8");
      } catch (err) {
        const name = (err as Error).name;
        if (name === "NoSuchKey" || name === "NotFound") return undefined;
        throw err;
      }
    },
    async readRange(key, start, end) {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
      const bytes = await out.Body!.transformToByteArray();
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
  };
}

export function verifyParquetExport(s3: S3Client, parquet: ParquetExport): Promise<VerifyResult> {
  return verifyExport(s3ExportObjects(s3, parquet.bucket), parquet);
}
