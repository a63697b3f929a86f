import {
  Element,
  Inventory,
  block,
  blocks,
  describe,
  isExpression,
  literalBool,
  referencedLogicalId,
} from "../inventory";
import { isSseS3Allowed } from "../exceptions";
import { Statement, readPolicy } from "../policy";
import { Rule, violation } from "./rule";
import { RuleId, Violation } from "../types";

/**
 * Rule 1: every `aws_s3_bucket` has its companion resources (the provider v4+ split of the bucket
 * settings): public access block, SSE-KMS, versioning, a TLS-only policy, and an abort-incomplete-
 * multipart lifecycle rule. Companions are matched by their `bucket` attribute: a reference to the
 * bucket's `id` or `bucket`, or the same literal name. The deprecated inline blocks of
 * `aws_s3_bucket` are not accepted: they conflict with the standalone resources.
 */
export const s3Rules: Rule = ({ inventory }) =>
  inventory.resources("aws_s3_bucket").flatMap((bucket) => {
    const companions = (type: string) => companionsOf(bucket, type, inventory);
    return [
      ...publicAccessBlock(bucket, companions("aws_s3_bucket_public_access_block")),
      ...encryption(bucket, companions("aws_s3_bucket_server_side_encryption_configuration")),
      ...versioning(bucket, companions("aws_s3_bucket_versioning")),
      ...tlsOnly(bucket, companions("aws_s3_bucket_policy"), inventory),
      ...abortMultipart(bucket, companions("aws_s3_bucket_lifecycle_configuration")),
    ];
  });

const PUBLIC_ACCESS_FLAGS = [
  "block_public_acls",
  "block_public_policy",
  "ignore_public_acls",
  "restrict_public_buckets",
];
const KMS_ALGORITHMS = ["aws:kms", "aws:kms:dsse"];

function publicAccessBlock(bucket: Element, blocksFound: Element[]): Violation[] {
  if (blocksFound.length === 0) return [missing("s3-public-access-block", bucket, "aws_s3_bucket_public_access_block")];
  return blocksFound.flatMap((pab) => {
    const notTrue = PUBLIC_ACCESS_FLAGS.filter((flag) => literalBool(pab.config[flag]) !== true);
    return notTrue.length === 0
      ? []
      : [
          violation(
            "s3-public-access-block",
            bucket,
            `public access block ${pab.path} must set all four flags to true; not true: ${notTrue.join(", ")}`,
          ),
        ];
  });
}

function encryption(bucket: Element, configurations: Element[]): Violation[] {
  if (configurations.length === 0)
    return [missing("s3-encryption", bucket, "aws_s3_bucket_server_side_encryption_configuration")];
  return configurations.flatMap((sse) => {
    const defaults = blocks(sse.config.rule).flatMap((rule) => blocks(rule.apply_server_side_encryption_by_default));
    if (defaults.length === 0) {
      return [
        violation(
          "s3-encryption",
          bucket,
          `server-side encryption ${sse.path} sets no apply_server_side_encryption_by_default`,
        ),
      ];
    }
    return defaults.flatMap(({ sse_algorithm: algorithm }) => {
      if (typeof algorithm === "string" && KMS_ALGORITHMS.includes(algorithm)) return [];
      if (algorithm === "AES256") {
        return isSseS3Allowed(bucket.construct)
          ? []
          : [
              violation(
                "s3-encryption",
                bucket,
                `server-side encryption ${sse.path} uses AES256 (SSE-S3); use aws:kms or aws:kms:dsse, or mark a state or log bucket with allowSseS3()`,
              ),
            ];
      }
      return [
        violation(
          "s3-encryption",
          bucket,
          `server-side encryption ${sse.path} has sse_algorithm ${describe(algorithm)}; use aws:kms or aws:kms:dsse`,
        ),
      ];
    });
  });
}

function versioning(bucket: Element, configurations: Element[]): Violation[] {
  if (configurations.length === 0) return [missing("s3-versioning", bucket, "aws_s3_bucket_versioning")];
  return configurations.flatMap((v) => {
    const status = block(v.config.versioning_configuration).status;
    return status === "Enabled"
      ? []
      : [
          violation(
            "s3-versioning",
            bucket,
            `versioning ${v.path} has status ${describe(status)}; it must be "Enabled"`,
          ),
        ];
  });
}

function tlsOnly(bucket: Element, policies: Element[], inventory: Inventory): Violation[] {
  if (policies.length === 0) return [missing("s3-tls-only", bucket, "aws_s3_bucket_policy")];
  return policies.flatMap((policy) => {
    const source = readPolicy(policy.config.policy, inventory);
    if (source.kind === "opaque") {
      return [
        violation(
          "s3-tls-only",
          bucket,
          `bucket policy ${policy.path} cannot be checked: ${source.reason}; build it from a PolicyDocument or a JSON string`,
        ),
      ];
    }
    if (source.statements.some((s) => deniesInsecureTransport(s, bucket))) return [];
    const where =
      source.kind === "document" ? ` (document ${inventory.get(source.address)?.path ?? source.address})` : "";
    return [
      violation(
        "s3-tls-only",
        bucket,
        `bucket policy ${policy.path}${where} has no statement denying s3:* to every principal on the bucket and its objects when aws:SecureTransport is false`,
      ),
    ];
  });
}

function abortMultipart(bucket: Element, configurations: Element[]): Violation[] {
  if (configurations.length === 0)
    return [missing("s3-abort-multipart", bucket, "aws_s3_bucket_lifecycle_configuration")];
  return configurations.flatMap((lifecycle) => {
    const ok = blocks(lifecycle.config.rule).some(
      (rule) =>
        rule.status === "Enabled" &&
        appliesToWholeBucket(rule) &&
        isPositiveNumber(block(rule.abort_incomplete_multipart_upload).days_after_initiation),
    );
    return ok
      ? []
      : [
          violation(
            "s3-abort-multipart",
            bucket,
            `lifecycle configuration ${lifecycle.path} has no enabled rule for the whole bucket with abort_incomplete_multipart_upload.days_after_initiation`,
          ),
        ];
  });
}

function missing(rule: RuleId, bucket: Element, type: string): Violation {
  return violation(rule, bucket, `no ${type} references this bucket`);
}

function companionsOf(bucket: Element, type: string, inventory: Inventory): Element[] {
  const name = literalName(bucket);
  return inventory.resources(type).filter((companion) => {
    const target = companion.config.bucket;
    return (
      referencedLogicalId(target, "aws_s3_bucket", ["id", "bucket"]) === bucket.logicalId ||
      (name !== undefined && target === name)
    );
  });
}

function literalName(bucket: Element): string | undefined {
  const name = bucket.config.bucket;
  return typeof name === "string" && !isExpression(name) ? name : undefined;
}

/**
 * The AWS-documented TLS-only statement: Deny, all S3 actions, every principal, condition
 * `Bool aws:SecureTransport = false`, on both the bucket ARN and the object ARNs.
 */
function deniesInsecureTransport(statement: Statement, bucket: Element): boolean {
  if (statement.effect !== "Deny") return false;
  if (!statement.actions.some((a) => a === "s3:*" || a === "*")) return false;
  if (!statement.principals.some((p) => (p.type === "*" || p.type === "AWS") && p.identifiers.includes("*")))
    return false;
  const insecure = statement.conditions.some(
    (c) => c.test === "Bool" && c.variable.toLowerCase() === "aws:securetransport" && c.values.includes("false"),
  );
  if (!insecure) return false;
  const targets = statement.resources.map((r) => resourceTargets(r, bucket));
  return targets.some((t) => t.bucket) && targets.some((t) => t.objects);
}

/** Whether an IAM `Resource` entry covers the bucket itself and/or its objects. */
function resourceTargets(resource: string, bucket: Element): { bucket: boolean; objects: boolean } {
  if (resource === "*" || /^arn:[^:]+:s3:::\*$/.test(resource)) return { bucket: true, objects: true };
  const objects = resource.endsWith("/*");
  const base = objects ? resource.slice(0, -2) : resource;
  const named = /:s3:::(.+)$/.exec(base)?.[1];
  const refersToBucket =
    referencedLogicalId(base, "aws_s3_bucket", ["arn"]) === bucket.logicalId ||
    (named !== undefined &&
      (named === literalName(bucket) ||
        referencedLogicalId(named, "aws_s3_bucket", ["id", "bucket"]) === bucket.logicalId));
  return { bucket: refersToBucket && !objects, objects: refersToBucket && objects };
}

/** No prefix, tag, size or `and` filter: the rule must cover every upload, wherever its key is. */
function appliesToWholeBucket(rule: Record<string, unknown>): boolean {
  if (rule.prefix !== undefined && rule.prefix !== "") return false;
  return blocks(rule.filter).every((filter) =>
    Object.entries(filter).every(
      ([key, value]) => value === undefined || value === null || (key === "prefix" && value === ""),
    ),
  );
}

function isPositiveNumber(value: unknown): boolean {
  return typeof value === "number" && value > 0;
}
