/**
 * Amazon States Language (JSONPath flavour) as TypeScript types, so state machines are
 * typed objects rather than string templates. The one model of ASL in the repository: the
 * definitions here and the interpreter that executes them in tests (testing/asl/) use these
 * types. The definitions are also checked by asl-validator in the tests.
 */

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

interface Common {
  readonly Comment?: string;
  readonly InputPath?: string | null;
  readonly OutputPath?: string | null;
}

interface Transition {
  readonly Next?: string;
  readonly End?: true;
}

export interface TaskState extends Common, Transition {
  readonly Type: "Task";
  readonly Resource: string;
  readonly Parameters?: Record<string, unknown>;
  readonly ResultSelector?: Record<string, unknown>;
  readonly ResultPath?: string | null;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
  readonly TimeoutSeconds?: number;
  readonly TimeoutSecondsPath?: string;
  readonly HeartbeatSeconds?: number;
}

export interface PassState extends Common, Transition {
  readonly Type: "Pass";
  readonly Parameters?: Record<string, unknown>;
  readonly Result?: unknown;
  readonly ResultPath?: string | null;
}

export interface WaitState extends Common, Transition {
  readonly Type: "Wait";
  readonly Seconds?: number;
  readonly SecondsPath?: string;
  readonly Timestamp?: string;
  readonly TimestampPath?: string;
}

/**
 * A Choice rule: a comparison on `Variable` (`StringEquals`, `IsPresent`, `NumericLessThanPath`,
 * …: the operator is the key) or a boolean combination (`And`, `Or`, `Not`).
 */
export interface ChoiceRule {
  readonly Next?: string;
  readonly Variable?: string;
  readonly And?: readonly ChoiceRule[];
  readonly Or?: readonly ChoiceRule[];
  readonly Not?: ChoiceRule;
  readonly [operator: string]: unknown;
}

export interface ChoiceState extends Common {
  readonly Type: "Choice";
  readonly Choices: readonly ChoiceRule[];
  readonly Default?: string;
}

export interface SucceedState extends Common {
  readonly Type: "Succeed";
}

export interface FailState {
  readonly Type: "Fail";
  readonly Comment?: string;
  readonly Error?: string;
  readonly Cause?: string;
  readonly ErrorPath?: string;
  readonly CausePath?: string;
}

export interface ParallelState extends Common, Transition {
  readonly Type: "Parallel";
  readonly Branches: readonly StateMachineDefinition[];
  readonly Parameters?: Record<string, unknown>;
  readonly ResultSelector?: Record<string, unknown>;
  readonly ResultPath?: string | null;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
}

export interface MapState extends Common, Transition {
  readonly Type: "Map";
  readonly ItemsPath?: string;
  /** The current form; `Iterator` and `Parameters` are the older names AWS still accepts. */
  readonly ItemProcessor?: StateMachineDefinition;
  readonly Iterator?: StateMachineDefinition;
  readonly ItemSelector?: Record<string, unknown>;
  readonly Parameters?: Record<string, unknown>;
  readonly MaxConcurrency?: number;
  readonly ResultSelector?: Record<string, unknown>;
  readonly ResultPath?: string | null;
  readonly Retry?: readonly Retrier[];
  readonly Catch?: readonly Catcher[];
}

export type State =
  TaskState | PassState | WaitState | ChoiceState | SucceedState | FailState | ParallelState | MapState;

export interface StateMachineDefinition {
  readonly Comment?: string;
  /** Our machines are JSONPath (docs/adr/0003); the interpreter refuses JSONata. */
  readonly QueryLanguage?: "JSONPath" | "JSONata";
  readonly StartAt: string;
  readonly TimeoutSeconds?: number;
  readonly States: Readonly<Record<string, State>>;
}

/**
 * Throttling and transient faults, retried with exponential backoff and full jitter on
 * every Task that calls AWS. Step Functions names SDK-integration errors
 * `<Service>.<ErrorCode>`.
 */
export function throttlingRetry(service: string, extra: readonly string[] = []): Retrier {
  return {
    ErrorEquals: [
      `${service}.ThrottlingException`,
      `${service}.TooManyRequestsException`,
      `${service}.RequestLimitExceeded`,
      `${service}.ServiceUnavailableException`,
      `${service}.InternalServerErrorException`,
      ...extra,
    ],
    IntervalSeconds: 2,
    MaxAttempts: 6,
    BackoffRate: 2,
    MaxDelaySeconds: 60,
    JitterStrategy: "FULL",
  };
}

/** Retry for optimized integrations (Lambda, DynamoDB, SNS, Batch) on their transient errors. */
export const TRANSIENT_TASK_RETRY: Retrier = {
  ErrorEquals: [
    "Lambda.ServiceException",
    "Lambda.AWSLambdaException",
    "Lambda.SdkClientException",
    "Lambda.TooManyRequestsException",
    "DynamoDB.ProvisionedThroughputExceededException",
    "DynamoDB.ThrottlingException",
    "DynamoDB.InternalServerErrorException",
    "SNS.ThrottledException",
    "SNS.InternalErrorException",
    "Batch.AWSBatchException",
    "Batch.TooManyRequestsException",
  ],
  IntervalSeconds: 2,
  MaxAttempts: 6,
  BackoffRate: 2,
  MaxDelaySeconds: 60,
  JitterStrategy: "FULL",
};

/**
 * Retry for the optimized EventBridge integration (`events:putEvents`): throttling and EventBridge's
 * internal errors, and `EventBridge.FailedEntry`, which Step Functions raises when PutEvents answers
 * FailedEntryCount > 0 (an entry throttled or refused by EventBridge).
 */
export const EVENTS_RETRY: Retrier = throttlingRetry("EventBridge", [
  "EventBridge.InternalException",
  "EventBridge.FailedEntry",
  "EventBridge.SdkClientException",
]);

/** Checks that every `Next`/`Default`/Catch target exists and every state is reachable. */
export function checkTransitions(def: StateMachineDefinition): string[] {
  const problems: string[] = [];
  const names = new Set(Object.keys(def.States));
  const targets = (s: State): string[] => {
    const out: string[] = [];
    if ("Next" in s && s.Next) out.push(s.Next);
    if (s.Type === "Choice") {
      for (const c of s.Choices) if (c.Next) out.push(c.Next);
      if (s.Default) out.push(s.Default);
    }
    if (s.Type === "Task" || s.Type === "Parallel" || s.Type === "Map") for (const c of s.Catch ?? []) out.push(c.Next);
    return out;
  };
  if (!names.has(def.StartAt)) problems.push(`StartAt: no state named ${def.StartAt}`);
  const reached = new Set<string>();
  const queue = [def.StartAt];
  while (queue.length > 0) {
    const name = queue.pop()!;
    if (reached.has(name) || !names.has(name)) continue;
    reached.add(name);
    for (const t of targets(def.States[name]!)) {
      if (!names.has(t)) problems.push(`${name}: transition to missing state ${t}`);
      queue.push(t);
    }
  }
  for (const n of names) if (!reached.has(n)) problems.push(`${n}: unreachable`);
  return problems;
}
