/**
 * Moto mode: the definition runs in moto's own Step Functions interpreter (moto must run with
 * `stepfunctions.execute_state_machine=true`), reached through the real `@aws-sdk/client-sfn` and the
 * SDK's standard endpoint variables. Each run creates a fresh state machine (deleted afterwards) and
 * runs alone (see `queue`), so it does not depend on moto's fix for a second execution.
 * Waits and retry intervals really elapse in moto: keep them to a few seconds in such tests.
 */
import {
  CreateStateMachineCommand,
  DeleteStateMachineCommand,
  DescribeExecutionCommand,
  GetExecutionHistoryCommand,
  HistoryEvent as SfnHistoryEvent,
  SFNClient,
  StartExecutionCommand,
} from "@aws-sdk/client-sfn";
import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { AslDefinition, ExecutionResult, ExecutionStatus, HistoryEvent, Json } from "./types";

export interface MotoOptions {
  /** Give up (and throw) when the execution has not ended after this long. @default 60,000 ms */
  readonly timeoutMs?: number;
  /** @default 100 ms */
  readonly pollIntervalMs?: number;
  /** @default a random UUID */
  readonly executionName?: string;
}

// moto 5.2.1 deep-copies the state machine on StartExecution, and the machine references the whole
// backend: while any other machine holds an execution the copy fails (HTTP 500, "cannot pickle RLock")
// — the same bug as a second execution of one machine. The moto launcher patches it; without the patch,
// runs from this process never overlap and each deletes its machine, so they do not trip over it.
let queue: Promise<unknown> = Promise.resolve();

export function runInMoto(definition: AslDefinition, input: Json, options: MotoOptions = {}): Promise<ExecutionResult> {
  const run = queue.then(() => runOne(definition, input, options));
  queue = run.catch(() => undefined);
  return run;
}

async function runOne(definition: AslDefinition, input: Json, options: MotoOptions): Promise<ExecutionResult> {
  if (!process.env.AWS_ENDPOINT_URL && !process.env.AWS_ENDPOINT_URL_SFN) {
    throw new Error("runInMoto needs AWS_ENDPOINT_URL (or AWS_ENDPOINT_URL_SFN) pointing at a moto server");
  }
  const sfn = new SFNClient({});
  try {
    const machine = await sfn.send(
      new CreateStateMachineCommand({
        name: `asl-test-${randomUUID()}`,
        definition: JSON.stringify(definition),
        roleArn: "arn:aws:iam::123456789012:role/asl-test-state-machine",
      }),
    );
    try {
      const { executionArn } = await sfn.send(
        new StartExecutionCommand({
          stateMachineArn: machine.stateMachineArn,
          name: options.executionName ?? randomUUID(),
          input: JSON.stringify(input),
        }),
      );
      const deadline = Date.now() + (options.timeoutMs ?? 60_000);
      for (;;) {
        const execution = await sfn.send(new DescribeExecutionCommand({ executionArn }));
        if (execution.status !== "RUNNING" && execution.status !== "PENDING_REDRIVE") {
          const history = await readHistory(sfn, executionArn as string);
          return {
            status: execution.status as ExecutionStatus,
            output: execution.output !== undefined ? (JSON.parse(execution.output) as Json) : undefined,
            error: execution.error,
            cause: execution.cause,
            history,
            childExecutions: [],
          };
        }
        if (Date.now() > deadline) {
          throw new Error(
            `Execution ${executionArn} still ${execution.status} after ${options.timeoutMs ?? 60_000} ms. ` +
              "Is moto running with the config stepfunctions.execute_state_machine=true? Without it executions never leave RUNNING.",
          );
        }
        await sleep(options.pollIntervalMs ?? 100);
      }
    } finally {
      await sfn.send(new DeleteStateMachineCommand({ stateMachineArn: machine.stateMachineArn }));
    }
  } finally {
    sfn.destroy();
  }
}

async function readHistory(sfn: SFNClient, executionArn: string): Promise<HistoryEvent[]> {
  const events: HistoryEvent[] = [];
  let nextToken: string | undefined;
  do {
    const page = await sfn.send(new GetExecutionHistoryCommand({ executionArn, nextToken, maxResults: 1000 }));
    events.push(...(page.events ?? []).map(normalise));
    nextToken = page.nextToken;
  } while (nextToken);
  return events;
}

/** Drops the SDK's undefined members so moto's events compare like local ones. */
function normalise(event: SfnHistoryEvent): HistoryEvent {
  const out = Object.fromEntries(Object.entries(event).filter(([, v]) => v !== undefined)) as Record<string, unknown>;
  return {
    ...out,
    id: event.id ?? 0,
    previousEventId: event.previousEventId ?? 0,
    timestamp: event.timestamp ?? new Date(0),
    type: event.type ?? "",
  };
}
