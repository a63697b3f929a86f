/**
 * Verifies an RDS / Aurora snapshot export (StartExportTask) in the archive. RDS writes, under
 * `<S3Prefix>/<ExportTaskIdentifier>/`:
 *   export_info_<id>.json                          the task (status, source, times, total GB; no file list)
 *   export_tables_info_<id>_from_<i>_to_<j>.json   one or more: `perTableStatus`, one entry per table
 *                                                  with `target` (db.table or db.schema.table), `status`,
 *                                                  `sizeGB`, `TableStatistics.partitioningInfo`
 *                                                  (numberOfPartitions, numberOfCompletedPartitions) and
 *                                                  the column types; no row counts and no file names
 *   <database>/<schema.table | db.table>/<batch>/part-….parquet   the data
 * AWS documents that an export skips what it cannot convert and says so only in export_tables_info,
 * so this check is where "a table was skipped or failed" becomes a failed export: the reason names
 * every such table, and so does a table whose partitions did not all complete. Then every data file
 * must be a Parquet file whose footer reads (magic, metadata, row count: hyparquet, the footer only, by
 * ranged reads), every data directory must belong to a table the export lists, and a table that RDS
 * says it exported with data must have files. Neither file records how many rows a table has, so the
 * row counts read from the footers cannot be compared with anything RDS wrote: they are summed per
 * table and reported (in the reason, and per table to `backup-actions verify`).
 *
 * A bad archive is answered `verified: false` with the reason; errors of the store other than a missing
 * object are thrown (the dispatcher records them as the failure). Used by the verify Lambda
 * (lambdas/verify/parquet.ts reads S3) and by `backup-actions verify` (batch-worker/src/verify-export.ts,
 * S3 or a directory).
 */
import { createHash } from "node:crypto";
import { parquetMetadataAsync } from "hyparquet";
import { type ExportObjects, isMissingObject } from "./export-objects";
import { notVerified, type VerifyResult } from "./verify-contract";

export type { ExportObjects } from "./export-objects";

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
  readonly TableStatistics?: {
    partitioningInfo?: { numberOfPartitions?: unknown; numberOfCompletedPartitions?: unknown };
  };
}

/** One table of a verified export: what its Parquet footers hold. */
export interface ParquetTableRows {
  readonly target: string;
  readonly files: number;
  readonly rows: bigint;
}

/** The check's answer and, once the data files were read, every listed table's files and rows. */
export interface ParquetCheck {
  readonly result: VerifyResult;
  readonly tables: readonly ParquetTableRows[];
}

/** The export_info file of an export task, relative to its prefix. */
export const exportInfoName = (id: string) => `export_info_${id}.json`;

/** The task identifier of an `export_info_<id>.json` name, or undefined for another name. */
export function exportTaskIdOf(name: string): string | undefined {
  return /^export_info_(.+)\.json$/.exec(name)?.[1];
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
  return (await checkParquetExport(store, parquet)).result;
}

/** Partitions of a table RDS did not complete: "<completed> of <all>", or undefined when all did (or none are told). */
function incompletePartitions(t: TableStatus): string | undefined {
  const p = t.TableStatistics?.partitioningInfo;
  const all = p?.numberOfPartitions;
  const done = p?.numberOfCompletedPartitions;
  if (typeof all !== "number" || typeof done !== "number") return undefined;
  return done < all ? `${done} of ${all}` : undefined;
}

/** The Parquet check with, when it read the data files, every listed table's files and footer rows. */
export async function checkParquetExport(store: ExportObjects, parquet: ParquetExport): Promise<ParquetCheck> {
  const tables: ParquetTableRows[] = [];
  const result = await check(store, parquet, tables);
  return { result, tables };
}

async function check(store: ExportObjects, parquet: ParquetExport, out: ParquetTableRows[]): Promise<VerifyResult> {
  const { exportPrefix: prefix, exportTaskIdentifier: id } = parquet;
  const where = store.urlOf(prefix);
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

  const unfinished = tables.flatMap((t) => {
    const partitions = incompletePartitions(t);
    return partitions ? [`${t.target} (${partitions} partitions)`] : [];
  });
  if (unfinished.length > 0)
    return notVerified(
      `export_tables_info says ${unfinished.length} of ${tables.length} tables did not complete every partition: ${unfinished.join(", ")}`,
      0,
      sha256,
    );

  const dataFiles = objects.filter((o) => o.key.endsWith(".parquet"));
  const directories = new Map(tables.map((t) => [tableDirectoryOf(t.target), t]));
  const rows = new Map<string, bigint>();
  const files = new Map<string, number>();
  let bytes = 0;
  for (const file of dataFiles) {
    const relative = file.key.slice(prefix.length);
    const dir = [...directories.keys()].find((d) => relative.startsWith(d));
    if (!dir) return notVerified(`${relative} belongs to no table export_tables_info lists`, bytes, sha256);
    let count: bigint;
    try {
      count = await footerRows(store, file.key, file.size);
    } catch (err) {
      if (isMissingObject(err) || (err as Error).name === "AccessDenied") throw err;
      return notVerified(`${relative} is not a readable Parquet file: ${(err as Error).message}`, bytes, sha256);
    }
    const target = directories.get(dir)!.target;
    rows.set(target, (rows.get(target) ?? 0n) + count);
    files.set(target, (files.get(target) ?? 0) + 1);
    bytes += file.size;
  }
  const empty = tables.filter((t) => (t.sizeGB ?? 0) > 0 && !rows.has(t.target));
  if (empty.length > 0)
    return notVerified(
      `export_tables_info says ${empty.map((t) => t.target).join(", ")} exported data, but no Parquet file of ${empty.length === 1 ? "it" : "them"} is under ${where}`,
      bytes,
      sha256,
    );

  out.push(
    ...tables.map((t) => ({ target: t.target, files: files.get(t.target) ?? 0, rows: rows.get(t.target) ?? 0n })),
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
