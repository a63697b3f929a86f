import { describe, isExpression, literalBool } from "../inventory";
import { Rule, violation } from "./rule";

/**
 * Rules 2-4: encryption and retention settings that live on a single resource.
 * "Set" means a non-empty literal or a reference: a key ARN is usually `${aws_kms_key.x.arn}`.
 */

/** Rule 2: customer managed keys rotate yearly. */
export const kmsKeyRotation: Rule = ({ inventory }) =>
  inventory.resources("aws_kms_key").flatMap((key) => {
    const rotation = key.config.enable_key_rotation;
    if (literalBool(rotation) === true) return [];
    const spec = key.config.customer_master_key_spec;
    // Asymmetric and HMAC keys cannot rotate: say how to excuse them instead of a fix that fails at apply.
    const hint =
      typeof spec === "string" && spec !== "SYMMETRIC_DEFAULT"
        ? `; keys with customer_master_key_spec ${spec} cannot rotate: excuse it with allowBaselineException(key, "kms-key-rotation", reason)`
        : "";
    return [
      violation("kms-key-rotation", key, `enable_key_rotation must be true (it is ${describe(rotation)})${hint}`),
    ];
  });

/** Rule 3: log groups expire their data and are encrypted with a key this project controls. */
export const logGroups: Rule = ({ inventory }) =>
  inventory.resources("aws_cloudwatch_log_group").flatMap((group) => {
    const found = [];
    const retention = group.config.retention_in_days;
    if (!(typeof retention === "number" && retention > 0)) {
      const why =
        retention === undefined || retention === 0
          ? `it is ${describe(retention)}, so logs are kept forever`
          : `it is ${describe(retention)}`;
      found.push(
        violation("log-group-retention", group, `retention_in_days must be a positive number of days (${why})`),
      );
    }
    if (!isSet(group.config.kms_key_id)) {
      found.push(
        violation(
          "log-group-kms",
          group,
          "kms_key_id must be set: without it CloudWatch Logs encrypts with a key it owns, not one this stack controls",
        ),
      );
    }
    return found;
  });

/** Rule 4: queues are encrypted with SSE-KMS or SSE-SQS, stated explicitly. */
export const sqsEncryption: Rule = ({ inventory }) =>
  inventory.resources("aws_sqs_queue").flatMap((queue) => {
    if (isSet(queue.config.kms_master_key_id) || literalBool(queue.config.sqs_managed_sse_enabled) === true) return [];
    const managed = queue.config.sqs_managed_sse_enabled;
    return [
      violation(
        "sqs-encryption",
        queue,
        `set kms_master_key_id (SSE-KMS) or sqs_managed_sse_enabled = true (SSE-SQS); sqs_managed_sse_enabled is ${describe(managed)}`,
      ),
    ];
  });

function isSet(value: unknown): boolean {
  return (typeof value === "string" && value.trim() !== "") || isExpression(value);
}
