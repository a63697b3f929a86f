import { rdsIdentifierProblem, temporaryDbIdentifier } from "../../core/rds-identifier";

describe("RDS identifiers of temporary dump instances", () => {
  it.each([
    ["", '"" has 0 characters, RDS takes 1 to 63'],
    ["a".repeat(64), `"${"a".repeat(64)}" has 64 characters, RDS takes 1 to 63`],
    ["1dump", '"1dump" does not start with a letter'],
    ["dump_1", '"dump_1" holds a character other than letters, digits and hyphens'],
    ["dump:1", '"dump:1" holds a character other than letters, digits and hyphens'],
    ["dump--1", '"dump--1" holds two consecutive hyphens'],
    ["dump-", '"dump-" ends with a hyphen'],
  ])("refuses %j as RDS does", (id, problem) => {
    expect(rdsIdentifierProblem(id)).toBe(problem);
  });

  it("accepts a valid identifier", () => {
    expect(rdsIdentifierProblem("a")).toBeUndefined();
    expect(rdsIdentifierProblem(`a${"-b".repeat(31)}`)).toBeUndefined();
  });

  it.each(["x", "rds-0123abcd-ffff", "name with spaces:and:colons", "ü".repeat(80), "-".repeat(80)])(
    "derives a valid identifier from execution name %j",
    (name) => {
      const id = temporaryDbIdentifier(name);
      expect(rdsIdentifierProblem(id)).toBeUndefined();
      expect(id).toMatch(/^dump-[0-9a-f]{32}$/);
    },
  );

  it("gives different executions different identifiers and one execution always the same", () => {
    expect(temporaryDbIdentifier("a")).toBe(temporaryDbIdentifier("a"));
    expect(temporaryDbIdentifier("a")).not.toBe(temporaryDbIdentifier("b"));
  });
});
