import { IConstruct } from "constructs";
import { RULE_IDS, RuleId } from "./types";

/**
 * Exceptions to the baseline are construct metadata, not a list kept elsewhere: they travel with
 * the construct they excuse, need a reason, and show up in the construct tree. Metadata entries
 * are not written to the synthesized Terraform JSON, so marking changes no plan.
 */
const EXCEPTION_TYPE = "backup-actions:baseline-exception";
const SSE_S3_TYPE = "backup-actions:allow-sse-s3";

interface ExceptionData {
  readonly rule: RuleId;
  readonly reason: string;
}

/**
 * Excuses `construct` and everything below it from one baseline rule. Use sparingly; the reason is
 * required and should say why the rule cannot hold and what compensates.
 */
export function allowBaselineException(construct: IConstruct, rule: RuleId, reason: string): void {
  if (!RULE_IDS.includes(rule)) {
    throw new Error(`allowBaselineException: unknown rule "${rule}"; known rules: ${RULE_IDS.join(", ")}`);
  }
  construct.node.addMetadata(EXCEPTION_TYPE, {
    rule,
    reason: requireReason("allowBaselineException", construct, reason),
  });
}

/**
 * Marks a bucket as a state or log bucket that may use SSE-S3 (`AES256`) instead of SSE-KMS:
 * S3 server access logs can only be delivered to SSE-S3 buckets, and the bootstrap state bucket
 * must exist before any KMS key is managed by Terraform. All other S3 rules still apply.
 */
export function allowSseS3(bucket: IConstruct, reason: string): void {
  bucket.node.addMetadata(SSE_S3_TYPE, requireReason("allowSseS3", bucket, reason));
}

/** True when `construct` or one of its ancestors carries an exception for `rule`. */
export function isExcepted(construct: IConstruct, rule: RuleId): boolean {
  return construct.node.scopes.some((scope) =>
    scope.node.metadata.some((entry) => entry.type === EXCEPTION_TYPE && (entry.data as ExceptionData).rule === rule),
  );
}

/** True when the bucket itself (not an ancestor: the mark is about this bucket's purpose) allows SSE-S3. */
export function isSseS3Allowed(bucket: IConstruct): boolean {
  return bucket.node.metadata.some((entry) => entry.type === SSE_S3_TYPE);
}

function requireReason(fn: string, construct: IConstruct, reason: string): string {
  const trimmed = reason.trim();
  if (trimmed === "") throw new Error(`${fn}(${construct.node.path}): a reason is required`);
  return trimmed;
}
