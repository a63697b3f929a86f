import { Inventory, abbreviate, blocks, isRecord, strings } from "./inventory";
import { PolicyDocumentError, parsePolicyTemplate } from "../constructs/policy-document";

/**
 * IAM policy statements in one shape, whether they came from a JSON policy string, a local holding
 * one (PolicyDocument), or the `statement` blocks of a `data.aws_iam_policy_document`. Principals and conditions use the data
 * source's shape (`{ type, identifiers }`, `{ test, variable, values }`), which JSON maps onto 1:1.
 */
export interface Statement {
  readonly sid?: string;
  readonly effect: string;
  readonly actions: string[];
  readonly notActions: string[];
  readonly resources: string[];
  readonly principals: { type: string; identifiers: string[] }[];
  readonly conditions: { test: string; variable: string; values: string[] }[];
}

/**
 * What the baseline could make of a policy attribute:
 * - `statements`: the JSON was parsed (tokens inside it resolve to `${...}` strings, which is fine);
 * - `document`: a reference to a policy document of this stack (a PolicyDocument local or a
 *   data source), with its statements;
 * - `opaque`: an expression (`jsonencode(...)`, `file(...)`, a variable, another stack's document)
 *   that only Terraform can evaluate. Rules treat it as unverifiable and say so.
 */
export type PolicySource =
  | { readonly kind: "statements"; readonly statements: Statement[] }
  | { readonly kind: "document"; readonly address: string; readonly statements: Statement[] }
  | { readonly kind: "opaque"; readonly reason: string };

const DOCUMENT_REFERENCE = /^\$\{(data\.aws_iam_policy_document\.[A-Za-z0-9_-]+)\.(?:json|minified_json)\}$/;
const LOCAL_REFERENCE = /^\$\{(local\.[A-Za-z0-9_-]+)\}$/;

export function readPolicy(value: unknown, inventory: Inventory): PolicySource {
  return read(value, inventory, new Set());
}

function read(value: unknown, inventory: Inventory, seen: Set<string>): PolicySource {
  if (typeof value !== "string")
    return { kind: "opaque", reason: `the policy is ${value === undefined ? "not set" : "not a string"}` };
  const local = LOCAL_REFERENCE.exec(value);
  if (local) {
    const address = local[1];
    const element = inventory.get(address);
    if (!element) return { kind: "opaque", reason: `${address} is not in this stack` };
    const statements = localStatements(element.config.value);
    return statements.kind === "opaque" ? statements : { kind: "document", address, statements: statements.statements };
  }
  const reference = DOCUMENT_REFERENCE.exec(value);
  if (reference) {
    const address = reference[1];
    const document = inventory.get(address);
    if (!document) return { kind: "opaque", reason: `${address} is not in this stack` };
    if (seen.has(address)) return { kind: "opaque", reason: `${address} includes itself` };
    const statements = documentStatements(document.config, inventory, new Set([...seen, address]));
    return statements.kind === "opaque" ? statements : { kind: "document", address, statements: statements.statements };
  }
  const trimmed = value.trim();
  if (trimmed.startsWith("${") && trimmed.endsWith("}")) {
    return { kind: "opaque", reason: `the policy is the Terraform expression ${abbreviate(trimmed)}` };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(trimmed);
  } catch {
    return {
      kind: "opaque",
      reason: `the policy is neither JSON nor a policy document reference: ${abbreviate(trimmed)}`,
    };
  }
  if (!isRecord(parsed)) return { kind: "opaque", reason: "the policy JSON is not an object" };
  return { kind: "statements", statements: blocks(parsed.Statement).map(fromJson) };
}

/**
 * Statements of a local that holds a policy as a Terraform template (what PolicyDocument writes):
 * interpolations stay `${...}` strings, escapes (`$${aws:username}`) read as the literal text.
 */
export function localStatements(
  value: unknown,
): { kind: "statements"; statements: Statement[] } | { kind: "opaque"; reason: string } {
  if (typeof value !== "string") return { kind: "opaque", reason: "the local is not a string" };
  let parsed: unknown;
  try {
    parsed = parsePolicyTemplate(value, (expression) => `\${${expression}}`);
  } catch (error) {
    if (!(error instanceof PolicyDocumentError)) throw error;
    return { kind: "opaque", reason: `${error.message}: ${abbreviate(value)}` };
  }
  if (!isRecord(parsed)) return { kind: "opaque", reason: "the policy JSON is not an object" };
  return { kind: "statements", statements: blocks(parsed.Statement).map(fromJson) };
}

/**
 * Statements of a policy document data source: its own `statement` blocks plus those of the
 * documents it merges in through `source_policy_documents` and `override_policy_documents`.
 */
export function documentStatements(
  config: Record<string, unknown>,
  inventory: Inventory,
  seen: Set<string> = new Set(),
): { kind: "statements"; statements: Statement[] } | { kind: "opaque"; reason: string } {
  const statements = blocks(config.statement).map(fromDocument);
  for (const included of [...strings(config.source_policy_documents), ...strings(config.override_policy_documents)]) {
    const source = read(included, inventory, seen);
    if (source.kind === "opaque") return source;
    statements.push(...source.statements);
  }
  return { kind: "statements", statements };
}

function fromJson(raw: Record<string, unknown>): Statement {
  const principal = raw.Principal;
  const principals =
    principal === "*"
      ? [{ type: "*", identifiers: ["*"] }]
      : isRecord(principal)
        ? Object.entries(principal).map(([type, ids]) => ({ type, identifiers: strings(ids) }))
        : [];
  const conditions = isRecord(raw.Condition)
    ? Object.entries(raw.Condition).flatMap(([test, byVariable]) =>
        isRecord(byVariable)
          ? Object.entries(byVariable).map(([variable, values]) => ({ test, variable, values: strings(values) }))
          : [],
      )
    : [];
  return {
    sid: typeof raw.Sid === "string" ? raw.Sid : undefined,
    effect: typeof raw.Effect === "string" ? raw.Effect : "",
    actions: strings(raw.Action),
    notActions: strings(raw.NotAction),
    resources: strings(raw.Resource),
    principals,
    conditions,
  };
}

/** One `statement` block of a policy document data source. */
export function fromDocument(raw: Record<string, unknown>): Statement {
  return {
    sid: typeof raw.sid === "string" ? raw.sid : undefined,
    // The data source defaults `effect` to Allow.
    effect: typeof raw.effect === "string" ? raw.effect : "Allow",
    actions: strings(raw.actions),
    notActions: strings(raw.not_actions),
    resources: strings(raw.resources),
    principals: blocks(raw.principals).map((p) => ({
      type: String(p.type ?? ""),
      identifiers: strings(p.identifiers),
    })),
    conditions: blocks(raw.condition).map((c) => ({
      test: String(c.test ?? ""),
      variable: String(c.variable ?? ""),
      values: strings(c.values),
    })),
  };
}

/** `statement 2 (sid "Admin")`, or `statement 2` without a sid: how messages point into a policy. */
export function statementLabel(statement: Statement, index: number): string {
  return statement.sid ? `statement ${index} (sid "${statement.sid}")` : `statement ${index}`;
}
