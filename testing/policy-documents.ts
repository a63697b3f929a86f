/**
 * The IAM policy documents of a synthesized stack, as AWS will receive them. PolicyDocument
 * (stacks/constructs/policy-document.ts) writes each as a Terraform local holding the policy JSON
 * as a template; this parses them back. Interpolations stay `${...}` strings
 * (`"${aws_s3_bucket.archive_bucket_1A2B3C4D.arn}/*"`), escapes read as their literal text
 * (`$${aws:username}` is `${aws:username}`).
 */
import { parsePolicyTemplate } from "../stacks/constructs/policy-document";

export interface RenderedStatement {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Principal?: "*" | Record<string, string[]>;
  NotPrincipal?: "*" | Record<string, string[]>;
  Action?: string[];
  NotAction?: string[];
  Resource?: string[];
  NotResource?: string[];
  Condition?: Record<string, Record<string, string[]>>;
}

export interface RenderedPolicy {
  Version: string;
  Statement: RenderedStatement[];
}

/** Every local of `tf` (synthesized stack JSON) that holds a policy document, by logical id. */
export function policyDocuments(tf: unknown): Record<string, RenderedPolicy> {
  const locals = ((tf ?? {}) as { locals?: Record<string, unknown> }).locals ?? {};
  const documents: Record<string, RenderedPolicy> = {};
  for (const [id, value] of Object.entries(locals)) {
    if (typeof value !== "string" || !value.startsWith('{"Version":')) continue;
    documents[id] = parsePolicyTemplate(value, (expression) => `\${${expression}}`) as RenderedPolicy;
  }
  return documents;
}

/**
 * The logical id of the one policy document whose construct id is `id` (logical ids are the
 * construct path joined by `_` plus a hash, e.g. `worker-job_job-role-policy_1A2B3C4D`; a
 * document at the stack's root is its id). Throws naming the documents there are otherwise.
 */
export function policyDocumentId(tf: unknown, id: string): string {
  const ids = Object.keys(policyDocuments(tf));
  const escaped = id.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
  const pattern = new RegExp(`^(${escaped}|(.+_)?${escaped}_[0-9A-F]{8})$`);
  const found = ids.filter((key) => pattern.test(key));
  if (found.length !== 1)
    throw new Error(`expected one policy document with id ${id}, found ${found.length} (${ids.join(", ")})`);
  return found[0]!;
}

/** The one policy document whose construct id is `id` (see policyDocumentId). */
export function policyDocument(tf: unknown, id: string): RenderedPolicy {
  return policyDocuments(tf)[policyDocumentId(tf, id)]!;
}

/** What a `policy` argument holds when it is the document `logicalId`: `${local.<logicalId>}`. */
export function documentReference(logicalId: string): string {
  return `\${local.${logicalId}}`;
}

/**
 * A rendered statement in the shape PolicyDocument takes its statements (and the old data source
 * synthesized them): `sid`, `effect` (left out when Allow, the default), `actions`, `not_actions`,
 * `resources`, `not_resources`, `principals` / `not_principals` as `{ type, identifiers }`,
 * `condition` as `{ test, variable, values }`. Lets assertions read like the code that wrote them.
 */
export function statementBlock(statement: RenderedStatement): Record<string, unknown> {
  const block: Record<string, unknown> = {};
  if (statement.Sid !== undefined) block.sid = statement.Sid;
  if (statement.Effect !== "Allow") block.effect = statement.Effect;
  if (statement.Action) block.actions = statement.Action;
  if (statement.NotAction) block.not_actions = statement.NotAction;
  if (statement.Resource) block.resources = statement.Resource;
  if (statement.NotResource) block.not_resources = statement.NotResource;
  const principals = (value: RenderedStatement["Principal"]) =>
    value === "*"
      ? [{ type: "*", identifiers: ["*"] }]
      : Object.entries(value!).map(([type, identifiers]) => ({ type, identifiers }));
  if (statement.Principal) block.principals = principals(statement.Principal);
  if (statement.NotPrincipal) block.not_principals = principals(statement.NotPrincipal);
  if (statement.Condition)
    block.condition = Object.entries(statement.Condition).flatMap(([test, byVariable]) =>
      Object.entries(byVariable).map(([variable, values]) => ({ test, variable, values })),
    );
  return block;
}

/**
 * Every policy document of `tf` by logical id, its statements in the statement model
 * (statementBlock): `{ [id]: { statement: [{ sid, actions, resources, ... }] } }`, the shape
 * the old `data.aws_iam_policy_document` blocks had.
 */
// Statements are `any`, as tests read fields of them freely.
export function documentBlocks(tf: unknown): Record<string, { statement: any[] }> {
  return Object.fromEntries(
    Object.entries(policyDocuments(tf)).map(([id, document]) => [
      id,
      { statement: document.Statement.map(statementBlock) },
    ]),
  );
}

/**
 * Changes one policy document of `tf` in place (tests of the IAM proof break a policy on purpose):
 * `edit` gets the parsed document, whose strings' `${...}` are interpolations, and the local is
 * written back from it. Refuses a document with escaped literals (`$${aws:username}`), which the
 * parsed form cannot tell apart from interpolations.
 */
export function rewritePolicyDocument(tf: unknown, logicalId: string, edit: (document: RenderedPolicy) => void): void {
  const locals = (tf as { locals?: Record<string, unknown> }).locals ?? {};
  const template = locals[logicalId];
  if (typeof template !== "string") throw new Error(`no policy document local.${logicalId}`);
  if (template.includes("$${") || template.includes("%%{"))
    throw new Error(`local.${logicalId} has escaped literals; rewritePolicyDocument cannot write it back faithfully`);
  const document = policyDocuments({ locals: { [logicalId]: template } })[logicalId]!;
  edit(document);
  locals[logicalId] = JSON.stringify(document);
}
