/**
 * `npm run docs:stacks`: rewrites the README's deploy-order block (between <!-- stacks:begin --> and
 * <!-- stacks:end -->) with the output of `backup-actions stacks` for config/default.json, whatever
 * BACKUP_ACTIONS_CONFIG says. An argument names another README file (the tests use a copy).
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { replaceStacksBlock, runStacks, stacksReadmeBlock } from "../cli/commands/stacks";
import { CONFIG_ENV } from "../config/load";

async function main(): Promise<void> {
  const root = path.join(__dirname, "..");
  let output = "";
  const env = { ...process.env };
  delete env[CONFIG_ENV]; // the default config, whatever the shell has set
  const code = await runStacks([], {
    stdout: { write: (s: string) => (output += s) },
    stderr: process.stderr,
    env,
    cwd: root,
  });
  if (code !== 0) throw new Error(`backup-actions stacks exited ${code}`);
  const readmePath = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, "README.md");
  const before = readFileSync(readmePath, "utf8");
  const after = replaceStacksBlock(before, stacksReadmeBlock(output));
  if (after !== before) writeFileSync(readmePath, after);
  process.stdout.write(
    `${path.basename(readmePath)} stacks block ${after === before ? "already up to date" : "rewritten"}\n`,
  );
}

main().catch((err: Error) => {
  process.stderr.write(`docs:stacks: ${err.message}\n`);
  process.exitCode = 1;
});
