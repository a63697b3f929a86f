/**
 * What `plan-event` adds to an export's reason: the child the dispatcher runs for the workflow
 * (stacks/workflows/dispatcher.ts routes `workflow` to its child). Workflows not listed keep
 * their reason as the classifier gives it.
 */
import type { Workflow } from "../../core/workflows";

const ROUTES: Readonly<Partial<Record<Workflow, (pipeline: string) => string>>> = {
  dynamodb: (pipeline) =>
    `the dispatcher runs ${pipeline}-dynamodb-export (ExportTableToPointInTime at the backup's time when ` +
    "the table's PITR window covers it, else from a temporary table restored from the backup)",
};

export function routeOf(workflow: Workflow, pipeline: string): string | undefined {
  return ROUTES[workflow]?.(pipeline);
}
