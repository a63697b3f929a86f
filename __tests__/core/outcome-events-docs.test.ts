/**
 * docs/events.md against the one definition of the outcome events (core/outcome-events.ts): its two
 * tables are exactly what the definition gives, its example events have exactly the documented fields
 * (null where the detail type does not set them), and its rule patterns name only real detail types.
 * What the state machines really emit is asserted field by field by the executed dispatcher and
 * backstop tests (__tests__/integration/pipeline-dispatcher.test.ts) with the same definition.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { ALL_OUTCOME_DETAIL_TYPES, type OutcomeDetailType } from "../../core/outcome-events";
import { expectOutcomeEvent, outcomeTables } from "../helpers/outcome-events";
import type { OutcomeEventEnvelope } from "../helpers/pipeline-bench";

const ROOT = path.resolve(__dirname, "..", "..");
const docs = readFileSync(path.join(ROOT, "docs", "events.md"), "utf8");
const jsonBlocks = [...docs.matchAll(/```json\n([\s\S]*?)```/g)].map((m) => JSON.parse(m[1]!));

describe("docs/events.md", () => {
  it("has the detail-type table of core/outcome-events.ts, exactly", () => {
    expect(docs).toContain(`\n${outcomeTables().detailTypes}\n`);
  });

  it("has the field table of core/outcome-events.ts, exactly", () => {
    expect(docs).toContain(`\n${outcomeTables().fields}\n`);
  });

  const examples = jsonBlocks.filter((b) => b.source === "backup-actions") as OutcomeEventEnvelope[];
  it("shows examples", () => expect(examples.length).toBeGreaterThanOrEqual(3));
  it.each(examples.map((e) => [e["detail-type"], e]))(
    "its example %s has exactly the documented fields, set where documented",
    (type, event) => {
      expect(ALL_OUTCOME_DETAIL_TYPES).toContain(type);
      expectOutcomeEvent(event, type as OutcomeDetailType, event.detail);
    },
  );

  it("subscribes with patterns that name only detail types backup-actions publishes", () => {
    const patterns = jsonBlocks.filter((b) => Array.isArray(b.source));
    expect(patterns.length).toBeGreaterThan(0);
    for (const p of patterns) {
      expect(p.source).toEqual(["backup-actions"]);
      for (const t of p["detail-type"]) expect(ALL_OUTCOME_DETAIL_TYPES).toContain(t);
    }
  });

  it("is linked from the README", () => {
    expect(readFileSync(path.join(ROOT, "README.md"), "utf8")).toContain("(docs/events.md)");
  });
});
