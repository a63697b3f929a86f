/**
 * Step Functions execution names derived from the recovery point ARN.
 *
 * The name is the idempotency key of the whole pipeline: a duplicate delivery of the
 * same event maps to the same name, and StartExecution refuses a second execution of
 * that name (ExecutionAlreadyExists). So it must depend on the ARN only, never on the
 * time or the event id.
 *
 * Format: `<prefix>-<readable id>-<32 hex of SHA-256(arn)>`, at most 80 characters, only
 * `[A-Za-z0-9_-]` (the characters Step Functions allows and CloudWatch Logs accepts).
 * The hash alone identifies the ARN (128 bits); the readable part is for humans.
 */
import { createHash } from "node:crypto";

export const MAX_EXECUTION_NAME_LENGTH = 80;
const HASH_HEX_LENGTH = 32;
const MAX_PREFIX_LENGTH = 16;

/** Replaces every character Step Functions does not allow and trims separators. */
export function sanitizeNamePart(value: string): string {
  return value
    .replace(/[^A-Za-z0-9_-]+/g, "-")
    .replace(/-{2,}/g, "-")
    .replace(/^[-_]+|[-_]+$/g, "");
}

/** The last meaningful segment of an ARN: `snap-0abc`, `job-1234`, a table backup id, a uuid. */
export function shortIdOf(arn: string): string {
  const segments = arn.split(/[:/]/).filter((s) => s !== "");
  return segments.at(-1) ?? arn;
}

export function executionName(recoveryPointArn: string, prefix: string): string {
  if (recoveryPointArn === "") throw new Error("executionName needs a recovery point ARN");
  const hash = createHash("sha256").update(recoveryPointArn, "utf8").digest("hex").slice(0, HASH_HEX_LENGTH);
  const head = sanitizeNamePart(prefix).slice(0, MAX_PREFIX_LENGTH) || "rp";
  const room = MAX_EXECUTION_NAME_LENGTH - head.length - HASH_HEX_LENGTH - 2; // two "-" separators
  const id = sanitizeNamePart(shortIdOf(recoveryPointArn))
    .slice(0, room)
    .replace(/[-_]+$/, "");
  return id ? `${head}-${id}-${hash}` : `${head}-${hash}`;
}
