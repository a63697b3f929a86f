/**
 * Records every AWS request product code makes inside a caller context (`runAs`): an SDK v3
 * middleware that `installRecorder()` attaches to every client through core/aws-client-hook, plus
 * `recordIntegration()` for the Step Functions integrations the interpreter runs in-process
 * (testing/asl/integrations.ts). Each record names the role that makes the call in AWS, the
 * deployment (synthesized stack) whose policies judge it, the SDK operation and its input.
 * testing/iam/action-map.ts turns records into IAM requests; testing/iam/evaluate.ts judges them.
 *
 * Requests made outside any `runAs` are test set-up (creating buckets, seeding tables) and are not
 * recorded. Records go to memory (`recorded()`, per test file) and, when the run's recording file
 * is set (`BACKUP_ACTIONS_IAM_RECORDING`, by jest's global setup), to that file as JSON lines,
 * which jest's global teardown evaluates for the whole run.
 */
import { AsyncLocalStorage } from "node:async_hooks";
import { createHash } from "node:crypto";
import { appendFileSync, mkdirSync, writeFileSync, existsSync } from "node:fs";
import * as path from "node:path";
import { DescribeInstancesCommand, DescribeVolumesCommand, EC2Client } from "@aws-sdk/client-ec2";
import {
  AWS_CLIENT_HOOK,
  AWS_REQUEST_HOOK,
  type AwsClientHook,
  type AwsRequestHook,
  type HookableClient,
} from "../../core/aws-client-hook";

/** The roles of a pipeline deployment that make AWS calls (testing/iam/model.ts maps them to IAM roles). */
export type RoleKey =
  | "starter"
  | "verify"
  | "janitor"
  | "reconciler"
  | "dispatcher"
  | "backstop"
  | "ebs-export"
  | "rds-export"
  | "aurora-export"
  | "dynamodb-export"
  | "rds-s3-export"
  | "dump-password"
  | "worker-job"
  | "drill"
  | "drill-machine";

export const RECORDING_ENV = "BACKUP_ACTIONS_IAM_RECORDING";

/** A synthesized pipeline stack: its Terraform JSON, identified by its hash. */
export interface Deployment {
  readonly key: string;
  readonly tf: unknown;
  readonly account: string;
  readonly region: string;
}

/** Who makes the calls: a role of a deployment. */
export interface Caller {
  readonly role: RoleKey;
  readonly deployment: Deployment;
}

export interface RecordedRequest {
  readonly role: RoleKey;
  readonly deployment: string;
  /** `sdk`: a request an SDK client sent; `integration`: a Task of an optimized/.sync integration run in-process. */
  readonly kind: "sdk" | "integration";
  /** SDK: the client's service (`s3`, `ec2`, `sfn`); integration: `states`. */
  readonly service: string;
  /** SDK: the command without `Command` (`UploadPart`); integration: the Task's Resource. */
  readonly operation: string;
  readonly region: string;
  readonly input: Record<string, unknown>;
  /** `ok`, or the error's name. */
  readonly outcome: string;
  readonly httpStatus?: number;
  /** The few response fields a mapping needs (e.g. the VersionId a later DeleteObject names). */
  readonly output?: Record<string, unknown>;
  /** Tags of the resources the request names (by id: vol-…, i-…), read just before it was sent. */
  readonly resourceTags?: Record<string, Record<string, string>>;
  /** The instance a volume is attached to, for requests that name only the volume (DetachVolume). */
  readonly attachedTo?: string;
  readonly test?: string;
}

const callers = new AsyncLocalStorage<Caller>();
const inMemory: RecordedRequest[] = [];

/**
 * A child process the tests spawn (e.g. the worker's CLI standing in for the Batch job) records as
 * one caller for its whole life: `subprocessEnv(caller)` passes it, `testing/iam/preload.ts` reads it.
 */
export const CALLER_ENV = "BACKUP_ACTIONS_IAM_CALLER";
let processCaller: Caller | undefined;

/** Environment for a child process whose AWS requests are `caller`'s (NODE_OPTIONS loads the preload). */
export function subprocessEnv(caller: Caller, env: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const preload = path.join(__dirname, "preload.ts");
  const { key, account, region } = caller.deployment;
  return {
    ...env,
    [CALLER_ENV]: JSON.stringify({ role: caller.role, deployment: { key, account, region } }),
    NODE_OPTIONS: `${env.NODE_OPTIONS ?? ""} --require tsx/cjs --require ${preload}`.trim(),
  };
}

/** Called by the preload in a child process: its requests are recorded as the caller its parent named. */
export function adoptProcessCaller(env: NodeJS.ProcessEnv = process.env): void {
  const raw = env[CALLER_ENV];
  if (!raw) return;
  const parsed = JSON.parse(raw) as { role: RoleKey; deployment: { key: string; account: string; region: string } };
  processCaller = { role: parsed.role, deployment: { ...parsed.deployment, tf: undefined } };
}

function activeCaller(): Caller | undefined {
  return callers.getStore() ?? processCaller;
}

/**
 * Runs `fn` as `caller`: every request made from it (and what it awaits) is recorded for that role.
 * Without a caller, `fn` runs outside any (a handler whose role is not known records nothing rather
 * than being taken for the role that invoked it).
 */
export function runAs<T>(caller: Caller | undefined, fn: () => T): T {
  return caller ? callers.run(caller, fn) : callers.exit(fn);
}

export function currentCaller(): Caller | undefined {
  return activeCaller();
}

/** This test file's records so far (a copy). */
export function recorded(): RecordedRequest[] {
  return [...inMemory];
}

export function clearRecorded(): void {
  inMemory.length = 0;
}

/** The directory of this run's recording (JSON lines plus the deployments they refer to), if any. */
export function recordingFile(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env[RECORDING_ENV] || undefined;
}

/** A deployment for a synthesized stack; written next to the run's recording so teardown can judge against it. */
export function deploymentOf(tf: unknown, account: string, region: string): Deployment {
  const json = JSON.stringify(tf);
  const key = createHash("sha256").update(json).update(account).update(region).digest("hex").slice(0, 16);
  const file = recordingFile();
  if (file) {
    const target = path.join(path.dirname(file), `${path.basename(file, ".jsonl")}.deployments`, `${key}.json`);
    if (!existsSync(target)) {
      mkdirSync(path.dirname(target), { recursive: true });
      writeFileSync(target, JSON.stringify({ key, account, region, tf }));
    }
  }
  return { key, tf, account, region };
}

function store(request: RecordedRequest): void {
  inMemory.push(request);
  const file = recordingFile();
  if (file) appendFileSync(file, `${JSON.stringify(request)}\n`);
}

function currentTest(): string | undefined {
  try {
    return (
      globalThis as { expect?: { getState(): { currentTestName?: string; testPath?: string } } }
    ).expect?.getState().currentTestName;
  } catch {
    return undefined;
  }
}

/** Input fields kept out of the record: payloads, not what IAM decides on. */
const DROPPED = new Set(["Body", "Payload", "Message", "Input"]);

function sanitize(input: unknown): Record<string, unknown> {
  if (!input || typeof input !== "object") return {};
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(input)) {
    if (DROPPED.has(k) || typeof v === "function" || v instanceof Uint8Array) continue;
    try {
      out[k] = JSON.parse(JSON.stringify(v));
    } catch {
      // a stream or another value JSON cannot hold: not relevant to IAM
    }
  }
  return out;
}

/** Records one in-process Step Functions integration call (testing/asl/integrations.ts). */
export function recordIntegration(
  resource: string,
  parameters: unknown,
  outcome = "ok",
  region = process.env.AWS_REGION ?? "us-east-1",
): void {
  const caller = activeCaller();
  if (!caller) return;
  store({
    role: caller.role,
    deployment: caller.deployment.key,
    kind: "integration",
    service: "states",
    operation: resource,
    region,
    input: sanitize(parameters),
    outcome,
    test: currentTest(),
  });
}

type Next = (args: { input: Record<string, unknown> }) => Promise<{ output: Record<string, unknown> }>;
type Context = { clientName?: string; commandName?: string };

/** Reads tags the policies' conditions look at (aws:ResourceTag/*), with a client nobody records. */
async function tagsFor(service: string, input: Record<string, unknown>, region: string) {
  if (service !== "ec2") return {};
  const ids: { volume?: string; instance?: string } = {
    volume: typeof input.VolumeId === "string" ? input.VolumeId : undefined,
    instance: typeof input.InstanceId === "string" ? input.InstanceId : undefined,
  };
  if (!ids.volume && !ids.instance) return {};
  const ec2 = new EC2Client({ region });
  const tags: Record<string, Record<string, string>> = {};
  let attachedTo: string | undefined;
  const asMap = (list?: { Key?: string; Value?: string }[]) =>
    Object.fromEntries((list ?? []).map((t) => [t.Key!, t.Value ?? ""]));
  try {
    if (ids.volume) {
      const v = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [ids.volume] })).catch(() => undefined))
        ?.Volumes?.[0];
      if (v) {
        tags[ids.volume] = asMap(v.Tags);
        attachedTo = v.Attachments?.find((a) => a.State !== "detached")?.InstanceId;
      }
    }
    const instance = ids.instance ?? attachedTo;
    if (instance) {
      const r = await ec2.send(new DescribeInstancesCommand({ InstanceIds: [instance] })).catch(() => undefined);
      const i = r?.Reservations?.[0]?.Instances?.[0];
      if (i) tags[instance] = asMap(i.Tags);
    }
  } finally {
    ec2.destroy();
  }
  return { tags, attachedTo };
}

/** Response fields kept: what a later mapping or a reader of the record needs. */
const KEPT_OUTPUT = ["VersionId", "UploadId", "VolumeId", "ExecutionArn"];

function recordingMiddleware(client: HookableClient) {
  return (next: Next, context: Context) => async (args: { input: Record<string, unknown> }) => {
    const caller = activeCaller();
    if (!caller) return next(args);
    const service = (context.clientName ?? "").replace(/Client$/, "").toLowerCase();
    const operation = (context.commandName ?? "").replace(/Command$/, "");
    const regionValue = client.config.region;
    const region = String(
      typeof regionValue === "function" ? await (regionValue as () => Promise<string>)() : (regionValue ?? ""),
    );
    const input = sanitize(args.input);
    const looked = await tagsFor(service, args.input, region);
    const base = {
      role: caller.role,
      deployment: caller.deployment.key,
      kind: "sdk" as const,
      service,
      operation,
      region,
      input,
      resourceTags: "tags" in looked ? looked.tags : undefined,
      attachedTo: "attachedTo" in looked ? looked.attachedTo : undefined,
      test: currentTest(),
    };
    try {
      const result = await next(args);
      const output = Object.fromEntries(
        KEPT_OUTPUT.filter((k) => result.output?.[k] !== undefined).map((k) => [k, result.output[k]]),
      );
      store({
        ...base,
        outcome: "ok",
        httpStatus: (result.output?.$metadata as { httpStatusCode?: number })?.httpStatusCode,
        output,
      });
      return result;
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      store({ ...base, outcome: err.name ?? "Error", httpStatus: err.$metadata?.httpStatusCode });
      throw e;
    }
  };
}

const instrumentedClients = new WeakSet<object>();

/** Attaches the recording middleware to a client (idempotent); for clients tests build themselves. */
export const recordClient: AwsClientHook = (client) => {
  if (instrumentedClients.has(client)) return;
  instrumentedClients.add(client);
  // initialize: before the SDK serializes, signs or retries, so a retried request is recorded once
  client.middlewareStack.add(recordingMiddleware(client), {
    step: "initialize",
    name: "backupActionsIamRecorder",
    priority: "high",
  });
};

/**
 * Records a request product code sends without an SDK client (core/aws-client-hook.ts `observed`:
 * the worker's EBS direct client), as the middleware records an SDK command.
 */
export const recordRequest: AwsRequestHook = async (request, send) => {
  const caller = activeCaller();
  if (!caller) return send();
  const base = {
    role: caller.role,
    deployment: caller.deployment.key,
    kind: "sdk" as const,
    service: request.service,
    operation: request.operation,
    region: request.region,
    input: sanitize(request.input),
    test: currentTest(),
  };
  try {
    const result = await send();
    store({ ...base, outcome: "ok" });
    return result;
  } catch (e) {
    const err = e as { name?: string; code?: string; status?: number };
    store({ ...base, outcome: err.code ?? err.name ?? "Error", httpStatus: err.status });
    throw e;
  }
};

/** Registers the hooks every product client and request passes through (jest setupFilesAfterEnv: testing/iam/setup.ts). */
export function installRecorder(): void {
  (globalThis as { [AWS_CLIENT_HOOK]?: AwsClientHook })[AWS_CLIENT_HOOK] = recordClient;
  (globalThis as { [AWS_REQUEST_HOOK]?: AwsRequestHook })[AWS_REQUEST_HOOK] = recordRequest;
}

/** Wraps a test-built client: `recordClient` as an expression. */
export function recording<C extends HookableClient>(client: C): C {
  recordClient(client);
  return client;
}
