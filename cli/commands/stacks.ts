/**
 * `backup-actions stacks [--json]`: every stack of the config (BACKUP_ACTIONS_CONFIG, default
 * config/default.json) in deploy order, each with its account, region, kind, state (S3 key, Terraform
 * Cloud workspace, or bootstrap's local file) and the stacks it reads from. The list is config/stacks.ts's
 * `planStacks`, the one stacks/app.ts builds the cdktf stacks from. Exit 0; an invalid config exits 1
 * with the config's problems on stderr; wrong usage exits 2.
 *
 * The README's deploy-order block is this command's output for config/default.json
 * (`npm run docs:stacks` rewrites it; __tests__/cli/stacks.test.ts fails when it differs).
 *
 * The config modules (zod) are imported once the arguments are good (cli/main.ts: `--help` loads none).
 */
import * as path from "node:path";
import type { PlannedStack, StackKind, StackState } from "../../config/stacks";
import { partitionOf, type Partition } from "../../core/partition";
import { parse } from "../args";
import type { Command } from "../main";

export const STACKS_USAGE = "stacks [--json]";

/** `--json` schema version: raised only when a field changes meaning or goes away. */
export const STACKS_SCHEMA_VERSION = 1;

export const STACKS_HELP = `usage: backup-actions ${STACKS_USAGE}

Lists every stack of the config (BACKUP_ACTIONS_CONFIG, default config/default.json) in deploy
order: a stack comes after every stack it reads from and after bootstrap, whose bucket holds the
S3 state, or workspaces, which declares the Terraform Cloud workspaces. Stacks of one kind read
nothing of their own kind and deploy together.

  --json   one JSON object (schema version ${STACKS_SCHEMA_VERSION}):
           {"schemaVersion": ${STACKS_SCHEMA_VERSION}, "stacks": [{"name", "kind", "account", "region", "partition",
            "state", "readsFrom", "dependsOn"}]} in deploy order, where
           kind       "bootstrap" | "workspaces" | "archive" | "network" | "pipeline"
           partition  the region's: "aws", "aws-cn", "aws-us-gov", … (for ARNs such as a CI role's)
           account, region and partition are null for "workspaces" (it reaches no AWS account)
           state      {"type": "local", "path"} (relative to the project root)
                      | {"type": "s3", "bucket", "key", "region"}
                      | {"type": "cloud", "hostname", "organization", "workspace"}
           readsFrom  stacks whose outputs it reads through terraform_remote_state
           dependsOn  stacks to apply first: readsFrom, and bootstrap when its state is in bootstrap's bucket,
                      or workspaces when it is in a Terraform Cloud workspace

Exit status: 0 listed, 1 invalid config (its problems on stderr), 2 wrong usage.
`;

export interface StacksJson {
  readonly schemaVersion: typeof STACKS_SCHEMA_VERSION;
  readonly stacks: readonly {
    readonly name: string;
    readonly kind: StackKind;
    /** null for `workspaces`: the tfe provider reaches no AWS account. */
    readonly account: string | null;
    readonly region: string | null;
    readonly partition: Partition | null;
    readonly state: StackState;
    readonly readsFrom: readonly string[];
    readonly dependsOn: readonly string[];
  }[];
}

export function stacksJson(plan: readonly PlannedStack[]): StacksJson {
  return {
    schemaVersion: STACKS_SCHEMA_VERSION,
    stacks: plan.map((s) => ({
      name: s.name,
      kind: s.kind,
      account: s.accountId ?? null,
      region: s.region ?? null,
      partition: s.region === undefined ? null : partitionOf(s.region),
      state: s.state,
      readsFrom: [...s.readsFrom],
      dependsOn: [...s.dependsOn],
    })),
  };
}

function stateCell(state: StackState): string {
  switch (state.type) {
    case "local":
      return `local file ${state.path}`;
    case "s3":
      return `s3 key ${state.key}`;
    case "cloud":
      return `workspace ${state.workspace}`;
  }
}

/** Where the S3 keys and workspaces of the table live, one line each. */
function stateLegend(plan: readonly PlannedStack[]): string[] {
  const bootstrapBucket = plan.find((s) => s.kind === "bootstrap");
  const lines = new Set<string>();
  for (const { state } of plan) {
    if (state.type === "s3") {
      const made =
        bootstrapBucket?.kind === "bootstrap" && bootstrapBucket.bootstrap.stateBackend.bucket === state.bucket
          ? `, which ${bootstrapBucket.name} creates`
          : "";
      lines.add(`S3 state keys are in bucket ${state.bucket} (${state.region})${made}.`);
    }
    if (state.type === "cloud") {
      lines.add(`Workspaces are in organization ${state.organization} on ${state.hostname}.`);
    }
  }
  return [...lines];
}

/**
 * The `cdktf deploy` commands, in order. Kinds linked by a read (a pipeline reads its network, and a central
 * archive's key) deploy in one command, which starts each stack once the stacks it reads are applied (the
 * dependencies in cdktf's manifest: stacks/app.ts); `cdktf deploy` refuses a stack without the stacks it depends
 * on. A kind is its single stack's name when that is the kind's name, else `'<kind>-*'`.
 */
export function deployCommands(plan: readonly PlannedStack[]): string[] {
  const kinds: StackKind[] = [];
  for (const s of plan) if (kinds[kinds.length - 1] !== s.kind) kinds.push(s.kind);
  const kindOf = new Map(plan.map((s) => [s.name, s.kind] as const));
  // Kinds joined by reads, each group in deploy order, the groups in the order of their first kind.
  const groupOf = new Map<StackKind, StackKind[]>(kinds.map((k) => [k, [k]]));
  for (const s of plan)
    for (const read of s.readsFrom) {
      const [mine, theirs] = [groupOf.get(s.kind)!, groupOf.get(kindOf.get(read)!)!];
      if (mine === theirs) continue;
      const merged = kinds.filter((k) => mine.includes(k) || theirs.includes(k));
      for (const k of merged) groupOf.set(k, merged);
    }
  const pattern = (kind: StackKind) => {
    const ofKind = plan.filter((s) => s.kind === kind);
    return ofKind.length === 1 && ofKind[0]!.name === kind ? kind : `'${kind}-*'`;
  };
  return [...new Set(kinds.map((k) => groupOf.get(k)!))].map(
    (group) => `npx cdktf deploy ${group.map(pattern).join(" ")}`,
  );
}

/** The human table. `source` names the config file as the user gave it. */
export function formatStacks(plan: readonly PlannedStack[], source: string): string {
  const header = ["#", "stack", "kind", "account", "region", "state", "reads from"];
  const rows = plan.map((s, i) => [
    String(i + 1),
    s.name,
    s.kind,
    s.accountId ?? "-",
    s.region ?? "-",
    stateCell(s.state),
    s.readsFrom.length > 0 ? s.readsFrom.join(", ") : "-",
  ]);
  const widths = header.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (cells: string[]) =>
    cells
      .map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!)))
      .join("  ")
      .trimEnd();
  return [
    `Stacks of ${source} in deploy order (each stack reads only stacks listed above it):`,
    "",
    line(header),
    ...rows.map(line),
    "",
    ...stateLegend(plan),
    "",
    "Deploy in this order (one command deploys a stack after the stacks it reads):",
    ...deployCommands(plan).map((c) => `  ${c}`),
    "",
  ].join("\n");
}

export interface StacksIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
  /** For naming the config file relative to it. @default process.cwd() */
  readonly cwd?: string;
}

/** `argv` holds the arguments after `stacks`; resolves to the exit code. Usage errors throw UsageError. */
export async function runStacks(argv: string[], io: StacksIo): Promise<number> {
  const { values } = parse(
    argv,
    { json: { type: "boolean" }, help: { type: "boolean", short: "h" } },
    { min: 0, max: 0 },
  );
  if (values.help) {
    io.stdout.write(STACKS_HELP);
    return 0;
  }
  const [{ resolveDeployment }, { ConfigError, configPath, loadConfig }, { planStacks }] = await Promise.all([
    import("../../config/deployment"),
    import("../../config/load"),
    import("../../config/stacks"),
  ]);
  const file = configPath(io.env);
  let plan: PlannedStack[];
  try {
    plan = planStacks(resolveDeployment(loadConfig(file)));
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`backup-actions stacks: ${err.message}\n`);
      return 1;
    }
    throw err;
  }
  if (values.json) {
    io.stdout.write(`${JSON.stringify(stacksJson(plan), null, 2)}\n`);
  } else {
    const relative = path.relative(io.cwd ?? process.cwd(), file);
    io.stdout.write(formatStacks(plan, relative && !relative.startsWith("..") ? relative : file));
  }
  return 0;
}

export const stacksCommand: Command = {
  summary: "every stack of the config in deploy order: kind, account, region, state key or workspace, reads from",
  usage: STACKS_USAGE,
  help: STACKS_HELP,
  run: (args) => runStacks(args, { stdout: process.stdout, stderr: process.stderr, env: process.env }),
};

export const STACKS_BEGIN = "<!-- stacks:begin -->";
export const STACKS_END = "<!-- stacks:end -->";

/**
 * The README's generated deploy-order blocks (`npm run docs:stacks`): the block of config/default.json
 * between STACKS_BEGIN and STACKS_END, and one per example, between `<!-- stacks:<id>:begin -->` and
 * `<!-- stacks:<id>:end -->`.
 */
export const STACKS_README_CONFIGS: Readonly<Record<string, string>> = {
  default: "config/default.json",
  fleet: "config/examples/fleet.json",
};

/** The markers of the block `id` (a key of STACKS_README_CONFIGS). */
export function stacksMarkers(id = "default"): { readonly begin: string; readonly end: string } {
  return id === "default"
    ? { begin: STACKS_BEGIN, end: STACKS_END }
    : { begin: `<!-- stacks:${id}:begin -->`, end: `<!-- stacks:${id}:end -->` };
}

/** The README's generated block (between the markers): the command's output for `config`, fenced. */
export function stacksReadmeBlock(commandOutput: string, config = STACKS_README_CONFIGS.default!): string {
  const command =
    config === STACKS_README_CONFIGS.default
      ? "backup-actions stacks"
      : `BACKUP_ACTIONS_CONFIG=${config} backup-actions stacks`;
  return [
    "Generated by `npm run docs:stacks`: the output of `backup-actions stacks` for",
    `[${config}](${config}). Run it for your config to get your stacks and their order.`,
    "",
    "```text",
    `$ ${command}`,
    commandOutput.replace(/\n$/, ""),
    "```",
  ].join("\n");
}

/** `readme` with the block `id` replaced; throws when its markers are missing. */
export function replaceStacksBlock(readme: string, block: string, id?: string): string {
  const { begin: BEGIN, end: END } = stacksMarkers(id);
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) throw new Error(`README.md has no ${BEGIN} … ${END} block`);
  return `${readme.slice(0, begin + BEGIN.length)}\n${block}\n${readme.slice(end)}`;
}

/** The block `id` currently in `readme`, or undefined. */
export function currentStacksBlock(readme: string, id?: string): string | undefined {
  const { begin: BEGIN, end: END } = stacksMarkers(id);
  const begin = readme.indexOf(BEGIN);
  const end = readme.indexOf(END);
  if (begin < 0 || end < begin) return undefined;
  return readme
    .slice(begin + BEGIN.length, end)
    .replace(/^\n/, "")
    .replace(/\n$/, "");
}
