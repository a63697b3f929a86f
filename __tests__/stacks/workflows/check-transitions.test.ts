import { checkTransitions, type State, type StateMachineDefinition } from "../../../stacks/workflows/asl";

// definitions.test.ts proves the real state machines pass; these prove the check can fail.
const task = (extra: Partial<State> = {}): State =>
  ({ Type: "Task", Resource: "arn:aws:states:::lambda:invoke", End: true, ...extra }) as State;
const def = (States: Record<string, State>, StartAt = Object.keys(States)[0]!): StateMachineDefinition => ({
  StartAt,
  States,
});

describe("checkTransitions", () => {
  it("passes a machine whose every transition exists and every state is reached (Next, Choice, Default, Catch)", () => {
    expect(
      checkTransitions(
        def({
          Start: task({ Next: "Gate" } as Partial<State>),
          // a Choice without Default (valid ASL: no match fails the execution with States.NoChoiceMatched)
          Gate: { Type: "Choice", Choices: [{ Variable: "$.y", IsPresent: true, Next: "Pick" }] },
          Pick: { Type: "Choice", Choices: [{ Variable: "$.x", IsPresent: true, Next: "Run" }], Default: "Fan" },
          Run: task({ Catch: [{ ErrorEquals: ["States.ALL"], Next: "Failed" }] } as Partial<State>),
          Fan: { Type: "Parallel", Branches: [], End: true, Catch: [{ ErrorEquals: ["States.ALL"], Next: "Cleanup" }] },
          Cleanup: { Type: "Map", End: true, Catch: [{ ErrorEquals: ["States.ALL"], Next: "Failed" }] },
          Failed: { Type: "Fail", Error: "X" },
        }),
      ),
    ).toEqual([]);
  });

  it("names a StartAt that is no state", () => {
    expect(checkTransitions(def({ A: task() }, "Nope"))).toEqual(["StartAt: no state named Nope", "A: unreachable"]);
  });

  it("names a Next, a Choice rule's Next, a Default and a Catch's Next that lead nowhere", () => {
    expect(checkTransitions(def({ A: task({ Next: "Gone" } as Partial<State>) }))).toEqual([
      "A: transition to missing state Gone",
    ]);
    expect(
      checkTransitions(
        def({
          C: { Type: "Choice", Choices: [{ Variable: "$.x", IsPresent: true, Next: "Gone1" }], Default: "Gone2" },
        }),
      ),
    ).toEqual(["C: transition to missing state Gone1", "C: transition to missing state Gone2"]);
    for (const Type of ["Task", "Parallel", "Map"] as const) {
      const s = {
        Type,
        Resource: "arn:aws:states:::lambda:invoke",
        Branches: [],
        End: true,
        Catch: [{ ErrorEquals: ["States.ALL"], Next: "Gone" }],
      };
      expect(checkTransitions(def({ S: s as unknown as State }))).toEqual(["S: transition to missing state Gone"]);
    }
  });

  it("names states nothing leads to, including a cleanup only a Catch of an unreached state would reach", () => {
    expect(
      checkTransitions(
        def({
          A: task(),
          Orphan: task({ Catch: [{ ErrorEquals: ["States.ALL"], Next: "Cleanup" }] } as Partial<State>),
          Cleanup: { Type: "Succeed" },
        }),
      ),
    ).toEqual(["Orphan: unreachable", "Cleanup: unreachable"]);
  });
});
