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

/** The answer for an archive that did not verify: why, and what was counted before it stopped. */
export function notVerified(reason: string, bytes = 0, sha256 = "", objects = 0): VerifyResult {
  return { verified: false, bytes, sha256, reason, objects };
}

/** A Task's `Parameters`/`ResultSelector` keys for the fields of T as JSONPaths (`<field>.$`). */
export type JsonPathFieldsOf<T> = { readonly [K in keyof T & string as `${K}.$`]?: string };

/** Checks the Lambda's event; throws InvalidEventError naming what is missing. */
export function parseVerifyRequest(event: unknown): VerifyRequest {
  const e = event as { archiveUrl?: unknown; recoveryPointArn?: unknown; workflow?: unknown; export?: unknown } | null;
  if (!e || typeof e !== "object" || typeof e.archiveUrl !== "string")
    throw new InvalidEventError("VerifyArchive: the payload needs archiveUrl");
  if (e.workflow !== undefined && !(WORKFLOWS as readonly unknown[]).includes(e.workflow))
    throw new InvalidEventError(
      `VerifyArchive: workflow ${JSON.stringify(e.workflow)} is not one of ${WORKFLOWS.join(", ")}`,
    );
  if (e.export !== undefined && (typeof e.export !== "object" || e.export === null || Array.isArray(e.export)))
    throw new InvalidEventError("VerifyArchive: export, when given, must be the child's output object");
  return {
    archiveUrl: e.archiveUrl,
    ...(typeof e.recoveryPointArn === "string" ? { recoveryPointArn: e.recoveryPointArn } : {}),
    ...(e.workflow !== undefined ? { workflow: e.workflow as Workflow } : {}),
    ...(e.export !== undefined ? { export: e.export as Record<string, unknown> } : {}),
  };
}
