import { readFileSync } from "node:fs";
import { join } from "node:path";
import { LEDGER_ATTRIBUTES, LEDGER_STATUSES } from "../../../core/ledger";
import { StateMachineDefinition } from "../../../stacks/workflows/asl";
import { testDispatcher as dispatcher } from "../../helpers/workflows";

// What the dispatcher writes to the ledger must be what core/ledger.ts says a record holds
// (the CLI reads records through that type): every attribute and every status, both ways.

function ledgerWrites(definition: StateMachineDefinition) {
  const attributes = new Set<string>();
  const statuses = new Set<string>();
  for (const state of Object.values(definition.States) as any[]) {
    const p = state.Parameters;
    if (state.Type !== "Task" || p?.TableName !== "ledger") continue;
    if (state.Resource.endsWith(":putItem")) {
      for (const [name, value] of Object.entries(p.Item as Record<string, any>)) {
        attributes.add(name);
        if (name === "status") statuses.add(value.S);
      }
    } else if (state.Resource.endsWith(":updateItem")) {
      const set = /^SET (.+)$/.exec(p.UpdateExpression)![1]!;
      for (const assignment of set.split(",")) {
        const [left, right] = assignment.split("=").map((s) => s.trim()) as [string, string];
        const name = left.startsWith("#") ? p.ExpressionAttributeNames[left] : left;
        attributes.add(name);
        if (name === "status") statuses.add(p.ExpressionAttributeValues[right].S);
      }
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

describe("the README's ledger section", () => {
  const readme = readFileSync(join(__dirname, "../../../README.md"), "utf8");
  const section = /\nTable `<name>-ledger`[\s\S]*?\n\n/.exec(readme)?.[0] ?? "";

  it("names every attribute and status of a ledger record, and no other", () => {
    expect(section).not.toBe("");
    const named = new Set([...section.matchAll(/`([A-Za-z][A-Za-z0-9]*)`/g)].map((m) => m[1]!));
    expect([...named].sort()).toEqual([...LEDGER_ATTRIBUTES].sort());
    const statuses = /`status` \(([A-Z, \n]+)\)/.exec(section)![1]!.split(/,\s*/);
    expect(statuses).toEqual([...LEDGER_STATUSES]);
  });
});
