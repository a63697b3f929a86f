/**
 * The cdktf app: reads the config (BACKUP_ACTIONS_CONFIG, default config/default.json),
 * composes the stacks and synthesizes them. Invalid config exits non-zero before any
 * stack exists, and a security-baseline violation exits non-zero before synthesis, so
 * in both cases nothing is written to cdktf.out.
 */
import { App } from "cdktf";
import { ConfigError, loadConfig } from "./config/load";
import { BaselineViolationError } from "./stacks/aspects/security-baseline";
import { checkStacks, composeStacks } from "./stacks/app";
import { withPlainStackTraces } from "./stacks/stack-traces";

function main(): void {
  let config;
  try {
    config = loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  const app = new App();
  const stacks = composeStacks(app, config);
  try {
    checkStacks(stacks);
  } catch (err) {
    if (err instanceof BaselineViolationError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
  app.synth();
}

withPlainStackTraces(main);
