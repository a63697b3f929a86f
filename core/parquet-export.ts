/**
 * Verifies an RDS / Aurora snapshot export (StartExportTask) in the archive. RDS writes, under
 * `<S3Prefix>/<ExportTaskIdentifier>/`:
 *   export_info_<id>.json                          the task (status, source, times)
 *   export_tables_info_<id>_from_<i>_to_<j>.json   one or more: `perTableStatus`, one entry per table
 *                                                  with `target` (db.table or db.schema.table) and `status`
 *   <database>/<schema.table | db.table>/<partition>/part-….parquet   the data
 * AWS documents that an export skips what it cannot convert and says so only in export_tables_info,
 * so this check is where "a table was skipped or failed" becomes a failed export: the reason names
 * every such table. Then every data file must be a Parquet file whose footer reads (magic, metadata,
 * row count: hyparquet, the footer only, by ranged GETs), every data directory must belong to a table
 * the export lists, and a table that RDS says it exported with data must have files.
 *
 * A bad archive is answered `verified: false` with the reason; errors of the store other than a missing
 * object are thrown (the dispatcher records them as the failure). Used by the verify Lambda
 * (lambdas/verify/parquet.ts reads S3).
 */
import { createHash } from "node:crypto";
import { parquetMetadataAsync } from "hyparquet";
import { notVerified, type VerifyResult } from "./verify-contract";

/**
 * What the Parquet check reads, wherever the export is: S3 (lambdas/verify/parquet.ts) or any other
 * store that can list keys and read an object whole or by byte range. Keys are full keys in `bucket`.
 */
export interface ExportObjects {
  list(prefix: string): Promise<{ key: string; size: number }[]>;
  /** The object as UTF-8, or undefined when there is none. */
  readText(key: string): Promise<string | undefined>;
  /** Bytes [start, end) of the object. */
  readRange(key: string, start: number, end: number): Promise<ArrayBuffer>;
}

/** What the child leaves in its output for this check (stacks/workflows/rds-export.ts ParquetDone). */
export interface ParquetExport {
  readonly exportTaskIdentifier: string;
  readonly bucket: string;
  /** `<S3Prefix>/<ExportTaskIdentifier>/` */
  readonly exportPrefix: string;
}

interface TableStatus {
  readonly target: string;
  readonly status: string;
  readonly sizeGB?: number;
  readonly warningMessage?: string;
  readonly failureReason?: string;
}

export function parquetExportOf(value: unknown): ParquetExport | undefined {
  const p = value as Partial<ParquetExport> | null | undefined;
  if (!p || typeof p !== "object") return undefined;
  if (typeof p.exportTaskIdentifier !== "string" || typeof p.bucket !== "string" || typeof p.exportPrefix !== "string")
    return undefined;
  return { exportTaskIdentifier: p.exportTaskIdentifier, bucket: p.bucket, exportPrefix: p.exportPrefix };
}

/** The directory RDS writes a table's files to, relative to the export prefix. */
export function tableDirectoryOf(target: string): string {
  const parts = target.split(".");
  // PostgreSQL: db.schema.table → <db>/<schema.table>; MySQL/MariaDB: db.table → <db>/<db.table>
  return parts.length >= 3 ? `${parts[0]}/${parts.slice(1).join(".")}/` : `${parts[0]}/${target}/`;
}

/** Row count from a Parquet file's footer, reading only the footer (ranged GETs). */
async function footerRows(objects: ExportObjects, key: string, size: number): Promise<bigint> {
  const file = {
    byteLength: size,
    slice: (start: number, end?: number): Promise<ArrayBuffer> => objects.readRange(key, start, end ?? size),
  };
  const metadata = await parquetMetadataAsync(file, { initialFetchSize: Math.min(size, 64 * 1024) });
  return BigInt(metadata.num_rows);
}

export async function verifyParquetExport(store: ExportObjects, parquet: ParquetExport): Promise<VerifyResult> {
  const { bucket, exportPrefix: prefix, exportTaskIdentifier: id } = parquet;
  const where = `s3://${bucket}/${prefix}`;
  const hash = createHash("sha256");

  const infoText = await store.readText(`${prefix}export_info_${id}.json`);
  if (infoText === undefined)
    return notVerified(`export_info_${id}.json is missing under ${where}: the export did not finish`);
  hash.update(infoText);
  let info: { status?: unknown };
  try {
    info = JSON.parse(infoText) as { status?: unknown };
  } catch (err) {
    return notVerified(`export_info_${id}.json under ${where} is not JSON: ${(err as Error).message}`);
  }
  if (typeof info.status === "string" && info.status.toUpperCase() !== "COMPLETE")
    return notVerified(`export_info_${id}.json under ${where} says the export is ${info.status}, not COMPLETE`);

  const objects = await store.list(prefix);
  const tablesInfo = objects
    .filter((o) => o.key.slice(prefix.length).startsWith(`export_tables_info_${id}_`) && o.key.endsWith(".json"))
    .sort((a, b) => a.key.localeCompare(b.key));
  if (tablesInfo.length === 0) return notVerified(`no export_tables_info_${id}_*.json under ${where}`);
  const tables: TableStatus[] = [];
  for (const file of tablesInfo) {
    const text = (await store.readText(file.key)) ?? "";
    hash.update(text);
    let parsed: { perTableStatus?: unknown };
    try {
      parsed = JSON.parse(text) as { perTableStatus?: unknown };
    } catch (err) {
      return notVerified(`${file.key.slice(prefix.length)} is not JSON: ${(err as Error).message}`);
    }
    if (!Array.isArray(parsed.perTableStatus))
      return notVerified(`${file.key.slice(prefix.length)} has no perTableStatus list`);
    for (const t of parsed.perTableStatus as Partial<TableStatus>[]) {
      if (typeof t?.target !== "string" || typeof t.status !== "string")
        return notVerified(`${file.key.slice(prefix.length)} lists a table without target and status`);
      tables.push(t as TableStatus);
    }
  }
  const sha256 = hash.digest("hex");

  const notExported = tables.filter((t) => t.status.toUpperCase() !== "COMPLETE");
  if (notExported.length > 0) {
    const named = notExported.map((t) => {
      const why = t.failureReason ?? t.warningMessage;
      return `${t.target} (${t.status}${why ? `: ${why}` : ""})`;
    });
    return notVerified(
      `${notExported.length} of ${tables.length} tables were not exported: ${named.join(", ")}`,
      0,
      sha256,
    );
  }

  const dataFiles = objects.filter((o) => o.key.endsWith(".parquet"));
  const directories = new Map(tables.map((t) => [tableDirectoryOf(t.target), t]));
  const rows = new Map<string, bigint>();
  let bytes = 0;
  for (const file of dataFiles) {
    const relative = file.key.slice(prefix.length);
    const dir = [...directories.keys()].find((d) => relative.startsWith(d));
    if (!dir) return notVerified(`${relative} belongs to no table export_tables_info lists`, bytes, sha256);
    let count: bigint;
    try {
      count = await footerRows(store, file.key, file.size);
    } catch (err) {
      if (["NoSuchKey", "NotFound", "AccessDenied"].includes((err as Error).name)) throw err;
      return notVerified(`${relative} is not a readable Parquet file: ${(err as Error).message}`, bytes, sha256);
    }
    const target = directories.get(dir)!.target;
    rows.set(target, (rows.get(target) ?? 0n) + count);
    bytes += file.size;
  }
  const empty = tables.filter((t) => (t.sizeGB ?? 0) > 0 && !rows.has(t.target));
  if (empty.length > 0)
    return notVerified(
      `export_tables_info says ${empty.map((t) => t.target).join(", ")} exported data, but no Parquet file of ${empty.length === 1 ? "it" : "them"} is under ${where}`,
      bytes,
      sha256,
    );

  const total = [...rows.values()].reduce((a, b) => a + b, 0n);
  const perTable = tables.map((t) => `${t.target} ${rows.get(t.target) ?? 0n}`).join(", ");
  return {
    verified: true,
    bytes,
    sha256,
    reason: `${tables.length} tables exported, ${dataFiles.length} Parquet files, ${total} rows (${perTable})`,
    objects: dataFiles.length,
  };
}
