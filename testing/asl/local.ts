/**
 * Local mode: runs a definition in this process with the interpreter of `states.ts`, its Task states
 * going through a TaskResolver, time on a virtual clock.
 */
import { randomUUID } from "node:crypto";
import { SdkClients } from "./aws-sdk";
import { VirtualClock } from "./clock";
import { AWS_HISTORY_LIMIT, HistoryRecorder, Thread } from "./history";
import { runAs, type Caller } from "../iam/recorder";
import { TaskResolver } from "./resolver";
import { ExecutionEnv, ExecutionTimeout, runStates, Scope } from "./states";
import { AslDefinition, ExecutionResult, Json, StatesError } from "./types";

export interface LocalOptions {
  readonly tasks?: TaskResolver;
  /** Start of virtual time: a Date, epoch ms, or a clock to continue. @default the real current time */
  readonly clock?: VirtualClock | Date | number;
  /** Random source for JitterStrategy FULL. @default Math.random */
  readonly random?: () => number;
  /** @default a random UUID */
  readonly executionName?: string;
  /** @default "test-machine" */
  readonly stateMachineName?: string;
  /** Stop the execution when the history reaches this many events. @default 25,000 (the AWS limit) */
  readonly maxHistoryEvents?: number;
  /** @default process.env.AWS_REGION ?? "us-east-1" */
  readonly region?: string;
  /** The state machine's role, for the IAM proof (testing/iam). @default `tasks.caller`: unset, nothing recorded */
  readonly caller?: Caller;
}

const ACCOUNT = "123456789012";

export async function runLocal(
  definition: AslDefinition,
  input: Json,
  options: LocalOptions = {},
): Promise<ExecutionResult> {
  const clients = new SdkClients();
  try {
    return await runAs(options.caller ?? options.tasks?.caller, () =>
      runExecution(definition, input, options, clients),
    );
  } finally {
    clients.destroy();
  }
}

async function runExecution(
  definition: AslDefinition,
  input: Json,
  options: LocalOptions,
  clients: SdkClients,
): Promise<ExecutionResult> {
  const clock = options.clock instanceof VirtualClock ? options.clock : new VirtualClock(options.clock ?? Date.now());
  const region = options.region ?? process.env.AWS_REGION ?? "us-east-1";
  const machineName = options.stateMachineName ?? "test-machine";
  const executionName = options.executionName ?? randomUUID();
  const stateMachineArn = `arn:aws:states:${region}:${ACCOUNT}:stateMachine:${machineName}`;
  const roleArn = `arn:aws:iam::${ACCOUNT}:role/test-state-machine-role`;
  const recorder = new HistoryRecorder(options.maxHistoryEvents ?? AWS_HISTORY_LIMIT);
  const childExecutions: ExecutionResult[] = [];
  const resolver = options.tasks ?? new TaskResolver();
  const startTime = clock.nowMillis();

  const env: ExecutionEnv = {
    resolver,
    recorder,
    clients,
    region,
    random: options.random ?? Math.random,
    deadline: definition.TimeoutSeconds !== undefined ? startTime + definition.TimeoutSeconds * 1000 : undefined,
    contextBase: {
      Execution: {
        Id: `arn:aws:states:${region}:${ACCOUNT}:execution:${machineName}:${executionName}`,
        Input: input,
        Name: executionName,
        RoleArn: roleArn,
        StartTime: clock.now().toISOString(),
        RedriveCount: 0,
      },
      StateMachine: { Id: stateMachineArn, Name: machineName },
    },
    async runChild(child, childInput, name, childClock) {
      const result = await runExecution(
        child,
        childInput,
        { ...options, clock: childClock, executionName: name, stateMachineName: `${machineName}-child` },
        clients,
      );
      childExecutions.push(result);
      return result;
    },
  };

  const thread: Thread = { clock, lastEventId: 0 };
  recorder.add(thread, "ExecutionStarted", {
    input: JSON.stringify(input),
    inputDetails: { truncated: false },
    roleArn,
  });
  // AWS (and moto, which copies its behaviour) gives the first StateEntered event previousEventId 0.
  thread.lastEventId = 0;
  try {
    const output = await runStates(definition, input, env, thread, new Scope());
    recorder.add(thread, "ExecutionSucceeded", { output: JSON.stringify(output), outputDetails: { truncated: false } });
    return { status: "SUCCEEDED", output, history: recorder.events, childExecutions };
  } catch (thrown) {
    if (thrown instanceof ExecutionTimeout) {
      recorder.add(thread, "ExecutionTimedOut", { error: "States.Timeout", cause: "" }, true);
      return { status: "TIMED_OUT", error: "States.Timeout", cause: "", history: recorder.events, childExecutions };
    }
    const error = StatesError.from(thrown);
    recorder.add(thread, "ExecutionFailed", { error: error.name, cause: error.causeText }, true);
    return { status: "FAILED", error: error.name, cause: error.causeText, history: recorder.events, childExecutions };
  }
}
