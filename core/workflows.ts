/**
 * The resource types the pipeline exports, one child workflow each. The one list: the
 * classifier, the ledger, the dispatcher's children, the intake config and the config's
 * `exports` switches are all keyed by it.
 */

export const WORKFLOWS = ["ebs", "rds", "aurora", "dynamodb"] as const;
export type Workflow = (typeof WORKFLOWS)[number];

/** Which workflows are switched on (config `exports.<workflow>`). */
export type WorkflowSwitches = { readonly [W in Workflow]: boolean };

/**
 * A workflow's config setting as the config holds it: a switch, or (switched on) an object of the
 * workflow's options, e.g. `exports.dynamodb: { format: "ION" }`. Only `false` switches it off.
 */
export type WorkflowSetting = boolean | { readonly [option: string]: unknown };

/** AWS Backup's `detail.resourceType` values the pipeline exports, and the workflow each starts. */
export const SUPPORTED_RESOURCE_TYPES: Readonly<Record<string, Workflow>> = {
  EBS: "ebs",
  RDS: "rds",
  Aurora: "aurora",
  DynamoDB: "dynamodb",
};

/**
 * What a child state machine answers the dispatcher (its execution output). A child that
 * exported leaves `outcome` out (or says "EXPORTED") and the dispatcher verifies the archive;
 * "UNSUPPORTED" (an engine or version no export path of the deployment can take) is recorded
 * in the ledger with `reason`, notified, and keeps the recovery point. Everything else in the
 * output is the child's own (e.g. what it wrote), passed to the verify Lambda as `export`.
 */
export const CHILD_OUTCOMES = ["EXPORTED", "UNSUPPORTED"] as const;
export type ChildOutcome = (typeof CHILD_OUTCOMES)[number];

export interface ChildOutput {
  readonly outcome?: ChildOutcome;
  /** Required with UNSUPPORTED: what was not supported, for the ledger's failureReason. */
  readonly reason?: string;
  readonly [key: string]: unknown;
}
