/**
 * The Task resolver: which code runs for a Task state's `Resource`.
 *
 * Handlers are registered against resource patterns (`*` matches anything); the most recently
 * registered match wins, and the defaults from `integrations.ts` come last. On top of that:
 * - `lambda(name, handler)` — `lambda:invoke` (and direct function ARNs) for that function run the handler in-process;
 * - `batchJob(jobDefinition, runner)` — `batch:submitJob(.sync)` runs the runner in-process;
 * - `stateMachine(arn, definition)` — `states:startExecution(.sync/.sync:2)` runs that definition as a child;
 * - `injectFault(...)` — make the Nth matching call fail with a given error, before any handler runs.
 * Every call is recorded in `calls`, so tests can assert what a state machine asked for.
 */
import { defaultHandlers, functionNameOf } from "./integrations";
import { SdkClients } from "./aws-sdk";
import type { Caller } from "../iam/recorder";
import { AslDefinition, ExecutionResult, Json, StatesError } from "./types";

/** What a handler receives for one attempt of a Task state. */
export interface TaskCall {
  /** The state's `Resource` exactly as written, e.g. `arn:aws:states:::lambda:invoke`. */
  readonly resource: string;
  /** The effective parameters (after InputPath and Parameters). */
  readonly parameters: Json;
  /** The context object (`$$`) of this attempt. */
  readonly context: Json;
  readonly stateName: string;
  /** Set for `.waitForTaskToken` resources: the handler's return value is the callback's output. */
  readonly taskToken?: string;
  /** This task's virtual time. */
  now(): Date;
  /** Advances this task's virtual clock: models work that takes time (checked against TimeoutSeconds). */
  sleep(seconds: number): void;
  /** Records a TaskSubmitted event (the `.sync` integrations call it with their submit response). */
  submitted(output: Json): void;
  /** Runs a child execution with the same resolver and clock (used by `states:startExecution`). */
  startExecution(definition: AslDefinition, input: Json, name: string): Promise<ExecutionResult>;
  /** SDK clients of this execution (honour AWS_ENDPOINT_URL). */
  readonly clients: SdkClients;
  readonly resolver: TaskResolver;
}

export type TaskHandler = (call: TaskCall) => Promise<Json | undefined> | Json | undefined;

/**
 * An in-process Lambda function: our real handler, called as Lambda would call it. `task` is the Task's
 * attempt that invokes it (not a Lambda argument): a handler that reads the clock takes `task.now()`,
 * the execution's virtual time, as a real function's clock agrees with its execution's.
 */
export type LambdaHandler = (event: Json, context: LambdaContextLike, task: TaskCall) => Promise<unknown> | unknown;

export interface LambdaContextLike {
  readonly functionName: string;
  readonly awsRequestId: string;
  readonly invokedFunctionArn: string;
  readonly memoryLimitInMB: string;
  getRemainingTimeInMillis(): number;
}

/** A Batch job as the in-process runner sees it (names as in SubmitJob). */
export interface BatchJob {
  readonly jobId: string;
  readonly jobName: string;
  readonly jobQueue: string;
  readonly jobDefinition: string;
  /** `Parameters` of SubmitJob (Ref::name substitutions). */
  readonly parameters: Record<string, string>;
  /** `ContainerOverrides.Environment` as a plain map. */
  readonly environment: Record<string, string>;
  /** The whole SubmitJob request as the state machine sent it. */
  readonly request: Record<string, Json>;
  readonly call: TaskCall;
}

/**
 * Runs a job to completion. Returning ends the job SUCCEEDED (the returned object is merged into the job
 * description); throwing ends it FAILED, which Step Functions reports as States.TaskFailed with the job
 * description as Cause — unless the error's name starts with `Batch.` or `States.` (service errors).
 */
export type BatchJobRunner = (job: BatchJob) => Promise<Record<string, Json> | void> | Record<string, Json> | void;

export interface Fault {
  /** Resource pattern (`*` wildcards), e.g. `arn:aws:states:::lambda:invoke`. */
  readonly resource: string;
  /** Only calls whose parameters satisfy this count (e.g. one Lambda function among several). */
  readonly when?: (parameters: Json) => boolean;
  /** 1-based numbers of the matching calls to fail; omitted: every matching call. */
  readonly calls?: readonly number[];
  readonly error: string;
  readonly cause?: string;
}

export interface RecordedCall {
  readonly resource: string;
  readonly stateName: string;
  readonly parameters: Json;
  /** The injected error, if a fault fired for this call. */
  readonly fault?: string;
}

interface Registration {
  readonly pattern: RegExp;
  readonly handler: TaskHandler;
}

export function globToRegExp(glob: string): RegExp {
  return new RegExp(
    `^${glob
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
}

export class TaskResolver {
  readonly calls: RecordedCall[] = [];
  readonly lambdas = new Map<string, LambdaHandler>();
  readonly batchRunners: { readonly jobDefinition: RegExp; readonly runner: BatchJobRunner }[] = [];
  readonly stateMachines = new Map<string, AslDefinition>();
  /**
   * Who makes the calls in AWS (testing/iam): the role of the execution started with this resolver,
   * and of each registered child machine, Lambda function and job definition. Unset: not recorded.
   */
  caller?: Caller;
  readonly callers = {
    stateMachines: new Map<string, Caller>(),
    lambdas: new Map<string, Caller>(),
    batch: [] as { jobDefinition: RegExp; caller: Caller }[],
  };
  private readonly registrations: Registration[] = [];
  private readonly faults: { fault: Fault; pattern: RegExp; seen: number }[] = [];

  /** Handles resources matching `pattern` (`*` wildcards) with `handler`; later registrations win. */
  on(pattern: string, handler: TaskHandler): this {
    this.registrations.unshift({ pattern: globToRegExp(pattern), handler });
    return this;
  }

  /** `lambda:invoke` with this FunctionName (name, ARN, or ARN with qualifier) runs `handler` in-process. */
  lambda(functionName: string, handler: LambdaHandler, caller?: Caller): this {
    this.lambdas.set(functionNameOf(functionName), handler);
    if (caller) this.callers.lambdas.set(functionNameOf(functionName), caller);
    return this;
  }

  /** The role the execution started with this resolver runs as (its state machine's role). */
  runsAs(caller: Caller): this {
    this.caller = caller;
    return this;
  }

  /** `batch:submitJob(.sync)` for this job definition (name, ARN or `*`) runs `runner` in-process. */
  batchJob(jobDefinition: string, runner: BatchJobRunner, caller?: Caller): this {
    this.batchRunners.unshift({ jobDefinition: globToRegExp(jobDefinition), runner });
    if (caller) this.callers.batch.unshift({ jobDefinition: globToRegExp(jobDefinition), caller });
    return this;
  }

  /** `states:startExecution*` with this StateMachineArn runs `definition` as a child execution. */
  stateMachine(arn: string, definition: AslDefinition, caller?: Caller): this {
    this.stateMachines.set(arn, definition);
    if (caller) this.callers.stateMachines.set(arn, caller);
    return this;
  }

  injectFault(fault: Fault): this {
    this.faults.push({ fault, pattern: globToRegExp(fault.resource), seen: 0 });
    return this;
  }

  /** Runs one attempt of a Task: records it, fires a matching fault, else calls the resolved handler. */
  async invoke(call: TaskCall): Promise<Json> {
    const fault = this.matchFault(call);
    this.calls.push({
      resource: call.resource,
      stateName: call.stateName,
      parameters: call.parameters,
      fault: fault?.error,
    });
    if (fault) throw new StatesError(fault.error, fault.cause ?? `Injected fault ${fault.error}`);
    const handler = this.resolve(call.resource);
    const result = await handler(call);
    return result === undefined ? null : result;
  }

  resolve(resource: string): TaskHandler {
    const match =
      this.registrations.find((r) => r.pattern.test(resource)) ?? defaultHandlers.find((r) => r.pattern.test(resource));
    if (!match) {
      throw new StatesError(
        "States.Runtime",
        `No task handler for resource '${resource}': register one with tasks.on('${resource}', handler)`,
      );
    }
    return match.handler;
  }

  private matchFault(call: TaskCall): Fault | undefined {
    for (const entry of this.faults) {
      if (!entry.pattern.test(call.resource)) continue;
      if (entry.fault.when && !entry.fault.when(call.parameters)) continue;
      entry.seen++;
      if (!entry.fault.calls || entry.fault.calls.includes(entry.seen)) return entry.fault;
    }
    return undefined;
  }
}
