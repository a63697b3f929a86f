import {
  DefaultTokenResolver,
  StringConcat,
  TerraformDataSource,
  TerraformLocal,
  TerraformResource,
  TerraformStack,
  Tokenization,
} from "cdktf";
import { IConstruct } from "constructs";

/**
 * A resource or data source of one stack, with its configuration resolved to the JSON cdktf would
 * write: snake_case keys, references as `${aws_s3_bucket.<logical id>.id}` strings. Rules read this
 * rather than the provider classes' getters, because the getters of unset or token values return
 * tokens, and because escape-hatch overrides (`addOverride`) only show up in the synthesized form.
 */
export interface Element {
  readonly construct: IConstruct;
  readonly kind: "resource" | "data" | "local";
  /** Terraform type, e.g. `aws_s3_bucket`; `local` for a local value. */
  readonly type: string;
  /** Logical id in the synthesized JSON (`friendlyUniqueId`). */
  readonly logicalId: string;
  /** Terraform address as references spell it: `aws_s3_bucket.x`, `data.aws_iam_policy_document.x`, `local.x`. */
  readonly address: string;
  /** Construct path, used to report violations. */
  readonly path: string;
  /** The block's attributes; for a local, `{ value }` (a PolicyDocument's value is its JSON template). */
  readonly config: Record<string, unknown>;
}

/** All elements of one stack, indexed for the cross-resource lookups the rules make. */
export class Inventory {
  private readonly byAddress = new Map<string, Element>();

  constructor(readonly elements: readonly Element[]) {
    for (const element of elements) this.byAddress.set(element.address, element);
  }

  static of(stack: TerraformStack): Inventory {
    // Not stack.toTerraform(): that resolves in "preparing" mode, which would register cross-stack
    // outputs as a side effect. A plain resolve has no side effects and can run before app.synth().
    const resolver = new DefaultTokenResolver(new StringConcat());
    const resolve = (value: unknown): unknown =>
      Tokenization.resolve(value, { scope: stack, preparing: false, resolver });
    const elements: Element[] = [];
    for (const construct of stack.node.findAll()) {
      if (construct instanceof TerraformLocal && TerraformStack.of(construct) === stack) {
        const logicalId = construct.friendlyUniqueId;
        const fragment = resolve(construct.toTerraform()) as { locals?: Record<string, unknown> };
        elements.push({
          construct,
          kind: "local",
          type: "local",
          logicalId,
          address: `local.${logicalId}`,
          path: construct.node.path,
          config: { value: fragment.locals?.[logicalId] },
        });
        continue;
      }
      const isResource = TerraformResource.isTerraformResource(construct);
      if (!isResource && !TerraformDataSource.isTerraformDataSource(construct)) continue;
      if (TerraformStack.of(construct) !== stack) continue;
      const fragment = resolve(construct.toTerraform()) as Record<
        string,
        Record<string, Record<string, unknown>> | undefined
      >;
      const kind = isResource ? "resource" : "data";
      const type = construct.terraformResourceType;
      const logicalId = construct.friendlyUniqueId;
      const config = fragment[kind]?.[type]?.[logicalId];
      // A resource that was moved (`moveTo`) synthesizes no block of its own: nothing to check.
      if (!isRecord(config)) continue;
      const { ["//"]: _metadata, dynamic, ...attributes } = config;
      // A dynamic block (TerraformIterator.dynamic) is checked through its content template, as one
      // more instance of the block: literal settings in it are judged like any other, and values
      // taken from the iterator are expressions, which the rules report as not checkable.
      if (isRecord(dynamic)) {
        for (const [name, generator] of Object.entries(dynamic)) {
          if (isRecord(generator) && isRecord(generator.content))
            attributes[name] = [...blocks(attributes[name]), generator.content];
        }
      }
      elements.push({
        construct,
        kind,
        type,
        logicalId,
        address: kind === "data" ? `data.${type}.${logicalId}` : `${type}.${logicalId}`,
        path: construct.node.path,
        config: attributes,
      });
    }
    return new Inventory(elements);
  }

  resources(type: string): Element[] {
    return this.elements.filter((e) => e.kind === "resource" && e.type === type);
  }

  dataSources(type: string): Element[] {
    return this.elements.filter((e) => e.kind === "data" && e.type === type);
  }

  locals(): Element[] {
    return this.elements.filter((e) => e.kind === "local");
  }

  get(address: string): Element | undefined {
    return this.byAddress.get(address);
  }
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * Nested blocks synthesize as a list (`rule: [{...}]`) or, for single blocks, as an object
 * (`metadata_options: {...}`), depending on the provider schema. Rules read both the same way.
 */
export function blocks(value: unknown): Record<string, unknown>[] {
  if (Array.isArray(value)) return value.filter(isRecord);
  return isRecord(value) ? [value] : [];
}

/** The first nested block, or an empty object so that attribute reads need no guards. */
export function block(value: unknown): Record<string, unknown> {
  return blocks(value)[0] ?? {};
}

/** A string-or-list attribute (IAM `Action`, `cidr_blocks`, ...) as a list of strings. */
export function strings(value: unknown): string[] {
  if (value === undefined || value === null) return [];
  const list = Array.isArray(value) ? value : [value];
  return list.filter((v) => v !== undefined && v !== null).map((v) => String(v));
}

/** True when the synthesized value is a Terraform expression (`${...}`) rather than a literal. */
export function isExpression(value: unknown): boolean {
  return typeof value === "string" && value.includes("${");
}

/** A literal boolean, accepting the `"true"`/`"false"` strings some provider schemas use. */
export function literalBool(value: unknown): boolean | undefined {
  if (value === true || value === "true") return true;
  if (value === false || value === "false") return false;
  return undefined;
}

/** Renders a value for a message: `not set`, `false`, `"optional"`, `the expression ${var.x}`. */
export function describe(value: unknown): string {
  if (value === undefined || value === null) return "not set";
  if (isExpression(value)) return `the expression ${abbreviate(String(value))}, which cannot be checked at synth`;
  return abbreviate(JSON.stringify(value));
}

/** Long expressions (for-expressions, whole policies) shortened so a message stays one readable line. */
export function abbreviate(text: string, max = 100): string {
  return text.length > max ? `${text.slice(0, max - 3)}...` : text;
}

/**
 * Logical id of the resource of `type` that `value` references (`${aws_s3_bucket.x.id}` -> `x`),
 * when the reference reads one of `attributes`. Index suffixes (`x[0]`) are tolerated.
 */
export function referencedLogicalId(value: unknown, type: string, attributes: readonly string[]): string | undefined {
  if (typeof value !== "string") return undefined;
  const match = /^\$\{([a-z0-9_]+)\.([A-Za-z0-9_-]+)(?:\[[^\]]*\])?\.([a-z0-9_]+)\}$/.exec(value);
  if (!match || match[1] !== type || !attributes.includes(match[3])) return undefined;
  return match[2];
}
