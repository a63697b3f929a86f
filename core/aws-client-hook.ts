/**
 * One place where every AWS SDK v3 client of the product passes after it is built, so a test
 * bench can attach middleware to it (the IAM proof records every request, testing/README.md)
 * without product code importing anything of the bench.
 *
 * In production nothing is registered and `instrumented(client)` returns the client unchanged.
 * A bench registers a hook under the global symbol `AWS_CLIENT_HOOK` (a `Symbol.for` key, so
 * every copy of this module sees the same one); the hook receives each client once.
 */

/** The parts of an SDK v3 client a hook may use (structural, so core/ depends on no SDK package). */
export interface HookableClient {
  readonly middlewareStack: { add(middleware: unknown, options: Record<string, unknown>): void };
  readonly config: { region?: unknown };
}

export type AwsClientHook = (client: HookableClient) => void;

export const AWS_CLIENT_HOOK: unique symbol = Symbol.for("backup-actions.aws-client-hook") as never;

/** Hands a freshly built client to the registered hook, if any, and returns it. */
export function instrumented<C extends HookableClient>(client: C): C {
  const hook = (globalThis as { [AWS_CLIENT_HOOK]?: AwsClientHook })[AWS_CLIENT_HOOK];
  if (typeof hook === "function") hook(client);
  return client;
}

/**
 * A request product code sends without an SDK client (the worker's EBS direct client signs its
 * own requests: batch-worker/src/ebs-direct.ts). The bench's recorder sees it through
 * `observed()` as it sees an SDK command through the client middleware.
 */
export interface ObservedRequest {
  /** The SDK's name of the service (`ebs`). */
  readonly service: string;
  /** The API operation (`GetSnapshotBlock`). */
  readonly operation: string;
  readonly region: string;
  /** The operation's input, in the API reference's field names (`SnapshotId`, `BlockIndex`). */
  readonly input: Record<string, unknown>;
}

export type AwsRequestHook = <T>(request: ObservedRequest, send: () => Promise<T>) => Promise<T>;

export const AWS_REQUEST_HOOK: unique symbol = Symbol.for("backup-actions.aws-request-hook") as never;

/** Sends `send()` through the registered request hook, if any (in production: just `send()`). */
export function observed<T>(request: ObservedRequest, send: () => Promise<T>): Promise<T> {
  const hook = (globalThis as { [AWS_REQUEST_HOOK]?: AwsRequestHook })[AWS_REQUEST_HOOK];
  return typeof hook === "function" ? hook(request, send) : send();
}
