/**
 * The restore drill (issue 13 item 2, README "Restore drills"), started on a schedule:
 *
 *   Sample (drill function: the newest SUCCEEDED archive of each type + a random sample, with their
 *   storage classes; Glacier objects restored with Tier Bulk first, or the archive skipped, by config)
 *   → Map over the archives, two at a time:
 *       skip    → RecordSkipped (ledger: SKIPPED and why)
 *       restore → RecordRestoring (ledger: RESTORING, what was asked and its cost) → poll the drill function
 *                 until the restored copies are readable (bounded) → verify
 *       verify  → Batch job `verify <archive url> --expect-manifest-sha256 <ledger's>` on the worker's job
 *                 definition (submitJob.sync) → RecordPassed, or on any failure RecordFailed (ledger:
 *                 FAILED and the cause) → the "Drill Failed" outcome event; with `restoreDumps` (config
 *                 `drills.restoreDumps`) a native dump's job adds `--restore-scratch` (VerifyKind routes
 *                 the rds and aurora archives to RunVerifyDump)
 *   → Report (drill function: the DrillFailed metric, zero included, which the drill-failed alarm watches)
 *   → the execution fails when any archive failed, so the failure is also visible in Step Functions.
 *
 * Input: anything (the schedule's event); it is not read.
 */
import { DRILL_RESTORING, DRILL_RESULTS, DUMP_DRILL_WORKFLOWS } from "../../core/drill";
import { LEDGER_PARTITION_KEY } from "../../core/ledger";
import { OUTCOME_DETAIL_TYPES, OUTCOME_EVENT_SOURCE, type OutcomeDetail } from "../../core/outcome-events";
import type { Partition } from "../../core/partition";
import { EVENTS_RETRY, StateMachineDefinition, State, TRANSIENT_TASK_RETRY } from "./asl";

export interface RestoreDrillProps {
  readonly partition: Partition;
  /** The drill function (lambdas/drill). */
  readonly drillFunctionArn: string;
  /** The worker's job definition, by name (Batch runs its latest ACTIVE revision). */
  readonly jobDefinitionName: string;
  /** Any of the worker's queues: the verify job reads S3 only, so its AZ does not matter. */
  readonly jobQueueArn: string;
  readonly ledgerTableName: string;
  /** The pipeline's name (config `name`), for the outcome events. */
  readonly pipelineName: string;
  readonly pipelineTag: { readonly key: string; readonly value: string };
  /** Archives verified at once. @default 2 */
  readonly maxConcurrency?: number;
  /** Seconds between checks of a Glacier restore. @default 3600 (Bulk takes 5-12 hours, Deep Archive up to 48) */
  readonly restorePollSeconds?: number;
  /** Checks before a restore counts as failed. @default 60 */
  readonly maxRestorePolls?: number;
  /** Native dumps (workflows rds, aurora) are also restored into a scratch server by the verify job. @default false */
  readonly restoreDumps?: boolean;
}

const [PASSED, FAILED, SKIPPED] = DRILL_RESULTS;

export function restoreDrillDefinition(props: RestoreDrillProps): StateMachineDefinition {
  const states = `arn:${props.partition}:states:::`;
  const maxConcurrency = props.maxConcurrency ?? 2;
  const restorePollSeconds = props.restorePollSeconds ?? 3600;
  const maxRestorePolls = props.maxRestorePolls ?? 60;
  const restoreDumps = props.restoreDumps ?? false;
  const verifyStart = restoreDumps ? "VerifyKind" : "RunVerify";
  const invoke = (payload: Record<string, unknown>) => ({
    FunctionName: props.drillFunctionArn,
    Payload: payload,
  });
  const ledgerKey = { [LEDGER_PARTITION_KEY]: { "S.$": "$.archive.recoveryPointArn" } };
  /** One ledger write of a drill's result; a record that vanished is not re-created (the condition). */
  const record = (result: string, cause: string | null, next: string, onError: string): State => ({
    Type: "Task",
    Resource: `${states}dynamodb:updateItem`,
    Parameters: {
      TableName: props.ledgerTableName,
      Key: ledgerKey,
      UpdateExpression:
        cause === null
          ? "SET lastVerifiedAt = :now, lastVerifyResult = :result REMOVE lastVerifyCause"
          : "SET lastVerifiedAt = :now, lastVerifyResult = :result, lastVerifyCause = :cause",
      ConditionExpression: "attribute_exists(recoveryPointArn)",
      ExpressionAttributeValues: {
        ":now": { "S.$": "$$.State.EnteredTime" },
        ":result": { S: result },
        ...(cause === null ? {} : { ":cause": { "S.$": cause } }),
      },
    },
    ResultPath: null,
    Retry: [TRANSIENT_TASK_RETRY],
    Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.ledgerError", Next: onError }],
    Next: next,
  });
  const outcome = (result: string): State => ({
    Type: "Pass",
    Parameters: { result, "recoveryPointArn.$": "$.archive.recoveryPointArn", "archiveUrl.$": "$.archive.archiveUrl" },
    End: true,
  });
  const detail = {
    "recoveryPointArn.$": "$.archive.recoveryPointArn",
    "resourceArn.$": "$.archive.resourceArn",
    "resourceType.$": "$.archive.resourceType",
    "workflow.$": "$.archive.workflow",
    pipeline: props.pipelineName,
    "executionArn.$": "$$.Execution.Id",
    "startedAt.$": "$$.Execution.StartTime",
    // No Lambda runs on the failure path of an archive (a Batch job), and JSONPath cannot subtract times.
    durationSeconds: null,
    "archiveUrl.$": "$.archive.archiveUrl",
    "bytes.$": "$.archive.bytes",
    "error.$": "$.error.Error",
    "cause.$": "$.error.Cause",
    reason: null,
  } satisfies { readonly [K in keyof OutcomeDetail as K | `${K}.$`]?: unknown };

  /** The verify job (batch-worker/src/verify-job.ts) with one command. */
  const runVerify = (command: string): State => ({
    Type: "Task",
    Comment:
      "The worker image's verify (batch-worker/src/verify-job.ts): every byte re-read; exit 1 when the archive does not verify",
    Resource: `${states}batch:submitJob.sync`,
    Parameters: {
      "JobName.$": "$.archive.jobName",
      JobQueue: props.jobQueueArn,
      JobDefinition: props.jobDefinitionName,
      ContainerOverrides: {
        "Command.$": command,
      },
      Tags: { [props.pipelineTag.key]: props.pipelineTag.value },
    },
    ResultSelector: { "jobId.$": "$.JobId", "status.$": "$.Status" },
    ResultPath: "$.job",
    Retry: [{ ...TRANSIENT_TASK_RETRY, ErrorEquals: ["Batch.AWSBatchException", "Batch.TooManyRequestsException"] }],
    Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "RecordFailed" }],
    Next: "RecordPassed",
  });

  const perArchive: StateMachineDefinition = {
    StartAt: "Route",
    States: {
      Route: {
        Type: "Choice",
        Choices: [
          { Variable: "$.archive.action", StringEquals: "skip", Next: "RecordSkipped" },
          { Variable: "$.archive.action", StringEquals: "restore", Next: "RecordRestoring" },
        ],
        Default: verifyStart,
      },
      RecordSkipped: record(SKIPPED, "$.archive.reason", "Skipped", "Skipped"),
      Skipped: outcome(SKIPPED),
      // Waiting, not failed: the ledger says so (and what the restore costs) until this drill's result replaces it.
      RecordRestoring: record(DRILL_RESTORING, "$.archive.reason", "WaitForRestore", "WaitForRestore"),
      WaitForRestore: { Type: "Wait", Seconds: restorePollSeconds, Next: "RestoreStatus" },
      RestoreStatus: {
        Type: "Task",
        Resource: `${states}lambda:invoke`,
        Parameters: invoke({ action: "restore-status", "archiveUrl.$": "$.archive.archiveUrl" }),
        ResultSelector: { "done.$": "$.Payload.done", "pending.$": "$.Payload.pending" },
        ResultPath: "$.restore",
        Retry: [TRANSIENT_TASK_RETRY],
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "RecordFailed" }],
        Next: "Restored",
      },
      Restored: {
        Type: "Choice",
        Choices: [
          { Variable: "$.restore.done", BooleanEquals: true, Next: verifyStart },
          { Variable: "$.polls.count", NumericLessThan: maxRestorePolls, Next: "CountRestorePoll" },
        ],
        Default: "RestoreTimedOut",
      },
      CountRestorePoll: {
        Type: "Pass",
        Parameters: { "count.$": "States.MathAdd($.polls.count, 1)" },
        ResultPath: "$.polls",
        Next: "WaitForRestore",
      },
      RestoreTimedOut: {
        Type: "Pass",
        Parameters: {
          Error: "RestoreTimedOut",
          "Cause.$": `States.Format('{} object(s) of {} still not restored after ${maxRestorePolls} checks ${restorePollSeconds} s apart', $.restore.pending, $.archive.archiveUrl)`,
        },
        ResultPath: "$.error",
        Next: "RecordFailed",
      },
      ...(restoreDumps
        ? {
            VerifyKind: {
              Type: "Choice",
              Comment: "A native dump is also restored into a scratch server (config drills.restoreDumps)",
              Choices: DUMP_DRILL_WORKFLOWS.map((w) => ({
                Variable: "$.archive.workflow",
                StringEquals: w,
                Next: "RunVerifyDump",
              })),
              Default: "RunVerify",
            } satisfies State,
            RunVerifyDump: runVerify(
              "States.Array('verify', $.archive.archiveUrl, '--expect-manifest-sha256', $.archive.sha256, '--restore-scratch')",
            ),
          }
        : {}),
      RunVerify: runVerify(
        "States.Array('verify', $.archive.archiveUrl, '--expect-manifest-sha256', $.archive.sha256)",
      ),
      RecordPassed: record(PASSED, null, "Passed", "Passed"),
      Passed: outcome(PASSED),
      // A failure is published even when its ledger write failed: the event and the metric must not be lost.
      RecordFailed: record(
        FAILED,
        "States.Format('{}: {}', $.error.Error, $.error.Cause)",
        "PublishDrillFailed",
        "PublishDrillFailed",
      ),
      PublishDrillFailed: {
        Type: "Task",
        Comment: "The Drill Failed outcome on the default event bus (docs/events.md)",
        Resource: `${states}events:putEvents`,
        Parameters: {
          Entries: [{ Source: OUTCOME_EVENT_SOURCE, DetailType: OUTCOME_DETAIL_TYPES.drillFailed, Detail: detail }],
        },
        ResultPath: null,
        Retry: [EVENTS_RETRY],
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.eventsError", Next: "Failed" }],
        Next: "Failed",
      },
      Failed: outcome(FAILED),
    },
  };

  return {
    Comment: "backup-actions restore drill: re-verify a sample of archives with the worker, record each result",
    StartAt: "Init",
    States: {
      // The schedule's event is not needed; `error` stays null unless the sample or the Map fails.
      Init: { Type: "Pass", Result: { error: null }, Next: "Sample" },
      Sample: {
        Type: "Task",
        Resource: `${states}lambda:invoke`,
        Parameters: invoke({ action: "sample" }),
        ResultSelector: { "archives.$": "$.Payload.archives" },
        ResultPath: "$.sample",
        Retry: [TRANSIENT_TASK_RETRY],
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "NoResults" }],
        Next: "Drill",
      },
      Drill: {
        Type: "Map",
        ItemsPath: "$.sample.archives",
        ItemSelector: { "archive.$": "$$.Map.Item.Value", polls: { count: 0 } },
        MaxConcurrency: maxConcurrency,
        ItemProcessor: perArchive,
        ResultPath: "$.results",
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "NoResults" }],
        Next: "Report",
      },
      NoResults: { Type: "Pass", Result: [], ResultPath: "$.results", Next: "Report" },
      Report: {
        Type: "Task",
        Comment: "Emits DrillFailed (zero included): the drill-failed alarm's metric",
        Resource: `${states}lambda:invoke`,
        Parameters: invoke({ action: "report", "results.$": "$.results", "error.$": "$.error" }),
        ResultSelector: {
          "passed.$": "$.Payload.passed",
          "failed.$": "$.Payload.failed",
          "skipped.$": "$.Payload.skipped",
        },
        ResultPath: "$.report",
        Retry: [TRANSIENT_TASK_RETRY],
        // No metric this run: the drill fails loudly instead (a failed execution of the drill machine).
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "ReportFailed" }],
        Next: "AnyFailed",
      },
      ReportFailed: { Type: "Fail", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" },
      AnyFailed: {
        Type: "Choice",
        Choices: [{ Variable: "$.report.failed", NumericGreaterThan: 0, Next: "DrillFailed" }],
        Default: "DrillPassed",
      },
      DrillFailed: {
        Type: "Fail",
        Error: "DrillFailed",
        Cause:
          "at least one archive failed its restore drill: see the ledger's lastVerifyResult and the Drill Failed events",
      },
      DrillPassed: { Type: "Pass", OutputPath: "$.report", End: true },
    },
  };
}
