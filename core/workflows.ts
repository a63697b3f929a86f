/**
 * The resource types the pipeline exports, one child workflow each. The one list: the
 * classifier, the ledger, the dispatcher's children, the intake config and the config's
 * `exports` switches are all keyed by it.
 */

export const WORKFLOWS = ["ebs", "rds", "aurora", "dynamodb"] as const;
export type Workflow = (typeof WORKFLOWS)[number];

/**
 * How an RDS or Aurora snapshot is exported (config `exports.rds.format`, `exports.aurora.format`):
 * "parquet" (StartExportTask: for query engines, cannot be restored into a database), "dump" (the
 * engine's own dump tool: restores a database) or "both".
 */
export const DATABASE_EXPORT_FORMATS = ["parquet", "dump", "both"] as const;
export type DatabaseExportFormat = (typeof DATABASE_EXPORT_FORMATS)[number];
/** The archive's promise is a restorable copy: only a dump restores a database. */
export const DEFAULT_DATABASE_EXPORT_FORMAT: DatabaseExportFormat = "dump";
export type DatabaseWorkflow = "rds" | "aurora";

/**
 * A workflow's switch: off, or on (an object says how it exports: `{ format }` of config
 * `exports.rds`/`aurora`, a DatabaseExportFormat, or `exports.dynamodb`, a DynamoDB export format).
 */
export type WorkflowSwitch = boolean | { readonly format: string };

/** Which workflows are switched on (config `exports.<workflow>`): anything but `false` is on. */
export type WorkflowSwitches = { readonly [W in Workflow]: WorkflowSwitch };

/** The export format of a database workflow's switch; undefined when it is off. */
export function databaseExportFormatOf(value: WorkflowSwitch): DatabaseExportFormat | undefined {
  if (value === false) return undefined;
  // The schema admits only DATABASE_EXPORT_FORMATS for rds and aurora.
  return value === true ? DEFAULT_DATABASE_EXPORT_FORMAT : (value.format as DatabaseExportFormat);
}

/** Whether the format takes the Parquet path (StartExportTask) / the native dump path. */
export const hasParquet = (format: DatabaseExportFormat): boolean => format === "parquet" || format === "both";
export const hasDump = (format: DatabaseExportFormat): boolean => format === "dump" || format === "both";

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
