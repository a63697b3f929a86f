import { App, IAspect, TerraformStack } from "cdktf";
import { IConstruct } from "constructs";
import { isExcepted } from "./exceptions";
import { Inventory } from "./inventory";
import { Rule } from "./rules/rule";
import { s3Rules } from "./rules/s3";
import { kmsKeyRotation, logGroups, sqsEncryption } from "./rules/encryption";
import { imdsv2 } from "./rules/imds";
import { sgOpenIngress } from "./rules/security-group";
import { noPublicIp } from "./rules/public-ip";
import { iamWildcard } from "./rules/iam";
import { BaselineOptions, Violation } from "./types";
import { BackupActionsError } from "../../core/errors";

export { allowBaselineException, allowSseS3 } from "./exceptions";
export { RULE_IDS } from "./types";
export type { BaselineOptions, EgressMode, RuleId, Violation } from "./types";

/** The rules in the order docs/security-baseline.md lists them. */
const RULES: readonly Rule[] = [
  s3Rules,
  kmsKeyRotation,
  logGroups,
  sqsEncryption,
  imdsv2,
  sgOpenIngress,
  noPublicIp,
  iamWildcard,
];

/**
 * Checks one stack against the baseline and returns every violation that is not excused by an
 * exception, sorted by construct path and rule. Pure: reads the construct tree, changes nothing,
 * so it can run before `app.synth()`.
 */
export function checkBaseline(stack: TerraformStack, options: BaselineOptions): Violation[] {
  const inventory = Inventory.of(stack);
  const constructs = new Map(inventory.elements.map((e) => [e.path, e.construct]));
  return RULES.flatMap((rule) => rule({ inventory, options }))
    .filter((v) => {
      const construct = constructs.get(v.path);
      return construct === undefined || !isExcepted(construct, v.rule);
    })
    .sort((a, b) => a.path.localeCompare(b.path) || a.rule.localeCompare(b.rule) || a.message.localeCompare(b.message));
}

/** Thrown when any stack breaks the baseline; lists every violation, one per line. */
export class BaselineViolationError extends BackupActionsError {
  override readonly name: string = "BaselineViolationError";

  constructor(readonly violations: readonly Violation[]) {
    super(
      [
        `Security baseline: ${violations.length} violation${violations.length === 1 ? "" : "s"} (see docs/security-baseline.md):`,
        ...violations.map(formatViolation),
      ].join("\n"),
    );
  }
}

/** `<construct path>: <rule>: <message>`, the line format of BaselineViolationError. */
export function formatViolation(violation: Violation): string {
  return `${violation.path}: ${violation.rule}: ${violation.message}`;
}

/**
 * Checks every stack and throws one BaselineViolationError listing all violations. main.ts calls
 * it before `app.synth()`, so a violation writes no stack to cdktf.out (the Aspect alone would fail
 * only when synth reaches the offending stack, after earlier stacks were written).
 */
export function assertBaseline(
  target: App | readonly TerraformStack[],
  optionsFor: BaselineOptions | ((stack: TerraformStack) => BaselineOptions),
): void {
  const stacks = Array.isArray(target) ? target : (target as App).node.findAll().filter(TerraformStack.isStack);
  const violations = stacks.flatMap((stack: TerraformStack) =>
    checkBaseline(stack, typeof optionsFor === "function" ? optionsFor(stack) : optionsFor),
  );
  if (violations.length > 0) throw new BaselineViolationError(violations);
}

/**
 * The baseline as a cdktf Aspect: `Aspects.of(stack).add(new SecurityBaseline({ egress }))`.
 * It checks the whole stack when it visits the stack node, because most rules relate resources to
 * each other (a bucket and its policy), and throws BaselineViolationError, which fails
 * `app.synth()`, `cdktf synth` and `Testing.synth`.
 *
 * Add it to each stack, not to the App: cdktf invokes aspects from each stack downwards, so an
 * aspect on the App is never called.
 */
export class SecurityBaseline implements IAspect {
  constructor(private readonly options: BaselineOptions) {}

  visit(node: IConstruct): void {
    if (!TerraformStack.isStack(node)) return;
    const violations = checkBaseline(node, this.options);
    if (violations.length > 0) throw new BaselineViolationError(violations);
  }
}
