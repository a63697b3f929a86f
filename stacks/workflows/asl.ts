/**
 * Amazon States Language (JSONPath flavour) as TypeScript types, so state machines are
 * typed objects rather than string templates. Only what our machines use is modelled;
 * the definitions are also checked by asl-validator in the tests.
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
}

export type ChoiceRule =
  | ({ readonly Variable: string; readonly Next?: string } & Record<string, unknown>)
  | { readonly And: readonly ChoiceRule[]; readonly Next?: string }
  | { readonly Or: readonly ChoiceRule[]; readonly Next?: string }
  | { readonly Not: ChoiceRule; readonly Next?: string };

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

export type State = TaskState | PassState | WaitState | ChoiceState | SucceedState | FailState;

export interface StateMachineDefinition {
  readonly Comment?: string;
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
    if (s.Type === "Task") for (const c of s.Catch ?? []) out.push(c.Next);
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
