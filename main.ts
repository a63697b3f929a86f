/**
 * The cdktf app: reads the config (BACKUP_ACTIONS_CONFIG, default config/default.json),
 * composes the stacks and synthesizes them. Invalid config exits non-zero before any
 * stack exists, so nothing is written to cdktf.out.
 */
import { App } from "cdktf";
import { ConfigError, loadConfig } from "./config/load";
import { composeStacks } from "./stacks/app";

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
  composeStacks(app, config);
  app.synth();
}

main();
