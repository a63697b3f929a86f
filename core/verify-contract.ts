/**
 * The verify Lambda's payload: what the dispatcher's VerifyArchive Task sends
 * (stacks/workflows/dispatcher.ts) and reads back, and what lambdas/verify answers.
 */
import { InvalidEventError } from "./errors";

export interface VerifyRequest {
  readonly archiveUrl: string;
  /** For the logs only. */
  readonly recoveryPointArn?: string;
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

/** A Task's `Parameters`/`ResultSelector` keys for the fields of T as JSONPaths (`<field>.$`). */
export type JsonPathFieldsOf<T> = { readonly [K in keyof T & string as `${K}.$`]?: string };

/** Checks the Lambda's event; throws InvalidEventError naming what is missing. */
export function parseVerifyRequest(event: unknown): VerifyRequest {
  const e = event as { archiveUrl?: unknown; recoveryPointArn?: unknown } | null;
  if (!e || typeof e !== "object" || typeof e.archiveUrl !== "string")
    throw new InvalidEventError("VerifyArchive: the payload needs archiveUrl");
  return {
    archiveUrl: e.archiveUrl,
    ...(typeof e.recoveryPointArn === "string" ? { recoveryPointArn: e.recoveryPointArn } : {}),
  };
}
