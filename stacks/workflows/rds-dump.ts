/**
 * The native-dump branch of the RDS and Aurora children (stacks/workflows/rds-export.ts): restore the
 * snapshot to a temporary instance (RDS) or cluster and instance (Aurora), give it a random master
 * password, run the worker's `dump-database` as a Batch job, delete everything on every path.
 *
 *   engine check (postgres, mysql, mariadb, aurora-postgresql, aurora-mysql; else UNSUPPORTED, nothing made)
 *   → RestoreDBInstanceFromDBSnapshot | RestoreDBClusterFromSnapshot + CreateDBInstance
 *       (identifier dump-<md5 of the execution name>, core/rds-identifier.ts; the pipeline's DB subnet group
 *        and dump security group; not public; no deletion protection; tagged with the pipeline tag)
 *   → bounded polling of DescribeDBInstances until available
 *   → the password Lambda (lambdas/dump-password): random password → SSM SecureString under the pipeline
 *     key → ModifyDBInstance / ModifyDBCluster MasterUserPassword, ApplyImmediately. The state machine
 *     carries only the parameter's name, never the password.
 *   → bounded polling again (the reset of the master credentials)
 *   → Batch job (`submitJob.sync`) on the worker's job definition: `dump-database --engine … --host <endpoint>
 *     --port … --user <the snapshot's master user> --password-parameter <name> --to <archive url>`
 *   → cleanup, reached on success and on every failure after the restore was asked for: DeleteDBInstance
 *     (SkipFinalSnapshot, DeleteAutomatedBackups); Aurora: DeleteDBInstance, bounded polling until it is
 *     gone, DeleteDBCluster (SkipFinalSnapshot); DeleteParameter. Each cleanup Task retries and catches
 *     into `$.cleanupError`, so the next one still runs; what is left the janitor deletes later.
 *
 * Contract with rds-export.ts:
 * - Entry: the state named `DUMP_ENTRY`. The state's input is the child's state:
 *     { recoveryPointArn, archive: { bucket, prefix, url }, exportTaskIdentifier, snapshotId: { id },
 *       source: { kind: "instance" | "cluster",   // DescribeDBSnapshots or DescribeDBClusterSnapshots
 *                 snapshot: <DBSnapshots[0] or DBClusterSnapshots[0] as RDS answered> },
 *       parquet?: <the Parquet export's result, with format "both"> }
 * - Exit, success or "cannot": `$.dump` is set and the branch goes to `props.next`:
 *     { outcome: "EXPORTED", archiveUrl, manifestKey }  — the dump and its manifest.json are in the archive;
 *     { outcome: "UNSUPPORTED", reason }                — nothing was written, nothing was created.
 * - Exit, failure: `$.error` = { Error, Cause } and the branch goes to `props.failed` after it deleted
 *   what it created (instance or cluster, parameter): the child then fails with that error.
 * - State names all start with `Dump`, so they cannot collide with the Parquet path's. The branch also
 *   writes `$.dumpDb` (engine, kind, identifier, parameterName), `$.dumpPolls`, `$.dumpStatus` (the last
 *   DescribeDBInstances answer), `$.dumpPassword` ({ parameterName }: never the password), `$.dumpJob`,
 *   `$.restoreRerun` (a rerun found its instance already there) and, when a cleanup step failed,
 *   `$.cleanupError` (the export's outcome stands; the janitor deletes what is left).
 * - Needs (RdsDumpSettings): the password function, the SSM path, the worker's job queue and definition,
 *   the DB subnet group and security group (stacks/constructs/database-exports.ts).
 */
import type { Partition } from "../../core/partition";
import { TEMPORARY_DB_IDENTIFIER_ASL } from "../../core/rds-identifier";
import { RECOVERY_POINT_TAG_KEY } from "../../core/tags";
import type { DatabaseWorkflow } from "../../core/workflows";
import { type Retrier, type State, throttlingRetry, TRANSIENT_TASK_RETRY } from "./asl";

export const DUMP_ENTRY = "DumpDatabase";

/** What the branch needs of the pipeline (stacks/constructs/database-exports.ts). */
export interface RdsDumpSettings {
  /** The password function (lambdas/dump-password). */
  readonly passwordFunctionArn: string;
  /** SSM path of the parameters (core/rds-identifier.ts dumpParameterPath). */
  readonly parameterPath: string;
  readonly jobQueueArn: string;
  /** The worker's job definition (the same image runs `dump-database`). */
  readonly jobDefinitionName: string;
  /** DB subnet group of the pipeline's private subnets. */
  readonly subnetGroupName: string;
  /** Security group of the temporary databases: the engine ports from the worker's group only. */
  readonly securityGroupId: string;
  /** Tags on the temporary instance and cluster: the pipeline tag (the janitor keys on it). */
  readonly pipelineTag: { readonly key: string; readonly value: string };
  /** @default none */
  readonly securityTag?: string;
  /** Class of a restored RDS instance. @default "db.t4g.medium" */
  readonly instanceClass?: string;
  /** Class of the one instance of a restored Aurora cluster. @default "db.r6g.large" */
  readonly clusterInstanceClass?: string;
  readonly compressionLevel: number;
  /** Seconds between DescribeDBInstances polls. @default 60 */
  readonly pollSeconds?: number;
  /** Polls before a restore or a password change counts as timed out. @default 120 (two hours) */
  readonly maxPolls?: number;
  /** Polls while an Aurora instance is deleted, before its cluster is. @default 60 */
  readonly maxCleanupPolls?: number;
}

export interface RdsDumpProps extends RdsDumpSettings {
  readonly partition: Partition;
  readonly workflow: DatabaseWorkflow;
  /** The state that reads `$.dump` (the child's answer). */
  readonly next: string;
  /** The state that fails the child with `$.error` (cleanup done). */
  readonly failed: string;
}

/** Engines the worker dumps, as RDS names them in a snapshot's `Engine`, and the worker's `--engine`. */
export const DUMP_ENGINES: Readonly<Record<DatabaseWorkflow, Readonly<Record<string, string>>>> = {
  rds: { postgres: "postgres", mysql: "mysql", mariadb: "mariadb" },
  // "aurora" (Aurora MySQL 1) reached its end of life: RDS restores no cluster of it any more.
  aurora: { "aurora-postgresql": "postgres", "aurora-mysql": "mysql" },
};

/** RDS throttling and transient faults (unmodeled codes, Throttling among them, arrive as Rds.RdsException). */
const RDS_RETRY: Retrier = throttlingRetry("Rds", ["Rds.RdsException", "Rds.SdkClientException"]);

/** A delete refused while the instance or cluster is still busy (modifying, resetting credentials): wait and retry. */
const BUSY_RETRY: Retrier = {
  ErrorEquals: ["Rds.InvalidDbInstanceStateException", "Rds.InvalidDbClusterStateException"],
  IntervalSeconds: 30,
  MaxAttempts: 10,
  BackoffRate: 1.5,
  MaxDelaySeconds: 300,
  JitterStrategy: "FULL",
};

/** Statuses after which an instance will not become available by waiting. */
const DEAD_STATUSES = [
  "failed",
  "incompatible-restore",
  "incompatible-parameters",
  "incompatible-network",
  "incompatible-option-group",
  "inaccessible-encryption-credentials",
  "inaccessible-encryption-credentials-recoverable",
  "restore-error",
  "storage-full",
  "stopped",
  "deleting",
];

export function rdsDumpStates(props: RdsDumpProps): Record<string, State> {
  const pollSeconds = props.pollSeconds ?? 60;
  const maxPolls = props.maxPolls ?? 120;
  const maxCleanupPolls = props.maxCleanupPolls ?? 60;
  const instanceClass = props.instanceClass ?? "db.t4g.medium";
  const clusterInstanceClass = props.clusterInstanceClass ?? "db.r6g.large";
  const states = `arn:${props.partition}:states:::`;
  const rds = `${states}aws-sdk:rds:`;
  const cluster = props.workflow === "aurora";
  const engines = DUMP_ENGINES[props.workflow];
  const tags = [
    { Key: props.pipelineTag.key, Value: props.pipelineTag.value },
    { Key: RECOVERY_POINT_TAG_KEY, "Value.$": "$.recoveryPointArn" },
    ...(props.securityTag ? [{ Key: props.securityTag, Value: "true" }] : []),
  ];
  const toCleanup = (state: string) => [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: state }];
  const firstCleanup = cluster ? "DumpDeleteClusterInstance" : "DumpDeleteInstance";
  const fail = (name: string, cause: string): State => ({
    Type: "Pass",
    Parameters: { Error: name, "Cause.$": cause },
    ResultPath: "$.error",
    Next: firstCleanup,
  });

  /** Bounded wait until the instance is available, then `next`; `phase` names the states and the counter. */
  const waitStates = (phase: "Restored" | "Reset", next: string, counter: string): Record<string, State> => ({
    [`DumpWait${phase}`]: { Type: "Wait", Seconds: pollSeconds, Next: `DumpDescribe${phase}` },
    [`DumpDescribe${phase}`]: {
      Type: "Task",
      Resource: `${rds}describeDBInstances`,
      Parameters: { "DBInstanceIdentifier.$": "$.dumpDb.identifier" },
      ResultSelector: { "status.$": "$.DBInstances[0].DBInstanceStatus", "instance.$": "$.DBInstances[0]" },
      ResultPath: "$.dumpStatus",
      Retry: [RDS_RETRY],
      Catch: toCleanup(firstCleanup),
      Next: `DumpReady${phase}`,
    },
    [`DumpReady${phase}`]: {
      Type: "Choice",
      Choices: [
        { Variable: "$.dumpStatus.status", StringEquals: "available", Next: next },
        {
          Or: DEAD_STATUSES.map((s) => ({ Variable: "$.dumpStatus.status", StringEquals: s })),
          Next: `DumpNotAvailable${phase}`,
        },
        { Variable: `$.dumpPolls.${counter}`, NumericLessThan: maxPolls, Next: `DumpCountPoll${phase}` },
      ],
      Default: `DumpTimedOut${phase}`,
    },
    [`DumpCountPoll${phase}`]: {
      Type: "Pass",
      Parameters: {
        "restored.$": counter === "restored" ? "States.MathAdd($.dumpPolls.restored, 1)" : "$.dumpPolls.restored",
        "reset.$": counter === "reset" ? "States.MathAdd($.dumpPolls.reset, 1)" : "$.dumpPolls.reset",
        "cleanup.$": "$.dumpPolls.cleanup",
      },
      ResultPath: "$.dumpPolls",
      Next: `DumpWait${phase}`,
    },
    [`DumpNotAvailable${phase}`]: fail(
      "DumpInstanceNotAvailable",
      `States.Format('temporary instance {} of {} is {}${phase === "Reset" ? " after its password change" : ""}: it will not become available', $.dumpDb.identifier, $.recoveryPointArn, $.dumpStatus.status)`,
    ),
    [`DumpTimedOut${phase}`]: fail(
      "DumpInstanceTimedOut",
      `States.Format('temporary instance {} of {} is still {} after ${maxPolls} polls of ${pollSeconds} s${phase === "Reset" ? " (password change)" : ""}', $.dumpDb.identifier, $.recoveryPointArn, $.dumpStatus.status)`,
    ),
  });

  /**
   * A Task that creates the temporary instance or cluster, then `next`. A rerun of the same execution name
   * finds it already there (`alreadyExists`): it is this branch's own, so carry on with it.
   */
  const createTask = (action: string, parameters: Record<string, unknown>, alreadyExists: string, next: string) =>
    ({
      Type: "Task",
      Resource: `${rds}${action}`,
      Parameters: { ...parameters, Tags: tags },
      ResultPath: null,
      Retry: [RDS_RETRY],
      Catch: [{ ErrorEquals: [alreadyExists], ResultPath: "$.restoreRerun", Next: next }, ...toCleanup(firstCleanup)],
      Next: next,
    }) satisfies State;

  const restoreStates: Record<string, State> = cluster
    ? {
        DumpRestore: createTask(
          "restoreDBClusterFromSnapshot",
          {
            "DBClusterIdentifier.$": "$.dumpDb.identifier",
            "SnapshotIdentifier.$": "$.snapshotId.id",
            "Engine.$": "$.source.snapshot.Engine",
            "EngineVersion.$": "$.source.snapshot.EngineVersion",
            DBSubnetGroupName: props.subnetGroupName,
            VpcSecurityGroupIds: [props.securityGroupId],
            DeletionProtection: false,
          },
          "Rds.DbClusterAlreadyExistsException",
          "DumpCreateInstance",
        ),
        DumpCreateInstance: createTask(
          "createDBInstance",
          {
            "DBInstanceIdentifier.$": "$.dumpDb.identifier",
            "DBClusterIdentifier.$": "$.dumpDb.identifier",
            "Engine.$": "$.source.snapshot.Engine",
            DBInstanceClass: clusterInstanceClass,
            PubliclyAccessible: false,
          },
          "Rds.DbInstanceAlreadyExistsException",
          "DumpWaitRestored",
        ),
      }
    : {
        DumpRestore: createTask(
          "restoreDBInstanceFromDBSnapshot",
          {
            "DBInstanceIdentifier.$": "$.dumpDb.identifier",
            "DBSnapshotIdentifier.$": "$.snapshotId.id",
            DBInstanceClass: instanceClass,
            DBSubnetGroupName: props.subnetGroupName,
            VpcSecurityGroupIds: [props.securityGroupId],
            PubliclyAccessible: false,
            MultiAZ: false,
            DeletionProtection: false,
          },
          "Rds.DbInstanceAlreadyExistsException",
          "DumpWaitRestored",
        ),
      };

  const cleanupStates: Record<string, State> = {
    ...(cluster
      ? {
          DumpDeleteClusterInstance: {
            Type: "Task",
            Comment: "An Aurora instance has no snapshot or automated backups of its own: the cluster holds them",
            Resource: `${rds}deleteDBInstance`,
            Parameters: { "DBInstanceIdentifier.$": "$.dumpDb.identifier" },
            ResultPath: null,
            Retry: [RDS_RETRY, BUSY_RETRY],
            Catch: [
              { ErrorEquals: ["Rds.DbInstanceNotFoundException"], ResultPath: null, Next: "DumpDeleteCluster" },
              { ErrorEquals: ["States.ALL"], ResultPath: "$.cleanupError", Next: "DumpWaitInstanceGone" },
            ],
            Next: "DumpWaitInstanceGone",
          },
          DumpWaitInstanceGone: { Type: "Wait", Seconds: pollSeconds, Next: "DumpDescribeInstanceGone" },
          DumpDescribeInstanceGone: {
            Type: "Task",
            Resource: `${rds}describeDBInstances`,
            Parameters: { "DBInstanceIdentifier.$": "$.dumpDb.identifier" },
            ResultSelector: { "status.$": "$.DBInstances[0].DBInstanceStatus" },
            ResultPath: "$.dumpStatus",
            Retry: [RDS_RETRY],
            Catch: [
              // Gone: the cluster can go now.
              { ErrorEquals: ["Rds.DbInstanceNotFoundException"], ResultPath: null, Next: "DumpDeleteCluster" },
              { ErrorEquals: ["States.ALL"], ResultPath: "$.cleanupError", Next: "DumpDeleteCluster" },
            ],
            Next: "DumpInstanceGone",
          },
          DumpInstanceGone: {
            Type: "Choice",
            Comment: `Bounded: ${maxCleanupPolls} polls, then DeleteDBCluster is tried anyway (the janitor finishes)`,
            Choices: [
              { Variable: "$.dumpPolls.cleanup", NumericLessThan: maxCleanupPolls, Next: "DumpCountCleanupPoll" },
            ],
            Default: "DumpDeleteCluster",
          },
          DumpCountCleanupPoll: {
            Type: "Pass",
            Parameters: {
              "restored.$": "$.dumpPolls.restored",
              "reset.$": "$.dumpPolls.reset",
              "cleanup.$": "States.MathAdd($.dumpPolls.cleanup, 1)",
            },
            ResultPath: "$.dumpPolls",
            Next: "DumpWaitInstanceGone",
          },
          DumpDeleteCluster: {
            Type: "Task",
            Resource: `${rds}deleteDBCluster`,
            Parameters: { "DBClusterIdentifier.$": "$.dumpDb.identifier", SkipFinalSnapshot: true },
            ResultPath: null,
            Retry: [RDS_RETRY, BUSY_RETRY],
            Catch: [
              { ErrorEquals: ["Rds.DbClusterNotFoundException"], ResultPath: null, Next: "DumpDeleteParameter" },
              { ErrorEquals: ["States.ALL"], ResultPath: "$.cleanupError", Next: "DumpDeleteParameter" },
            ],
            Next: "DumpDeleteParameter",
          },
        }
      : {
          DumpDeleteInstance: {
            Type: "Task",
            Resource: `${rds}deleteDBInstance`,
            Parameters: {
              "DBInstanceIdentifier.$": "$.dumpDb.identifier",
              SkipFinalSnapshot: true,
              DeleteAutomatedBackups: true,
            },
            ResultPath: null,
            Retry: [RDS_RETRY, BUSY_RETRY],
            Catch: [
              { ErrorEquals: ["Rds.DbInstanceNotFoundException"], ResultPath: null, Next: "DumpDeleteParameter" },
              { ErrorEquals: ["States.ALL"], ResultPath: "$.cleanupError", Next: "DumpDeleteParameter" },
            ],
            Next: "DumpDeleteParameter",
          },
        }),
    DumpDeleteParameter: {
      Type: "Task",
      Resource: `${states}aws-sdk:ssm:deleteParameter`,
      Parameters: { "Name.$": "$.dumpDb.parameterName" },
      ResultPath: null,
      Retry: [throttlingRetry("Ssm", ["Ssm.SsmException", "Ssm.SdkClientException"])],
      Catch: [
        // The restore or the password step failed before the parameter was written.
        { ErrorEquals: ["Ssm.ParameterNotFoundException"], ResultPath: null, Next: "DumpCleanedUp" },
        { ErrorEquals: ["States.ALL"], ResultPath: "$.cleanupError", Next: "DumpCleanedUp" },
      ],
      Next: "DumpCleanedUp",
    },
    DumpCleanedUp: {
      Type: "Choice",
      Choices: [{ Variable: "$.error", IsPresent: true, Next: props.failed }],
      Default: props.next,
    },
  };

  const engineStates = Object.fromEntries(
    [...new Set(Object.values(engines))].map((worker) => [
      `DumpEngine${worker[0]!.toUpperCase()}${worker.slice(1)}`,
      {
        Type: "Pass",
        Parameters: {
          engine: worker,
          kind: cluster ? "cluster" : "instance",
          "identifier.$": TEMPORARY_DB_IDENTIFIER_ASL,
          "parameterName.$": `States.Format('${props.parameterPath}{}', ${TEMPORARY_DB_IDENTIFIER_ASL})`,
        },
        ResultPath: "$.dumpDb",
        Next: "DumpCountersReset",
      } satisfies State,
    ]),
  );

  return {
    [DUMP_ENTRY]: {
      Type: "Choice",
      Comment: "Engines the worker dumps; any other is UNSUPPORTED before anything is created",
      Choices: Object.entries(engines).map(([engine, worker]) => ({
        Variable: "$.source.snapshot.Engine",
        StringEquals: engine,
        Next: `DumpEngine${worker[0]!.toUpperCase()}${worker.slice(1)}`,
      })),
      Default: "DumpUnsupportedEngine",
    },
    DumpUnsupportedEngine: {
      Type: "Pass",
      Parameters: {
        outcome: "UNSUPPORTED",
        "reason.$": `States.Format('engine {} {} of snapshot {}: the native dump exports only ${Object.keys(engines).join(", ")} ${cluster ? "clusters" : "instances"} (pg_dump, mysqldump, mariadb-dump)', $.source.snapshot.Engine, $.source.snapshot.EngineVersion, $.recoveryPointArn)`,
      },
      ResultPath: "$.dump",
      Next: props.next,
    },
    ...engineStates,
    DumpCountersReset: {
      Type: "Pass",
      Result: { restored: 0, reset: 0, cleanup: 0 },
      ResultPath: "$.dumpPolls",
      Next: "DumpRestore",
    },
    ...restoreStates,
    ...waitStates("Restored", "DumpSetPassword", "restored"),
    DumpSetPassword: {
      Type: "Task",
      Comment: "Stores a random password in SSM and sets it on the database: only the parameter name comes back",
      Resource: `${states}lambda:invoke`,
      Parameters: {
        FunctionName: props.passwordFunctionArn,
        Payload: {
          "kind.$": "$.dumpDb.kind",
          "identifier.$": "$.dumpDb.identifier",
          "parameterName.$": "$.dumpDb.parameterName",
        },
      },
      ResultSelector: { "parameterName.$": "$.Payload.parameterName" },
      ResultPath: "$.dumpPassword",
      Retry: [TRANSIENT_TASK_RETRY],
      Catch: toCleanup(firstCleanup),
      Next: "DumpWaitReset",
    },
    ...waitStates("Reset", "DumpRun", "reset"),
    DumpRun: {
      Type: "Task",
      Comment: "Spot reclaims are retried by the job definition's retry strategy (Host EC2*), nothing else is",
      Resource: `${states}batch:submitJob.sync`,
      Parameters: {
        "JobName.$": "States.Format('rds-dump-{}', $.dumpDb.identifier)",
        JobQueue: props.jobQueueArn,
        JobDefinition: props.jobDefinitionName,
        ContainerOverrides: {
          "Command.$": `States.Array('dump-database', '--engine', $.dumpDb.engine, '--host', $.dumpStatus.instance.Endpoint.Address, '--port', States.Format('{}', $.dumpStatus.instance.Endpoint.Port), '--user', $.source.snapshot.MasterUsername, '--password-parameter', $.dumpPassword.parameterName, '--to', $.archive.url, '--compression-level', '${props.compressionLevel}')`,
        },
        Tags: { [props.pipelineTag.key]: props.pipelineTag.value },
      },
      ResultSelector: { "jobId.$": "$.JobId", "status.$": "$.Status" },
      ResultPath: "$.dumpJob",
      Retry: [{ ...TRANSIENT_TASK_RETRY, ErrorEquals: ["Batch.AWSBatchException", "Batch.TooManyRequestsException"] }],
      Catch: toCleanup(firstCleanup),
      Next: "DumpExported",
    },
    DumpExported: {
      Type: "Pass",
      Parameters: {
        outcome: "EXPORTED",
        "archiveUrl.$": "$.archive.url",
        "manifestKey.$": "States.Format('{}manifest.json', $.archive.prefix)",
      },
      ResultPath: "$.dump",
      Next: firstCleanup,
    },
    ...cleanupStates,
  };
}
