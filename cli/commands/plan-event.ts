/**
 * `backup-actions plan-event FILE`: what the pipeline would do with an AWS Backup event.
 * Prints one JSON object {"action","workflow","executionName","recoveryPointArn","reason"}
 * on stdout and exits 0 whether the answer is export or skip. A missing file, a file
 * that is not JSON or an invalid config exit 1 with the problem on stderr; wrong usage
 * exits 2. Config: BACKUP_ACTIONS_CONFIG (default config/default.json).
 *
 * The answer is that of the pipeline the event reaches without forwarding: the one in the
 * event's own `account` and `region` (for a copy job, the source's; ADR 0006).
 *
 * The config loader (zod) and the classifier are imported once the arguments are good (cli/main.ts: `--help`
 * loads neither).
 */
import { readFile } from "node:fs/promises";
import type { ExportsConfig } from "../../config/schema";
import type { Plan } from "../../core/events";

export interface CommandIo {
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: NodeJS.ProcessEnv;
}

export const PLAN_EVENT_USAGE =
  "usage: backup-actions plan-event FILE\n  FILE  an EventBridge event (JSON), e.g. a Backup Job State Change\n";

/** `argv` holds the arguments after `plan-event`. Resolves to the exit code. */
export async function planEventCommand(argv: string[], io: CommandIo): Promise<number> {
  if (argv.length === 1 && (argv[0] === "--help" || argv[0] === "-h")) {
    io.stdout.write(PLAN_EVENT_USAGE);
    return 0;
  }
  if (argv.length !== 1 || argv[0]!.startsWith("-")) {
    io.stderr.write(
      `plan-event: expected one FILE argument, got ${argv.length === 0 ? "none" : argv.map((a) => JSON.stringify(a)).join(" ")}\n${PLAN_EVENT_USAGE}`,
    );
    return 2;
  }
  const file = argv[0]!;

  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (err) {
    io.stderr.write(
      `plan-event: cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}\n`,
    );
    return 1;
  }
  let event: unknown;
  try {
    event = JSON.parse(text);
  } catch (err) {
    io.stderr.write(`plan-event: ${file} is not valid JSON: ${(err as Error).message}\n`);
    return 1;
  }

  const [{ ConfigError, configPath, loadConfig }, { classifyEvent }, { dispatcherRouteOf }] = await Promise.all([
    import("../../config/load"),
    import("../../core/events"),
    import("../../config/database-exports"),
  ]);
  let config;
  try {
    config = loadConfig(configPath(io.env));
  } catch (err) {
    if (err instanceof ConfigError) {
      io.stderr.write(`plan-event: ${err.message}\n`);
      return 1;
    }
    throw err;
  }

  const plan = classifyEvent(event, config);
  io.stdout.write(`${JSON.stringify(printable(withDispatcherRoute(plan, config, dispatcherRouteOf)))}\n`);
  return 0;
}

/**
 * An export's reason ends with what the deployed dispatcher then does: the child it runs (with the
 * format of a database child) or that it records the recovery point SKIPPED, and why.
 */
function withDispatcherRoute(
  plan: Plan,
  config: { readonly name: string; readonly exports: ExportsConfig },
  routeOf: typeof import("../../config/database-exports").dispatcherRouteOf,
): Plan {
  if (plan.action !== "export" || !plan.workflow) return plan;
  const route = routeOf(config.name, config.exports, plan.workflow);
  const then =
    "skipped" in route
      ? `the dispatcher records it SKIPPED (${route.skipped})`
      : `the dispatcher runs ${route.child}${route.format ? ` (format ${route.format}${route.how ? `; ${route.how}` : ""})` : ""}`;
  return { ...plan, reason: `${plan.reason}; ${then}` };
}

/** Exactly the five documented keys, in order, whatever else a Plan may carry later. */
function printable(plan: Plan): Plan {
  return {
    action: plan.action,
    workflow: plan.workflow,
    executionName: plan.executionName,
    recoveryPointArn: plan.recoveryPointArn,
    reason: plan.reason,
  };
}
