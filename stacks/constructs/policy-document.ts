/**
 * An IAM policy document rendered to JSON at synth, held in a Terraform local.
 *
 * `data "aws_iam_policy_document"` is read during plan only when every argument is known and no
 * resource it depends on has pending changes; otherwise Terraform defers it to apply and every
 * policy built from it shows as `(known after apply)`. A local holding the JSON is evaluated
 * during plan: reviewers see each statement, and only the ARNs of resources not created yet stay
 * unknown. The statement model is the data source's (`sid`, `effect`, `actions`, `resources`,
 * `principals`, `condition`, ...), so converting a `DataAwsIamPolicyDocument` means changing
 * its class name; the local takes the data source's construct id, so its address reads the same.
 *
 * Rendering:
 * - tokens inside strings (`${aws_s3_bucket.x.arn}`, `arn:...:${aws_kms_key.k.key_id}`) stay
 *   Terraform interpolations, spliced into the JSON as they are: they must be values that need
 *   no JSON escaping (ARNs, ids, names, account ids);
 * - a literal `${` (IAM policy variables such as `${aws:username}`) is escaped to `$${`, and
 *   `%{` to `%%{`, so Terraform's template syntax leaves them alone; like the data source,
 *   `&{aws:username}` is accepted as another spelling of `${aws:username}`;
 * - statement keys in the order AWS prints them (Sid, Effect, Principal, NotPrincipal, Action,
 *   NotAction, Resource, NotResource, Condition); lists stay lists, even of one element; a
 *   `{ type: "*", identifiers: ["*"] }` principal is `"Principal": "*"`.
 *
 * Refused (PolicyDocumentError), because the JSON could not be written at synth or IAM would not
 * take it as written: a token standing for a whole list where a list of strings is needed; a
 * statement with neither or both of `actions` and `notActions`; the same condition test and
 * variable twice in one statement; a duplicate sid; an effect other than Allow or Deny.
 */
import { IResolvable, TerraformLocal, Tokenization } from "cdktf";
import { Construct } from "constructs";
import { BackupActionsError } from "../../core/errors";

/** A policy document cannot be rendered at synth, or IAM would refuse or rewrite it. */
export class PolicyDocumentError extends BackupActionsError {
  override readonly name: string = "PolicyDocumentError";
}

/** A `principals` / `notPrincipals` entry: `{ type: "Service", identifiers: ["sqs.amazonaws.com"] }`. */
export interface PolicyPrincipal {
  /** `AWS`, `Service`, `Federated`, `CanonicalUser`, or `*` (with identifiers `["*"]`: anyone). */
  readonly type: string;
  readonly identifiers: readonly string[];
}

/** A `condition` entry: `{ test: "StringEquals", variable: "aws:SourceAccount", values: [...] }`. */
export interface PolicyCondition {
  readonly test: string;
  readonly variable: string;
  readonly values: readonly string[];
}

/**
 * One statement, in the shape of `DataAwsIamPolicyDocumentStatement` (which is assignable to it).
 * The `IResolvable` alternatives exist only for that assignability: they are refused at synth.
 */
export interface PolicyStatement {
  /** @default no Sid */
  readonly sid?: string;
  /** @default "Allow" */
  readonly effect?: string;
  /** Exactly one of `actions` and `notActions`. */
  readonly actions?: readonly string[];
  readonly notActions?: readonly string[];
  /** @default no Resource (resource policies, trust policies) */
  readonly resources?: readonly string[];
  readonly notResources?: readonly string[];
  /** @default no Principal (identity policies) */
  readonly principals?: readonly PolicyPrincipal[] | IResolvable;
  readonly notPrincipals?: readonly PolicyPrincipal[] | IResolvable;
  /** @default no Condition */
  readonly condition?: readonly PolicyCondition[] | IResolvable;
}

export interface PolicyDocumentProps {
  readonly statement: readonly PolicyStatement[];
  /** @default "2012-10-17" */
  readonly version?: string;
}

/** The IAM JSON of one statement, keys in the order they are written. */
type JsonStatement = Record<string, unknown>;

export class PolicyDocument extends TerraformLocal {
  /** The policy JSON: a reference to this local, for `policy` / `assumeRolePolicy` arguments. */
  public readonly json: string;

  constructor(scope: Construct, id: string, props: PolicyDocumentProps) {
    // Rendered (and refused) before the local joins the construct tree: a refused document leaves nothing behind.
    const path = [scope.node.path, id].filter((part) => part !== "").join("/");
    const document = { Version: props.version ?? "2012-10-17", Statement: renderStatements(path, props.statement) };
    super(scope, id, toTemplate(JSON.stringify(document), path));
    this.json = this.asString;
  }
}

function renderStatements(path: string, statements: readonly PolicyStatement[]): JsonStatement[] {
  const sids = new Set<string>();
  return statements.map((statement, index) => {
    const where = `policy document ${path}: ${label(statement, index)}`;
    if (statement.sid !== undefined) {
      if (sids.has(statement.sid)) throw new PolicyDocumentError(`${where} repeats a sid; sids must be unique`);
      sids.add(statement.sid);
    }
    return renderStatement(statement, where);
  });
}

function label(statement: PolicyStatement, index: number): string {
  return statement.sid === undefined ? `statement ${index}` : `statement ${index} (sid "${statement.sid}")`;
}

function renderStatement(statement: PolicyStatement, where: string): JsonStatement {
  const effect = statement.effect ?? "Allow";
  if (effect !== "Allow" && effect !== "Deny")
    throw new PolicyDocumentError(`${where} has effect ${JSON.stringify(effect)}; it must be "Allow" or "Deny"`);
  const actions = list(statement.actions, `${where} actions`);
  const notActions = list(statement.notActions, `${where} notActions`);
  if (actions === undefined && notActions === undefined)
    throw new PolicyDocumentError(`${where} has neither actions nor notActions; IAM requires one of them`);
  if (actions !== undefined && notActions !== undefined)
    throw new PolicyDocumentError(`${where} has both actions and notActions; IAM accepts only one of them`);

  const out: JsonStatement = {};
  if (statement.sid !== undefined) out.Sid = statement.sid;
  out.Effect = effect;
  const principal = principals(statement.principals, `${where} principals`);
  if (principal !== undefined) out.Principal = principal;
  const notPrincipal = principals(statement.notPrincipals, `${where} notPrincipals`);
  if (notPrincipal !== undefined) out.NotPrincipal = notPrincipal;
  if (actions !== undefined) out.Action = actions;
  if (notActions !== undefined) out.NotAction = notActions;
  const resources = list(statement.resources, `${where} resources`);
  if (resources !== undefined) out.Resource = resources;
  const notResources = list(statement.notResources, `${where} notResources`);
  if (notResources !== undefined) out.NotResource = notResources;
  const condition = conditions(statement.condition, `${where} condition`);
  if (condition !== undefined) out.Condition = condition;
  return out;
}

/** A list of strings as given, or undefined when not set. Tokens inside the strings are fine. */
function list(value: readonly string[] | undefined, where: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (Tokenization.isResolvable(value) || (Array.isArray(value) && Tokenization.reverseList(value) !== undefined))
    throw wholeListToken(where);
  if (!Array.isArray(value)) throw new PolicyDocumentError(`${where} is not a list of strings`);
  return value.map((item, i) => {
    if (typeof item !== "string") throw new PolicyDocumentError(`${where}[${i}] is not a string`);
    return item;
  });
}

function blocksOf<T>(value: readonly T[] | IResolvable | undefined, where: string): readonly T[] | undefined {
  if (value === undefined) return undefined;
  if (Tokenization.isResolvable(value) || !Array.isArray(value)) throw wholeListToken(where);
  return value as readonly T[];
}

function wholeListToken(where: string): PolicyDocumentError {
  return new PolicyDocumentError(
    `${where} is a token for a whole list, which cannot be rendered at synth; pass a list of strings (tokens inside each string are fine)`,
  );
}

function principals(value: readonly PolicyPrincipal[] | IResolvable | undefined, where: string): unknown {
  const entries = blocksOf(value, where);
  if (entries === undefined || entries.length === 0) return undefined;
  const byType: Record<string, string[]> = {};
  for (const [i, entry] of entries.entries()) {
    const identifiers = list(entry.identifiers, `${where}[${i}] identifiers`) ?? [];
    if (entry.type === "*") {
      if (entries.length !== 1 || identifiers.length !== 1 || identifiers[0] !== "*")
        throw new PolicyDocumentError(
          `${where}[${i}] has type "*": it must be the only principal, with identifiers ["*"] (anyone)`,
        );
      return "*";
    }
    byType[entry.type] = [...(byType[entry.type] ?? []), ...identifiers];
  }
  return byType;
}

function conditions(value: readonly PolicyCondition[] | IResolvable | undefined, where: string): unknown {
  const entries = blocksOf(value, where);
  if (entries === undefined || entries.length === 0) return undefined;
  const byTest: Record<string, Record<string, string[]>> = {};
  for (const [i, entry] of entries.entries()) {
    const byVariable = (byTest[entry.test] ??= {});
    if (entry.variable in byVariable)
      throw new PolicyDocumentError(
        `${where} has ${entry.test} on ${entry.variable} twice; IAM would merge or refuse them: give all values in one condition`,
      );
    byVariable[entry.variable] = list(entry.values, `${where}[${i}] values`) ?? [];
  }
  return byTest;
}

/**
 * The JSON text as a Terraform template: literal `${` and `%{` escaped, token markers (which
 * cdktf resolves to `${...}` interpolations) kept. `&{` is the data source's spelling of `${`.
 */
function toTemplate(text: string, path: string): string {
  const markers = [...new Set(Tokenization.reverseString(text).tokens.map((token) => token.toString()))];
  if (markers.length === 0) return escapeLiteral(text);
  const splitter = new RegExp(`(${markers.map((m) => m.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")).join("|")})`);
  const parts = text.split(splitter);
  return parts
    .map((part, i) => {
      if (i % 2 === 1) return part; // a token marker
      const literal = escapeLiteral(part);
      // `$` right before `${...}` would read as the escape `$${`: the interpolation would be lost.
      if (i + 1 < parts.length && literal.endsWith("$"))
        throw new PolicyDocumentError(
          `policy document ${path}: a literal "$" right before a token would turn the interpolation into the escape "$\${"`,
        );
      return literal;
    })
    .join("");
}

function escapeLiteral(text: string): string {
  return text
    .replace(/&\{/g, () => "${")
    .replace(/\$\{/g, () => "$${")
    .replace(/%\{/g, () => "%%{");
}

/**
 * The reverse of rendering, for readers of synthesized JSON (the security baseline, the IAM proof):
 * a policy template, as a local holds it, parsed to its JSON value, each interpolation replaced by
 * what `interpolate` makes of its expression (inside the JSON string it stands in). Escapes
 * (`$${`, `%%{`) become the literal text again. Throws a PolicyDocumentError on template
 * directives (`%{if ...}`), unterminated interpolations and text that is not JSON.
 */
export function parsePolicyTemplate(template: string, interpolate: (expression: string) => string): unknown {
  const expressions: string[] = [];
  let text = "";
  let i = 0;
  while (i < template.length) {
    if (template.startsWith("$${", i) || template.startsWith("%%{", i)) {
      text += `${template[i]}{`;
      i += 3;
    } else if (template.startsWith("${", i)) {
      const end = interpolationEnd(template, i + 2);
      expressions.push(template.slice(i + 2, end).trim());
      text += placeholder(expressions.length - 1);
      i = end + 1;
    } else if (template.startsWith("%{", i)) {
      throw new PolicyDocumentError(`the policy template has a directive at ${i}: ${template.slice(i, i + 40)}`);
    } else {
      text += template[i];
      i += 1;
    }
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new PolicyDocumentError(`the policy template is not JSON: ${(error as Error).message}`);
  }
  const restore = (value: unknown): unknown => {
    if (typeof value === "string")
      return value.replace(/\uE000(\d+)\uE000/g, (_m, n: string) => interpolate(expressions[Number(n)]!));
    if (Array.isArray(value)) return value.map(restore);
    if (value !== null && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, restore(v)]));
    return value;
  };
  return restore(parsed);
}

/** `\uE000<n>\uE000`, escaped as JSON so that it parses inside a JSON string. */
function placeholder(n: number): string {
  return `\\uE000${n}\\uE000`;
}

/** Index of the `}` that closes the interpolation whose expression starts at `start`. */
function interpolationEnd(template: string, start: number): number {
  let depth = 0;
  let quoted = false;
  for (let i = start; i < template.length; i++) {
    const c = template[i];
    if (quoted) {
      if (c === "\\") i += 1;
      else if (c === '"') quoted = false;
    } else if (c === '"') quoted = true;
    else if (c === "{") depth += 1;
    else if (c === "}") {
      if (depth === 0) return i;
      depth -= 1;
    }
  }
  throw new PolicyDocumentError(`the policy template has an unterminated interpolation at ${start - 2}`);
}
