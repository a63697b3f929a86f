/**
 * The state interpreter: runs the states of one definition (the execution, a Parallel branch or a Map
 * iteration) from StartAt to an end state, recording history as Step Functions does.
 *
 * Input/output processing per state, in the order the ASL spec gives:
 *   InputPath → Parameters/ItemSelector → (work) → ResultSelector → ResultPath (onto the raw input) → OutputPath
 */
import { randomUUID } from "node:crypto";
import { chooseNext, isTimestamp } from "./choice";
import { SdkClients } from "./aws-sdk";
import { HistoryRecorder, Thread } from "./history";
import { applyFilterPath, applyResultPath, readPath } from "./paths";
import { applyPayloadTemplate } from "./payload";
import { TaskResolver } from "./resolver";
import { findCatcher, RetryTracker } from "./retry";
import { AslDefinition, AslState, ExecutionResult, Json, runtimeError, StatesError, UNCATCHABLE_ERRORS } from "./types";
import type { FailState, MapState, ParallelState, TaskState, WaitState } from "./types";
import { VirtualClock } from "./clock";

/** Everything shared by all threads of one execution. */
export interface ExecutionEnv {
  readonly resolver: TaskResolver;
  readonly recorder: HistoryRecorder;
  readonly clients: SdkClients;
  readonly random: () => number;
  /** `$$.Execution` and `$$.StateMachine`. */
  readonly contextBase: { readonly Execution: Json; readonly StateMachine: Json };
  /** Epoch ms after which the execution times out (definition-level TimeoutSeconds). */
  readonly deadline?: number;
  readonly region: string;
  runChild(definition: AslDefinition, input: Json, name: string, clock: VirtualClock): Promise<ExecutionResult>;
}

/** Lets a failing Parallel branch or Map iteration stop its siblings at their next state. */
export class Scope {
  cancelled = false;
  constructor(private readonly parent?: Scope) {}
  get isCancelled(): boolean {
    return this.cancelled || (this.parent?.isCancelled ?? false);
  }
}

class Cancelled extends Error {}

/** Raised when the definition-level TimeoutSeconds is exceeded: ends the execution as TIMED_OUT. */
export class ExecutionTimeout extends Error {}

interface Step {
  readonly output: Json;
  readonly next?: string;
}

export async function runStates(
  definition: AslDefinition,
  input: Json,
  env: ExecutionEnv,
  thread: Thread,
  scope: Scope,
): Promise<Json> {
  let name = definition.StartAt;
  let current = input;
  for (;;) {
    if (scope.isCancelled) throw new Cancelled();
    if (env.deadline !== undefined && thread.clock.nowMillis() > env.deadline) throw new ExecutionTimeout();
    const state = definition.States[name];
    if (!state) throw runtimeError(`State '${name}' does not exist`);
    const step = await runState(name, state, current, env, thread, scope);
    if (step.next === undefined) return step.output;
    name = step.next;
    current = step.output;
  }
}

function stateContext(
  env: ExecutionEnv,
  name: string,
  thread: Thread,
  retryCount: number,
  extra: Record<string, Json> = {},
): Json {
  return {
    ...env.contextBase,
    State: { Name: name, EnteredTime: thread.clock.now().toISOString(), RetryCount: retryCount },
    ...extra,
  };
}

async function runState(
  name: string,
  state: AslState,
  raw: Json,
  env: ExecutionEnv,
  thread: Thread,
  scope: Scope,
): Promise<Step> {
  env.recorder.add(thread, `${state.Type}StateEntered`, {
    name,
    input: JSON.stringify(raw),
    inputDetails: { truncated: false },
  });
  const step = await executeState(name, state, raw, env, thread, scope);
  env.recorder.add(thread, `${state.Type}StateExited`, {
    name,
    output: JSON.stringify(step.output),
    outputDetails: { truncated: false },
  });
  return step;
}

function executeState(
  name: string,
  state: AslState,
  raw: Json,
  env: ExecutionEnv,
  thread: Thread,
  scope: Scope,
): Promise<Step> | Step {
  const next = nextOf(state);
  const context = stateContext(env, name, thread, 0);
  switch (state.Type) {
    case "Pass": {
      const effective = applyFilterPath(state.InputPath, raw, "InputPath");
      const result =
        state.Result !== undefined
          ? (state.Result as Json)
          : state.Parameters !== undefined
            ? applyPayloadTemplate(state.Parameters as Json, effective, context)
            : effective;
      return {
        output: applyFilterPath(state.OutputPath, applyResultPath(state.ResultPath, raw, result), "OutputPath"),
        next,
      };
    }
    case "Choice": {
      const effective = applyFilterPath(state.InputPath, raw, "InputPath");
      const chosen = chooseNext(state.Choices ?? [], state.Default, effective, context);
      return { output: applyFilterPath(state.OutputPath, effective, "OutputPath"), next: chosen };
    }
    case "Wait": {
      const effective = applyFilterPath(state.InputPath, raw, "InputPath");
      waitState(state, effective, thread.clock);
      return { output: applyFilterPath(state.OutputPath, effective, "OutputPath"), next };
    }
    case "Succeed": {
      const effective = applyFilterPath(state.InputPath, raw, "InputPath");
      return { output: applyFilterPath(state.OutputPath, effective, "OutputPath") };
    }
    case "Fail":
      throw failState(state, raw);
    case "Task":
      return withRetryAndCatch(state, raw, env, thread, (retryCount) =>
        runTask(name, state, raw, env, thread, retryCount),
      );
    case "Parallel":
      return withRetryAndCatch(state, raw, env, thread, () => runParallel(name, state, raw, env, thread, scope));
    case "Map":
      return withRetryAndCatch(state, raw, env, thread, () => runMap(name, state, raw, env, thread, scope));
    default:
      throw runtimeError(`Unsupported state type '${(state as AslState).Type}' in state '${name}'`);
  }
}

/** Where a state goes next; undefined at the end (Choice decides itself, Succeed and Fail end). */
function nextOf(state: AslState): string | undefined {
  return "End" in state && state.End ? undefined : "Next" in state ? state.Next : undefined;
}

function waitState(state: WaitState, input: Json, clock: VirtualClock): void {
  if (state.Seconds !== undefined) return clock.advanceSeconds(state.Seconds);
  if (state.SecondsPath !== undefined) {
    const seconds = readPath(state.SecondsPath, input, undefined, "SecondsPath");
    if (typeof seconds !== "number" || !Number.isInteger(seconds) || seconds < 0) {
      throw runtimeError(
        `SecondsPath '${state.SecondsPath}' must point to a non-negative integer, got ${JSON.stringify(seconds)}`,
      );
    }
    return clock.advanceSeconds(seconds);
  }
  const timestamp = state.Timestamp ?? readPath(state.TimestampPath ?? "$", input, undefined, "TimestampPath");
  if (!isTimestamp(timestamp))
    throw runtimeError(`Wait timestamp must be an RFC 3339 string, got ${JSON.stringify(timestamp)}`);
  clock.advanceTo(Date.parse(timestamp));
}

function failState(state: FailState, input: Json): StatesError {
  const read = (literal: string | undefined, path: string | undefined, field: string): string | undefined => {
    if (literal !== undefined) return literal;
    if (path === undefined) return undefined;
    const v = readPath(path, input, undefined, field);
    if (typeof v !== "string")
      throw runtimeError(`${field} '${path}' must point to a string, got ${JSON.stringify(v)}`);
    return v;
  };
  return new StatesError(
    read(state.Error, state.ErrorPath, "ErrorPath") ?? "States.Fail",
    read(state.Cause, state.CausePath, "CausePath") ?? "",
  );
}

/**
 * Runs `attempt` under the state's Retry and Catch: a matching retrier waits (virtually) and runs it
 * again; otherwise a matching catcher turns the error into `{Error, Cause}` at its ResultPath and goes
 * to its Next; otherwise the error propagates.
 */
async function withRetryAndCatch(
  state: TaskState | ParallelState | MapState,
  raw: Json,
  env: ExecutionEnv,
  thread: Thread,
  attempt: (retryCount: number) => Promise<Json>,
): Promise<Step> {
  const tracker = new RetryTracker(state.Retry ?? [], env.random);
  for (;;) {
    try {
      const output = await attempt(tracker.retryCount);
      return { output, next: nextOf(state) };
    } catch (thrown) {
      if (thrown instanceof Cancelled || thrown instanceof ExecutionTimeout) throw thrown;
      const error = StatesError.from(thrown);
      if (UNCATCHABLE_ERRORS.has(error.name)) throw error;
      const delay = tracker.nextDelaySeconds(error.name);
      if (delay !== undefined) {
        thread.clock.advanceSeconds(delay);
        continue;
      }
      const catcher = findCatcher(state.Catch, error.name);
      if (!catcher) throw error;
      const output = applyResultPath(catcher.ResultPath, raw, { Error: error.name, Cause: error.causeText });
      return { output, next: catcher.Next };
    }
  }
}

/** `arn:aws:states:::aws-sdk:ec2:createVolume` → resourceType `aws-sdk:ec2`, resource `createVolume`, as in AWS events. */
export function splitResource(resource: string): { resourceType: string; resource: string } {
  const m = /^arn:[^:]+:states:::(.+):([^:]+(?::2)?)$/.exec(resource);
  if (m) return { resourceType: m[1], resource: m[2] };
  return { resourceType: resource.includes(":lambda:") ? "lambda" : "unknown", resource };
}

function timeoutSeconds(state: TaskState, input: Json): number | undefined {
  if (state.TimeoutSeconds !== undefined) return state.TimeoutSeconds;
  if (state.TimeoutSecondsPath !== undefined) {
    const v = readPath(state.TimeoutSecondsPath, input, undefined, "TimeoutSecondsPath");
    if (typeof v !== "number" || v <= 0)
      throw runtimeError(`TimeoutSecondsPath must point to a positive number, got ${JSON.stringify(v)}`);
    return v;
  }
  return undefined;
}

async function runTask(
  name: string,
  state: TaskState,
  raw: Json,
  env: ExecutionEnv,
  thread: Thread,
  retryCount: number,
): Promise<Json> {
  const resourceArn = state.Resource ?? "";
  const taskToken = resourceArn.endsWith(".waitForTaskToken") ? randomUUID() : undefined;
  const context = stateContext(env, name, thread, retryCount, taskToken ? { Task: { Token: taskToken } } : {});
  const effective = applyFilterPath(state.InputPath, raw, "InputPath");
  const parameters =
    state.Parameters !== undefined ? applyPayloadTemplate(state.Parameters as Json, effective, context) : effective;
  const timeout = timeoutSeconds(state, effective);
  const ids = splitResource(resourceArn);
  env.recorder.add(thread, "TaskScheduled", {
    ...ids,
    region: env.region,
    parameters: JSON.stringify(parameters),
    ...(timeout !== undefined ? { timeoutInSeconds: timeout } : {}),
  });
  env.recorder.add(thread, "TaskStarted", ids);

  // The handler runs on its own clock so a timeout can cut its virtual duration at TimeoutSeconds.
  const taskClock = thread.clock.fork();
  const startedAt = taskClock.nowMillis();
  let result: Json;
  try {
    result = await env.resolver.invoke({
      resource: resourceArn,
      parameters,
      context,
      stateName: name,
      taskToken,
      now: () => taskClock.now(),
      sleep: (seconds) => taskClock.advanceSeconds(seconds),
      submitted: (output) => {
        // Stamped with the task's own clock, chained into this thread's events.
        const taskThread: Thread = { clock: taskClock, lastEventId: thread.lastEventId };
        env.recorder.add(taskThread, "TaskSubmitted", { ...ids, output: JSON.stringify(output) });
        thread.lastEventId = taskThread.lastEventId;
      },
      startExecution: (definition, input, childName) => env.runChild(definition, input, childName, taskClock),
      clients: env.clients,
      resolver: env.resolver,
    });
  } catch (thrown) {
    const error = StatesError.from(thrown);
    thread.clock.advanceTo(
      timeout !== undefined ? Math.min(taskClock.nowMillis(), startedAt + timeout * 1000) : taskClock.nowMillis(),
    );
    if (error.name === "States.Timeout") {
      env.recorder.add(thread, "TaskTimedOut", { ...ids, error: error.name, cause: error.causeText });
    } else if (!UNCATCHABLE_ERRORS.has(error.name)) {
      env.recorder.add(thread, "TaskFailed", { ...ids, error: error.name, cause: error.causeText });
    }
    throw error;
  }
  if (timeout !== undefined && taskClock.nowMillis() - startedAt > timeout * 1000) {
    thread.clock.advanceTo(startedAt + timeout * 1000);
    env.recorder.add(thread, "TaskTimedOut", { ...ids, error: "States.Timeout", cause: "" });
    throw new StatesError("States.Timeout", "");
  }
  thread.clock.advanceTo(taskClock.nowMillis());
  env.recorder.add(thread, "TaskSucceeded", {
    ...ids,
    output: JSON.stringify(result),
    outputDetails: { truncated: false },
  });
  const selected =
    state.ResultSelector !== undefined ? applyPayloadTemplate(state.ResultSelector as Json, result, context) : result;
  return applyFilterPath(state.OutputPath, applyResultPath(state.ResultPath, raw, selected), "OutputPath");
}

/**
 * Runs `count` child threads with at most `concurrency` at a time. Each worker slot has its own clock, so
 * virtual time models the concurrency limit; the parent thread resumes at the latest child clock.
 * The first failure cancels the rest and is rethrown after all have stopped (deterministic history).
 */
async function runChildren(
  count: number,
  concurrency: number,
  thread: Thread,
  scope: Scope,
  run: (index: number, child: Thread, childScope: Scope) => Promise<Json>,
  onFailure: (index: number, child: Thread) => void,
): Promise<Json[]> {
  const results: Json[] = new Array<Json>(count).fill(null);
  const childScope = new Scope(scope);
  let failure: unknown;
  let nextIndex = 0;
  const slots = Array.from({ length: Math.max(1, Math.min(concurrency, count)) }, () => thread.clock.fork());
  let lastEventId = thread.lastEventId;
  await Promise.all(
    slots.map(async (clock) => {
      while (nextIndex < count && !childScope.isCancelled) {
        const index = nextIndex++;
        const child: Thread = { clock, lastEventId: thread.lastEventId };
        try {
          results[index] = await run(index, child, childScope);
        } catch (e) {
          if (!(e instanceof Cancelled) && failure === undefined) {
            failure = e;
            childScope.cancelled = true;
            onFailure(index, child);
          }
        }
        lastEventId = Math.max(lastEventId, child.lastEventId);
      }
    }),
  );
  for (const clock of slots) thread.clock.advanceTo(clock.nowMillis());
  thread.lastEventId = lastEventId;
  if (failure !== undefined) throw failure;
  return results;
}

async function runParallel(
  name: string,
  state: ParallelState,
  raw: Json,
  env: ExecutionEnv,
  thread: Thread,
  scope: Scope,
): Promise<Json> {
  const context = stateContext(env, name, thread, 0);
  const effective = applyFilterPath(state.InputPath, raw, "InputPath");
  const input =
    state.Parameters !== undefined ? applyPayloadTemplate(state.Parameters as Json, effective, context) : effective;
  const branches = state.Branches ?? [];
  env.recorder.add(thread, "ParallelStateStarted");
  let results: Json[];
  try {
    results = await runChildren(
      branches.length,
      branches.length,
      thread,
      scope,
      (i, child, childScope) => runStates(branches[i], input, env, child, childScope),
      () => undefined,
    );
  } catch (e) {
    if (!(e instanceof Cancelled) && !(e instanceof ExecutionTimeout)) {
      const error = StatesError.from(e);
      env.recorder.add(thread, "ParallelStateFailed", { error: error.name, cause: error.causeText });
    }
    throw e;
  }
  env.recorder.add(thread, "ParallelStateSucceeded");
  const selected =
    state.ResultSelector !== undefined ? applyPayloadTemplate(state.ResultSelector as Json, results, context) : results;
  return applyFilterPath(state.OutputPath, applyResultPath(state.ResultPath, raw, selected), "OutputPath");
}

async function runMap(
  name: string,
  state: MapState,
  raw: Json,
  env: ExecutionEnv,
  thread: Thread,
  scope: Scope,
): Promise<Json> {
  const effective = applyFilterPath(state.InputPath, raw, "InputPath");
  const items = readPath(state.ItemsPath ?? "$", effective, undefined, "ItemsPath");
  if (!Array.isArray(items))
    throw runtimeError(`ItemsPath '${state.ItemsPath ?? "$"}' must point to an array, got ${JSON.stringify(items)}`);
  const processor = state.ItemProcessor ?? state.Iterator;
  if (!processor) throw runtimeError(`Map state '${name}' has no ItemProcessor/Iterator`);
  const selector = state.ItemSelector ?? state.Parameters;
  env.recorder.add(thread, "MapStateStarted", { length: items.length });
  let results: Json[];
  try {
    results = await runChildren(
      items.length,
      state.MaxConcurrency ? state.MaxConcurrency : items.length,
      thread,
      scope,
      async (index, child, childScope) => {
        env.recorder.add(child, "MapIterationStarted", { name, index });
        const itemContext = stateContext(env, name, child, 0, { Map: { Item: { Index: index, Value: items[index] } } });
        const itemInput =
          selector !== undefined ? applyPayloadTemplate(selector as Json, effective, itemContext) : items[index];
        const out = await runStates(processor, itemInput, env, child, childScope);
        env.recorder.add(child, "MapIterationSucceeded", { name, index });
        return out;
      },
      (index, child) => void env.recorder.add(child, "MapIterationFailed", { name, index }),
    );
  } catch (e) {
    if (!(e instanceof Cancelled) && !(e instanceof ExecutionTimeout)) env.recorder.add(thread, "MapStateFailed");
    throw e;
  }
  env.recorder.add(thread, "MapStateSucceeded");
  const context = stateContext(env, name, thread, 0);
  const selected =
    state.ResultSelector !== undefined ? applyPayloadTemplate(state.ResultSelector as Json, results, context) : results;
  return applyFilterPath(state.OutputPath, applyResultPath(state.ResultPath, raw, selected), "OutputPath");
}
