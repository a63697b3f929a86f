/**
 * The verify Lambda's payload: what the dispatcher's VerifyArchive Task sends
 * (stacks/workflows/dispatcher.ts) and reads back, and what lambdas/verify answers.
 */
import { InvalidEventError } from "./errors";
import { WORKFLOWS, type Workflow } from "./workflows";

export interface VerifyRequest {
  readonly archiveUrl: string;
  /** For the logs only. */
  readonly recoveryPointArn?: string;
  /** Which child exported it; absent = "ebs" (the first and, before, only one). */
  readonly workflow?: Workflow;
  /** The child's execution output (core/workflows.ts ChildOutput): what it wrote, for its verifier. */
  readonly export?: Readonly<Record<string, unknown>>;
  /**
   * When the dispatcher execution started (`$$.Execution.StartTime`, ISO 8601): the answer's
   * `durationSeconds` counts from it. Absent (a payload from before it existed): `durationSeconds` null.
   */
  readonly executionStartTime?: string;
}

export interface VerifyResult {
  readonly verified: boolean;
  /** Compressed bytes of all objects. */
  readonly bytes: number;
  /** SHA-256 of the manifest: it names every object's SHA-256, so it fingerprints the archive. */
  readonly sha256: string;
  readonly reason: string;
  readonly objects: number;
}

/** What the Lambda answers the dispatcher: the verdict, and how long the export took until it. */
export interface VerifyAnswer extends VerifyResult {
  /**
   * Seconds from the request's `executionStartTime` to the verdict, to 0.1 s (elapsedSeconds); null
   * when the request had no start time. The outcome events' `durationSeconds` (core/outcome-events.ts).
   */
  readonly durationSeconds: number | null;
}

/**
 * Seconds from `startIso` to `now`, rounded to 0.1 s. Never negative: the Lambda's clock and Step
 * Functions' need not agree to the millisecond, and a verdict cannot come before its execution started.
 */
export function elapsedSeconds(startIso: string, now: Date): number {
  const start = Date.parse(startIso);
  if (Number.isNaN(start)) throw new InvalidEventError(`elapsedSeconds: ${JSON.stringify(startIso)} is not a time`);
  return Math.max(0, Math.round((now.getTime() - start) / 100) / 10);
}

/** The answer for an archive that did not verify: why, and what was counted before it stopped. */
export function notVerified(reason: string, bytes = 0, sha256 = "", objects = 0): VerifyResult {
  return { verified: false, bytes, sha256, reason, objects };
}

/** A Task's `Parameters`/`ResultSelector` keys for the fields of T as JSONPaths (`<field>.$`). */
export type JsonPathFieldsOf<T> = { readonly [K in keyof T & string as `${K}.$`]?: string };

/** `$$.Execution.StartTime` as Step Functions writes it: `2026-12-03T09:47:12.418Z` (fraction optional). */
const ISO_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;

/** Checks the Lambda's event; throws InvalidEventError naming what is missing. */
export function parseVerifyRequest(event: unknown): VerifyRequest {
  const e = event as {
    archiveUrl?: unknown;
    recoveryPointArn?: unknown;
    workflow?: unknown;
    export?: unknown;
    executionStartTime?: unknown;
  } | null;
  if (!e || typeof e !== "object" || typeof e.archiveUrl !== "string")
    throw new InvalidEventError("VerifyArchive: the payload needs archiveUrl");
  if (e.workflow !== undefined && !(WORKFLOWS as readonly unknown[]).includes(e.workflow))
    throw new InvalidEventError(
      `VerifyArchive: workflow ${JSON.stringify(e.workflow)} is not one of ${WORKFLOWS.join(", ")}`,
    );
  if (e.export !== undefined && (typeof e.export !== "object" || e.export === null || Array.isArray(e.export)))
    throw new InvalidEventError("VerifyArchive: export, when given, must be the child's output object");
  if (
    e.executionStartTime !== undefined &&
    (typeof e.executionStartTime !== "string" ||
      !ISO_TIME.test(e.executionStartTime) ||
      Number.isNaN(Date.parse(e.executionStartTime)))
  )
    throw new InvalidEventError(
      `VerifyArchive: executionStartTime, when given, must be an ISO 8601 UTC time ($$.Execution.StartTime), got ${JSON.stringify(e.executionStartTime)}`,
    );
  return {
    archiveUrl: e.archiveUrl,
    ...(typeof e.recoveryPointArn === "string" ? { recoveryPointArn: e.recoveryPointArn } : {}),
    ...(e.workflow !== undefined ? { workflow: e.workflow as Workflow } : {}),
    ...(e.export !== undefined ? { export: e.export as Record<string, unknown> } : {}),
    ...(typeof e.executionStartTime === "string" ? { executionStartTime: e.executionStartTime } : {}),
  };
}
