/**
 * Dispatcher state machine, one execution per recovery point (the starter names it by a
 * hash of the recovery point ARN, so duplicates are rejected by Step Functions):
 *
 *   ledger RUNNING → child for the type → verify the archive → ledger SUCCEEDED
 *   → [auto-delete on AND tag `requiredTag` = "true"] DeleteRecoveryPoint → confirm → notify
 *
 * The deletion tag is read with the API of the resource that holds it: an EBS recovery point
 * is an EC2 snapshot (ec2:DescribeTags), RDS and Aurora ones are DB (cluster) snapshots
 * (rds:ListTagsForResource), a DynamoDB backup without advanced features is a DynamoDB backup
 * (dynamodb:ListTagsOfResource); only `arn:<partition>:backup:` recovery points (full AWS
 * Backup management) answer backup:ListTags. Consent is the exact, case-sensitive value
 * `"true"`: "True", "TRUE", " true" or "false" keep the recovery point (a deletion cannot be
 * undone, so only the one documented spelling counts). DeleteRecoveryPoint is asynchronous:
 * its 200 only starts the deletion, so the ledger records `recoveryPointDeleted` once
 * DescribeRecoveryPoint answers ResourceNotFoundException, polled a bounded number of times;
 * a recovery point that ends EXPIRED, is still there after the last poll, or whose tag or
 * deletion failed is recorded with `recoveryPointNotDeletedReason` and notified.
 *
 * Every notify is an SNS message (unchanged) and then the outcome's EventBridge events on the
 * default bus (core/outcome-events.ts, docs/events.md) in one events:putEvents call; neither a failed
 * publish nor failed events change the outcome. TIMED_OUT and ABORTED executions are published by
 * the backstop (stacks/workflows/backstop.ts).
 *
 * Any failure: ledger FAILED with the reason → notify → fail. The recovery point is
 * only ever deleted after a passed verification. Types without an exporter in this
 * version are recorded SKIPPED and notified; a child that answers UNSUPPORTED (core/workflows.ts
 * ChildOutput: no export path for this engine or version) is recorded UNSUPPORTED with its
 * reason and notified, and the recovery point is kept.
 *
 * Input: the starter's or the reconciler's execution input (core/execution-input.ts):
 *   { plan, recoveryPoint, event, archive: { bucket, prefix, url }, placementIndex, startedBy }
 * `startedBy` ("event" | "reconciler") goes into the ledger's RUNNING record; an input without it
 * (started before it existed) is recorded as "event".
 */
import {
  OUTCOME_DETAIL_TYPES,
  OUTCOME_EVENT_SOURCE,
  type OutcomeDetail,
  type OutcomeDetailType,
} from "../../core/outcome-events";
import type { Partition } from "../../core/partition";
import type { JsonPathFieldsOf, VerifyAnswer, VerifyRequest } from "../../core/verify-contract";
import type { Workflow } from "../../core/workflows";
import {
  Catcher,
  EVENTS_RETRY,
  Retrier,
  StateMachineDefinition,
  State,
  throttlingRetry,
  TRANSIENT_TASK_RETRY,
} from "./asl";
import { EC2_RETRY } from "./ebs-export";

export interface DispatcherProps {
  /** Partition of the state machine's region: the Task integrations are `arn:<partition>:states:::…`. */
  readonly partition: Partition;
  readonly ledgerTableName: string;
  /** Child state machine per workflow; a workflow without one is recorded SKIPPED. */
  readonly children: Readonly<Partial<Record<Workflow, string>>>;
  readonly verifyFunctionArn: string;
  readonly notificationTopicArn: string;
  /** The pipeline's name (config `name`), in every outcome event (core/outcome-events.ts). */
  readonly pipelineName: string;
  readonly deleteRecoveryPoint: { readonly enabled: boolean; readonly requiredTag: string };
  /** Longest a child may run before it counts as timed out. */
  readonly childTimeoutSeconds: number;
  /** Seconds between DescribeRecoveryPoint checks after DeleteRecoveryPoint. @default 30 */
  readonly deletionPollSeconds?: number;
  /** DescribeRecoveryPoint checks before the deletion counts as not confirmed. @default 40 */
  readonly maxDeletionPolls?: number;
}

const DEFAULT_DELETION_POLL_SECONDS = 30;
const DEFAULT_MAX_DELETION_POLLS = 40;

/** DeleteRecoveryPoint while AWS Backup still works on the recovery point (e.g. a copy job reads it). */
const DELETE_BUSY_RETRY = {
  ErrorEquals: ["Backup.InvalidResourceStateException"],
  IntervalSeconds: 300,
  MaxAttempts: 6,
  BackoffRate: 1.5,
  MaxDelaySeconds: 900,
  JitterStrategy: "FULL",
} as const;

/** Longest the deletion branch can take: every busy retry at its longest, then every poll. */
export function deletionBudgetSeconds(
  props: Pick<DispatcherProps, "deletionPollSeconds" | "maxDeletionPolls">,
): number {
  let retries = 0;
  for (let n = 0; n < DELETE_BUSY_RETRY.MaxAttempts; n++) {
    retries += Math.min(
      DELETE_BUSY_RETRY.IntervalSeconds * DELETE_BUSY_RETRY.BackoffRate ** n,
      DELETE_BUSY_RETRY.MaxDelaySeconds,
    );
  }
  const polls = (props.maxDeletionPolls ?? DEFAULT_MAX_DELETION_POLLS) + 1;
  return Math.ceil(retries + polls * (props.deletionPollSeconds ?? DEFAULT_DELETION_POLL_SECONDS));
}

const CATCH_ALL_TO_FAILURE = [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "RecordFailed" }] as const;

export function dispatcherDefinition(props: DispatcherProps): StateMachineDefinition {
  if (
    !/^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u.test(props.deleteRecoveryPoint.requiredTag) ||
    props.deleteRecoveryPoint.requiredTag.includes("'")
  ) {
    throw new Error(
      `dispatcherDefinition: requiredTag ${JSON.stringify(props.deleteRecoveryPoint.requiredTag)} cannot be used in a JSONPath`,
    );
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
        // Bucket and prefix apart, for children that hand them to an AWS API (StartExportTask).
        "archive.$": "$$.Execution.Input.archive",
        "placementIndex.$": "$.placementIndex",
        "AWS_STEP_FUNCTIONS_STARTED_BY_EXECUTION_ID.$": "$$.Execution.Id",
      },
    },
    TimeoutSeconds: props.childTimeoutSeconds,
    ResultSelector: { "output.$": "$.Output" },
    ResultPath: "$.export",
    // A failed child is States.TaskFailed: never retried here (the child cleaned up already).
    Retry: [
      throttlingRetry("StepFunctions", [
        "StepFunctions.ExecutionLimitExceededException",
        "StepFunctions.SdkClientException",
      ]),
    ],
    Catch: [...CATCH_ALL_TO_FAILURE],
    Next: "ChildOutcome",
  });

  const deletionStates: Record<string, State> = props.deleteRecoveryPoint.enabled
    ? deletion(props, states, ledgerKey)
    : {};

  /** Ledger update to a final status with its reason (an intrinsic over the state's input). */
  const recordOutcome = (
    status: "SKIPPED" | "FAILED" | "UNSUPPORTED",
    reason: string,
    next: string,
    onError: Catcher,
  ): State => ({
    Type: "Task",
    Resource: `${states}dynamodb:updateItem`,
    Parameters: {
      TableName: props.ledgerTableName,
      Key: ledgerKey,
      UpdateExpression: "SET #status = :status, finishedAt = :now, failureReason = :reason",
      ExpressionAttributeNames: { "#status": "status" },
      ExpressionAttributeValues: {
        ":status": { S: status },
        ":now": { "S.$": "$$.State.EnteredTime" },
        ":reason": { "S.$": reason },
      },
    },
    ResultPath: null,
    Retry: [TRANSIENT_TASK_RETRY],
    Catch: [onError],
    Next: next,
  });

  /**
   * An outcome event's `detail` (core/outcome-events.ts): every field, each a JSONPath (or an
   * intrinsic) where `set` gives one, null where the outcome does not know it.
   */
  const detailOf = (set: Partial<Record<keyof OutcomeDetail, string>>): Record<string, unknown> => {
    const paths = {
      recoveryPointArn: "$.recoveryPointArn",
      // From the starter's input as it is: null stays null (ReadInput formats it into a string for the
      // ledger, and has read it, so the path resolves).
      resourceArn: "$$.Execution.Input.recoveryPoint.resourceArn",
      resourceType: "$.resourceType",
      workflow: "$.workflow",
      pipeline: null,
      executionArn: "$$.Execution.Id",
      startedAt: "$$.Execution.StartTime",
      // A number once VerifyArchive answered, null before (ReadInput); JSONPath cannot subtract times.
      durationSeconds: "$.verify.durationSeconds",
      archiveUrl: null,
      bytes: null,
      error: null,
      cause: null,
      reason: null,
      ...set,
    } satisfies Record<keyof OutcomeDetail, string | null>;
    return Object.fromEntries(
      Object.entries(paths).map(([field, path]) =>
        field === "pipeline" ? [field, props.pipelineName] : path === null ? [field, null] : [`${field}.$`, path],
      ),
    );
  };
  type OutcomeEvent = { readonly type: OutcomeDetailType; readonly set?: Partial<Record<keyof OutcomeDetail, string>> };
  const exported = { archiveUrl: "$.archiveUrl", bytes: "$.verify.bytes" };

  /**
   * A notification: a Pass that builds the message, then sns:publish of it as a JSON
   * string (SNS takes a string Message), then the outcome's events on the default event bus
   * (events:putEvents, one call for all of them). A lost notification or event must not turn a good
   * export into a failed one, nor hide a failure: a failed publish goes on to the events, failed
   * events go on to `next`.
   */
  const notify = (
    name: string,
    status: string,
    next: string,
    subject: string,
    events: readonly OutcomeEvent[],
    attributes: Record<string, string> = {},
  ): Record<string, State> => ({
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
        MessageAttributes: {
          status: { DataType: "String", StringValue: status },
          ...Object.fromEntries(
            Object.entries(attributes).map(([k, v]) => [k, { DataType: "String", StringValue: v }]),
          ),
        },
      },
      ResultPath: null,
      Retry: [TRANSIENT_TASK_RETRY],
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.notifyError", Next: `${name}Events` }],
      Next: `${name}Events`,
    },
    [`${name}Events`]: {
      Type: "Task",
      Comment: "The outcome on the default event bus (docs/events.md); the optimized integration serializes Detail",
      Resource: `${states}events:putEvents`,
      Parameters: {
        Entries: events.map((e) => ({
          Source: OUTCOME_EVENT_SOURCE,
          DetailType: e.type,
          Detail: detailOf(e.set ?? {}),
        })),
      },
      ResultPath: null,
      Retry: [EVENTS_RETRY],
      Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.eventsError", Next: next }],
      Next: next,
    },
  });

  return {
    Comment: "backup-actions dispatcher: ledger, export, verify, optional delete, notify",
    StartAt: "StartedBy",
    TimeoutSeconds:
      props.childTimeoutSeconds + 3600 + (props.deleteRecoveryPoint.enabled ? deletionBudgetSeconds(props) : 0),
    States: {
      StartedBy: {
        Type: "Choice",
        Comment: "An input from before startedBy existed (core/execution-input.ts) was started by an event",
        Choices: [{ Variable: "$.startedBy", IsPresent: false, Next: "StartedByEvent" }],
        Default: "ReadInput",
      },
      StartedByEvent: { Type: "Pass", Result: "event", ResultPath: "$.startedBy", Next: "ReadInput" },
      ReadInput: {
        Type: "Pass",
        Comment: "The starter's input (core/execution-input.ts), flattened to what the states use",
        Parameters: {
          "recoveryPointArn.$": "$.recoveryPoint.arn",
          "workflow.$": "$.plan.workflow",
          "backupVaultName.$": "$.recoveryPoint.vault",
          "resourceArn.$": "States.Format('{}', $.recoveryPoint.resourceArn)",
          // Read here, first, so a notification never meets a missing field after the export (an
          // unresolvable path in a Task's Parameters is States.Runtime, which no Catch handles).
          "resourceType.$": "$.recoveryPoint.resourceType",
          "archiveUrl.$": "$.archive.url",
          "placementIndex.$": "$.placementIndex",
          "startedBy.$": "$.startedBy",
          // VerifyArchive's answer replaces it (ResultPath $.verify): the events read durationSeconds
          // from here, null on every path that ends before a verification.
          verify: { durationSeconds: null },
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
            workflow: { "S.$": "$.workflow" },
            backupVaultName: { "S.$": "$.backupVaultName" },
            resourceArn: { "S.$": "$.resourceArn" },
            archiveUrl: { "S.$": "$.archiveUrl" },
            executionArn: { "S.$": "$$.Execution.Id" },
            startedAt: { "S.$": "$$.Execution.StartTime" },
            startedBy: { "S.$": "$.startedBy" },
          },
        },
        ResultPath: null,
        Retry: [TRANSIENT_TASK_RETRY],
        Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "NotifyFailed" }],
        Next: "ChooseExport",
      },
      ChooseExport: {
        Type: "Choice",
        Choices: children.map(([workflow]) => ({
          Variable: "$.workflow",
          StringEquals: workflow,
          Next: `Export-${workflow}`,
        })),
        Default: "RecordSkipped",
      },
      ...Object.fromEntries(children.map(([workflow, arn]) => [`Export-${workflow}`, runChild(arn)])),
      ChildOutcome: {
        Type: "Choice",
        Comment: "The child's answer (core/workflows.ts ChildOutput): no outcome or EXPORTED → verify",
        Choices: [
          {
            And: [
              { Variable: "$.export.output.outcome", IsPresent: true },
              { Variable: "$.export.output.outcome", IsString: true },
              { Variable: "$.export.output.outcome", StringEquals: "UNSUPPORTED" },
              { Variable: "$.export.output.reason", IsPresent: true },
              { Variable: "$.export.output.reason", IsString: true },
            ],
            Next: "RecordUnsupported",
          },
          {
            And: [
              { Variable: "$.export.output.outcome", IsPresent: true },
              {
                Not: {
                  And: [
                    { Variable: "$.export.output.outcome", IsString: true },
                    { Variable: "$.export.output.outcome", StringEquals: "EXPORTED" },
                  ],
                },
              },
            ],
            Next: "ChildOutcomeInvalid",
          },
        ],
        Default: "VerifyArchive",
      },
      ChildOutcomeInvalid: {
        Type: "Pass",
        Parameters: {
          Error: "ChildOutputInvalid",
          "Cause.$":
            "States.Format('the child answered {}: expected no outcome, EXPORTED, or UNSUPPORTED with a reason', States.JsonToString($.export.output))",
        },
        ResultPath: "$.error",
        Next: "RecordFailed",
      },
      RecordUnsupported: recordOutcome("UNSUPPORTED", "$.export.output.reason", "NotifyUnsupported", {
        ErrorEquals: ["States.ALL"],
        ResultPath: "$.error",
        Next: "NotifyFailed",
      }),
      ...notify(
        "NotifyUnsupported",
        "UNSUPPORTED",
        "Succeeded",
        "backup-actions: export unsupported, recovery point kept",
        [{ type: OUTCOME_DETAIL_TYPES.exportUnsupported, set: { reason: "$.export.output.reason" } }],
      ),
      VerifyArchive: {
        Type: "Task",
        Resource: `${states}lambda:invoke`,
        Parameters: {
          FunctionName: props.verifyFunctionArn,
          Payload: {
            "archiveUrl.$": "$.archiveUrl",
            "recoveryPointArn.$": "$.recoveryPointArn",
            "workflow.$": "$.workflow",
            "export.$": "$.export.output",
            "executionStartTime.$": "$$.Execution.StartTime",
          } satisfies JsonPathFieldsOf<VerifyRequest>,
        },
        ResultSelector: {
          "verified.$": "$.Payload.verified",
          "bytes.$": "$.Payload.bytes",
          "sha256.$": "$.Payload.sha256",
          "reason.$": "$.Payload.reason",
          "durationSeconds.$": "$.Payload.durationSeconds",
        } satisfies JsonPathFieldsOf<VerifyAnswer>,
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
        Next: props.deleteRecoveryPoint.enabled ? "DeletionTagSource" : "NotifySucceeded",
      },
      ...deletionStates,
      ...notify("NotifySucceeded", "SUCCEEDED", "Succeeded", "backup-actions: export succeeded", [
        { type: OUTCOME_DETAIL_TYPES.exportSucceeded, set: exported },
      ]),
      ...(props.deleteRecoveryPoint.enabled
        ? {
            // The same SNS message as NotifySucceeded; the events also say the recovery point is gone.
            ...notify("NotifyDeleted", "SUCCEEDED", "Succeeded", "backup-actions: export succeeded", [
              { type: OUTCOME_DETAIL_TYPES.exportSucceeded, set: exported },
              { type: OUTCOME_DETAIL_TYPES.recoveryPointDeleted, set: exported },
            ]),
            ...notify(
              "NotifyNotDeleted",
              "SUCCEEDED",
              "Succeeded",
              "backup-actions: export succeeded, recovery point NOT deleted",
              [
                { type: OUTCOME_DETAIL_TYPES.exportSucceeded, set: exported },
                {
                  type: OUTCOME_DETAIL_TYPES.recoveryPointNotDeleted,
                  set: { ...exported, reason: "$.notDeleted.reason" },
                },
              ],
              { deletion: "NOT_DELETED" },
            ),
          }
        : {}),
      Succeeded: { Type: "Succeed" },
      RecordSkipped: recordOutcome(
        "SKIPPED",
        "States.Format('no exporter for workflow {} is deployed', $.workflow)",
        "NotifySkipped",
        { ErrorEquals: ["States.ALL"], ResultPath: "$.error", Next: "NotifyFailed" },
      ),
      ...notify("NotifySkipped", "SKIPPED", "Succeeded", "backup-actions: export skipped", [
        {
          type: OUTCOME_DETAIL_TYPES.exportSkipped,
          set: { reason: "States.Format('no exporter for workflow {} is deployed', $.workflow)" },
        },
      ]),
      RecordFailed: recordOutcome("FAILED", "States.Format('{}: {}', $.error.Error, $.error.Cause)", "NotifyFailed", {
        ErrorEquals: ["States.ALL"],
        ResultPath: "$.ledgerError",
        Next: "NotifyFailed",
      }),
      ...notify("NotifyFailed", "FAILED", "Failed", "backup-actions: export FAILED", [
        { type: OUTCOME_DETAIL_TYPES.exportFailed, set: { error: "$.error.Error", cause: "$.error.Cause" } },
      ]),
      Failed: { Type: "Fail", ErrorPath: "$.error.Error", CausePath: "$.error.Cause" },
    },
  };
}

/**
 * Auto-delete: read the tag where it lives, delete on exact consent, confirm the deletion.
 * Entered at `DeletionTagSource` after the ledger says SUCCEEDED; leaves to NotifyDeleted (gone),
 * NotifySucceeded (kept for want of consent) or NotifyNotDeleted (it should have gone and did not).
 */
function deletion(props: DispatcherProps, states: string, ledgerKey: Record<string, unknown>): Record<string, State> {
  const tag = props.deleteRecoveryPoint.requiredTag;
  const pollSeconds = props.deletionPollSeconds ?? DEFAULT_DELETION_POLL_SECONDS;
  const maxPolls = props.maxDeletionPolls ?? DEFAULT_MAX_DELETION_POLLS;
  const toNotDeleted = (next = "DeletionFailed"): Catcher => ({
    ErrorEquals: ["States.ALL"],
    ResultPath: "$.deletionError",
    Next: next,
  });
  /** Tags as a list of {Key, Value}: the value of our key, as a list of zero or one values. */
  const valuesOf = (list: string): Record<string, string> => ({ "values.$": `${list}[?(@.Key == '${tag}')].Value` });
  const readTag = (
    resource: string,
    parameters: Record<string, unknown>,
    selector: Record<string, string>,
    retry: Retrier,
  ): State => ({
    Type: "Task",
    Resource: `${states}aws-sdk:${resource}`,
    Parameters: parameters,
    ResultSelector: selector,
    ResultPath: "$.deletionTag",
    Retry: [retry],
    Catch: [toNotDeleted()],
    Next: "DeletionConsented",
  });
  const notDeleted = (reason: string): State => ({
    Type: "Pass",
    Parameters: { "reason.$": reason },
    ResultPath: "$.notDeleted",
    Next: "RecordNotDeleted",
  });
  const ledgerUpdate = (
    expression: string,
    values: Record<string, unknown>,
    next: string,
    onError = "NotifyNotDeleted",
  ): State => ({
    Type: "Task",
    Resource: `${states}dynamodb:updateItem`,
    Parameters: {
      TableName: props.ledgerTableName,
      Key: ledgerKey,
      UpdateExpression: expression,
      ExpressionAttributeValues: values,
    },
    ResultPath: null,
    Retry: [TRANSIENT_TASK_RETRY],
    Catch: [{ ErrorEquals: ["States.ALL"], ResultPath: "$.ledgerError", Next: onError }],
    Next: next,
  });
  const isTrue = (variable: string) => ({
    And: [
      { Variable: variable, IsPresent: true },
      { Variable: variable, IsString: true },
      { Variable: variable, StringEquals: "true" },
    ],
  });

  return {
    DeletionTagSource: {
      Type: "Choice",
      Comment: "The tag lives on the resource the recovery point is; only backup: ARNs answer backup:ListTags",
      Choices: [
        { Variable: "$.recoveryPointArn", StringMatches: "arn:*:ec2:*::snapshot/snap-*", Next: "ReadSnapshotTag" },
        {
          Or: [
            { Variable: "$.recoveryPointArn", StringMatches: "arn:*:rds:*:*:snapshot:*" },
            { Variable: "$.recoveryPointArn", StringMatches: "arn:*:rds:*:*:cluster-snapshot:*" },
          ],
          Next: "ReadDbSnapshotTag",
        },
        {
          Variable: "$.recoveryPointArn",
          StringMatches: "arn:*:dynamodb:*:*:table/*/backup/*",
          Next: "ReadDynamoDbBackupTag",
        },
        {
          Variable: "$.recoveryPointArn",
          StringMatches: "arn:*:backup:*:*:recovery-point:*",
          Next: "ReadBackupRecoveryPointTag",
        },
      ],
      Default: "NoTagSource",
    },
    NoTagSource: notDeleted("States.Format('no API reads the tags of recovery point {}', $.recoveryPointArn)"),
    ReadSnapshotTag: readTag(
      "ec2:describeTags",
      {
        Filters: [
          {
            Name: "resource-id",
            "Values.$": "States.Array(States.ArrayGetItem(States.StringSplit($.recoveryPointArn, '/'), 1))",
          },
          { Name: "key", Values: [tag] },
        ],
      },
      valuesOf("$.Tags"),
      // Every EC2 error of an aws-sdk integration is Ec2.Ec2Exception (throttling included).
      EC2_RETRY,
    ),
    ReadDbSnapshotTag: readTag(
      "rds:listTagsForResource",
      { "ResourceName.$": "$.recoveryPointArn" },
      valuesOf("$.TagList"),
      throttlingRetry("Rds"),
    ),
    ReadDynamoDbBackupTag: readTag(
      "dynamodb:listTagsOfResource",
      { "ResourceArn.$": "$.recoveryPointArn" },
      valuesOf("$.Tags"),
      throttlingRetry("DynamoDb", ["DynamoDb.LimitExceededException"]),
    ),
    ReadBackupRecoveryPointTag: readTag(
      "backup:listTags",
      { "ResourceArn.$": "$.recoveryPointArn" },
      { "tags.$": "$.Tags" },
      throttlingRetry("Backup"),
    ),
    DeletionConsented: {
      Type: "Choice",
      Comment: `Consent is the exact value "true" of tag ${tag}, nothing else`,
      Choices: [
        {
          Or: [isTrue("$.deletionTag.values[0]"), isTrue(`$.deletionTag.tags['${tag}']`)],
          Next: "DeleteRecoveryPoint",
        },
      ],
      Default: "RecordKept",
    },
    RecordKept: ledgerUpdate(
      "SET recoveryPointNotDeletedReason = :reason",
      { ":reason": { S: `kept: the recovery point's tag ${tag} is not the exact value "true"` } },
      "NotifySucceeded",
      "NotifySucceeded",
    ),
    DeleteRecoveryPoint: {
      Type: "Task",
      Resource: `${states}aws-sdk:backup:deleteRecoveryPoint`,
      Parameters: { "BackupVaultName.$": "$.backupVaultName", "RecoveryPointArn.$": "$.recoveryPointArn" },
      ResultPath: null,
      Retry: [throttlingRetry("Backup"), DELETE_BUSY_RETRY],
      Catch: [toNotDeleted()],
      Next: "StartDeletionPolls",
    },
    StartDeletionPolls: { Type: "Pass", Result: { count: 0 }, ResultPath: "$.deletionPolls", Next: "WaitForDeletion" },
    WaitForDeletion: { Type: "Wait", Seconds: pollSeconds, Next: "DescribeDeletion" },
    DescribeDeletion: {
      Type: "Task",
      Comment: "DeleteRecoveryPoint is asynchronous: gone (ResourceNotFoundException) is the only proof",
      Resource: `${states}aws-sdk:backup:describeRecoveryPoint`,
      Parameters: { "BackupVaultName.$": "$.backupVaultName", "RecoveryPointArn.$": "$.recoveryPointArn" },
      ResultSelector: { "status.$": "$.Status", "point.$": "$" },
      ResultPath: "$.deletionCheck",
      Retry: [throttlingRetry("Backup")],
      Catch: [
        { ErrorEquals: ["Backup.ResourceNotFoundException"], ResultPath: "$.deletionCheck", Next: "RecordDeleted" },
        toNotDeleted(),
      ],
      Next: "DeletionProgress",
    },
    DeletionProgress: {
      Type: "Choice",
      Choices: [
        { Variable: "$.deletionCheck.status", StringEquals: "EXPIRED", Next: "DeletionExpired" },
        {
          And: [
            {
              Or: [
                { Variable: "$.deletionCheck.status", StringEquals: "DELETING" },
                // Just after the 200 the old status can still show.
                { Variable: "$.deletionCheck.status", StringEquals: "COMPLETED" },
              ],
            },
            { Variable: "$.deletionPolls.count", NumericLessThan: maxPolls },
          ],
          Next: "CountDeletionPoll",
        },
      ],
      Default: "DeletionNotConfirmed",
    },
    CountDeletionPoll: {
      Type: "Pass",
      Parameters: { "count.$": "States.MathAdd($.deletionPolls.count, 1)" },
      ResultPath: "$.deletionPolls",
      Next: "WaitForDeletion",
    },
    DeletionExpired: {
      Type: "Choice",
      Choices: [{ Variable: "$.deletionCheck.point.StatusMessage", IsPresent: true, Next: "ExpiredWithMessage" }],
      Default: "ExpiredWithoutMessage",
    },
    ExpiredWithMessage: notDeleted(
      "States.Format('DeleteRecoveryPoint was accepted but the recovery point ended EXPIRED: {}', $.deletionCheck.point.StatusMessage)",
    ),
    ExpiredWithoutMessage: notDeleted(
      "States.Format('DeleteRecoveryPoint was accepted but the recovery point ended EXPIRED')",
    ),
    DeletionNotConfirmed: notDeleted(
      `States.Format('recovery point still {} after ${maxPolls + 1} checks ${pollSeconds} s apart', $.deletionCheck.status)`,
    ),
    DeletionFailed: notDeleted("States.Format('{}: {}', $.deletionError.Error, $.deletionError.Cause)"),
    RecordNotDeleted: ledgerUpdate(
      "SET recoveryPointNotDeletedReason = :reason",
      { ":reason": { "S.$": "$.notDeleted.reason" } },
      "NotifyNotDeleted",
    ),
    // The recovery point is gone either way: a failed ledger write is in the notification's details.
    RecordDeleted: ledgerUpdate(
      "SET recoveryPointDeleted = :true, deletedAt = :now",
      { ":true": { BOOL: true }, ":now": { "S.$": "$$.State.EnteredTime" } },
      "NotifyDeleted",
      "NotifyDeleted",
    ),
  };
}
