/**
 * Choice rules. Each comparison reads `Variable`, checks its type, and compares with a literal or, for the
 * `...Path` variants, with a value read from the input. As in AWS, a value of the wrong type makes the
 * comparison false, a missing `Variable` is a States.Runtime error (except for IsPresent), and no match
 * without a Default is States.NoChoiceMatched.
 */
import { pathExists, readPath } from "./paths";
import { ChoiceRule, Json, runtimeError, StatesError } from "./types";

type Kind = "String" | "Numeric" | "Boolean" | "Timestamp";
const COMPARATORS = ["Equals", "LessThan", "GreaterThan", "LessThanEquals", "GreaterThanEquals"] as const;

// RFC 3339 as Step Functions accepts it: date, 'T', time, optional fraction, and 'Z' or an offset.
const RFC3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:\d{2})$/;

export function isTimestamp(v: unknown): v is string {
  return typeof v === "string" && RFC3339.test(v) && !Number.isNaN(Date.parse(v));
}

function ofKind(kind: Kind, v: unknown): boolean {
  switch (kind) {
    case "String":
      return typeof v === "string";
    case "Numeric":
      return typeof v === "number";
    case "Boolean":
      return typeof v === "boolean";
    case "Timestamp":
      return isTimestamp(v);
  }
}

function compare(kind: Kind, op: (typeof COMPARATORS)[number], a: unknown, b: unknown): boolean {
  if (!ofKind(kind, a) || !ofKind(kind, b)) return false;
  const [x, y] =
    kind === "Timestamp"
      ? [Date.parse(a as string), Date.parse(b as string)]
      : [a as number | string | boolean, b as number | string | boolean];
  switch (op) {
    case "Equals":
      return x === y;
    case "LessThan":
      return x < y;
    case "GreaterThan":
      return x > y;
    case "LessThanEquals":
      return x <= y;
    case "GreaterThanEquals":
      return x >= y;
  }
}

/** `*` matches any run of characters; `\*` is a literal star. */
export function stringMatches(value: string, pattern: string): boolean {
  const regex = pattern
    .split(/(\\\*|\\\\|\*)/)
    .map((part) =>
      part === "*"
        ? ".*"
        : part === "\\*"
          ? "\\*"
          : part === "\\\\"
            ? "\\\\"
            : part.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
    )
    .join("");
  return new RegExp(`^${regex}$`, "s").test(value);
}

export function evaluateRule(rule: ChoiceRule, input: Json, context: Json): boolean {
  if (rule.And) return rule.And.every((r) => evaluateRule(r, input, context));
  if (rule.Or) return rule.Or.some((r) => evaluateRule(r, input, context));
  if (rule.Not) return !evaluateRule(rule.Not, input, context);
  const variable = rule.Variable;
  if (typeof variable !== "string") throw runtimeError(`Choice rule has no Variable: ${JSON.stringify(rule)}`);
  const read = (path: string): unknown =>
    path.startsWith("$$") ? readPath(path, input, context, "Variable") : readPath(path, input, undefined, "Variable");

  if ("IsPresent" in rule) return pathExists(variable, input, context) === rule.IsPresent;
  const value = read(variable);
  if ("IsNull" in rule) return (value === null) === rule.IsNull;
  if ("IsString" in rule) return (typeof value === "string") === rule.IsString;
  if ("IsNumeric" in rule) return (typeof value === "number") === rule.IsNumeric;
  if ("IsBoolean" in rule) return (typeof value === "boolean") === rule.IsBoolean;
  if ("IsTimestamp" in rule) return isTimestamp(value) === rule.IsTimestamp;
  if ("StringMatches" in rule) return typeof value === "string" && stringMatches(value, String(rule.StringMatches));

  for (const kind of ["String", "Numeric", "Boolean", "Timestamp"] as const) {
    for (const op of COMPARATORS) {
      if (kind === "Boolean" && op !== "Equals") continue;
      const name = `${kind}${op}`;
      if (name in rule) return compare(kind, op, value, rule[name]);
      if (`${name}Path` in rule) return compare(kind, op, value, read(String(rule[`${name}Path`])));
    }
  }
  throw runtimeError(`Choice rule has no supported comparison operator: ${JSON.stringify(rule)}`);
}

/** Returns the name of the next state. */
export function chooseNext(
  choices: readonly ChoiceRule[],
  defaultNext: string | undefined,
  input: Json,
  context: Json,
): string {
  for (const rule of choices) {
    if (evaluateRule(rule, input, context)) {
      if (!rule.Next) throw runtimeError(`Top-level Choice rule without Next: ${JSON.stringify(rule)}`);
      return rule.Next;
    }
  }
  if (defaultNext) return defaultNext;
  throw new StatesError("States.NoChoiceMatched", `No Matches! (input: ${JSON.stringify(input)})`);
}
