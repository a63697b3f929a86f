/**
 * Shapes shared by the interpreter: the ASL definition (JSONPath flavour, loosely typed on purpose —
 * the definitions come from `stacks/workflows/` as plain objects and are validated by asl-validator
 * before we run them), the execution result and the error type that carries an ASL error name.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

/** One state of a definition. Only the fields the interpreter reads are listed. */
export interface AslState {
  readonly Type: "Pass" | "Task" | "Choice" | "Wait" | "Succeed" | "Fail" | "Parallel" | "Map";
  readonly Comment?: string;
  readonly Next?: string;
  readonly End?: boolean;
  readonly InputPath?: string | null;
  readonly OutputPath?: string | null;
  readonly ResultPath?: string | null;
  readonly Parameters?: Json;
  readonly ResultSelector?: Json;
  readonly Result?: Json;
  readonly Resource?: string;
  readonly TimeoutSeconds?: number;
  readonly TimeoutSecondsPath?: string;
  readonly HeartbeatSeconds?: number;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
  readonly Choices?: readonly ChoiceRule[];
  readonly Default?: string;
  readonly Seconds?: number;
  readonly SecondsPath?: string;
  readonly Timestamp?: string;
  readonly TimestampPath?: string;
  readonly Error?: string;
  readonly ErrorPath?: string;
  readonly Cause?: string;
  readonly CausePath?: string;
  readonly Branches?: readonly AslDefinition[];
  readonly ItemsPath?: string;
  readonly ItemSelector?: Json;
  readonly MaxConcurrency?: number;
  readonly Iterator?: AslDefinition;
  readonly ItemProcessor?: AslDefinition;
  readonly QueryLanguage?: string;
}

export interface AslDefinition {
  readonly Comment?: string;
  readonly StartAt: string;
  readonly States: Readonly<Record<string, AslState>>;
  readonly TimeoutSeconds?: number;
  readonly QueryLanguage?: string;
}

export interface Retrier {
  readonly ErrorEquals: readonly string[];
  readonly IntervalSeconds?: number;
  readonly MaxAttempts?: number;
  readonly BackoffRate?: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: "FULL" | "NONE";
}

export interface Catcher {
  readonly ErrorEquals: readonly string[];
  readonly Next: string;
  readonly ResultPath?: string | null;
}

/** A Choice rule: either a comparison on `Variable` or a boolean combination. */
export interface ChoiceRule {
  readonly Next?: string;
  readonly Variable?: string;
  readonly And?: readonly ChoiceRule[];
  readonly Or?: readonly ChoiceRule[];
  readonly Not?: ChoiceRule;
  readonly [operator: string]: unknown;
}

/** The subset of Step Functions' HistoryEvent the helper produces (and reads back from moto). */
export interface HistoryEvent {
  readonly id: number;
  readonly previousEventId: number;
  readonly timestamp: Date;
  readonly type: string;
  readonly [details: string]: unknown;
}

export type ExecutionStatus = "SUCCEEDED" | "FAILED" | "TIMED_OUT" | "ABORTED" | "RUNNING";

export interface ExecutionResult {
  readonly status: ExecutionStatus;
  /** Parsed JSON output when the execution succeeded. */
  readonly output?: Json;
  readonly error?: string;
  readonly cause?: string;
  readonly history: HistoryEvent[];
  /** Executions started by `states:startExecution.sync:2` tasks (local mode only). Each has its own history. */
  readonly childExecutions: ExecutionResult[];
}

/**
 * An error with an ASL error name. Anything a task handler throws is turned into one of these:
 * `name` becomes the ASL `Error` (what Retry/Catch match) and `message` the `Cause`.
 */
export class StatesError extends Error {
  constructor(
    name: string,
    readonly causeText: string,
  ) {
    super(causeText);
    this.name = name;
  }

  /** Normalises anything thrown by a handler, keeping the thrower's `name` as in AWS. */
  static from(thrown: unknown): StatesError {
    if (thrown instanceof StatesError) return thrown;
    if (thrown instanceof Error) {
      // A bare `Error` has no meaningful name: AWS reports such Lambda errors as "Error" too.
      return new StatesError(thrown.name || "Error", thrown.message);
    }
    return new StatesError("States.TaskFailed", typeof thrown === "string" ? thrown : JSON.stringify(thrown));
  }
}

/** Errors that no Retry or Catch can handle (AWS: States.Runtime and friends end the execution). */
export const UNCATCHABLE_ERRORS: ReadonlySet<string> = new Set([
  "States.Runtime",
  "States.DataLimitExceeded",
  "States.HistoryLimitExceeded",
]);

export function runtimeError(message: string): StatesError {
  return new StatesError("States.Runtime", message);
}
