/**
 * Dispatcher state machine, one execution per recovery point (the starter names it by a
 * hash of the recovery point ARN, so duplicates are rejected by Step Functions):
 *
 *   ledger RUNNING → child for the type → verify the archive → ledger SUCCEEDED
 *   → [auto-delete on AND tag `requiredTag` = "true"] DeleteRecoveryPoint → notify
 *
 * Any failure: ledger FAILED with the reason → notify → fail. The recovery point is
 * only ever deleted after a passed verification. Types without an exporter in this
 * version are recorded SKIPPED and notified.
 *
 * Input: the starter's execution input (core/execution-input.ts):
 *   { plan, recoveryPoint, event, archive: { bucket, prefix, url }, placementIndex }
 */
import type { Partition } from "../../core/partition";
import type { JsonPathFieldsOf, VerifyRequest, VerifyResult } from "../../core/verify-contract";
import type { Workflow } from "../../core/workflows";
import { Catcher, StateMachineDefinition, State, throttlingRetry, TRANSIENT_TASK_RETRY } from "./asl";

export interface DispatcherProps {
  /** Partition of the state machine's region: the Task integrations are `arn:<partition>:states:::…`. */
  readonly partition: Partition;
  readonly ledgerTableName: string;
  /** Child state machine per workflow; a workflow without one is recorded SKIPPED. */
  readonly children: Readonly<Partial<Record<Workflow, string>>>;
  readonly verifyFunctionArn: string;
  readonly notificationTopicArn: string;
  readonly deleteRecoveryPoint: { readonly enabled: boolean; readonly requiredTag: string };
  /** Longest a child may run before it counts as timed out. */
  readonly childTimeoutSeconds: number;
}

const CATCH_ALL_TO_FAILURE = [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "RecordFailed" }] as const;

export function dispatcherDefinition(props: DispatcherProps): StateMachineDefinition {
  if (!/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u.test(props.deleteRecoveryPoint.requiredTag) || props.deleteRecoveryPoint.requiredTag.includes("'")) {
    throw new Error(`dispatcherDefinition: requiredTag ${JSON.stringify(props.deleteRecoveryPoint.requiredTag)} cannot be used in a JSONPath`);
  }
  const states = `arn:${props.partition}:states:::`;
  const ledgerKey = { recoveryPointArn: { "S.$": "$.recoveryPointArn" } };
  const children = Object.entries(props.children).filter((e): e is [string, string] => typeof e[1] === "string");

  const runChild = (arn: string): State => ({
    Type: "Task",
    Resource: `${states}states:startExecution.sync:2`,
    Parameters: {
      StateMachineArn: arn,
      "Name.$": "$$.Execution.Name",
      Input: {
        "recoveryPointArn.$": "$.recoveryPointArn",
        "archiveUrl.$": "$.archiveUrl",
        "placementIndex.$": "$.placementIndex",
        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
      },
    },
    TimeoutSeconds: props.childTimeoutSeconds,
    ResultSelector: { "output.$": "$.Output" },
    ResultPath: "$.export",
    // A failed child is States.TaskFailed: never retried here (the child cleaned up already).
    Retry: [throttlingRetry("StepFunctions", ["StepFunctions.ExecutionLimitExceededException", "StepFunctions.SdkClientException"])],
    Catch: [...CATCH_ALL_TO_FAILURE],
    Next: "VerifyArchive",
  });

  const deletionStates: Record<string, State> = props.deleteRecoveryPoint.enabled
    ? {
        ReadRecoveryPointTags: {
          Type: "Task",
          Resource: `${states}aws-sdk:backup:listTags`,
          Parameters: { "ResourceArn.$": "$.recoveryPointArn" },
          ResultSelector: { "tags.$": "$.Tags" },
          ResultPath: "$.recoveryPoint",
          Retry: [throttlingRetry("Backup")],
          Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.deletion", Next: "NotifySucceeded" }],
          Next: "DeleteRequested",
        },
        DeleteRequested: {
          Type: "Choice",
          Choices: [
            {
              And: [
                { Variable: `$.recoveryPoint.tags['${props.deleteRecoveryPoint.requiredTag}']`, IsPresent: true },
                { Variable: `$.recoveryPoint.tags['${props.deleteRecoveryPoint.requiredTag}']`, StringEquals: "true" },
              ],
              Next: "DeleteRecoveryPoint",
            },
          ],
          Default: "NotifySucceeded",
        },
        DeleteRecoveryPoint: {
          Type: "Task",
          Resource: `${states}aws-sdk:backup:deleteRecoveryPoint`,
          Parameters: { "BackupVaultName.$": "$.backupVaultName", "RecoveryPointArn.$": "$.recoveryPointArn" },
          ResultPath: null,
          Retry: [
            throttlingRetry("Backup"),
            // e.g. a copy job still reading it: wait and try again, a few times.
            { ErrorEquals: ["Backup.InvalidResourceStateException"], IntervalSeconds: 300, MaxAttempts: 6, BackoffRate: 1.5 },
          ],
          Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.deletion", Next: "NotifySucceeded" }],
          Next: "RecordDeleted",
        },
        RecordDeleted: {
          Type: "Task",
          Resource: `${states}dynamodb:updateItem`,
          Parameters: {
            TableName: props.ledgerTableName,
            Key: ledgerKey,
            UpdateExpression: "SET recoveryPointDeleted = :true, deletedAt = :now",
            ExpressionAttributeValues: { ":true": { BOOL: true }, ":now": { "S.$": "$$.State.EnteredTime" } },
          },
          ResultPath: null,
          Retry: [TRANSIENT_TASK_RETRY],
          Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.deletion", Next: "NotifySucceeded" }],
          Next: "NotifySucceeded",
        },
      }
    : {};

  /** Ledger update to a final status with its reason (an intrinsic over the state's input). */
  const recordOutcome = (status: "SKIPPED" | "FAILED", reason: string, next: string, onError: Catcher): State => ({
    Type: "Task",
    Resource: `${states}dynamodb:updateItem`,
    Parameters: {
      TableName: props.ledgerTableName,
      Key: ledgerKey,
      UpdateExpression: "SET #status = :status, finishedAt = :now, failureReason = :reason",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: { ":status": { S: status }, ":now": { "S.$": "$$.State.EnteredTime" }, ":reason": { "S.$": reason } },
    },
    ResultPath: null,
    Retry: [TRANSIENT_TASK_RETRY],
    Catch: [onError],
    Next: next,
  });

  /**
   * A notification: a Pass that builds the message, then sns:publish of it as a JSON
   * string (SNS takes a string Message). A lost notification must not turn a good export
   * into a failed one, nor hide a failure: a failed publish goes on to `next`.
   */
  const notify = (name: string, status: string, next: string, subject: string): Record<string, State> => ({
    [name]: {
      Type: "Pass",
      Parameters: {
        status,
        "recoveryPointArn.$": "$.recoveryPointArn",
        "workflow.$": "$.workflow",
        "archiveUrl.$": "$.archiveUrl",
        "execution.$": "$$.Execution.Id",
        "details.$": "$",
      },
      ResultPath: "$.notification",
      Next: `${name}Publish`,
    },
    [`${name}Publish`]: {
      Type: "Task",
      Resource: `${states}sns:publish`,
      Parameters: {
        TopicArn: props.notificationTopicArn,
        Subject: subject,
        "Message.$": "States.JsonToString($.notification)",
        MessageAttributes: { status: { DataType: "String", StringValue: status } },
      },
      ResultPath: null,
      Retry: [TRANSIENT_TASK_RETRY],
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.notifyError", Next: next }],
      Next: next,
    },
  });

  return {
    Comment: "backup-actions dispatcher: ledger, export, verify, optional delete, notify",
    StartAt: "ReadInput",
    TimeoutSeconds: props.childTimeoutSeconds + 3600,
    States: {
      ReadInput: {
        Type: "Pass",
        Comment: "The starter's input (core/execution-input.ts), flattened to what the states use",
        Parameters: {
          "recoveryPointArn.$": "$.recoveryPoint.arn",
          "workflow.$": "$.plan.workflow",
          "backupVaultName.$": "$.recoveryPoint.vault",
          "resourceArn.$": "States.Format('{}', $.recoveryPoint.resourceArn)",
          "archiveUrl.$": "$.archive.url",
          "placementIndex.$": "$.placementIndex",
        },
        Next: "RecordRunning",
      },
      RecordRunning: {
        Type: "Task",
        Resource: `${states}dynamodb:putItem`,
        Parameters: {
          TableName: props.ledgerTableName,
          Item: {
            ...ledgerKey,
            status: { S: "RUNNING" },
            "workflow": { "S.$": "$.workflow" },
            backupVaultName: { "S.$": "$.backupVaultName" },
            resourceArn: { "S.$": "$.resourceArn" },
            archiveUrl: { "S.$": "$.archiveUrl" },
            executionArn: { "S.$": "$$.Execution.Id" },
            startedAt: { "S.$": "$$.Execution.StartTime" },
          },
        },
        ResultPath: null,
        Retry: [TRANSIENT_TASK_RETRY],
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "NotifyFailed" }],
        Next: "ChooseExport",
      },
      ChooseExport: {
        Type: "Choice",
        Choices: children.map(([workflow]) => ({ Variable: "$.workflow", StringEquals: workflow, Next: `Export-${workflow}` })),
        Default: "RecordSkipped",
      },
      ...Object.fromEntries(children.map(([workflow, arn]) => [`Export-${workflow}`, runChild(arn)])),
      VerifyArchive: {
        Type: "Task",
        Resource: `${states}lambda:invoke`,
        Parameters: {
          FunctionName: props.verifyFunctionArn,
          Payload: { "archiveUrl.$": "$.archiveUrl", "recoveryPointArn.$": "$.recoveryPointArn" } satisfies JsonPathFieldsOf<VerifyRequest>,
        },
        ResultSelector: {
          "verified.$": "$.Payload.verified",
          "bytes.$": "$.Payload.bytes",
          "sha256.$": "$.Payload.sha256",
          "reason.$": "$.Payload.reason",
        } satisfies JsonPathFieldsOf<VerifyResult>,
        ResultPath: "$.verify",
        Retry: [TRANSIENT_TASK_RETRY],
        Catch: [...CATCH_ALL_TO_FAILURE],
        Next: "Verified",
      },
      Verified: {
        Type: "Choice",
        Choices: [{ Variable: "$.verify.verified", BooleanEquals: true, Next: "RecordSucceeded" }],
        Default: "VerificationFailed",
      },
      VerificationFailed: {
        Type: "Pass",
        Parameters: { Error: "VerificationFailed", "Cause.$": "$.verify.reason" },
        ResultPath: "$.error",
        Next: "RecordFailed",
      },
      RecordSucceeded: {
        Type: "Task",
        Resource: `${states}dynamodb:updateItem`,
        Parameters: {
          TableName: props.ledgerTableName,
          Key: ledgerKey,
          UpdateExpression: "SET #status = :status, finishedAt = :now, bytes = :bytes, sha256 = :sha256",
          ExpressionAttributeNames: { "#status": "status" },
          ExpressionAttributeValues: {
            ":status": { S: "SUCCEEDED" },
            ":now": { "S.$": "$$.State.EnteredTime" },
            ":bytes": { "N.$": "States.Format('{}', $.verify.bytes)" },
            ":sha256": { "S.$": "$.verify.sha256" },
          },
        },
        ResultPath: null,
        Retry: [TRANSIENT_TASK_RETRY],
        Catch: [...CATCH_ALL_TO_FAILURE],
        Next: props.deleteRecoveryPoint.enabled ? "ReadRecoveryPointTags" : "NotifySucceeded",
      },
      ...deletionStates,
      ...notify("NotifySucceeded", "SUCCEEDED", "Succeeded", "backup-actions: export succeeded"),
      Succeeded: { Type: "Succeed" },
      RecordSkipped: recordOutcome("SKIPPED", "States.Format('no exporter for workflow {} is deployed', $.workflow)", "NotifySkipped", { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "NotifyFailed" }),
      ...notify("NotifySkipped", "SKIPPED", "Succeeded", "backup-actions: export skipped"),
      RecordFailed: recordOutcome("FAILED", "States.Format('{}: {}', $.error.Error, $.error.Cause)", "NotifyFailed", { ErrorEquals: ["States.ALL"], ResultPath: "$.ledgerError", Next: "NotifyFailed" }),
      ...notify("NotifyFailed", "FAILED", "Failed", "backup-actions: export FAILED"),
      Failed: { Type: "Fail", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" },
    },
  };
}
