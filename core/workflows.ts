/**
 * The resource types the pipeline exports, one child workflow each. The one list: the
 * classifier, the ledger, the dispatcher's children, the intake config and the config's
 * `exports` switches are all keyed by it.
 */

export const WORKFLOWS = ["ebs", "rds", "aurora", "dynamodb"] as const;
export type Workflow = (typeof WORKFLOWS)[number];

/** Which workflows are switched on (config `exports.<workflow>`). */
export type WorkflowSwitches = { readonly [W in Workflow]: boolean };

/** AWS Backup's `detail.resourceType` values the pipeline exports, and the workflow each starts. */
export const SUPPORTED_RESOURCE_TYPES: Readonly<Record<string, Workflow>> = {
  EBS: "ebs",
  RDS: "rds",
  Aurora: "aurora",
  DynamoDB: "dynamodb",
};
