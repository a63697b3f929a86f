/**
 * DynamoDB child state machine: export a DynamoDB backup (the recovery point itself, never
 * the live table at some other time) to the archive with ExportTableToPointInTime.
 *
 * - When the source table still exists (the same table: its TableId is the backup's), has
 *   point-in-time recovery on, and the PITR window (EarliestRestorableDateTime …
 *   LatestRestorableDateTime) covers the backup's creation time, the table is exported at
 *   exactly that time: the data is the backup's, and nothing is restored.
 * - Otherwise the backup is restored to a temporary table (named after the execution,
 *   tagged with the pipeline tag and the recovery point so the janitor can find a leaked
 *   one), PITR is switched on, and that table is exported. The temporary table is deleted
 *   on every path once it exists: success, export FAILED, any error, polls run out.
 * - A recovery point of AWS Backup's advanced DynamoDB features
 *   (`arn:<p>:backup:<region>:<acct>:recovery-point:<id>`) can only be restored through
 *   backup:StartRestoreJob, which this version does not do: answered UNSUPPORTED.
 *
 * The export writes AWS's own layout under the archive prefix (core/dynamodb-export.ts);
 * the child writes `table.json` next to it (key schema, attribute types, indexes, billing),
 * which ImportTable needs and an export lacks.
 *
 * Input:  { recoveryPointArn, archiveUrl, placementIndex } (the dispatcher's child input)
 * Output: { outcome: "EXPORTED", exportArn, manifestKey, exportFormat, tableDescriptionKey, exportedFrom, itemCount }
 *      or { outcome: "UNSUPPORTED", reason }
 */
import { TABLE_DESCRIPTION_NAME, type DynamoDbExportFormat } from "../../core/dynamodb-export";
import type { Partition } from "../../core/partition";
import { RECOVERY_POINT_TAG_KEY } from "../../core/tags";
import { Catcher, Retrier, State, StateMachineDefinition, throttlingRetry } from "./asl";

export interface DynamoDbExportProps {
  readonly partition: Partition;
  /** ExportFormat of ExportTableToPointInTime (config `exports.dynamodb.format`). */
  readonly format: DynamoDbExportFormat;
  /** The archive's key: the export's objects and table.json are SSE-KMS with it. */
  readonly kmsKeyArn: string;
  /** The archive bucket's account when it is another (a central archive): S3BucketOwner of the export. @default none (this account) */
  readonly bucketOwner?: string;
  /** Tags on the temporary table: the pipeline tag (janitor), the recovery point, the security tag. */
  readonly pipelineTag: { readonly key: string; readonly value: string };
  /** @default none */
  readonly securityTag?: string;
  /** Temporary tables are named `<tablePrefix><execution name>`; the janitor looks for this prefix. */
  readonly tablePrefix: string;
  /** Seconds between polls of a table, PITR or the export. @default 30 */
  readonly pollSeconds?: number;
  /** Polls of the restored table until ACTIVE, and of PITR until ENABLED. @default 120 */
  readonly maxTablePolls?: number;
  /** Polls of the export until COMPLETED or FAILED. @default 960 (8 h at 30 s) */
  readonly maxExportPolls?: number;
}

/**
 * Throttling and transient errors of the aws-sdk:dynamodb integration (Step Functions names
 * them `DynamoDb.<Exception>`), and LimitExceeded (too many table operations at once).
 */
export const DYNAMODB_RETRY: Retrier = throttlingRetry("DynamoDb", [
  "DynamoDb.ProvisionedThroughputExceededException",
  "DynamoDb.RequestLimitExceededException",
  "DynamoDb.LimitExceededException",
  "DynamoDb.SdkClientException",
]);

const S3_RETRY: Retrier = throttlingRetry("S3", [
  "S3.SlowDownException",
  "S3.InternalErrorException",
  "S3.SdkClientException",
]);

/** The archive URL `s3://<bucket>/<8 segments>/` (core/s3-layout.ts archiveLocation) split on `/`. */
export const ARCHIVE_PREFIX_SEGMENTS = 8;

export function dynamodbExportDefinition(props: DynamoDbExportProps): StateMachineDefinition {
  if (!/^[A-Za-z0-9_.-]{1,150}$/.test(props.tablePrefix))
    throw new Error(`dynamodbExportDefinition: tablePrefix ${JSON.stringify(props.tablePrefix)} is not a table name`);
  const pollSeconds = props.pollSeconds ?? 30;
  const maxTablePolls = props.maxTablePolls ?? 120;
  const maxExportPolls = props.maxExportPolls ?? 960;
  const sdk = `arn:${props.partition}:states:::aws-sdk:`;
  const toFailure = (next: string): Catcher => ({ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: next });
  const segments = Array.from({ length: ARCHIVE_PREFIX_SEGMENTS }, (_, i) => `States.ArrayGetItem($.parts, ${i + 2})`);
  const tableTags = [
    { Key: props.pipelineTag.key, Value: props.pipelineTag.value },
    { Key: RECOVERY_POINT_TAG_KEY, "Value.$": "$.recoveryPointArn" },
    ...(props.securityTag ? [{ Key: props.securityTag, Value: "true" }] : []),
  ];
  const exportParameters = {
    "S3Bucket.$": "$.bucket",
    "S3Prefix.$": "$.prefix",
    ExportFormat: props.format,
    ExportType: "FULL_EXPORT",
    S3SseAlgorithm: "KMS",
    S3SseKmsKeyId: props.kmsKeyArn,
    ...(props.bucketOwner ? { S3BucketOwner: props.bucketOwner } : {}),
  };
  const countPoll = (counter: string, next: string): State => ({
    Type: "Pass",
    Parameters: { "count.$": `States.MathAdd($.${counter}.count, 1)` },
    ResultPath: `$.${counter}`,
    Next: next,
  });
  const giveUp = (error: string, cause: string): State => ({
    Type: "Pass",
    Parameters: { Error: error, "Cause.$": cause },
    ResultPath: "$.error",
    Next: "Cleanup",
  });

  return {
    Comment:
      "Export one DynamoDB backup: at its time through PITR when the window covers it, else from a temporary table restored from it (always deleted)",
    StartAt: "Prepare",
    States: {
      Prepare: {
        Type: "Pass",
        Parameters: {
          "recoveryPointArn.$": "$.recoveryPointArn",
          "archiveUrl.$": "$.archiveUrl",
          "parts.$": "States.StringSplit($.archiveUrl, '/')",
          "arnParts.$": "States.StringSplit($.recoveryPointArn, ':')",
          tablePolls: { count: 0 },
          pitrPolls: { count: 0 },
          exportPolls: { count: 0 },
        },
        Next: "Locate",
      },
      Locate: {
        Type: "Pass",
        Comment:
          "bucket and prefix (without its trailing /) of s3://<bucket>/<workflow>/<account>/<region>/<id>/<y>/<m>/<d>/<rp>/",
        Parameters: {
          "recoveryPointArn.$": "$.recoveryPointArn",
          "archiveUrl.$": "$.archiveUrl",
          "bucket.$": "States.ArrayGetItem($.parts, 1)",
          "prefix.$": `States.Format('${segments.map(() => "{}").join("/")}', ${segments.join(", ")})`,
          "region.$": "States.ArrayGetItem($.arnParts, 3)",
          "account.$": "States.ArrayGetItem($.arnParts, 4)",
          "service.$": "States.ArrayGetItem($.arnParts, 2)",
          "tablePolls.$": "$.tablePolls",
          "pitrPolls.$": "$.pitrPolls",
          "exportPolls.$": "$.exportPolls",
        },
        Next: "RecoveryPointKind",
      },
      RecoveryPointKind: {
        Type: "Choice",
        Choices: [
          { Variable: "$.service", StringEquals: "dynamodb", Next: "DescribeBackup" },
          { Variable: "$.service", StringEquals: "backup", Next: "AdvancedBackupUnsupported" },
        ],
        Default: "NotADynamoDbBackup",
      },
      NotADynamoDbBackup: {
        Type: "Pass",
        Parameters: {
          Error: "InvalidRecoveryPoint",
          "Cause.$":
            "States.Format('{} is neither a DynamoDB backup nor an AWS Backup recovery point', $.recoveryPointArn)",
        },
        ResultPath: "$.error",
        Next: "ExportFailed",
      },
      AdvancedBackupUnsupported: {
        Type: "Pass",
        Parameters: {
          outcome: "UNSUPPORTED",
          "reason.$":
            "States.Format('{} is a backup of AWS Backup advanced DynamoDB features: it restores only through backup:StartRestoreJob, which this version does not run', $.recoveryPointArn)",
        },
        End: true,
      },
      DescribeBackup: {
        Type: "Task",
        Resource: `${sdk}dynamodb:describeBackup`,
        Parameters: { "BackupArn.$": "$.recoveryPointArn" },
        ResultSelector: {
          // SourceTableFeatureDetails is absent for a table without indexes, streams, TTL or SSE.
          "description.$":
            "States.JsonMerge(States.StringToJson('{\"SourceTableFeatureDetails\":{}}'), $.BackupDescription, false)",
        },
        ResultPath: "$.backup",
        Retry: [DYNAMODB_RETRY],
        Catch: [toFailure("ExportFailed")],
        Next: "DescribeSourceTable",
      },
      DescribeSourceTable: {
        Type: "Task",
        Resource: `${sdk}dynamodb:describeTable`,
        Parameters: { "TableName.$": "$.backup.description.SourceTableDetails.TableName" },
        ResultSelector: {
          "tableId.$": "$.Table.TableId",
          "tableArn.$": "$.Table.TableArn",
          "attributes.$": "$.Table.AttributeDefinitions",
        },
        ResultPath: "$.sourceTable",
        Retry: [DYNAMODB_RETRY],
        Catch: [
          { ErrorEquals: ["DynamoDb.ResourceNotFoundException"], ResultPath: "$.notCovered", Next: "NameTempTable" },
          toFailure("ExportFailed"),
        ],
        Next: "SameTable",
      },
      SameTable: {
        Type: "Choice",
        Comment: "A table of the same name created after the backup holds other data: its PITR is no use",
        Choices: [
          {
            Variable: "$.sourceTable.tableId",
            StringEqualsPath: "$.backup.description.SourceTableDetails.TableId",
            Next: "DescribePitr",
          },
        ],
        Default: "NameTempTable",
      },
      DescribePitr: {
        Type: "Task",
        Resource: `${sdk}dynamodb:describeContinuousBackups`,
        Parameters: { "TableName.$": "$.backup.description.SourceTableDetails.TableName" },
        ResultSelector: { "pitr.$": "$.ContinuousBackupsDescription.PointInTimeRecoveryDescription" },
        ResultPath: "$.sourcePitr",
        Retry: [DYNAMODB_RETRY],
        Catch: [
          { ErrorEquals: ["DynamoDb.TableNotFoundException"], ResultPath: "$.notCovered", Next: "NameTempTable" },
          toFailure("ExportFailed"),
        ],
        Next: "PitrCoversBackup",
      },
      PitrCoversBackup: {
        Type: "Choice",
        Choices: [
          {
            And: [
              { Variable: "$.sourcePitr.pitr.PointInTimeRecoveryStatus", StringEquals: "ENABLED" },
              { Variable: "$.sourcePitr.pitr.EarliestRestorableDateTime", IsTimestamp: true },
              { Variable: "$.sourcePitr.pitr.LatestRestorableDateTime", IsTimestamp: true },
              {
                Variable: "$.backup.description.BackupDetails.BackupCreationDateTime",
                TimestampGreaterThanEqualsPath: "$.sourcePitr.pitr.EarliestRestorableDateTime",
              },
              {
                Variable: "$.backup.description.BackupDetails.BackupCreationDateTime",
                TimestampLessThanEqualsPath: "$.sourcePitr.pitr.LatestRestorableDateTime",
              },
            ],
            Next: "ExportAtBackupTime",
          },
        ],
        Default: "NameTempTable",
      },
      ExportAtBackupTime: {
        Type: "Task",
        Resource: `${sdk}dynamodb:exportTableToPointInTime`,
        Parameters: {
          "TableArn.$": "$.sourceTable.tableArn",
          "ExportTime.$": "$.backup.description.BackupDetails.BackupCreationDateTime",
          // Idempotent: a retried call returns the same export (32 hex characters, within the token's limit).
          "ClientToken.$": "States.Hash(States.Format('{}/pitr', $$.Execution.Name), 'MD5')",
          ...exportParameters,
        },
        ResultSelector: { "arn.$": "$.ExportDescription.ExportArn" },
        ResultPath: "$.export",
        Retry: [DYNAMODB_RETRY],
        Catch: [
          {
            // The window moved (or PITR went off) between the check and the call: restore instead.
            ErrorEquals: ["DynamoDb.InvalidExportTimeException", "DynamoDb.PointInTimeRecoveryUnavailableException"],
            ResultPath: "$.notCovered",
            Next: "NameTempTable",
          },
          toFailure("ExportFailed"),
        ],
        Next: "PitrExportStarted",
      },
      PitrExportStarted: {
        Type: "Pass",
        Parameters: { from: "pitr", "attributes.$": "$.sourceTable.attributes" },
        ResultPath: "$.exported",
        Next: "WaitForExport",
      },
      // ── restore path: a temporary table from the backup itself ──
      NameTempTable: {
        Type: "Pass",
        Parameters: {
          "name.$": `States.Format('${props.tablePrefix}{}', $$.Execution.Name)`,
          "arn.$": `States.Format('arn:${props.partition}:dynamodb:{}:{}:table/${props.tablePrefix}{}', $.region, $.account, $$.Execution.Name)`,
        },
        ResultPath: "$.temp",
        Next: "RestoreTempTable",
      },
      RestoreTempTable: {
        Type: "Task",
        Resource: `${sdk}dynamodb:restoreTableFromBackup`,
        Parameters: { "TargetTableName.$": "$.temp.name", "BackupArn.$": "$.recoveryPointArn" },
        ResultPath: null,
        Retry: [DYNAMODB_RETRY],
        Catch: [
          // A retried call whose first answer was lost: the table is ours (named after this execution).
          { ErrorEquals: ["DynamoDb.TableAlreadyExistsException"], ResultPath: null, Next: "WaitForTable" },
          toFailure("Cleanup"),
        ],
        Next: "WaitForTable",
      },
      WaitForTable: { Type: "Wait", Seconds: pollSeconds, Next: "DescribeTempTable" },
      DescribeTempTable: {
        Type: "Task",
        Resource: `${sdk}dynamodb:describeTable`,
        Parameters: { "TableName.$": "$.temp.name" },
        ResultSelector: { "status.$": "$.Table.TableStatus", "attributes.$": "$.Table.AttributeDefinitions" },
        ResultPath: "$.tempTable",
        Retry: [DYNAMODB_RETRY],
        Catch: [toFailure("Cleanup")],
        Next: "TempTableActive",
      },
      TempTableActive: {
        Type: "Choice",
        Choices: [
          { Variable: "$.tempTable.status", StringEquals: "ACTIVE", Next: "TagTempTable" },
          {
            And: [
              { Variable: "$.tempTable.status", StringEquals: "CREATING" },
              { Variable: "$.tablePolls.count", NumericLessThan: maxTablePolls },
            ],
            Next: "CountTablePoll",
          },
        ],
        Default: "TableNotActive",
      },
      CountTablePoll: countPoll("tablePolls", "WaitForTable"),
      TableNotActive: giveUp(
        "TableNotActive",
        `States.Format('temporary table {} is {} after ${maxTablePolls} polls', $.temp.name, $.tempTable.status)`,
      ),
      TagTempTable: {
        Type: "Task",
        Comment:
          "RestoreTableFromBackup takes no tags: tagged once ACTIVE, for the janitor (which also knows the name prefix)",
        Resource: `${sdk}dynamodb:tagResource`,
        Parameters: { "ResourceArn.$": "$.temp.arn", Tags: tableTags },
        ResultPath: null,
        Retry: [
          DYNAMODB_RETRY,
          { ErrorEquals: ["DynamoDb.ResourceInUseException"], IntervalSeconds: 10, MaxAttempts: 6, BackoffRate: 1.5 },
        ],
        Catch: [toFailure("Cleanup")],
        Next: "EnableTempPitr",
      },
      EnableTempPitr: {
        Type: "Task",
        Resource: `${sdk}dynamodb:updateContinuousBackups`,
        Parameters: {
          "TableName.$": "$.temp.name",
          PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        },
        ResultPath: null,
        Retry: [
          DYNAMODB_RETRY,
          // "Backups are being enabled for the table": a table fresh from a restore answers this for a while.
          {
            ErrorEquals: ["DynamoDb.ContinuousBackupsUnavailableException"],
            IntervalSeconds: 20,
            MaxAttempts: 8,
            BackoffRate: 1.5,
            MaxDelaySeconds: 120,
          },
        ],
        Catch: [toFailure("Cleanup")],
        Next: "DescribeTempPitr",
      },
      DescribeTempPitr: {
        Type: "Task",
        Resource: `${sdk}dynamodb:describeContinuousBackups`,
        Parameters: { "TableName.$": "$.temp.name" },
        ResultSelector: {
          "status.$": "$.ContinuousBackupsDescription.PointInTimeRecoveryDescription.PointInTimeRecoveryStatus",
        },
        ResultPath: "$.tempPitr",
        Retry: [DYNAMODB_RETRY],
        Catch: [toFailure("Cleanup")],
        Next: "TempPitrEnabled",
      },
      TempPitrEnabled: {
        Type: "Choice",
        Choices: [
          { Variable: "$.tempPitr.status", StringEquals: "ENABLED", Next: "ExportTempTable" },
          { Variable: "$.pitrPolls.count", NumericLessThan: maxTablePolls, Next: "CountPitrPoll" },
        ],
        Default: "PitrNotEnabled",
      },
      CountPitrPoll: countPoll("pitrPolls", "WaitForPitr"),
      WaitForPitr: { Type: "Wait", Seconds: pollSeconds, Next: "DescribeTempPitr" },
      PitrNotEnabled: giveUp(
        "PitrNotEnabled",
        `States.Format('point-in-time recovery of {} is {} after ${maxTablePolls} polls', $.temp.name, $.tempPitr.status)`,
      ),
      ExportTempTable: {
        Type: "Task",
        Comment: "At the current time: the temporary table holds exactly the backup's items",
        Resource: `${sdk}dynamodb:exportTableToPointInTime`,
        Parameters: {
          "TableArn.$": "$.temp.arn",
          "ClientToken.$": "States.Hash(States.Format('{}/restored', $$.Execution.Name), 'MD5')",
          ...exportParameters,
        },
        ResultSelector: { "arn.$": "$.ExportDescription.ExportArn" },
        ResultPath: "$.export",
        Retry: [DYNAMODB_RETRY],
        Catch: [toFailure("Cleanup")],
        Next: "RestoredExportStarted",
      },
      RestoredExportStarted: {
        Type: "Pass",
        Parameters: { from: "restored", "attributes.$": "$.tempTable.attributes" },
        ResultPath: "$.exported",
        Next: "WaitForExport",
      },
      // ── both paths: wait for the export, describe the table next to it ──
      WaitForExport: { Type: "Wait", Seconds: pollSeconds, Next: "DescribeExport" },
      DescribeExport: {
        Type: "Task",
        Resource: `${sdk}dynamodb:describeExport`,
        Parameters: { "ExportArn.$": "$.export.arn" },
        ResultSelector: {
          "description.$":
            'States.JsonMerge(States.StringToJson(\'{"FailureCode":"none","FailureMessage":"none","ExportManifest":"","ItemCount":0}\'), $.ExportDescription, false)',
        },
        ResultPath: "$.exportState",
        Retry: [DYNAMODB_RETRY],
        Catch: [toFailure("Cleanup")],
        Next: "ExportDone",
      },
      ExportDone: {
        Type: "Choice",
        Choices: [
          { Variable: "$.exportState.description.ExportStatus", StringEquals: "COMPLETED", Next: "DescribeForImport" },
          { Variable: "$.exportState.description.ExportStatus", StringEquals: "FAILED", Next: "ExportStatusFailed" },
          { Variable: "$.exportPolls.count", NumericLessThan: maxExportPolls, Next: "CountExportPoll" },
        ],
        Default: "ExportTimedOut",
      },
      CountExportPoll: countPoll("exportPolls", "WaitForExport"),
      ExportStatusFailed: giveUp(
        "DynamoDbExportFailed",
        "States.Format('export {} FAILED: {}: {}', $.export.arn, $.exportState.description.FailureCode, $.exportState.description.FailureMessage)",
      ),
      ExportTimedOut: giveUp(
        "DynamoDbExportTimedOut",
        `States.Format('export {} is still {} after ${maxExportPolls} polls', $.export.arn, $.exportState.description.ExportStatus)`,
      ),
      DescribeForImport: {
        Type: "Pass",
        Comment: "What ImportTable needs and an export lacks: key schema, attribute types, indexes, billing",
        Parameters: {
          version: 1,
          exportFormat: props.format,
          "exportArn.$": "$.export.arn",
          "manifestKey.$": "$.exportState.description.ExportManifest",
          "exportedFrom.$": "$.exported.from",
          "sourceTableDetails.$": "$.backup.description.SourceTableDetails",
          "sourceTableFeatureDetails.$": "$.backup.description.SourceTableFeatureDetails",
          "attributeDefinitions.$": "$.exported.attributes",
        },
        ResultPath: "$.tableDescription",
        Next: "WriteTableDescription",
      },
      WriteTableDescription: {
        Type: "Task",
        Resource: `${sdk}s3:putObject`,
        Parameters: {
          "Bucket.$": "$.bucket",
          "Key.$": `States.Format('{}/${TABLE_DESCRIPTION_NAME}', $.prefix)`,
          "Body.$": "States.JsonToString($.tableDescription)",
          ContentType: "application/json",
          ServerSideEncryption: "aws:kms",
          SSEKMSKeyId: props.kmsKeyArn,
        },
        ResultPath: null,
        Retry: [S3_RETRY],
        Catch: [toFailure("Cleanup")],
        Next: "Cleanup",
      },
      // ── cleanup: reached on success and on every failure once a temporary table may exist ──
      Cleanup: {
        Type: "Choice",
        Choices: [{ Variable: "$.temp.name", IsPresent: true, Next: "DeleteTempTable" }],
        Default: "Outcome",
      },
      DeleteTempTable: {
        Type: "Task",
        Resource: `${sdk}dynamodb:deleteTable`,
        Parameters: { "TableName.$": "$.temp.name" },
        ResultPath: null,
        Retry: [
          DYNAMODB_RETRY,
          // Still CREATING or UPDATING (PITR being switched on): DeleteTable waits for it, bounded.
          {
            ErrorEquals: ["DynamoDb.ResourceInUseException"],
            IntervalSeconds: 15,
            MaxAttempts: 8,
            BackoffRate: 1.5,
            MaxDelaySeconds: 120,
          },
        ],
        Catch: [
          // Never created (the restore failed): nothing to delete.
          { ErrorEquals: ["DynamoDb.ResourceNotFoundException"], ResultPath: null, Next: "Outcome" },
          // Left for the janitor (it deletes tagged tables of the prefix); the export's outcome still stands.
          { ErrorEquals: ["States.ALL"], ResultPath: "$.cleanupError", Next: "Outcome" },
        ],
        Next: "Outcome",
      },
      Outcome: {
        Type: "Choice",
        Choices: [{ Variable: "$.error", IsPresent: true, Next: "ExportFailed" }],
        Default: "ExportSucceeded",
      },
      ExportSucceeded: {
        Type: "Pass",
        Parameters: {
          outcome: "EXPORTED",
          "exportArn.$": "$.export.arn",
          "manifestKey.$": "$.exportState.description.ExportManifest",
          exportFormat: props.format,
          "tableDescriptionKey.$": `States.Format('{}/${TABLE_DESCRIPTION_NAME}', $.prefix)`,
          "exportedFrom.$": "$.exported.from",
          "itemCount.$": "$.exportState.description.ItemCount",
        },
        End: true,
      },
      ExportFailed: { Type: "Fail", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" },
    },
  };
}
