/**
 * `npm run docs:stacks`: rewrites the README's deploy-order blocks with the output of `backup-actions
 * stacks`: the block between <!-- stacks:begin --> and <!-- stacks:end --> for config/default.json,
 * and <!-- stacks:<id>:begin --> … for each other config of STACKS_README_CONFIGS (the "Roll out to
 * many accounts" example), whatever BACKUP_ACTIONS_CONFIG says. An argument names another README
 * file (the tests use a copy).
 */
import { readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { replaceStacksBlock, runStacks, STACKS_README_CONFIGS, stacksReadmeBlock } from "../cli/commands/stacks";
import { CONFIG_ENV } from "../config/load";

async function main(): Promise<void> {
  const root = path.join(__dirname, "..");
  const readmePath = process.argv[2] ? path.resolve(process.argv[2]) : path.join(root, "README.md");
  const before = readFileSync(readmePath, "utf8");
  let after = before;
  for (const [id, config] of Object.entries(STACKS_README_CONFIGS)) {
    let output = "";
    const env = { ...process.env, [CONFIG_ENV]: path.join(root, config) }; // this block's config, whatever the shell has set
    const code = await runStacks([], {
      stdout: { write: (s: string) => (output += s) },
      stderr: process.stderr,
      env,
      cwd: root,
    });
    if (code !== 0) throw new Error(`backup-actions stacks exited ${code} for ${config}`);
    after = replaceStacksBlock(after, stacksReadmeBlock(output, config), id);
  }
  if (after !== before) writeFileSync(readmePath, after);
  process.stdout.write(
    `${path.basename(readmePath)} stacks blocks ${after === before ? "already up to date" : "rewritten"}\n`,
  );
}

main().catch((err: Error) => {
  process.stderr.write(`docs:stacks: ${err.message}\n`);
  process.exitCode = 1;
});
