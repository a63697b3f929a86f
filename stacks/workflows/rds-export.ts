/**
 * RDS and Aurora child state machines (`<name>-rds-export`, `<name>-aurora-export`), one definition:
 *
 *   read the snapshot (by the recovery point ARN's own form) → engine, version, storage
 *   → Parquet path (format "parquet" or "both", engine StartExportTask exports):
 *       StartExportTask → bounded polling of DescribeExportTasks → COMPLETE
 *   → dump branch (format "dump" or "both"; stacks/workflows/rds-dump.ts)
 *   → otherwise UNSUPPORTED, naming engine and version.
 *
 * Recovery point ARNs (AWS Backup writes the snapshot's own ARN for RDS and Aurora):
 *   arn:<p>:rds:<region>:<account>:snapshot:awsbackup:job-<id>          → DescribeDBSnapshots
 *   arn:<p>:rds:<region>:<account>:cluster-snapshot:awsbackup:job-<id>  → DescribeDBClusterSnapshots
 *   arn:<p>:backup:<region>:<account>:recovery-point:<id> is a recovery point only AWS Backup knows
 *   (a continuous backup, a logically air-gapped vault): no snapshot StartExportTask could take, so
 *   UNSUPPORTED with that reason.
 *
 * Engines (AWS: "Supported Regions and DB engines for exporting snapshots to S3", RDS and Aurora user
 * guides): MySQL, MariaDB, PostgreSQL, Aurora MySQL and Aurora PostgreSQL in all their currently
 * available versions; not Oracle, SQL Server, Db2, RDS Custom, nor instances on magnetic storage.
 *
 * Concurrency: an account runs at most five export tasks at once, and one snapshot is exported once
 * at a time. StartExportTask then refuses: the five-task limit with `ExportTaskLimitReachedFault`, which
 * the SDK does not model (Step Functions: `Rds.RdsException`, the code only in the Cause), and a snapshot
 * already exporting with `InvalidExportSourceStateFault` (`Rds.InvalidExportSourceStateException`). Both
 * wait in a bounded queue with doubling waits and are retried; neither fails the export until the
 * queue gives up. A rerun under the same identifier (`Rds.ExportTaskAlreadyExistsException`) follows
 * the existing task.
 *
 * Input:  { recoveryPointArn, archiveUrl, archive: { bucket, prefix, url }, placementIndex }
 * Output (core/workflows.ts ChildOutput):
 *   { outcome: "EXPORTED", format, engine, engineVersion, sourceArn,
 *     parquet?: { exportTaskIdentifier, bucket, s3Prefix, exportPrefix }, dump?: … }
 *   or { outcome: "UNSUPPORTED", reason }
 */
import type { Partition } from "../../core/partition";
import { hasDump, hasParquet, type DatabaseExportFormat, type DatabaseWorkflow } from "../../core/workflows";
import type { ChoiceRule, Retrier, State, StateMachineDefinition } from "./asl";
import { DUMP_ENTRY, rdsDumpStates, type RdsDumpSettings } from "./rds-dump";

/** Engines StartExportTask exports, as RDS names them in a snapshot's `Engine` ("aurora" is Aurora MySQL 1). */
export const PARQUET_ENGINES = ["mysql", "mariadb", "postgres", "aurora-mysql", "aurora-postgresql", "aurora"] as const;

export interface RdsExportProps {
  readonly partition: Partition;
  /** Which child: names the export task identifiers (`<workflow>-<hash of the execution name>`). */
  readonly workflow: DatabaseWorkflow;
  readonly format: DatabaseExportFormat;
  /** Role StartExportTask hands to RDS (trusted by export.rds.amazonaws.com), writes the archive. */
  readonly exportRoleArn: string;
  /** Key the export's files are encrypted with (StartExportTask requires one): the archive's. */
  readonly kmsKeyArn: string;
  /** Seconds between DescribeExportTasks polls. @default 300 */
  readonly pollSeconds?: number;
  /** Polls before the export counts as timed out. @default 288 (a day at the default interval) */
  readonly maxPolls?: number;
  /** First wait when StartExportTask is refused for concurrency; doubled up to `maxQueueSeconds`. @default 60 */
  readonly queueSeconds?: number;
  /** @default 900 */
  readonly maxQueueSeconds?: number;
  /** Waits for a free export slot before giving up. @default 96 (about a day at the longest wait) */
  readonly maxQueueWaits?: number;
  /** What the native-dump branch needs (stacks/workflows/rds-dump.ts); required when the format has a dump. */
  readonly dump?: RdsDumpSettings;
}

/** Reads and transient faults of the RDS API: unmodeled codes (Throttling) arrive as Rds.RdsException. */
const RDS_READ_RETRY: Retrier = {
  ErrorEquals: ["Rds.RdsException", "Rds.SdkClientException", "Rds.ThrottlingException"],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
  MaxDelaySeconds: 60,
  JitterStrategy: "FULL",
};

/** StartExportTask refusals that mean "not now" (Cause patterns of Rds.RdsException). */
const QUEUE_CAUSES = ["*ExportTaskLimitReached*", "*Throttling*"];

const error = (name: string, cause: string): State => ({
  Type: "Pass",
  Parameters: { Error: name, "Cause.$": cause },
  ResultPath: "$.error",
  Next: "ExportFailed",
});

export function rdsExportDefinition(props: RdsExportProps): StateMachineDefinition {
  const pollSeconds = props.pollSeconds ?? 300;
  const maxPolls = props.maxPolls ?? 288;
  const queueSeconds = props.queueSeconds ?? 60;
  const maxQueueSeconds = props.maxQueueSeconds ?? 900;
  const maxQueueWaits = props.maxQueueWaits ?? 96;
  const sdk = `arn:${props.partition}:states:::aws-sdk:rds:`;
  const snapshotType = props.workflow === "rds" ? "snapshot" : "cluster-snapshot";
  const kind = props.workflow === "rds" ? "Instance" : "Cluster";
  const parquet = hasParquet(props.format);
  const dump = hasDump(props.format);
  if (dump && !props.dump) throw new Error(`rdsExportDefinition: format ${props.format} needs the dump settings`);
  /** Where a snapshot goes that the Parquet path cannot take ($.unsupported.reason says why). */
  const noParquet = dump ? DUMP_ENTRY : "AnswerUnsupported";
  const status = (...values: string[]): ChoiceRule => ({
    Or: values.flatMap((v) => [
      // AWS answers upper case (COMPLETE); its filter values are lower case, and moto answers so.
      { Variable: "$.exportTask.status", StringEquals: v },
      { Variable: "$.exportTask.status", StringEquals: v.toLowerCase() },
    ]),
  });

  /** Only DB instances have a storage type; Aurora clusters go straight to the engine check. */
  const storageStates: Record<string, State> = {
    StorageCheck: {
      Type: "Choice",
      Comment: "StartExportTask does not export instances on magnetic storage (StorageType standard)",
      Choices: [
        {
          And: [
            { Variable: "$.source.snapshot.StorageType", IsPresent: true },
            { Variable: "$.source.snapshot.StorageType", IsString: true },
          ],
          Next: "StorageType",
        },
      ],
      Default: "EngineCheck",
    },
    StorageType: {
      Type: "Choice",
      Choices: [{ Variable: "$.source.snapshot.StorageType", StringEquals: "standard", Next: "MagneticStorage" }],
      Default: "EngineCheck",
    },
    MagneticStorage: {
      Type: "Pass",
      Parameters: {
        "reason.$":
          "States.Format('{} {} snapshot {} is on magnetic storage, which StartExportTask does not export', $.source.snapshot.Engine, $.source.snapshot.EngineVersion, $.recoveryPointArn)",
      },
      ResultPath: "$.unsupported",
      Next: noParquet,
    },
  };
  const parquetStates: Record<string, State> = {
    ...(props.workflow === "rds" ? storageStates : {}),
    EngineCheck: {
      Type: "Choice",
      Choices: [
        {
          Or: PARQUET_ENGINES.map((engine) => ({ Variable: "$.source.snapshot.Engine", StringEquals: engine })),
          Next: "StartExport",
        },
      ],
      Default: "EngineNotExported",
    },
    EngineNotExported: {
      Type: "Pass",
      Parameters: {
        "reason.$":
          "States.Format('engine {} {} of snapshot {}: StartExportTask exports only MySQL, MariaDB, PostgreSQL, Aurora MySQL and Aurora PostgreSQL', $.source.snapshot.Engine, $.source.snapshot.EngineVersion, $.recoveryPointArn)",
      },
      ResultPath: "$.unsupported",
      Next: noParquet,
    },
    StartExport: {
      Type: "Task",
      Resource: `${sdk}startExportTask`,
      Parameters: {
        "ExportTaskIdentifier.$": "$.exportTaskIdentifier",
        "SourceArn.$": "$.recoveryPointArn",
        "S3BucketName.$": "$.archive.bucket",
        "S3Prefix.$": "$.s3Prefix",
        IamRoleArn: props.exportRoleArn,
        KmsKeyId: props.kmsKeyArn,
      },
      ResultPath: null,
      Retry: [{ ...RDS_READ_RETRY, ErrorEquals: ["Rds.SdkClientException"] }],
      Catch: [
        // A rerun under the same identifier: the task is already there, follow it.
        { ErrorEquals: ["Rds.ExportTaskAlreadyExistsException"], ResultPath: "$.startError", Next: "WaitForExport" },
        // The snapshot is being exported by another task: wait for it to end.
        { ErrorEquals: ["Rds.InvalidExportSourceStateException"], ResultPath: "$.startError", Next: "Queue" },
        // Unmodeled codes, among them ExportTaskLimitReachedFault (five tasks run) and Throttling.
        { ErrorEquals: ["Rds.RdsException"], ResultPath: "$.startError", Next: "StartRefused" },
        { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "ExportFailed" },
      ],
      Next: "WaitForExport",
    },
    StartRefused: {
      Type: "Choice",
      Choices: [
        {
          Or: QUEUE_CAUSES.map((pattern) => ({ Variable: "$.startError.Cause", StringMatches: pattern })),
          Next: "Queue",
        },
      ],
      Default: "StartFailed",
    },
    StartFailed: {
      Type: "Pass",
      Parameters: { "Error.$": "$.startError.Error", "Cause.$": "$.startError.Cause" },
      ResultPath: "$.error",
      Next: "ExportFailed",
    },
    Queue: {
      Type: "Choice",
      Comment: `Bounded: ${maxQueueWaits} waits, doubling from ${queueSeconds} s to ${maxQueueSeconds} s`,
      Choices: [{ Variable: "$.queue.count", NumericLessThan: maxQueueWaits, Next: "QueueWait" }],
      Default: "QueueGaveUp",
    },
    QueueWait: { Type: "Wait", SecondsPath: "$.queue.seconds", Next: "QueueBackoff" },
    QueueBackoff: {
      Type: "Choice",
      Choices: [{ Variable: "$.queue.seconds", NumericLessThan: maxQueueSeconds / 2, Next: "QueueDouble" }],
      Default: "QueueLongest",
    },
    QueueDouble: {
      Type: "Pass",
      Parameters: {
        "count.$": "States.MathAdd($.queue.count, 1)",
        "seconds.$": "States.MathAdd($.queue.seconds, $.queue.seconds)",
      },
      ResultPath: "$.queue",
      Next: "StartExport",
    },
    QueueLongest: {
      Type: "Pass",
      Parameters: { "count.$": "States.MathAdd($.queue.count, 1)", seconds: maxQueueSeconds },
      ResultPath: "$.queue",
      Next: "StartExport",
    },
    QueueGaveUp: error(
      "ExportQueueTimedOut",
      `States.Format('StartExportTask was still refused after ${maxQueueWaits} waits: {}', $.startError.Cause)`,
    ),
    WaitForExport: { Type: "Wait", Seconds: pollSeconds, Next: "DescribeExport" },
    DescribeExport: {
      Type: "Task",
      Resource: `${sdk}describeExportTasks`,
      Parameters: { "ExportTaskIdentifier.$": "$.exportTaskIdentifier" },
      ResultSelector: { "status.$": "$.ExportTasks[0].Status", "task.$": "$.ExportTasks[0]" },
      ResultPath: "$.exportTask",
      Retry: [RDS_READ_RETRY],
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "ExportFailed" }],
      Next: "ExportStatus",
    },
    ExportStatus: {
      Type: "Choice",
      Choices: [
        { ...status("COMPLETE"), Next: "ParquetDone" },
        { ...status("FAILED"), Next: "FailureCause" },
        { ...status("CANCELED", "CANCELING"), Next: "ExportCanceled" },
        {
          And: [status("STARTING", "IN_PROGRESS"), { Variable: "$.polls.count", NumericLessThan: maxPolls }],
          Next: "CountPoll",
        },
      ],
      Default: "ExportTimedOut",
    },
    CountPoll: {
      Type: "Pass",
      Parameters: { "count.$": "States.MathAdd($.polls.count, 1)" },
      ResultPath: "$.polls",
      Next: "WaitForExport",
    },
    FailureCause: {
      Type: "Choice",
      Choices: [{ Variable: "$.exportTask.task.FailureCause", IsPresent: true, Next: "ExportTaskFailed" }],
      Default: "ExportTaskFailedNoCause",
    },
    ExportTaskFailed: error(
      "ExportTaskFailed",
      "States.Format('export task {} of {} failed: {}', $.exportTaskIdentifier, $.recoveryPointArn, $.exportTask.task.FailureCause)",
    ),
    ExportTaskFailedNoCause: error(
      "ExportTaskFailed",
      "States.Format('export task {} of {} failed without a cause', $.exportTaskIdentifier, $.recoveryPointArn)",
    ),
    ExportCanceled: error(
      "ExportTaskCanceled",
      "States.Format('export task {} of {} was canceled ({})', $.exportTaskIdentifier, $.recoveryPointArn, $.exportTask.status)",
    ),
    ExportTimedOut: error(
      "ExportTaskTimedOut",
      `States.Format('export task {} of {} is {} after ${maxPolls} polls', $.exportTaskIdentifier, $.recoveryPointArn, $.exportTask.status)`,
    ),
    ParquetDone: {
      Type: "Pass",
      Comment: "RDS writes the export under <S3Prefix>/<ExportTaskIdentifier>/",
      Parameters: {
        "exportTaskIdentifier.$": "$.exportTaskIdentifier",
        "bucket.$": "$.archive.bucket",
        "s3Prefix.$": "$.s3Prefix",
        "exportPrefix.$": "States.Format('{}/{}/', $.s3Prefix, $.exportTaskIdentifier)",
      },
      ResultPath: "$.parquet",
      Next: dump ? DUMP_ENTRY : "AnswerExported",
    },
  };

  const answer = {
    outcome: "EXPORTED",
    format: props.format,
    "engine.$": "$.source.snapshot.Engine",
    "engineVersion.$": "$.source.snapshot.EngineVersion",
    "sourceArn.$": "$.recoveryPointArn",
  };

  return {
    Comment: `Export one ${props.workflow === "rds" ? "RDS" : "Aurora"} snapshot (format ${props.format}): Parquet through StartExportTask, or the native dump branch`,
    StartAt: "Prepare",
    States: {
      Prepare: {
        Type: "Pass",
        Parameters: {
          "recoveryPointArn.$": "$.recoveryPointArn",
          "archive.$": "$.archive",
          // [arn, partition, service, region, account, resource type, id…]: an id may hold one colon (awsbackup:job-…)
          "arnParts.$": "States.StringSplit($.recoveryPointArn, ':')",
          // 1–60 letters, digits and single hyphens, starting with a letter: `rds-` and 32 hex digits.
          "exportTaskIdentifier.$": `States.Format('${props.workflow}-{}', States.Hash($$.Execution.Name, 'MD5'))`,
          // No ':' in it: the archive prefix is made of key segments (core/s3-layout.ts).
          "s3Prefix.$": "States.Format('{}parquet', $.archive.prefix)",
          polls: { count: 0 },
          queue: { count: 0, seconds: queueSeconds },
        },
        Next: "ArnForm",
      },
      ArnForm: {
        Type: "Pass",
        Parameters: {
          "count.$": "States.ArrayLength($.arnParts)",
          "service.$": "States.ArrayGetItem($.arnParts, 2)",
          "type.$": "States.ArrayGetItem($.arnParts, 5)",
        },
        ResultPath: "$.arn",
        Next: "SnapshotKind",
      },
      SnapshotKind: {
        Type: "Choice",
        // An RDS recovery point is a DB snapshot, an Aurora one a cluster snapshot (core/events.ts): each child reads its own.
        Choices: [snapshotType].flatMap((type) =>
          [7, 8].map((count) => ({
            And: [
              { Variable: "$.arn.service", StringEquals: "rds" },
              { Variable: "$.arn.type", StringEquals: type },
              { Variable: "$.arn.count", NumericEquals: count },
            ],
            Next: `${type === "snapshot" ? "Instance" : "Cluster"}SnapshotId${count - 6}`,
          })),
        ),
        Default: "NotASnapshot",
      },
      ...Object.fromEntries(
        [kind].flatMap((kind) => [
          [
            `${kind}SnapshotId1`,
            {
              Type: "Pass",
              Parameters: { "id.$": "States.ArrayGetItem($.arnParts, 6)" },
              ResultPath: "$.snapshotId",
              Next: `Describe${kind}Snapshot`,
            },
          ],
          [
            `${kind}SnapshotId2`,
            {
              Type: "Pass",
              Parameters: {
                "id.$":
                  "States.Format('{}:{}', States.ArrayGetItem($.arnParts, 6), States.ArrayGetItem($.arnParts, 7))",
              },
              ResultPath: "$.snapshotId",
              Next: `Describe${kind}Snapshot`,
            },
          ],
        ]),
      ),
      ...(kind === "Instance"
        ? {
            DescribeInstanceSnapshot: {
              Type: "Task",
              Resource: `${sdk}describeDBSnapshots`,
              Parameters: { "DBSnapshotIdentifier.$": "$.snapshotId.id" },
              ResultSelector: { kind: "instance", "snapshot.$": "$.DBSnapshots[0]" },
              ResultPath: "$.source",
              Retry: [RDS_READ_RETRY],
              Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "ExportFailed" }],
              Next: parquet ? "StorageCheck" : DUMP_ENTRY,
            },
          }
        : {}),
      ...(kind === "Cluster"
        ? {
            DescribeClusterSnapshot: {
              Type: "Task",
              Resource: `${sdk}describeDBClusterSnapshots`,
              Parameters: { "DBClusterSnapshotIdentifier.$": "$.snapshotId.id" },
              ResultSelector: { kind: "cluster", "snapshot.$": "$.DBClusterSnapshots[0]" },
              ResultPath: "$.source",
              Retry: [RDS_READ_RETRY],
              Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "ExportFailed" }],
              Next: parquet ? "EngineCheck" : DUMP_ENTRY,
            },
          }
        : {}),
      NotASnapshot: {
        Type: "Pass",
        Parameters: {
          outcome: "UNSUPPORTED",
          "reason.$": `States.Format('recovery point {} is not an ${props.workflow === "rds" ? "RDS DB snapshot (arn:<partition>:rds:…:snapshot:…)" : "Aurora cluster snapshot (arn:<partition>:rds:…:cluster-snapshot:…)"}, e.g. a continuous backup only AWS Backup can restore: neither StartExportTask nor a restore-and-dump can read it', $.recoveryPointArn)`,
        },
        End: true,
      },
      ...(parquet ? parquetStates : {}),
      ...(dump && props.dump
        ? rdsDumpStates({
            ...props.dump,
            partition: props.partition,
            workflow: props.workflow,
            next: "DumpAnswer",
            failed: "ExportFailed",
          })
        : {}),
      ...(dump
        ? {
            DumpAnswer: {
              Type: "Choice",
              Choices: [
                ...(parquet
                  ? [
                      {
                        And: [
                          { Variable: "$.dump.outcome", StringEquals: "UNSUPPORTED" },
                          { Variable: "$.parquet", IsPresent: true },
                        ],
                        Next: "DumpUnsupportedAfterParquet",
                      },
                    ]
                  : []),
                { Variable: "$.dump.outcome", StringEquals: "UNSUPPORTED", Next: "DumpUnsupported" },
                ...(parquet ? [{ Variable: "$.parquet", IsPresent: true, Next: "AnswerExported" }] : []),
              ],
              Default: parquet ? "AnswerDumpExported" : "AnswerExported",
            },
            DumpUnsupported: {
              Type: "Pass",
              Parameters: { outcome: "UNSUPPORTED", "reason.$": "$.dump.reason" },
              End: true,
            },
            ...(parquet
              ? {
                  DumpUnsupportedAfterParquet: {
                    Type: "Pass",
                    Parameters: {
                      outcome: "UNSUPPORTED",
                      "reason.$":
                        "States.Format('format both: {} (the Parquet export under {} is kept but, without the dump, not verified)', $.dump.reason, $.parquet.exportPrefix)",
                    },
                    End: true,
                  },
                  AnswerDumpExported: { Type: "Pass", Parameters: { ...answer, "dump.$": "$.dump" }, End: true },
                }
              : {}),
          }
        : {}),
      ...(parquet && !dump
        ? {
            AnswerUnsupported: {
              Type: "Pass",
              Parameters: { outcome: "UNSUPPORTED", "reason.$": "$.unsupported.reason" },
              End: true,
            },
          }
        : {}),
      AnswerExported: {
        Type: "Pass",
        Parameters: {
          ...answer,
          ...(parquet ? { "parquet.$": "$.parquet" } : {}),
          ...(dump ? { "dump.$": "$.dump" } : {}),
        },
        End: true,
      },
      ExportFailed: { Type: "Fail", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" },
    },
  };
}
