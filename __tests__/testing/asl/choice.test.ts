import { chooseNext, evaluateRule, stringMatches } from "../../../testing/asl/choice";
import { ChoiceRule, Json } from "../../../testing/asl/types";

const input: Json = {
  s: "backup-2024",
  n: 10,
  b: true,
  t: "2024-05-01T12:00:00Z",
  other: { s: "backup-2025", n: 10, t: "2024-05-01T13:00:00+01:00" },
  nothing: null,
};
const rule = (r: Record<string, unknown>): boolean => evaluateRule(r as ChoiceRule, input, {});

describe("Choice comparison operators", () => {
  test.each<[Record<string, unknown>, boolean]>([
    [{ Variable: "$.s", StringEquals: "backup-2024" }, true],
    [{ Variable: "$.s", StringLessThan: "backup-2025" }, true],
    [{ Variable: "$.s", StringGreaterThan: "backup-2025" }, false],
    [{ Variable: "$.s", StringLessThanEquals: "backup-2024" }, true],
    [{ Variable: "$.s", StringGreaterThanEquals: "backup-2024" }, true],
    [{ Variable: "$.s", StringEqualsPath: "$.other.s" }, false],
    [{ Variable: "$.s", StringLessThanPath: "$.other.s" }, true],
    [{ Variable: "$.s", StringMatches: "backup-*" }, true],
    [{ Variable: "$.s", StringMatches: "*-2025" }, false],
    [{ Variable: "$.n", NumericEquals: 10 }, true],
    [{ Variable: "$.n", NumericLessThan: 10 }, false],
    [{ Variable: "$.n", NumericGreaterThan: 9.5 }, true],
    [{ Variable: "$.n", NumericLessThanEquals: 10 }, true],
    [{ Variable: "$.n", NumericGreaterThanEquals: 11 }, false],
    [{ Variable: "$.n", NumericEqualsPath: "$.other.n" }, true],
    [{ Variable: "$.n", NumericGreaterThanPath: "$.other.n" }, false],
    [{ Variable: "$.b", BooleanEquals: true }, true],
    [{ Variable: "$.b", BooleanEqualsPath: "$.b" }, true],
    [{ Variable: "$.t", TimestampEquals: "2024-05-01T12:00:00Z" }, true],
    [{ Variable: "$.t", TimestampEqualsPath: "$.other.t" }, true],
    [{ Variable: "$.t", TimestampLessThan: "2024-05-01T12:00:01Z" }, true],
    [{ Variable: "$.t", TimestampGreaterThanEquals: "2024-05-02T00:00:00Z" }, false],
    [{ Variable: "$.t", TimestampLessThanEqualsPath: "$.other.t" }, true],
    [{ Variable: "$.s", NumericEquals: 10 }, false],
    [{ Variable: "$.n", StringEquals: "10" }, false],
    [{ Variable: "$.nothing", IsNull: true }, true],
    [{ Variable: "$.s", IsNull: true }, false],
    [{ Variable: "$.missing", IsPresent: false }, true],
    [{ Variable: "$.s", IsPresent: true }, true],
    [{ Variable: "$.n", IsNumeric: true }, true],
    [{ Variable: "$.s", IsString: true }, true],
    [{ Variable: "$.b", IsBoolean: true }, true],
    [{ Variable: "$.t", IsTimestamp: true }, true],
    [{ Variable: "$.s", IsTimestamp: true }, false],
  ])("%j → %s", (r, expected) => {
    expect(rule(r)).toBe(expected);
  });

  test("And, Or and Not combine rules", () => {
    const and = {
      And: [
        { Variable: "$.n", NumericEquals: 10 },
        { Variable: "$.b", BooleanEquals: true },
      ],
    };
    const or = { Or: [{ Variable: "$.n", NumericEquals: 1 }, { Not: { Variable: "$.s", StringEquals: "x" } }] };
    expect(rule(and)).toBe(true);
    expect(rule(or)).toBe(true);
    expect(rule({ Not: and })).toBe(false);
  });

  test("a missing Variable is a States.Runtime error", () => {
    expect(() => rule({ Variable: "$.missing", StringEquals: "x" })).toThrow(
      expect.objectContaining({ name: "States.Runtime" }),
    );
  });

  test("StringMatches treats \\* as a literal star and escapes regex characters", () => {
    expect(stringMatches("a*b", "a\\*b")).toBe(true);
    expect(stringMatches("axb", "a\\*b")).toBe(false);
    expect(stringMatches("v1.2(x)", "v1.2(*)")).toBe(true);
  });
});

describe("chooseNext", () => {
  const choices = [{ Variable: "$.n", NumericGreaterThan: 100, Next: "Big" }] as ChoiceRule[];

  test("falls back to Default", () => {
    expect(chooseNext(choices, "Small", input, {})).toBe("Small");
  });

  test("without Default, no match is States.NoChoiceMatched", () => {
    expect(() => chooseNext(choices, undefined, input, {})).toThrow(
      expect.objectContaining({ name: "States.NoChoiceMatched" }),
    );
  });
});
