/**
 * DynamoDB exports: the formats ExportTableToPointInTime writes, the files it leaves in the
 * archive (its two manifests, AWS's own), and the table description the child writes next to
 * them (`table.json`), so a restore with ImportTable needs nothing but the archive.
 *
 * Layout under the archive prefix (DynamoDB's "export output format" page):
 *   table.json                                         (ours: key schema, attribute types, indexes, billing)
 *   AWSDynamoDB/<export-id>/_started                   (empty; the export began)
 *   AWSDynamoDB/<export-id>/manifest-summary.json      (one JSON object)
 *   AWSDynamoDB/<export-id>/manifest-files.json        (JSON lines: one data file each)
 *   AWSDynamoDB/<export-id>/data/<name>.json.gz | .ion.gz
 */

import { BackupActionsError } from "./errors";

/** ExportFormat values of ExportTableToPointInTime (DynamoDB cannot write Parquet). */
export const DYNAMODB_EXPORT_FORMATS = ["DYNAMODB_JSON", "ION"] as const;
export type DynamoDbExportFormat = (typeof DYNAMODB_EXPORT_FORMATS)[number];

/** Config `exports.dynamodb`: a switch, or the switched-on form with its format. */
export type DynamoDbExportSetting = boolean | { readonly format: DynamoDbExportFormat };

export function dynamodbExportEnabled(setting: DynamoDbExportSetting): boolean {
  return setting !== false;
}

/** The format a setting asks for; DYNAMODB_JSON unless `{ format: "ION" }`. */
export function dynamodbExportFormat(setting: DynamoDbExportSetting): DynamoDbExportFormat {
  return typeof setting === "object" ? setting.format : "DYNAMODB_JSON";
}

/** The table description the child writes next to the export (what ImportTable needs and an export lacks). */
export const TABLE_DESCRIPTION_NAME = "table.json";

export interface TableDescriptionFile {
  readonly version: 1;
  /** DescribeBackup's SourceTableDetails (TableName, KeySchema, BillingMode, ProvisionedThroughput, …). */
  readonly sourceTableDetails: Readonly<Record<string, unknown>> & {
    readonly TableName?: string;
    readonly KeySchema?: ReadonlyArray<{ AttributeName: string; KeyType: string }>;
    readonly BillingMode?: string;
    readonly ProvisionedThroughput?: { ReadCapacityUnits?: number; WriteCapacityUnits?: number };
  };
  /** DescribeBackup's SourceTableFeatureDetails (LocalSecondaryIndexes, GlobalSecondaryIndexes, SSE, TTL, streams). */
  readonly sourceTableFeatureDetails?: Readonly<Record<string, unknown>> & {
    readonly GlobalSecondaryIndexes?: ReadonlyArray<Record<string, unknown>>;
    readonly LocalSecondaryIndexes?: ReadonlyArray<Record<string, unknown>>;
  };
  /** The exported table's AttributeDefinitions (DescribeTable): a backup's description has no attribute types. */
  readonly attributeDefinitions: ReadonlyArray<{ AttributeName: string; AttributeType: string }>;
  readonly exportArn: string;
  readonly exportFormat: DynamoDbExportFormat;
  /** `<prefix>AWSDynamoDB/<export-id>/manifest-summary.json`, relative to the bucket. */
  readonly manifestKey: string;
  /** "pitr" (the source table's point-in-time recovery) or "restored" (a temporary table from the backup). */
  readonly exportedFrom: "pitr" | "restored";
}

/** manifest-summary.json, the fields we rely on. */
export interface ExportSummary {
  readonly version: string;
  readonly exportArn: string;
  readonly itemCount: number;
  readonly outputFormat: string;
  readonly manifestFilesS3Key: string;
  readonly s3Bucket?: string;
  readonly s3Prefix?: string | null;
  readonly exportTime?: string;
}

/** One line of manifest-files.json. */
export interface ExportDataFile {
  readonly itemCount: number;
  /** Base64 MD5 of the object's bytes. */
  readonly md5Checksum: string;
  /** S3's ETag of the object, without quotes. */
  readonly etag: string;
  readonly dataFileS3Key: string;
}

export class ExportManifestError extends BackupActionsError {
  override readonly name: string = "ExportManifestError";
}

/**
 * A key the manifests name, as a key of the bucket under the archive prefix (with its trailing
 * `/`): keys of the bucket as DynamoDB writes them, or relative to the prefix as its docs show
 * them; undefined for one with `.` or `..` segments, which could reach outside the prefix.
 */
export function keyUnderPrefix(prefix: string, key: string): string | undefined {
  const full = key.startsWith(prefix) ? key : `${prefix}${key}`;
  if (full.split("/").some((part) => part === ".." || part === ".")) return undefined;
  return full;
}

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === "object" && v !== null && !Array.isArray(v);

export function parseExportSummary(text: string, where: string): ExportSummary {
  let v: unknown;
  try {
    v = JSON.parse(text);
  } catch {
    throw new ExportManifestError(`${where} is not JSON`);
  }
  if (!isObj(v)) throw new ExportManifestError(`${where} is not a JSON object`);
  for (const k of ["version", "exportArn", "outputFormat", "manifestFilesS3Key"] as const)
    if (typeof v[k] !== "string" || v[k] === "") throw new ExportManifestError(`${where}: ${k} is missing`);
  if (!Number.isSafeInteger(v.itemCount) || (v.itemCount as number) < 0)
    throw new ExportManifestError(`${where}: itemCount is not a count`);
  return v as unknown as ExportSummary;
}

export function parseExportFiles(text: string, where: string): ExportDataFile[] {
  const files: ExportDataFile[] = [];
  text.split("\n").forEach((line, i) => {
    if (line.trim() === "") return;
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      throw new ExportManifestError(`${where} line ${i + 1} is not JSON`);
    }
    if (!isObj(v)) throw new ExportManifestError(`${where} line ${i + 1} is not a JSON object`);
    for (const k of ["md5Checksum", "etag", "dataFileS3Key"] as const)
      if (typeof v[k] !== "string" || v[k] === "")
        throw new ExportManifestError(`${where} line ${i + 1}: ${k} is missing`);
    if (!Number.isSafeInteger(v.itemCount) || (v.itemCount as number) < 0)
      throw new ExportManifestError(`${where} line ${i + 1}: itemCount is not a count`);
    files.push(v as unknown as ExportDataFile);
  });
  return files;
}
