/**
 * A DynamoDB child's archive as the pipeline leaves it, made on moto: a table with three items, its
 * export by ExportTableToPointInTime under the archive prefix (moto writes DynamoDB's files:
 * testing/moto/dynamodb_patches.py) and the table.json the child writes next to it. For the tests of
 * the verify Lambda and of `backup-actions verify`.
 */
import {
  CreateTableCommand,
  DescribeExportCommand,
  DynamoDBClient,
  ExportTableToPointInTimeCommand,
  PutItemCommand,
  UpdateContinuousBackupsCommand,
} from "@aws-sdk/client-dynamodb";
import { GetObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import type { ExportDataFile, ExportSummary } from "../core/dynamodb-export";

export interface DynamoDbArchive {
  /** The archive prefix, without its trailing `/` (as the child passes it to S3Prefix). */
  readonly prefix: string;
  readonly exportArn: string;
  /** manifest-summary.json, a key of the bucket. */
  readonly summaryKey: string;
  readonly summary: ExportSummary;
  readonly filesKey: string;
  /** The only line of manifest-files.json. */
  readonly files: ExportDataFile;
  readonly dataKey: string;
  /** What the DynamoDB child answers the dispatcher's verify step. */
  readonly request: {
    archiveUrl: string;
    workflow: "dynamodb";
    export: { exportArn: string; manifestKey: string; exportFormat: "DYNAMODB_JSON" };
  };
}

export async function dynamoDbArchive(
  ddb: DynamoDBClient,
  s3: S3Client,
  bucket: string,
  table: string,
  prefix: string,
): Promise<DynamoDbArchive> {
  await ddb.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  for (const k of ["a", "b", "c"]) await ddb.send(new PutItemCommand({ TableName: table, Item: { pk: { S: k } } }));
  await ddb.send(
    new UpdateContinuousBackupsCommand({
      TableName: table,
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
    }),
  );
  const started = await ddb.send(
    new ExportTableToPointInTimeCommand({
      TableArn: `arn:aws:dynamodb:us-east-1:123456789012:table/${table}`,
      S3Bucket: bucket,
      S3Prefix: prefix,
    }),
  );
  const d = (await ddb.send(new DescribeExportCommand({ ExportArn: started.ExportDescription!.ExportArn! })))
    .ExportDescription!;
  const tableJson = {
    version: 1,
    sourceTableDetails: {
      TableName: table,
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      BillingMode: "PAY_PER_REQUEST",
    },
    attributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
    exportArn: d.ExportArn,
    exportFormat: "DYNAMODB_JSON",
    manifestKey: d.ExportManifest,
    exportedFrom: "pitr",
  };
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}/table.json`, Body: JSON.stringify(tableJson) }));
  const read = async (key: string) =>
    JSON.parse(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToString());
  const summary = (await read(d.ExportManifest!)) as ExportSummary;
  const files = (await read(summary.manifestFilesS3Key)) as ExportDataFile;
  return {
    prefix,
    exportArn: d.ExportArn!,
    summaryKey: d.ExportManifest!,
    summary,
    filesKey: summary.manifestFilesS3Key,
    files,
    dataKey: files.dataFileS3Key,
    request: {
      archiveUrl: `s3://${bucket}/${prefix}/`,
      workflow: "dynamodb",
      export: { exportArn: d.ExportArn!, manifestKey: d.ExportManifest!, exportFormat: "DYNAMODB_JSON" },
    },
  };
}
