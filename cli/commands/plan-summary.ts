/**
 * `backup-actions plan-summary --plans DIR [--max-chars N]`: one Markdown comment for a pull request
 * from the plans of every stack. DIR holds one folder per stack (the GitHub workflow downloads one
 * artifact per stack into it, .github/workflows/pull-request.yml):
 *
 *   DIR/<stack>/plan.json   `terraform show -json tfplan` of a plan that ran
 *   DIR/<stack>/error.txt   what terraform said when init or plan failed (no plan.json)
 *
 * Counts are Terraform's own ("Plan: X to add, Y to change, Z to destroy"): a replacement counts
 * once as an add and once as a destroy, and is also listed as a replacement, because it is the
 * change a reviewer must not miss (a stateful resource rebuilt loses its data). The first line
 * is a marker the workflow finds the comment by, so a new push updates that one comment.
 *
 * Exit status: 0 written, 1 a folder that is neither (or an unreadable plan), 2 wrong usage.
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import * as path from "node:path";
import { intOption, parse, UsageError } from "../args";
import type { Command } from "../main";

export const PLAN_SUMMARY_USAGE = "plan-summary --plans DIR [--expect STACK,...] [--max-chars N]";

/** The comment's first line: the workflow updates the comment that starts with it. */
export const PLAN_SUMMARY_MARKER = "<!-- backup-actions:plan-summary -->";

/** GitHub refuses comment bodies over 65,536 characters. */
const GITHUB_COMMENT_LIMIT = 65_536;

export const PLAN_SUMMARY_HELP = `usage: backup-actions ${PLAN_SUMMARY_USAGE}

Writes one Markdown pull-request comment on stdout from the plans of every stack: a table of what each
stack adds, changes, destroys and replaces (Terraform's own counts), then each stack's changed
addresses. DIR holds one folder per stack with plan.json (\`terraform show -json\` of its plan) or
error.txt (why its plan failed).

  --plans DIR       the folders, one per stack (stack name = folder name)
  --expect S,...    the stacks that were to be planned: one without a folder is reported as not planned
                    (its job failed before it could say why)
  --max-chars N     longest comment (default and most ${GITHUB_COMMENT_LIMIT}, GitHub's limit): the address
                    lists are cut to fit, the table never

Exit status: 0 written, 1 unreadable plans, 2 wrong usage.
`;

/** What one plan does, by Terraform's counting. */
export interface PlanCounts {
  readonly add: number;
  readonly change: number;
  readonly destroy: number;
  readonly import: number;
  /** Addresses replaced (delete+create, either order): each also counted in add and destroy. */
  readonly replace: readonly string[];
  /** Changed addresses with their symbol (`+`, `~`, `-`, `-/+`, `+/-`, `<=`), in plan order. */
  readonly changes: readonly { readonly symbol: string; readonly address: string }[];
  /** Root outputs whose value changes. */
  readonly outputs: number;
}

export interface PlanJson {
  readonly format_version?: string;
  readonly terraform_version?: string;
  readonly resource_changes?: readonly {
    readonly address: string;
    readonly mode: string;
    readonly change: { readonly actions: readonly string[]; readonly importing?: unknown };
  }[];
  readonly output_changes?: Readonly<Record<string, { readonly actions: readonly string[] }>>;
  readonly errored?: boolean;
}

const SYMBOLS: Record<string, string> = {
  create: "+",
  update: "~",
  delete: "-",
  "delete,create": "-/+",
  "create,delete": "+/-",
};

export function countPlan(plan: PlanJson): PlanCounts {
  let add = 0;
  let change = 0;
  let destroy = 0;
  let imports = 0;
  const replace: string[] = [];
  const changes: { symbol: string; address: string }[] = [];
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode !== "managed") continue;
    if (rc.change.importing !== undefined && rc.change.importing !== null) imports++;
    const actions = rc.change.actions.join(",");
    const symbol = SYMBOLS[actions];
    if (symbol === undefined) continue; // no-op, read (data sources are not managed, but a managed read is not a change)
    if (actions === "create") add++;
    else if (actions === "update") change++;
    else if (actions === "delete") destroy++;
    else {
      add++;
      destroy++;
      replace.push(rc.address);
    }
    changes.push({ symbol, address: rc.address });
  }
  const outputs = Object.values(plan.output_changes ?? {}).filter(
    (o) => !(o.actions.length === 1 && o.actions[0] === "no-op"),
  ).length;
  return { add, change, destroy, import: imports, replace, changes, outputs };
}

export type StackPlan =
  { readonly stack: string; readonly counts: PlanCounts } | { readonly stack: string; readonly error: string };

/**
 * Reads DIR/<stack>/plan.json or error.txt for every folder of DIR and every expected stack, sorted
 * by name; an expected stack without a folder is an error entry.
 */
export function readPlans(dir: string, expected: readonly string[] = []): StackPlan[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new Error(`--plans ${dir}: no such directory`);
  const found = readdirSync(dir).filter((name) => statSync(path.join(dir, name)).isDirectory());
  const stacks = [...new Set([...found, ...expected])].sort();
  if (stacks.length === 0) throw new Error(`--plans ${dir}: no stack folders in it`);
  return stacks.map((stack): StackPlan => {
    if (!found.includes(stack)) return { stack, error: "no plan: the stack's job failed before it could report" };
    const planFile = path.join(dir, stack, "plan.json");
    const errorFile = path.join(dir, stack, "error.txt");
    if (existsSync(planFile)) {
      let json: PlanJson;
      try {
        json = JSON.parse(readFileSync(planFile, "utf8")) as PlanJson;
      } catch (e) {
        throw new Error(`${planFile}: not JSON (${(e as Error).message})`);
      }
      if (typeof json !== "object" || json === null || !("format_version" in json))
        throw new Error(`${planFile}: not the output of terraform show -json (no format_version)`);
      if (json.errored) return { stack, error: "terraform recorded the plan as errored" };
      return { stack, counts: countPlan(json) };
    }
    if (existsSync(errorFile)) return { stack, error: readFileSync(errorFile, "utf8").trim() || "plan failed" };
    throw new Error(`${path.join(dir, stack)}: neither plan.json nor error.txt`);
  });
}

const fence = (text: string) => "```\n" + text.replace(/```/g, "``\u200b`") + "\n```";

/** The Markdown comment; address lists are cut (never the table) so it stays within `maxChars`. */
export function formatPlanSummary(plans: readonly StackPlan[], maxChars = GITHUB_COMMENT_LIMIT): string {
  const ok = plans.filter((p): p is Extract<StackPlan, { counts: PlanCounts }> => "counts" in p);
  const failed = plans.filter((p): p is Extract<StackPlan, { error: string }> => "error" in p);
  const total = (key: "add" | "change" | "destroy") => ok.reduce((n, p) => n + p.counts[key], 0);
  const replaced = ok.reduce((n, p) => n + p.counts.replace.length, 0);
  const headline =
    `### terraform plan: ${plans.length} stack${plans.length === 1 ? "" : "s"}, ` +
    `${total("add")} to add, ${total("change")} to change, ${total("destroy")} to destroy` +
    (replaced > 0 ? ` (${replaced} replaced)` : "") +
    (failed.length > 0 ? `, ${failed.length} plan${failed.length === 1 ? "" : "s"} FAILED` : "");
  const verdict = (c: PlanCounts) =>
    c.replace.length > 0 ? "**replaces resources**" : c.changes.length + c.outputs === 0 ? "no changes" : "changes";
  const rows = plans.map((p) =>
    "counts" in p
      ? `| \`${p.stack}\` | ${p.counts.add} | ${p.counts.change} | ${p.counts.destroy} | ${p.counts.replace.length} | ${verdict(p.counts)} |`
      : `| \`${p.stack}\` | - | - | - | - | **plan failed** |`,
  );
  const head = [
    PLAN_SUMMARY_MARKER,
    headline,
    "",
    "| stack | add | change | destroy | replace | |",
    "|---|---:|---:|---:|---:|---|",
    ...rows,
    "",
  ].join("\n");
  const tail = "\nThe full plans (text and JSON) are the run's artifacts, one per stack.\n";

  const sections: string[] = [];
  for (const p of failed)
    sections.push(`<details open><summary>${p.stack}: plan failed</summary>\n\n${fence(p.error)}\n</details>\n`);
  for (const p of ok) {
    if (p.counts.changes.length === 0) continue;
    const lines = p.counts.changes.map((c) => `${c.symbol.padEnd(3)} ${c.address}`);
    const outputs = p.counts.outputs > 0 ? `\n${p.counts.outputs} output(s) change.` : "";
    const replacedNote =
      p.counts.replace.length > 0
        ? `\n**Replaced** (destroyed, then created): ${p.counts.replace.map((a) => `\`${a}\``).join(", ")}\n`
        : "";
    sections.push(
      `<details${p.counts.replace.length > 0 ? " open" : ""}><summary>${p.stack}: ${p.counts.changes.length} resource change(s)</summary>\n${replacedNote}\n${fence(lines.join("\n"))}${outputs}\n</details>\n`,
    );
  }

  const limit = Math.min(maxChars, GITHUB_COMMENT_LIMIT);
  let body = head;
  let left = sections.length;
  for (const section of sections) {
    const cut = `\n_${left} more section(s) cut to stay within ${limit} characters: see the artifacts._\n`;
    if (body.length + section.length + cut.length + tail.length > limit) {
      body += cut;
      left = -1;
      break;
    }
    body += section;
    left--;
  }
  return body + tail;
}

export const planSummaryCommand: Command = {
  summary: "one Markdown pull-request comment from the terraform plans of every stack",
  usage: PLAN_SUMMARY_USAGE,
  help: PLAN_SUMMARY_HELP,
  run(args) {
    const { values } = parse(
      args,
      { plans: { type: "string" }, expect: { type: "string" }, "max-chars": { type: "string" } },
      { min: 0, max: 0 },
    );
    if (values.plans === undefined) throw new UsageError("--plans DIR is required");
    const maxChars = intOption(values["max-chars"], "max-chars", 1000, GITHUB_COMMENT_LIMIT);
    const expected = (values.expect ?? "").split(",").filter((s) => s !== "");
    const bad = expected.find((s) => !/^[A-Za-z0-9_-]+$/.test(s));
    if (bad !== undefined) throw new UsageError(`--expect: ${JSON.stringify(bad)} is not a stack name`);
    process.stdout.write(formatPlanSummary(readPlans(values.plans, expected), maxChars));
    return Promise.resolve(0);
  },
};
