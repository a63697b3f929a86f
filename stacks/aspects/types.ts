/**
 * Shared types of the security baseline. Kept free of cdktf imports so that rule modules and their
 * callers can depend on them without pulling in the whole Aspect.
 */

/** How workloads reach AWS APIs and the internet; mirrors the config's `network.egress`. */
export type EgressMode = "endpoints" | "nat" | "public";

/** Options the baseline needs to judge one stack. */
export interface BaselineOptions {
  /** The stack's egress mode: decides whether public IPs are allowed (rule `no-public-ip`). */
  readonly egress: EgressMode;
}

/** Every rule id the baseline reports. Documented one by one in docs/security-baseline.md. */
export const RULE_IDS = [
  "s3-public-access-block",
  "s3-encryption",
  "s3-versioning",
  "s3-tls-only",
  "s3-abort-multipart",
  "kms-key-rotation",
  "log-group-retention",
  "log-group-kms",
  "sqs-encryption",
  "imdsv2",
  "sg-open-ingress",
  "no-public-ip",
  "iam-wildcard",
] as const;

export type RuleId = (typeof RULE_IDS)[number];

/** One broken baseline rule, located by the construct path of the offending resource. */
export interface Violation {
  readonly rule: RuleId;
  /** Construct path (`stack/construct/resource`), the same path cdktf prints in `//.metadata.path`. */
  readonly path: string;
  readonly message: string;
}
