import { UsageError } from "./args";
import { planEventCommand, PLAN_EVENT_USAGE } from "./commands/plan-event";
import { planSummaryCommand } from "./commands/plan-summary";
import { stacksCommand } from "./commands/stacks";
import { costCommand } from "./cost/command";
import { ledgerCommand } from "./ledger-command";
import { reconcileCommand } from "./reconcile-command";
import { workerCommands } from "./worker-commands";

/** One subcommand: `run` returns the exit code (0 ok, 1 failed, 2 usage). */
export interface Command {
  summary: string;
  usage: string;
  /** The full text `<command> --help` prints; without it, the usage line and the summary. */
  help?: string;
  run(args: string[]): Promise<number>;
}

/**
 * The dispatcher table. To add a subcommand, add an entry (e.g. `...eventCommands`).
 *
 * Start time: the modules imported here, and those they import at top level, load at every start, `--help`
 * included. A command imports its heavy modules (AWS SDK clients, config/load.ts and so zod, the worker, cdktf)
 * with `await import(...)` inside `run`, so `--help` stays light; __tests__/cli/bundle.test.ts checks it.
 */
export const commands: Record<string, Command> = {
  ...workerCommands,
  "plan-event": {
    summary: "what the pipeline would do with an AWS Backup event: one JSON object on stdout",
    usage: PLAN_EVENT_USAGE.split("\n")[0]!.replace(/^usage: backup-actions /, ""),
    run: (args) => planEventCommand(args, { stdout: process.stdout, stderr: process.stderr, env: process.env }),
  },
  ledger: ledgerCommand,
  reconcile: reconcileCommand,
  stacks: stacksCommand,
  "plan-summary": planSummaryCommand,
  cost: costCommand,
};

export function usage(): string {
  const lines = Object.values(commands).map((c) => `  ${c.usage}\n      ${c.summary}`);
  return `usage: backup-actions <command> [options]\n\ncommands:\n${lines.join("\n")}\n`;
}

/** `--help` or `-h` among the options (before a `--`, after which every word is an argument). */
function wantsHelp(args: string[]): boolean {
  const end = args.indexOf("--");
  return (end === -1 ? args : args.slice(0, end)).some((a) => a === "--help" || a === "-h");
}

export async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (!name || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(usage());
    return name ? 0 : 2;
  }
  const cmd = commands[name];
  if (!cmd) {
    process.stderr.write(`backup-actions: unknown command "${name}"\n\n${usage()}`);
    return 2;
  }
  if (wantsHelp(rest)) {
    process.stdout.write(cmd.help ?? `usage: backup-actions ${cmd.usage}\n\n${cmd.summary}\n`);
    return 0;
  }
  try {
    return await cmd.run(rest);
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`backup-actions ${name}: ${e.message}\nusage: backup-actions ${cmd.usage}\n`);
      return 2;
    }
    process.stderr.write(`backup-actions ${name}: ${(e as Error).message}\n`);
    return 1;
  }
}
