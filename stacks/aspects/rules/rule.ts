import { Element, Inventory } from "../inventory";
import { BaselineOptions, RuleId, Violation } from "../types";

/** What every rule gets: the stack's resolved elements and the options it is judged by. */
export interface RuleContext {
  readonly inventory: Inventory;
  readonly options: BaselineOptions;
}

/** A rule module: pure, reads the inventory, returns what it found wrong (exceptions are applied later). */
export type Rule = (context: RuleContext) => Violation[];

export function violation(rule: RuleId, element: Element, message: string): Violation {
  return { rule, path: element.path, message };
}
