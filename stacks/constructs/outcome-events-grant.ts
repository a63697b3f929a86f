import { OUTCOME_EVENT_SOURCE } from "../../core/outcome-events";
import type { PolicyStatement } from "./policy-document";

/**
 * The one grant of everything that publishes outcome events (docs/events.md): events:PutEvents on the default bus
 * of its own account and region only, and only under our source (events:source is multivalued, one value per
 * entry: every entry must be ours).
 */
export function publishOutcomeEvents(
  sid: string,
  where: { readonly partition: string; readonly region: string; readonly accountId: string },
): PolicyStatement {
  return {
    sid,
    actions: ["events:PutEvents"],
    resources: [`arn:${where.partition}:events:${where.region}:${where.accountId}:event-bus/default`],
    condition: [{ test: "ForAllValues:StringEquals", variable: "events:source", values: [OUTCOME_EVENT_SOURCE] }],
  };
}
