/** Assertions on the outcome events a dispatcher execution published (core/outcome-events.ts, docs/events.md). */
import {
  ALL_OUTCOME_DETAIL_TYPES,
  OUTCOME_DETAIL_FIELDS,
  OUTCOME_DETAIL_TYPE_MEANINGS,
  OUTCOME_EVENT_SOURCE,
  type OutcomeDetail,
  type OutcomeDetailType,
} from "../../core/outcome-events";
import type { ExecutionResult } from "../../testing/asl";
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
      // Set on some paths of this type, null on others: the value given below says which this one is.
      spec.orNullIn?.includes(type) && shape[field] === "null"
        ? "null"
        : spec.setIn.includes(type) || spec.orNullIn?.includes(type)
          ? spec.type.startsWith("number")
            ? "number"
            : "string"
          : "null",
    ]),
  );
  expect(shape).toEqual(documented);
  if (typeof event.detail.durationSeconds === "number") expectDurationWithinEvent(event);
  expect(event.detail).toEqual(detail);
}

/**
 * An event's durationSeconds agrees with its own times: not negative, a multiple of 0.1 s, and not
 * beyond the event's `time` (whole seconds, truncated: up to 1 s late; the duration rounded: up to 0.05 s).
 */
export function expectDurationWithinEvent(event: OutcomeEventEnvelope): void {
  const seconds = event.detail.durationSeconds!;
  expect(seconds).toBeGreaterThanOrEqual(0);
  expect(Math.round(seconds * 10) / 10).toBe(seconds);
  expect(event.detail.startedAt).not.toBeNull();
  const startedAt = Date.parse(event.detail.startedAt!);
  expect(startedAt + seconds * 1000).toBeLessThanOrEqual(Date.parse(event.time) + 1050);
}

/**
 * The durationSeconds a dispatcher execution's events must carry, read from its history: from
 * ExecutionStarted (`$$.Execution.StartTime`) to the end of its last VerifyArchive, on the execution's
 * clock, to 0.1 s. Throws when VerifyArchive did not run (then the events carry null).
 */
export function durationUntilVerified(result: ExecutionResult): number {
  const started = result.history.find((e) => e.type === "ExecutionStarted");
  const verified = result.history
    .filter(
      (e) =>
        e.type === "TaskStateExited" &&
        (e.stateExitedEventDetails as { name?: string } | undefined)?.name === "VerifyArchive",
    )
    .at(-1);
  if (!started || !verified) throw new Error("durationUntilVerified: the execution did not run VerifyArchive");
  return Math.round((verified.timestamp.getTime() - started.timestamp.getTime()) / 100) / 10;
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
          f.setIn.length === ALL_OUTCOME_DETAIL_TYPES.length
            ? "every event"
            : [...f.setIn, ...(f.orNullIn ?? []).map((t) => `${t} (or null)`)].join(", ")
        } | ${f.meaning} |`,
    ),
  ].join("\n");
  return { detailTypes, fields };
}
