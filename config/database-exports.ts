/**
 * Which RDS / Aurora children a config deploys and how each exports: the stack builds them from
 * it, and `backup-actions plan-event` says from it what the deployed dispatcher does with an event.
 */
import { databaseExportFormatOf, type DatabaseExportFormat, type DatabaseWorkflow } from "../core/workflows";
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
