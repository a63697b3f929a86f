/**
 * What the DynamoDB child's role may do (stacks/workflows/dynamodb-export.ts), each statement
 * from the AWS page that requires it:
 * - Service Authorization Reference, DynamoDB (list_amazondynamodb.html): resource types of
 *   DescribeBackup (backup*), DescribeTable / DescribeContinuousBackups / ExportTableToPointInTime /
 *   UpdateContinuousBackups / TagResource / DeleteTable (table*), DescribeExport (export*),
 *   RestoreTableFromBackup (backup*, table*);
 * - DynamoDB Developer Guide, "Using IAM with DynamoDB backup and restore": RestoreTableFromBackup
 *   also needs the item-level read and write actions on the target table;
 * - DynamoDB Developer Guide, "Requesting a table export in DynamoDB": the caller needs
 *   s3:AbortMultipartUpload, s3:PutObject and s3:PutObjectAcl on the destination, and for an
 *   SSE-KMS export the key's kms:GenerateDataKey (and kms:Decrypt for multipart parts, S3 User
 *   Guide "Using SSE-KMS"), here only through S3.
 */
import type { PipelineContext } from "./context";
import type { PolicyStatement } from "./policy-document";

/** Temporary tables of a pipeline are named `<pipeline>-restore-<execution name>`. */
export function dynamodbTempTablePrefix(pipelineName: string): string {
  return `${pipelineName}-restore-`;
}

export interface DynamoDbExportGrantsProps {
  readonly context: PipelineContext;
  readonly tablePrefix: string;
  readonly archiveBucketArn: string;
  /** The archive's key (a central archive's). @default context.kmsKeyArn */
  readonly archiveKmsKeyArn?: string;
  readonly pipelineTag: { readonly key: string; readonly value: string };
}

export function dynamodbExportStatements(props: DynamoDbExportGrantsProps): PolicyStatement[] {
  const { partition, region, accountId } = props.context;
  const kmsKeyArn = props.archiveKmsKeyArn ?? props.context.kmsKeyArn;
  const dynamodb = `arn:${partition}:dynamodb:${region}:${accountId}`;
  const tempTables = `${dynamodb}:table/${props.tablePrefix}*`;
  return [
    { sid: "ReadBackups", actions: ["dynamodb:DescribeBackup"], resources: [`${dynamodb}:table/*/backup/*`] },
    {
      sid: "ReadSourceTables",
      // Any table of the region may be the source of a backup; these actions read, or export, nothing else.
      actions: ["dynamodb:DescribeTable", "dynamodb:DescribeContinuousBackups", "dynamodb:ExportTableToPointInTime"],
      resources: [`${dynamodb}:table/*`],
    },
    { sid: "FollowExports", actions: ["dynamodb:DescribeExport"], resources: [`${dynamodb}:table/*/export/*`] },
    {
      sid: "RestoreBackups",
      actions: ["dynamodb:RestoreTableFromBackup"],
      resources: [`${dynamodb}:table/*/backup/*`, tempTables],
    },
    {
      sid: "RestoreWritesTempTables",
      actions: [
        "dynamodb:BatchWriteItem",
        "dynamodb:DeleteItem",
        "dynamodb:GetItem",
        "dynamodb:PutItem",
        "dynamodb:Query",
        "dynamodb:Scan",
        "dynamodb:UpdateItem",
      ],
      resources: [tempTables],
    },
    {
      sid: "TempTables",
      // Named after the execution, so a table the tag did not reach yet is still this pipeline's to delete.
      actions: ["dynamodb:TagResource", "dynamodb:UpdateContinuousBackups", "dynamodb:DeleteTable"],
      resources: [tempTables],
    },
    {
      sid: "WriteExports",
      actions: ["s3:PutObject", "s3:AbortMultipartUpload", "s3:PutObjectAcl"],
      resources: [`${props.archiveBucketArn}/dynamodb/*`],
    },
    {
      sid: "ArchiveKeyThroughS3",
      actions: ["kms:GenerateDataKey", "kms:Decrypt"],
      resources: [kmsKeyArn],
      condition: [{ test: "StringEquals", variable: "kms:ViaService", values: [`s3.${region}.amazonaws.com`] }],
    },
  ];
}
