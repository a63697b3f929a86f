/**
 * The RDS / Aurora Parquet export check (core/parquet-export.ts) reading S3: the lists, the JSON files,
 * and the Parquet footers by ranged GETs.
 */
import { S3Client } from "@aws-sdk/client-s3";
import { type ParquetExport, verifyParquetExport as verifyExport } from "../../core/parquet-export";
import type { VerifyResult } from "../../core/verify-contract";
import { s3ExportObjects } from "./s3-objects";

export { parquetExportOf, type ParquetExport } from "../../core/parquet-export";
export { s3ExportObjects } from "./s3-objects";

export function verifyParquetExport(s3: S3Client, parquet: ParquetExport): Promise<VerifyResult> {
  return verifyExport(s3ExportObjects(s3, parquet.bucket), parquet);
}
