/**
 * Task resources that call AWS through the real SDK v3 clients, so they reach moto (or whatever
 * `AWS_ENDPOINT_URL` / `AWS_ENDPOINT_URL_<SERVICE>` point at) exactly as our own code would:
 * - `arn:aws:states:::aws-sdk:<service>:<action>` → `@aws-sdk/client-<service>`, `<Action>Command`;
 * - the optimized `dynamodb:*Item`, `sns:publish`, `sqs:sendMessage` and `events:putEvents` integrations.
 * Parameters are passed as written: Step Functions' PascalCase names are the SDK v3 member names for
 * every service we use (EC2, RDS, DynamoDB, S3, SSM, SQS, SNS, Batch, Lambda, SFN, Backup, STS).
 */
import { instrumented, type HookableClient } from "../../core/aws-client-hook";
import { Json, StatesError } from "./types";

/** Step Functions' error prefix for `aws-sdk:<service>` (its Java SDK v2 client name); default: the name capitalised. */
const SDK_ERROR_PREFIX: Record<string, string> = {
  dynamodb: "DynamoDb",
  ec2: "Ec2",
  rds: "Rds",
  s3: "S3",
  ssm: "Ssm",
  sqs: "Sqs",
  sns: "Sns",
  sfn: "Sfn",
  sts: "Sts",
  batch: "Batch",
  lambda: "Lambda",
  backup: "Backup",
  cloudwatch: "CloudWatch",
};

/** `aws-sdk:<service>` → npm package suffix, where they differ. */
const PACKAGE_NAME: Record<string, string> = { cloudwatchlogs: "cloudwatch-logs", sfn: "sfn", events: "eventbridge" };

interface SdkClient {
  send(command: unknown): Promise<Record<string, unknown>>;
  destroy(): void;
}
type ClientCtor = new (config: Record<string, unknown>) => SdkClient;
type CommandCtor = new (input: unknown) => unknown;

/** One client per service for an execution; `destroy()` closes their sockets so jest exits cleanly. */
export class SdkClients {
  private readonly clients = new Map<string, SdkClient>();

  async call(service: string, action: string, parameters: Json): Promise<Record<string, unknown>> {
    const pkgName = `@aws-sdk/client-${PACKAGE_NAME[service] ?? service}`;
    let pkg: Record<string, unknown>;
    try {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- probes a package by a name known only at run time
      pkg = require(pkgName) as Record<string, unknown>;
    } catch {
      throw new StatesError(
        "States.Runtime",
        `aws-sdk:${service} needs the package ${pkgName}, which is not installed`,
      );
    }
    const commandName = `${action[0].toUpperCase()}${action.slice(1)}Command`;
    const Command = pkg[commandName] as CommandCtor | undefined;
    if (typeof Command !== "function") {
      throw new StatesError(
        "States.Runtime",
        `${pkgName} has no ${commandName} (resource aws-sdk:${service}:${action})`,
      );
    }
    const client = this.client(service, pkg);
    return client.send(new Command(parameters ?? {}));
  }

  destroy(): void {
    for (const c of this.clients.values()) c.destroy();
    this.clients.clear();
  }

  private client(service: string, pkg: Record<string, unknown>): SdkClient {
    const existing = this.clients.get(service);
    if (existing) return existing;
    // Packages also export smithy's bare `__Client`; pick the service client, e.g. EC2Client for ec2.
    const candidates = Object.keys(pkg).filter(
      (k) => /^[A-Z][A-Za-z0-9]*Client$/.test(k) && typeof pkg[k] === "function",
    );
    const name =
      candidates.find((k) => k.toLowerCase() === `${(PACKAGE_NAME[service] ?? service).replace(/-/g, "")}client`) ??
      candidates[0];
    if (!name) throw new StatesError("States.Runtime", `No client class in @aws-sdk/client-${service}`);
    // Path-style S3 when an endpoint override is set: moto and other emulators serve buckets by path.
    const config =
      service === "s3" && (process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL)
        ? { forcePathStyle: true }
        : {};
    // Through the same hook as the product's clients: the IAM proof records what the Task sends
    // as the role of the execution that runs it (testing/iam/recorder.ts).
    const client = instrumented(new (pkg[name] as ClientCtor)(config) as SdkClient & HookableClient);
    this.clients.set(service, client);
    return client;
  }
}

/** The SDK response as Step Functions returns it: no `$metadata`, timestamps as ISO strings. */
export function toTaskOutput(response: Record<string, unknown>): Json {
  const { $metadata: _ignored, ...rest } = response;
  return JSON.parse(JSON.stringify(rest)) as Json;
}

/** Java SDK v2 naming, which Step Functions uses: `DBSnapshotNotFoundFault` → `DbSnapshotNotFoundException`. */
function javaStyleErrorName(code: string): string {
  const base = code
    .replace(/(Fault|Exception)$/, "")
    .replace(/([A-Z])([A-Z]+)(?=[A-Z][a-z]|\d|$)/g, (_m, first: string, rest: string) => first + rest.toLowerCase());
  return `${base}Exception`;
}

function isModeledSdkError(err: Error): boolean {
  // Modeled errors are subclasses (e.g. ConditionalCheckFailedException); unmodeled ones — every EC2
  // error, or a code the model does not list — are instances of the service's base `XServiceException`.
  return !/ServiceException$/.test(Object.getPrototypeOf(err)?.constructor?.name ?? "");
}

/**
 * The ASL error for a failed `aws-sdk:<service>:<action>` call: `<Service>.<ErrorName>Exception` for
 * errors the service models, `<Service>.<Service>Exception` for the rest (EC2 errors all arrive as
 * `Ec2.Ec2Exception` in AWS, with the code only in the Cause).
 */
export function sdkErrorToStatesError(service: string, thrown: unknown): StatesError {
  if (thrown instanceof StatesError) return thrown;
  if (!(thrown instanceof Error)) return StatesError.from(thrown);
  const prefix = SDK_ERROR_PREFIX[service] ?? service[0].toUpperCase() + service.slice(1);
  const status = (thrown as { $metadata?: { httpStatusCode?: number; requestId?: string } }).$metadata;
  const name = isModeledSdkError(thrown)
    ? `${prefix}.${javaStyleErrorName(thrown.name)}`
    : `${prefix}.${prefix}Exception`;
  const cause = `${thrown.message} (Service: ${prefix}, Status Code: ${status?.httpStatusCode ?? "?"}, Error Code: ${thrown.name}, Request ID: ${status?.requestId ?? "?"})`;
  return new StatesError(name, cause);
}

/** Optimized integrations keep the service's own error code with an upper-case prefix, e.g. `DynamoDB.ConditionalCheckFailedException`. */
export function optimizedErrorToStatesError(prefix: string, thrown: unknown): StatesError {
  if (thrown instanceof StatesError) return thrown;
  if (!(thrown instanceof Error)) return StatesError.from(thrown);
  return new StatesError(`${prefix}.${thrown.name}`, thrown.message);
}
