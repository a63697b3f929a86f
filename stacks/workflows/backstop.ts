/**
 * Backstop state machine: publishes "Export Timed Out" / "Export Aborted" (core/outcome-events.ts)
 * for a dispatcher execution that ended without reaching its own notification. A dispatcher that
 * times out or is stopped runs none of its states any more, so the pipeline's EventBridge rule on
 * "Step Functions Execution Status Change" (stacks/constructs/notifications.ts) starts this machine
 * with the status-change event as input.
 *
 * Why a state machine and not an input transformer on a rule that targets the default bus: the
 * event's `detail.input` (the dispatcher's input, where the recovery point is) is a JSON *string*,
 * which an input transformer cannot look into, and a rule forwarding to a bus keeps the event's own
 * source (aws.states). `States.StringToJson` reads it here, and the same events:putEvents
 * integration as the dispatcher's publishes the event.
 *
 * Input (EventBridge, "Step Functions Execution Status Change"):
 *   { "detail-type": …, detail: { executionArn, stateMachineArn, status, startDate, stopDate, input, … } }
 */
import { OUTCOME_DETAIL_TYPES, OUTCOME_EVENT_SOURCE, type OutcomeDetail } from "../../core/outcome-events";
import type { Partition } from "../../core/partition";
import { EVENTS_RETRY, type State, type StateMachineDefinition } from "./asl";

export interface BackstopProps {
  readonly partition: Partition;
  /** The pipeline's name (config `name`), in the events. */
  readonly pipelineName: string;
}

/** What each abnormal end is published as. */
export const BACKSTOP_OUTCOMES = {
  TIMED_OUT: {
    detailType: OUTCOME_DETAIL_TYPES.exportTimedOut,
    error: "States.Timeout",
    cause: "the dispatcher execution ran longer than its TimeoutSeconds and was ended by Step Functions",
  },
  ABORTED: {
    detailType: OUTCOME_DETAIL_TYPES.exportAborted,
    error: "States.Aborted",
    cause: "the dispatcher execution was stopped (StopExecution) before it finished",
  },
} as const;

export function backstopDefinition(props: BackstopProps): StateMachineDefinition {
  const states = `arn:${props.partition}:states:::`;
  const detail = {
    "recoveryPointArn.$": "$.dispatcher.input.recoveryPoint.arn",
    "resourceArn.$": "$.dispatcher.input.recoveryPoint.resourceArn",
    "resourceType.$": "$.dispatcher.input.recoveryPoint.resourceType",
    "workflow.$": "$.dispatcher.input.plan.workflow",
    pipeline: props.pipelineName,
    "executionArn.$": "$.detail.executionArn",
    // The event gives startDate in epoch milliseconds; JSONPath cannot turn it into ISO 8601.
    startedAt: null,
    // No Lambda runs here, and JSONPath cannot subtract stopDate - startDate.
    durationSeconds: null,
    archiveUrl: null,
    bytes: null,
    "error.$": "$.outcome.error",
    "cause.$": "$.outcome.cause",
    reason: null,
  } satisfies { readonly [K in keyof OutcomeDetail as K | `${K}.$`]?: unknown };
  const outcome = (status: keyof typeof BACKSTOP_OUTCOMES): State => ({
    Type: "Pass",
    Result: BACKSTOP_OUTCOMES[status],
    ResultPath: "$.outcome",
    Next: "Publish",
  });
  return {
    Comment:
      "backup-actions backstop: Export Timed Out / Export Aborted for dispatcher executions that could not say so",
    StartAt: "ReadDispatcherInput",
    TimeoutSeconds: 3600,
    States: {
      ReadDispatcherInput: {
        Type: "Pass",
        Comment: "detail.input is the dispatcher's input as a JSON string (core/execution-input.ts)",
        Parameters: { "input.$": "States.StringToJson($.detail.input)" },
        ResultPath: "$.dispatcher",
        Next: "Status",
      },
      Status: {
        Type: "Choice",
        Choices: [
          { Variable: "$.detail.status", StringEquals: "TIMED_OUT", Next: "TimedOut" },
          { Variable: "$.detail.status", StringEquals: "ABORTED", Next: "Aborted" },
        ],
        Default: "NotAbnormal",
      },
      TimedOut: outcome("TIMED_OUT"),
      Aborted: outcome("ABORTED"),
      // The rule lets through TIMED_OUT and ABORTED only; anything else is a wiring mistake, said loudly.
      NotAbnormal: {
        Type: "Fail",
        Error: "UnexpectedStatus",
        Cause: "the backstop handles TIMED_OUT and ABORTED dispatcher executions only",
      },
      Publish: {
        Type: "Task",
        Resource: `${states}events:putEvents`,
        Parameters: {
          Entries: [{ Source: OUTCOME_EVENT_SOURCE, "DetailType.$": "$.outcome.detailType", Detail: detail }],
        },
        ResultPath: null,
        Retry: [EVENTS_RETRY],
        End: true,
      },
    },
  };
}
