/** Assertions on the outcome events a dispatcher execution published (core/outcome-events.ts, docs/events.md). */
import {
  ALL_OUTCOME_DETAIL_TYPES,
  OUTCOME_DETAIL_FIELDS,
  OUTCOME_DETAIL_TYPE_MEANINGS,
  OUTCOME_EVENT_SOURCE,
  type OutcomeDetail,
  type OutcomeDetailType,
} from "../../core/outcome-events";
import type { OutcomeEventEnvelope } from "./pipeline-bench";

/** What every event of one execution says about the recovery point, whatever the outcome. */
export function commonDetail(opts: {
  readonly recoveryPointArn: string;
  readonly resourceArn: string | null;
  readonly resourceType: string;
  readonly workflow: string;
  readonly pipeline: string;
  readonly executionName: string;
}): Pick<
  OutcomeDetail,
  "recoveryPointArn" | "resourceArn" | "resourceType" | "workflow" | "pipeline" | "executionArn" | "startedAt"
> {
  return {
    recoveryPointArn: opts.recoveryPointArn,
    resourceArn: opts.resourceArn,
    resourceType: opts.resourceType,
    workflow: opts.workflow,
    pipeline: opts.pipeline,
    executionArn: expect.stringMatching(
      new RegExp(`^arn:aws:states:us-east-1:\\d{12}:execution:[\\w-]+:${opts.executionName}$`),
    ) as unknown as string,
    startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/) as unknown as string,
  };
}

/**
 * One event: our source, the detail type, exactly the documented fields, each set (not null) in exactly
 * the detail types the core definition says and of its documented type, and every field's value as given.
 */
export function expectOutcomeEvent(event: OutcomeEventEnvelope, type: OutcomeDetailType, detail: OutcomeDetail): void {
  expect(event.source).toBe(OUTCOME_EVENT_SOURCE);
  expect(event["detail-type"]).toBe(type);
  expect(Object.keys(event.detail).sort()).toEqual(Object.keys(OUTCOME_DETAIL_FIELDS).sort());
  const shape = Object.fromEntries(
    Object.entries(event.detail).map(([field, value]) => [field, value === null ? "null" : typeof value]),
  );
  const documented = Object.fromEntries(
    Object.entries(OUTCOME_DETAIL_FIELDS).map(([field, spec]) => [
      field,
      spec.setIn.includes(type) ? (spec.type.startsWith("number") ? "number" : "string") : "null",
    ]),
  );
  expect(shape).toEqual(documented);
  expect(event.detail).toEqual(detail);
}

/** The two tables of docs/events.md, as the core definition gives them (the docs test compares them). */
export function outcomeTables(): { readonly detailTypes: string; readonly fields: string } {
  const detailTypes = [
    "| detail-type | when |",
    "|---|---|",
    ...ALL_OUTCOME_DETAIL_TYPES.map((t) => `| \`${t}\` | ${OUTCOME_DETAIL_TYPE_MEANINGS[t]} |`),
  ].join("\n");
  const fields = [
    "| field | type | set in (null in the others) | meaning |",
    "|---|---|---|---|",
    ...Object.entries(OUTCOME_DETAIL_FIELDS).map(
      ([name, f]) =>
        `| \`${name}\` | ${f.type} | ${
          f.setIn.length === ALL_OUTCOME_DETAIL_TYPES.length ? "every event" : f.setIn.join(", ")
        } | ${f.meaning} |`,
    ),
  ].join("\n");
  return { detailTypes, fields };
}
