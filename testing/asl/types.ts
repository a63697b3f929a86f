/**
 * Shapes shared by the interpreter: the ASL definition (the types of stacks/workflows/asl.ts; the
 * definitions are validated by asl-validator before they run), the execution result and the error
 * type that carries an ASL error name.
 */

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };

// The ASL model is the one the definitions are written in (stacks/workflows/asl.ts).
import type { State, StateMachineDefinition } from "../../stacks/workflows/asl";
export type { Catcher, ChoiceRule, Retrier } from "../../stacks/workflows/asl";
export type {
  ChoiceState,
  FailState,
  MapState,
  ParallelState,
  PassState,
  SucceedState,
  TaskState,
  WaitState,
} from "../../stacks/workflows/asl";

/** A definition as the interpreter runs it. */
export type AslDefinition = StateMachineDefinition;
/** One state of a definition. */
export type AslState = State;

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
