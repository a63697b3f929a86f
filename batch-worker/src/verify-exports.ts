/**
 * `backup-actions verify URL` for every kind of archive the pipeline writes, told apart by what the URL
 * holds:
 *
 * - `manifest.json`: ours (an EBS volume's filesystems, or a database server's dumps), re-read in full by
 *   ./verify.ts; with `parquet/<id>/export_info_<id>.json` beside it too (RDS format "both"), the Parquet
 *   export is checked as well and both must pass;
 * - `export_info_<id>.json` at the URL, or under `parquet/<id>/` (the archive prefix of an RDS / Aurora
 *   child): an RDS Parquet export, checked by core/parquet-export.ts;
 * - `table.json` or `AWSDynamoDB/<id>/manifest-summary.json`: a DynamoDB export, checked by
 *   core/dynamodb-verify.ts.
 *
 * The Parquet and DynamoDB checks are the verify Lambda's own (one implementation each), reading the
 * store through `exportObjectsOf`: S3 or a directory, with ranged reads for the Parquet footers.
 */
import { TABLE_DESCRIPTION_NAME, type TableDescriptionFile } from "../../core/dynamodb-export";
import { type DynamoDbExportRef, verifyDynamoDbExport } from "../../core/dynamodb-verify";
import { type ExportObjects, isMissingObject } from "../../core/export-objects";
import { MANIFEST_NAME } from "../../core/manifest";
import { checkParquetExport, exportTaskIdOf, type ParquetExport } from "../../core/parquet-export";
import type { VerifyResult } from "../../core/verify-contract";
import { log } from "./log";
import type { ObjectStore } from "./store";
import { type ItemVerdict, type ManifestCheck, type VerifyReport, verifyExport } from "./verify";

/** The store's objects, keys relative to its URL, as the export checks read them. */
export function exportObjectsOf(store: ObjectStore): ExportObjects {
  return {
    list: (prefix) => store.list(prefix),
    async readText(key) {
      try {
        const chunks: Buffer[] = [];
        for await (const c of await store.get(key)) chunks.push(c as Buffer);
        return Buffer.concat(chunks).toString("utf8");
      } catch (err) {
        if (isMissingObject(err) || (err as NodeJS.ErrnoException).code === "ENOENT") return undefined;
        throw err;
      }
    },
    async readRange(key, start, end) {
      const b = await store.getRange(key, start, end);
      return b.buffer.slice(b.byteOffset, b.byteOffset + b.byteLength) as ArrayBuffer;
    },
    stat: (key) => store.head(key),
    read: (key) => store.get(key),
    urlOf: (key) => `${store.url}${key}`,
  };
}

/** The Parquet exports under the URL: its own export_info, else those of `parquet/<id>/`. */
async function parquetExportsAt(store: ObjectStore): Promise<ParquetExport[]> {
  const found = (keys: { key: string }[], under: string) =>
    keys.flatMap(({ key }) => {
      const rest = key.slice(under.length);
      const [dir, name, ...more] = rest.split("/");
      if (under === "") {
        const id = exportTaskIdOf(rest);
        return id && !rest.includes("/") ? [{ exportTaskIdentifier: id, bucket: "", exportPrefix: "" }] : [];
      }
      const id = name !== undefined && more.length === 0 ? exportTaskIdOf(name) : undefined;
      return id && id === dir ? [{ exportTaskIdentifier: id, bucket: "", exportPrefix: `${under}${id}/` }] : [];
    });
  const here = found(
    (await store.list("export_info_")).filter((o) => !o.key.includes("/")),
    "",
  );
  return here.length > 0 ? here : found(await store.list("parquet/"), "parquet/");
}

const SUMMARY = /^AWSDynamoDB\/[^/]+\/manifest-summary\.json$/;

/**
 * The DynamoDB export at the URL: the one table.json names (its manifestKey is a key of the bucket the
 * export was written to; its `AWSDynamoDB/…` tail is where it is in the archive), else the only summary.
 */
async function dynamoDbExportAt(store: ObjectStore, objects: ExportObjects): Promise<DynamoDbExportRef | undefined> {
  const summaries = (await store.list("AWSDynamoDB/")).map((o) => o.key).filter((k) => SUMMARY.test(k));
  const tableText = await objects.readText(TABLE_DESCRIPTION_NAME);
  let table: Partial<TableDescriptionFile> = {};
  try {
    table = tableText === undefined ? {} : (JSON.parse(tableText) as Partial<TableDescriptionFile>);
  } catch {
    // the check itself reports a table.json that is not JSON
  }
  const named = typeof table.manifestKey === "string" ? table.manifestKey : undefined;
  const tail = named?.includes("AWSDynamoDB/") ? named.slice(named.indexOf("AWSDynamoDB/")) : undefined;
  const summaryKey = tail ?? (summaries.length === 1 ? summaries[0] : undefined);
  if (summaryKey === undefined) {
    if (summaries.length > 1)
      throw new Error(
        `${store.url} holds ${summaries.length} DynamoDB exports (${summaries.join(", ")}) and no ${TABLE_DESCRIPTION_NAME} naming one: verify each one's own URL`,
      );
    return tableText === undefined
      ? undefined
      : { prefix: "", summaryKey: "AWSDynamoDB/<export-id>/manifest-summary.json" };
  }
  return {
    prefix: "",
    summaryKey,
    ...(typeof table.exportArn === "string" ? { exportArn: table.exportArn } : {}),
    ...(typeof table.exportFormat === "string" ? { exportFormat: table.exportFormat } : {}),
  };
}

function asItem(name: string, kind: string, r: VerifyResult): ItemVerdict {
  return { name, kind, ok: r.verified, problems: r.verified ? [] : [r.reason] };
}

async function verifyParquet(objects: ExportObjects, exports: ParquetExport[]) {
  const items: ItemVerdict[] = [];
  const checked: string[] = [];
  const notes: string[] = [];
  for (const p of exports) {
    const { result, tables } = await checkParquetExport(objects, p);
    notes.push(
      `Parquet export ${p.exportTaskIdentifier} fingerprint (SHA-256 of export_info and export_tables_info: the verify Lambda's sha256 of a Parquet-only export): ${result.sha256}`,
    );
    log.info(`verify Parquet export ${p.exportTaskIdentifier}: ${result.verified ? "OK" : "FAILED"}: ${result.reason}`);
    checked.push(
      `Parquet export ${p.exportTaskIdentifier} (${objects.urlOf(p.exportPrefix)}): export_info COMPLETE; every table ` +
        "export_tables_info lists COMPLETE with every partition; every data file a Parquet file whose footer reads, " +
        "in a listed table's directory; every table with data has files; rows per table from the footers " +
        "(RDS records no row counts to compare them with)",
    );
    if (!result.verified || tables.length === 0)
      items.push(asItem(`parquet export ${p.exportTaskIdentifier}`, "rds-parquet", result));
    else
      for (const t of tables)
        items.push({
          name: t.target,
          kind: "parquet-table",
          ok: true,
          problems: [],
          files: t.files,
          rows: Number(t.rows),
        });
  }
  return { items, checked, notes };
}

/** The comparison of a manifest.json with what the pipeline recorded (cli/manifest-trust.ts). */
export interface ManifestTrust {
  readonly check: ManifestCheck;
  /** The operator asked for it (--expect-manifest-sha256, --ledger-table): an archive without a manifest.json is refused. */
  readonly requested: boolean;
}

/**
 * Verifies whatever archive the URL holds, saying which kind it is and what was checked. `trust` applies
 * to a manifest.json; a Parquet or DynamoDB export has none, so a requested comparison is refused for it
 * (before any data file is read) and an unrequested one does not run.
 */
export async function verifyArchiveAt(store: ObjectStore, trust?: ManifestTrust): Promise<VerifyReport> {
  const objects = exportObjectsOf(store);
  if ((await store.size(MANIFEST_NAME)) !== undefined) {
    const report = await verifyExport(store, trust?.check);
    const parquet = report.kind === "database-dump" ? await parquetExportsAt(store) : [];
    if (parquet.length === 0) return report;
    const p = await verifyParquet(objects, parquet);
    const items = [...report.items, ...p.items];
    return {
      ...report,
      kind: "rds-parquet+database-dump",
      ok: items.every((i) => i.ok),
      checked: [...report.checked, ...p.checked],
      items,
      notes: [...report.notes, ...p.notes],
    };
  }
  const parquet = await parquetExportsAt(store);
  const dynamodb = parquet.length === 0 ? await dynamoDbExportAt(store, objects) : undefined;
  if (trust?.requested && (parquet.length > 0 || dynamodb))
    throw new Error(
      `${store.url} is ${parquet.length > 0 ? "an RDS Parquet export" : "a DynamoDB export"}, which has no ${MANIFEST_NAME}: ` +
        "--expect-manifest-sha256 and --ledger-table compare a manifest.json; compare the fingerprint this command prints (sha256) instead",
    );
  if (parquet.length > 0) {
    const p = await verifyParquet(objects, parquet);
    return {
      ok: p.items.every((i) => i.ok),
      url: store.url,
      kind: "rds-parquet",
      checked: p.checked,
      items: p.items,
      problems: [],
      notes: p.notes,
    };
  }
  if (dynamodb) {
    const result = await verifyDynamoDbExport(objects, dynamodb);
    log.info(`verify DynamoDB export ${dynamodb.summaryKey}: ${result.verified ? "OK" : "FAILED"}: ${result.reason}`);
    return {
      ok: result.verified,
      url: store.url,
      kind: "dynamodb",
      checked: [
        `${dynamodb.summaryKey}: DynamoDB's summary; manifest-files.json: every data object present with the manifest's ` +
          "ETag (S3 only: a directory has none) and MD5 (read in full); item counts add up to the summary's itemCount; " +
          "table.json names a type for every key attribute",
      ],
      items: [asItem(`dynamodb export ${dynamodb.summaryKey}`, "dynamodb", result)],
      problems: [],
      notes: [`fingerprint (SHA-256 of manifest-summary.json, as the ledger records it): ${result.sha256}`],
    };
  }
  throw new Error(
    `${store.url} holds no ${MANIFEST_NAME}, no export_info_*.json (here or under parquet/<id>/) and no ` +
      "table.json or AWSDynamoDB/<id>/manifest-summary.json: it is no archive of backup-actions, or not yet complete",
  );
}
