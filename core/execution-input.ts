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

export interface ExecutionInput {
  readonly plan: Plan;
  readonly recoveryPoint: RecoveryPointFacts;
  readonly event: EventFacts;
}

/** The input for an export; throws when the classification is not one. */
export function executionInputOf(classification: Classification): ExecutionInput {
  const { plan, recoveryPoint, event } = classification;
  if (plan.action !== "export" || !recoveryPoint || !event) throw new Error(`not an export: ${plan.reason}`);
  return { plan, recoveryPoint, event };
}
