import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DRILL_LEDGER_RESULTS } from "../../../core/drill";
import { LEDGER_ATTRIBUTES, LEDGER_DRILL_ATTRIBUTES, LEDGER_STATUSES } from "../../../core/ledger";
import { StateMachineDefinition } from "../../../stacks/workflows/asl";
import { restoreDrillDefinition } from "../../../stacks/workflows/restore-drill";
import { testDispatcher as dispatcher } from "../../helpers/workflows";

// What the dispatcher writes to the ledger must be what core/ledger.ts says a record holds
// (the CLI reads records through that type): every attribute and every status, both ways.

function ledgerWrites(definition: StateMachineDefinition, statusAttribute = "status") {
  const attributes = new Set<string>();
  const statuses = new Set<string>();
  const states = (d: StateMachineDefinition): any[] =>
    Object.values(d.States).flatMap((s: any) => [s, ...(s.ItemProcessor ? states(s.ItemProcessor) : [])]);
  for (const state of states(definition)) {
    const p = state.Parameters;
    if (state.Type !== "Task" || p?.TableName !== "ledger") continue;
    if (state.Resource.endsWith(":putItem")) {
      for (const [name, value] of Object.entries(p.Item as Record<string, any>)) {
        attributes.add(name);
        if (name === "status") statuses.add(value.S);
      }
    } else if (state.Resource.endsWith(":updateItem")) {
      const [, set, removed] = /^SET (.+?)(?: REMOVE (.+))?$/.exec(p.UpdateExpression)!;
      for (const assignment of set!.split(",")) {
        const [left, right] = assignment.split("=").map((s) => s.trim()) as [string, string];
        const name = left.startsWith("#") ? p.ExpressionAttributeNames[left] : left;
        attributes.add(name);
        if (name === statusAttribute) statuses.add(p.ExpressionAttributeValues[right].S);
      }
      for (const name of removed?.split(",") ?? []) attributes.add(name.trim());
    }
  }
  return { attributes, statuses };
}

describe("the dispatcher's ledger writes", () => {
  const withDelete = ledgerWrites(dispatcher(true));
  const withoutDelete = ledgerWrites(dispatcher(false));

  it("write exactly the attributes of LedgerRecord (core/ledger.ts)", () => {
    expect([...withDelete.attributes].sort()).toEqual([...LEDGER_ATTRIBUTES].sort());
    expect([...withoutDelete.attributes].sort()).toEqual(
      LEDGER_ATTRIBUTES.filter(
        (a) => !["recoveryPointDeleted", "deletedAt", "recoveryPointNotDeletedReason"].includes(a),
      ).sort(),
    );
  });

  it("write exactly LEDGER_STATUSES, so `backup-actions ledger --status` offers no status nothing writes", () => {
    expect([...withDelete.statuses].sort()).toEqual([...LEDGER_STATUSES].sort());
  });
});

describe("the restore drill's ledger writes", () => {
  const drill = ledgerWrites(
    restoreDrillDefinition({
      partition: "aws",
      drillFunctionArn: "arn:aws:lambda:us-east-1:111111111111:function:drill",
      jobDefinitionName: "worker",
      jobQueueArn: "arn:aws:batch:us-east-1:111111111111:job-queue/q",
      ledgerTableName: "ledger",
      pipelineName: "ba",
      pipelineTag: { key: "backup-actions:pipeline", value: "ba" },
    }),
    "lastVerifyResult",
  );

  it("write exactly LEDGER_DRILL_ATTRIBUTES and every DRILL_LEDGER_RESULTS value, and nothing of the dispatcher's", () => {
    expect([...drill.attributes].sort()).toEqual([...LEDGER_DRILL_ATTRIBUTES].sort());
    expect([...drill.statuses].sort()).toEqual([...DRILL_LEDGER_RESULTS].sort());
  });
});

describe("the README's ledger section", () => {
  const readme = readFileSync(join(__dirname, "../../../README.md"), "utf8");
  const section = /\nTable `<name>-ledger`[\s\S]*?\n\n/.exec(readme)?.[0] ?? "";

  it("names every attribute and status of a ledger record, and no other", () => {
    expect(section).not.toBe("");
    const named = new Set([...section.matchAll(/`([A-Za-z][A-Za-z0-9]*)`/g)].map((m) => m[1]!));
    expect([...named].sort()).toEqual([...LEDGER_ATTRIBUTES, ...LEDGER_DRILL_ATTRIBUTES].sort());
    const statuses = /`status` \(([A-Z, \n]+)\)/.exec(section)![1]!.split(/,\s*/);
    expect(statuses).toEqual([...LEDGER_STATUSES]);
  });
});
