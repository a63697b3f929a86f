/**
 * The input of a dispatcher execution, as the starter builds it. The dispatcher state
 * machine reads `$.recoveryPoint.*` (where the recovery point is and what it is) and
 * `$.plan.workflow` (which child to run).
 *
 * It holds nothing that changes between two deliveries of the same event (no receive
 * time, no message id): Step Functions treats a StartExecution with the same name AND
 * the same input as the same request, so identical duplicates are idempotent even
 * before ExecutionAlreadyExists comes into play.
 */
import type { Classification, EventFacts, Plan, RecoveryPointFacts } from "./events";
import { ArchiveLocation, archiveLocation, placementIndexOf } from "./s3-layout";

/**
 * Who started the execution: the starter, from an AWS Backup event, or the reconciler, for a
 * recovery point whose event was lost (core/reconcile.ts). The dispatcher records it in the
 * ledger's RUNNING record; an input without it (started before it existed) counts as "event".
 */
export const STARTED_BY = ["event", "reconciler"] as const;
export type StartedBy = (typeof STARTED_BY)[number];

export interface ExecutionInput {
  readonly plan: Plan;
  readonly recoveryPoint: RecoveryPointFacts;
  readonly event: EventFacts;
  /** Where the export goes. */
  readonly archive: ArchiveLocation;
  /** Which AZ / job queue of the pipeline the export runs in. */
  readonly placementIndex: number;
  readonly startedBy: StartedBy;
}

export interface Destination {
  readonly archiveBucket: string;
  /** Number of placements (AZs with a job queue) of the pipeline. */
  readonly placementCount: number;
}

/** The input for an export; throws when the classification is not one. */
export function executionInputOf(
  classification: Classification,
  destination: Destination,
  startedBy: StartedBy = "event",
): ExecutionInput {
  const { plan, recoveryPoint, event } = classification;
  if (plan.action !== "export" || !recoveryPoint || !event) throw new Error(`not an export: ${plan.reason}`);
  // The event's time is the same in every delivery of it (the receive time is not).
  const time = event.time ?? new Date(0).toISOString();
  return {
    plan,
    recoveryPoint,
    event,
    archive: archiveLocation(destination.archiveBucket, recoveryPoint, time),
    placementIndex: placementIndexOf(recoveryPoint.arn, destination.placementCount),
    startedBy,
  };
}
