/**
 * Which RDS / Aurora children a config deploys and how each exports: the stack builds them from
 * it, and `backup-actions plan-event` says from it what the deployed dispatcher does with an event.
 */
import { dynamodbExportEnabled, dynamodbExportFormat, type DynamoDbExportFormat } from "../core/dynamodb-export";
import {
  databaseExportFormatOf,
  type DatabaseExportFormat,
  type DatabaseWorkflow,
  type Workflow,
} from "../core/workflows";
import type { ExportsConfig } from "./schema";

export function databaseFormatsOf(
  exports: Pick<ExportsConfig, DatabaseWorkflow>,
): Partial<Record<DatabaseWorkflow, DatabaseExportFormat>> {
  const out: Partial<Record<DatabaseWorkflow, DatabaseExportFormat>> = {};
  for (const workflow of ["rds", "aurora"] as const) {
    const format = databaseExportFormatOf(exports[workflow]);
    if (format) out[workflow] = format;
  }
  return out;
}

/** What the deployed dispatcher does with a workflow's recovery point: the child it runs, or why it skips. */
export type DispatcherRoute =
  | {
      readonly child: string;
      /** A database workflow's DatabaseExportFormat, or DynamoDB's export format. */
      readonly format?: DatabaseExportFormat | DynamoDbExportFormat;
      /** How the child exports, when it has more than one way. */
      readonly how?: string;
    }
  | { readonly skipped: string };

/**
 * The route the pipeline of this config takes (stacks/constructs/export-workflows.ts deploys a child
 * for ebs and for rds/aurora when they are on; DynamoDB has none in this version, so the dispatcher
 * records it SKIPPED with the reason below, word for word as stacks/workflows/dispatcher.ts writes it).
 */
export function dispatcherRouteOf(
  name: string,
  exports: Pick<ExportsConfig, Workflow>,
  workflow: Workflow,
): DispatcherRoute {
  const child = `${name}-${workflow}-export`;
  if (workflow === "rds" || workflow === "aurora") {
    const format = databaseExportFormatOf(exports[workflow]);
    if (format) return { child, format };
  } else if (workflow === "dynamodb") {
    if (dynamodbExportEnabled(exports.dynamodb))
      return {
        child,
        format: dynamodbExportFormat(exports.dynamodb),
        how:
          "ExportTableToPointInTime at the backup's time when the table's PITR window covers it, " +
          "else from a temporary table restored from the backup",
      };
  } else if (workflow === "ebs" && exports.ebs) return { child };
  return { skipped: `no exporter for workflow ${workflow} is deployed` };
}
