/**
 * Default handlers for the resources our definitions use. Output shapes follow what Step Functions
 * returns for each integration, so ResultSelector/OutputPath written for AWS work unchanged.
 */
import { randomUUID } from "node:crypto";
import { recordIntegration, runAs } from "../iam/recorder";
import { optimizedErrorToStatesError, sdkErrorToStatesError, toTaskOutput } from "./aws-sdk";
import type { BatchJob, TaskCall, TaskHandler } from "./resolver";
import { ExecutionResult, Json, StatesError } from "./types";

type Params = Record<string, Json>;

const asParams = (call: TaskCall): Params =>
  call.parameters !== null && typeof call.parameters === "object" && !Array.isArray(call.parameters)
    ? (call.parameters as Params)
    : {};

/** `arn:aws:lambda:eu-west-1:123:function:name:alias` or `name:alias` → `name`. */
export function functionNameOf(nameOrArn: string): string {
  const arn = /^arn:[^:]+:lambda:[^:]*:[^:]*:function:([^:]+)/.exec(nameOrArn);
  return arn ? arn[1] : nameOrArn.split(":")[0];
}

/** Strips `.sync`, `.sync:2` and `.waitForTaskToken` from an ARN's last segment. */
function baseResource(resource: string): string {
  return resource.replace(/\.(sync(:2)?|waitForTaskToken)$/, "");
}

const awsSdk: TaskHandler = async (call) => {
  const [, service, action] =
    /^arn:aws[\w-]*:states:::aws-sdk:([a-z0-9]+):([A-Za-z0-9]+)$/.exec(baseResource(call.resource)) ?? [];
  if (!service || !action) throw new StatesError("States.Runtime", `Malformed aws-sdk resource '${call.resource}'`);
  try {
    return toTaskOutput(await call.clients.call(service, action, call.parameters));
  } catch (e) {
    throw sdkErrorToStatesError(service, e);
  }
};

async function runLambda(call: TaskCall, functionName: string, payload: Json): Promise<unknown> {
  const name = functionNameOf(functionName);
  const handler = call.resolver.lambdas.get(name);
  if (!handler) {
    throw new StatesError(
      "States.Runtime",
      `No in-process handler for Lambda function '${name}': register it with tasks.lambda('${name}', handler)`,
    );
  }
  recordIntegration(
    call.resource,
    call.resource.startsWith("arn:aws:states:::") ? call.parameters : { FunctionName: functionName },
  );
  const requestId = randomUUID();
  const context = {
    functionName: name,
    awsRequestId: requestId,
    invokedFunctionArn: functionName.startsWith("arn:")
      ? functionName
      : `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
    memoryLimitInMB: "128",
    getRemainingTimeInMillis: () => 900_000,
  };
  try {
    // The function runs as its own role (its calls are recorded as that role's, testing/iam).
    return await runAs(call.resolver.callers.lambdas.get(name), () => handler(payload, context, call));
  } catch (e) {
    // Lambda reports a function error as errorType = the error's name; Step Functions uses it as Error.
    const err = e instanceof Error ? e : new Error(String(e));
    const errorType = err.name || "Error";
    throw new StatesError(
      errorType,
      JSON.stringify({ errorType, errorMessage: err.message, trace: (err.stack ?? "").split("\n") }),
    );
  }
}

const lambdaInvoke: TaskHandler = async (call) => {
  const params = asParams(call);
  if (typeof params.FunctionName !== "string")
    throw new StatesError("States.Runtime", "lambda:invoke needs a FunctionName string");
  const payload = await runLambda(call, params.FunctionName, params.Payload ?? null);
  // The shape of Step Functions' lambda:invoke output (definitions usually select `$.Payload`).
  return {
    ExecutedVersion: "$LATEST",
    Payload: (payload === undefined ? null : JSON.parse(JSON.stringify(payload))) as Json,
    SdkHttpMetadata: { HttpStatusCode: 200 },
    SdkResponseMetadata: { RequestId: randomUUID() },
    StatusCode: 200,
  };
};

/** Legacy `Resource: <function ARN>`: the payload is the effective input and the output is the function's result. */
const lambdaArn: TaskHandler = async (call) => {
  const result = await runLambda(call, call.resource, call.parameters);
  return (result === undefined ? null : JSON.parse(JSON.stringify(result))) as Json;
};

const batchSubmitJob: TaskHandler = async (call) => {
  const request = asParams(call);
  const jobDefinition = String(request.JobDefinition ?? "");
  const runner = call.resolver.batchRunners.find((r) => r.jobDefinition.test(jobDefinition))?.runner;
  if (!runner) {
    throw new StatesError(
      "States.Runtime",
      `No in-process job runner for job definition '${jobDefinition}': register one with tasks.batchJob('${jobDefinition}', runner)`,
    );
  }
  recordIntegration(call.resource, call.parameters);
  const jobId = randomUUID();
  const jobName = String(request.JobName ?? "job");
  const submitted = { JobArn: `arn:aws:batch:us-east-1:123456789012:job/${jobId}`, JobId: jobId, JobName: jobName };
  const sync = call.resource.endsWith(".sync");
  if (sync) call.submitted(submitted);
  const overrides = (request.ContainerOverrides ?? {}) as Params;
  const environment = Object.fromEntries(
    ((overrides.Environment ?? []) as Params[]).map((e) => [String(e.Name), String(e.Value)]),
  );
  const parameters = Object.fromEntries(
    Object.entries((request.Parameters ?? {}) as Params).map(([k, v]) => [k, String(v)]),
  );
  const job: BatchJob = {
    jobId,
    jobName,
    jobQueue: String(request.JobQueue ?? ""),
    jobDefinition,
    parameters,
    environment,
    request,
    call,
  };
  const createdAt = call.now().getTime();
  const description = (status: string, extra: Params): Params => ({
    ...submitted,
    JobQueue: job.jobQueue,
    JobDefinition: jobDefinition,
    Status: status,
    Parameters: parameters,
    Container: { Environment: (overrides.Environment ?? []) as Json, ExitCode: status === "SUCCEEDED" ? 0 : 1 },
    CreatedAt: createdAt,
    ...extra,
  });
  let extra: Params;
  try {
    const caller = call.resolver.callers.batch.find((c) => c.jobDefinition.test(jobDefinition))?.caller;
    extra = ((await runAs(caller, () => runner(job))) ?? {}) as Params;
  } catch (e) {
    if (e instanceof Error && /^(Batch|States)\./.test(e.name)) throw StatesError.from(e);
    // A job that fails is reported as States.TaskFailed with the DescribeJobs entry as Cause, as in AWS.
    const reason = e instanceof Error ? e.message : String(e);
    throw new StatesError("States.TaskFailed", JSON.stringify(description("FAILED", { StatusReason: reason })));
  }
  return sync ? description("SUCCEEDED", extra) : submitted;
};

const startExecution: TaskHandler = async (call) => {
  const params = asParams(call);
  const arn = String(params.StateMachineArn ?? "");
  const definition = call.resolver.stateMachines.get(arn);
  if (!definition) {
    throw new StatesError(
      "States.Runtime",
      `No definition registered for state machine '${arn}': register it with tasks.stateMachine(arn, definition)`,
    );
  }
  recordIntegration(call.resource, params);
  const childCaller = call.resolver.callers.stateMachines.get(arn);
  const input = (typeof params.Input === "string" ? JSON.parse(params.Input) : (params.Input ?? {})) as Json;
  const name = typeof params.Name === "string" ? params.Name : randomUUID();
  const executionArn = `${arn.replace(":stateMachine:", ":execution:")}:${name}`;
  const start = { ExecutionArn: executionArn, StartDate: call.now().getTime() };
  if (!call.resource.includes(".sync")) {
    void runAs(childCaller, () => call.startExecution(definition, input, name));
    return start;
  }
  call.submitted(start);
  const child: ExecutionResult = await runAs(childCaller, () => call.startExecution(definition, input, name));
  const v2 = call.resource.endsWith(".sync:2");
  const description: Params = {
    ...start,
    Input: v2 ? input : JSON.stringify(input),
    InputDetails: { Included: true },
    Name: name,
    StateMachineArn: arn,
    Status: child.status,
    StopDate: child.history.at(-1)?.timestamp.getTime() ?? call.now().getTime(),
  };
  if (child.status === "SUCCEEDED") {
    return {
      ...description,
      Output: v2 ? (child.output ?? null) : JSON.stringify(child.output ?? null),
      OutputDetails: { Included: true },
    };
  }
  throw new StatesError(
    "States.TaskFailed",
    JSON.stringify({ ...description, Error: child.error ?? null, Cause: child.cause ?? null }),
  );
};

function optimizedSdk(service: string, errorPrefix: string, actions: Record<string, string>): TaskHandler {
  return async (call) => {
    const op = /:([A-Za-z]+)$/.exec(baseResource(call.resource))?.[1] ?? "";
    const action = actions[op];
    if (!action) throw new StatesError("States.Runtime", `Unsupported optimized integration '${call.resource}'`);
    try {
      return toTaskOutput(await call.clients.call(service, action, call.parameters));
    } catch (e) {
      throw optimizedErrorToStatesError(errorPrefix, e);
    }
  };
}

/** PutEvents takes 1 to 10 entries (EventBridge API Reference, PutEvents, Entries). */
export const PUT_EVENTS_MAX_ENTRIES = 10;
/** The entries of one PutEvents request total at most 256 KB (EventBridge User Guide, "Calculating PutEvents event entry size"). */
export const PUT_EVENTS_MAX_BYTES = 256 * 1024;

/** An entry's size as EventBridge counts it: Time 14 bytes, then the UTF-8 bytes of Source, DetailType, Detail and each resource. */
export function putEventsEntrySize(entry: Params): number {
  const utf8 = (v: Json | undefined) => (typeof v === "string" ? Buffer.byteLength(v, "utf8") : 0);
  return (
    (entry.Time !== undefined ? 14 : 0) +
    utf8(entry.Source) +
    utf8(entry.DetailType) +
    utf8(entry.Detail) +
    (Array.isArray(entry.Resources) ? entry.Resources.reduce<number>((n, r) => n + utf8(r), 0) : 0)
  );
}

/**
 * `arn:aws:states:::events:putEvents`, the optimized integration: each entry's `Detail` is a JSON object
 * that Step Functions serializes (Step Functions Developer Guide, "Add EventBridge events with Step
 * Functions"); anything else for Detail is refused here (States.Runtime) so a definition cannot pass on
 * a form AWS is not documented to take. What EventBridge refuses is refused as it does: no entries or
 * more than 10, or more than 256 KB in all (EventBridge.ValidationException); the entries then go to
 * EventBridge (moto) with the SDK; an answer with FailedEntryCount > 0 fails the task with
 * EventBridge.FailedEntry, as Step Functions does.
 */
const eventsPutEvents: TaskHandler = async (call) => {
  const { Entries: entries } = asParams(call);
  if (!Array.isArray(entries) || entries.length === 0 || entries.length > PUT_EVENTS_MAX_ENTRIES) {
    throw new StatesError(
      "EventBridge.ValidationException",
      `1 validation error detected: Value at 'entries' failed to satisfy constraint: Member must have length less than or equal to ${PUT_EVENTS_MAX_ENTRIES} and at least 1 (got ${Array.isArray(entries) ? entries.length : typeof entries})`,
    );
  }
  const serialized = entries.map((entry, i) => {
    if (entry === null || typeof entry !== "object" || Array.isArray(entry))
      throw new StatesError("States.Runtime", `events:putEvents: Entries[${i}] is not an object`);
    const { Detail: detail, ...rest } = entry;
    if (detail === undefined) return rest;
    if (detail === null || typeof detail !== "object" || Array.isArray(detail)) {
      throw new StatesError(
        "States.Runtime",
        `events:putEvents: Entries[${i}].Detail must be a JSON object (the integration serializes it), got ${JSON.stringify(detail)}`,
      );
    }
    return { ...rest, Detail: JSON.stringify(detail) } as Params;
  });
  const bytes = serialized.reduce((n, e) => n + putEventsEntrySize(e), 0);
  if (bytes > PUT_EVENTS_MAX_BYTES) {
    throw new StatesError(
      "EventBridge.ValidationException",
      `Total size of the entries in the request is over the limit: ${bytes} bytes, at most ${PUT_EVENTS_MAX_BYTES}`,
    );
  }
  // EventBridge stamps an entry without Time with the time of the call: here the execution's virtual
  // time, so an event's `time` and the execution's `$$` times are on one clock. Sent after the size check,
  // which counts what Step Functions sends (no Time).
  const stamped = serialized.map((e) => (e.Time === undefined ? { ...e, Time: call.now() } : e));
  let response: Record<string, unknown>;
  try {
    response = await call.clients.call("events", "putEvents", { Entries: stamped } as unknown as Json);
  } catch (e) {
    throw optimizedErrorToStatesError("EventBridge", e);
  }
  const output = toTaskOutput(response) as Params;
  if (typeof output.FailedEntryCount === "number" && output.FailedEntryCount > 0) {
    throw new StatesError("EventBridge.FailedEntry", JSON.stringify(output));
  }
  return output;
};

/** Lowest-priority handlers, consulted after everything registered on the resolver. */
export const defaultHandlers: readonly { pattern: RegExp; handler: TaskHandler }[] = [
  { pattern: /^arn:aws[\w-]*:states:::aws-sdk:[a-z0-9]+:[A-Za-z0-9]+(\.waitForTaskToken)?$/, handler: awsSdk },
  { pattern: /^arn:aws[\w-]*:states:::lambda:invoke(\.waitForTaskToken)?$/, handler: lambdaInvoke },
  { pattern: /^arn:aws[\w-]*:lambda:[^:]*:\d*:function:[^:]+(:[^:]+)?$/, handler: lambdaArn },
  { pattern: /^arn:aws[\w-]*:states:::batch:submitJob(\.sync)?$/, handler: batchSubmitJob },
  { pattern: /^arn:aws[\w-]*:states:::states:startExecution(\.sync(:2)?)?$/, handler: startExecution },
  {
    pattern: /^arn:aws[\w-]*:states:::dynamodb:(putItem|getItem|updateItem|deleteItem)$/,
    handler: optimizedSdk("dynamodb", "DynamoDB", {
      putItem: "putItem",
      getItem: "getItem",
      updateItem: "updateItem",
      deleteItem: "deleteItem",
    }),
  },
  {
    pattern: /^arn:aws[\w-]*:states:::sns:publish(\.waitForTaskToken)?$/,
    handler: optimizedSdk("sns", "SNS", { publish: "publish" }),
  },
  { pattern: /^arn:aws[\w-]*:states:::events:putEvents(\.waitForTaskToken)?$/, handler: eventsPutEvents },
  {
    pattern: /^arn:aws[\w-]*:states:::sqs:sendMessage(\.waitForTaskToken)?$/,
    handler: optimizedSdk("sqs", "SQS", { sendMessage: "sendMessage" }),
  },
];
