/**
 * `backup-actions restore s3://…/ --to-dynamodb-table NAME`: a DynamoDB export of the archive
 * (core/dynamodb-export.ts) imported into a new table with ImportTable. Everything it needs is in
 * the archive: the data files and their format from DynamoDB's manifests, the key schema,
 * attribute types, global secondary indexes and billing from table.json.
 *
 * ImportTable creates the table (an existing name is refused, by us first with a clear message),
 * cannot create local secondary indexes (its TableCreationParameters have none: they are named on
 * stderr) and does not restore TTL, streams or PITR settings.
 */
import {
  DescribeImportCommand,
  DescribeTableCommand,
  DynamoDBClient,
  ImportTableCommand,
  type GlobalSecondaryIndex,
  type ImportTableCommandInput,
} from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import {
  keyUnderPrefix,
  parseExportSummary,
  TABLE_DESCRIPTION_NAME,
  type ExportSummary,
  type TableDescriptionFile,
} from "../core/dynamodb-export";
import { BackupActionsError } from "../core/errors";
import { parseS3Url } from "../core/s3-url";

export class DynamoDbRestoreError extends BackupActionsError {
  override readonly name: string = "DynamoDbRestoreError";
}

export interface DynamoDbRestoreOptions {
  readonly url: string;
  readonly table: string;
  readonly ddb: DynamoDBClient;
  readonly s3: S3Client;
  /** Longest wait between DescribeImport polls (1 s, doubling up to it). @default 30000 */
  readonly maxPollMs?: number;
  /** @default 2880 (a day at the longest wait) */
  readonly maxPolls?: number;
  readonly warn: (line: string) => void;
}

export interface DynamoDbRestoreResult {
  readonly importArn: string;
  readonly table: string;
  readonly items: number;
}

export async function restoreDynamoDbTable(o: DynamoDbRestoreOptions): Promise<DynamoDbRestoreResult> {
  if (!/^[A-Za-z0-9_.-]{3,255}$/.test(o.table))
    throw new DynamoDbRestoreError(`--to-dynamodb-table ${JSON.stringify(o.table)} is not a DynamoDB table name`);
  const { bucket, prefix } = parseS3Url(o.url);
  const read = async (key: string, what: string): Promise<string> => {
    try {
      return await (await o.s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString();
    } catch (err) {
      if (["NoSuchKey", "NotFound"].includes((err as Error).name))
        throw new DynamoDbRestoreError(`${what} s3://${bucket}/${key} is missing: ${o.url} is no DynamoDB export`);
      throw err;
    }
  };
  let description: TableDescriptionFile;
  try {
    description = JSON.parse(await read(`${prefix}${TABLE_DESCRIPTION_NAME}`, TABLE_DESCRIPTION_NAME));
  } catch (err) {
    if (err instanceof SyntaxError) throw new DynamoDbRestoreError(`${TABLE_DESCRIPTION_NAME} is not JSON`);
    throw err;
  }
  const summaryKey = keyUnderPrefix(prefix, description.manifestKey ?? "");
  if (!description.manifestKey || !summaryKey)
    throw new DynamoDbRestoreError(`${TABLE_DESCRIPTION_NAME} names no manifest under ${o.url}`);
  const summary: ExportSummary = parseExportSummary(await read(summaryKey, "manifest-summary.json"), summaryKey);

  await refuseExistingTable(o.ddb, o.table);
  const input = importRequest(description, summary, bucket, summaryKey, o.table, o.warn);
  const started = await o.ddb.send(new ImportTableCommand(input));
  const importArn = started.ImportTableDescription!.ImportArn!;
  const maxPolls = o.maxPolls ?? 2880;
  for (let poll = 0; ; poll++) {
    const d = (await o.ddb.send(new DescribeImportCommand({ ImportArn: importArn }))).ImportTableDescription!;
    if (d.ImportStatus === "COMPLETED") {
      const items = d.ImportedItemCount ?? 0;
      if ((d.ErrorCount ?? 0) > 0 || items !== summary.itemCount)
        throw new DynamoDbRestoreError(
          `import ${importArn} into ${o.table} imported ${items} of ${summary.itemCount} items (${d.ErrorCount ?? 0} errors)`,
        );
      return { importArn, table: o.table, items };
    }
    if (d.ImportStatus !== "IN_PROGRESS")
      throw new DynamoDbRestoreError(
        `import ${importArn} into ${o.table} is ${d.ImportStatus}: ${d.FailureCode ?? ""} ${d.FailureMessage ?? ""}`.trim(),
      );
    if (poll >= maxPolls)
      throw new DynamoDbRestoreError(
        `import ${importArn} into ${o.table} is still IN_PROGRESS after ${maxPolls} polls`,
      );
    await new Promise((r) => setTimeout(r, Math.min(o.maxPollMs ?? 30_000, 1000 * 2 ** poll)));
  }
}

async function refuseExistingTable(ddb: DynamoDBClient, table: string): Promise<void> {
  try {
    await ddb.send(new DescribeTableCommand({ TableName: table }));
  } catch (err) {
    if ((err as Error).name === "ResourceNotFoundException") return;
    throw err;
  }
  throw new DynamoDbRestoreError(`table ${table} exists: ImportTable restores into a new table only; name another`);
}

/** The ImportTable request for an export: its data files, format and gzip; the table as table.json describes it. */
export function importRequest(
  d: TableDescriptionFile,
  summary: ExportSummary,
  bucket: string,
  summaryKey: string,
  table: string,
  warn: (line: string) => void,
): ImportTableCommandInput {
  const source = d.sourceTableDetails;
  const keySchema = source.KeySchema ?? [];
  if (keySchema.length === 0) throw new DynamoDbRestoreError(`${TABLE_DESCRIPTION_NAME} has no KeySchema`);
  if (summary.outputFormat !== "DYNAMODB_JSON" && summary.outputFormat !== "ION")
    throw new DynamoDbRestoreError(`the export's format ${summary.outputFormat} is not one ImportTable reads`);
  const provisioned = source.BillingMode !== "PAY_PER_REQUEST";
  const throughput = (t: { ReadCapacityUnits?: number; WriteCapacityUnits?: number } | undefined) => ({
    ReadCapacityUnits: Math.max(1, t?.ReadCapacityUnits ?? 1),
    WriteCapacityUnits: Math.max(1, t?.WriteCapacityUnits ?? 1),
  });
  const gsis = (d.sourceTableFeatureDetails?.GlobalSecondaryIndexes ?? []).map(
    (g) =>
      ({
        IndexName: g.IndexName,
        KeySchema: g.KeySchema,
        Projection: g.Projection,
        ...(provisioned ? { ProvisionedThroughput: throughput(g.ProvisionedThroughput as never) } : {}),
      }) as GlobalSecondaryIndex,
  );
  const lsis = d.sourceTableFeatureDetails?.LocalSecondaryIndexes ?? [];
  if (lsis.length > 0)
    warn(
      `ImportTable cannot create local secondary indexes: ${lsis.map((l) => String(l.IndexName)).join(", ")} not restored`,
    );
  const used = new Set([...keySchema, ...gsis.flatMap((g) => g.KeySchema ?? [])].map((k) => k.AttributeName));
  const attributes = d.attributeDefinitions.filter((a) => used.has(a.AttributeName));
  const untyped = [...used].filter((a) => !attributes.some((x) => x.AttributeName === a));
  if (untyped.length > 0)
    throw new DynamoDbRestoreError(`${TABLE_DESCRIPTION_NAME} has no attribute type for ${untyped.join(", ")}`);
  const exportDir = summaryKey.slice(0, summaryKey.lastIndexOf("/") + 1);
  return {
    // Idempotent: the same restore asked twice is one import.
    ClientToken: createHash("sha256").update(`${summary.exportArn}\n${table}`).digest("hex").slice(0, 32),
    S3BucketSource: { S3Bucket: bucket, S3KeyPrefix: `${exportDir}data/` },
    InputFormat: summary.outputFormat,
    InputCompressionType: "GZIP",
    TableCreationParameters: {
      TableName: table,
      KeySchema: keySchema as never,
      AttributeDefinitions: attributes as never,
      BillingMode: provisioned ? "PROVISIONED" : "PAY_PER_REQUEST",
      ...(provisioned ? { ProvisionedThroughput: throughput(source.ProvisionedThroughput) } : {}),
      ...(gsis.length > 0 ? { GlobalSecondaryIndexes: gsis } : {}),
    },
  };
}
