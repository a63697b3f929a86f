#!/usr/bin/env node
"use strict";
// Runs dist/cli/main.js, the esbuild bundle of cli/main.ts built at install (npm `prepare`, or
// `npm run build:cli`; scripts/cli-bundle.cjs), while it is up to date with its sources. Otherwise, or with
// BACKUP_ACTIONS_CLI_TSX=1, it runs the TypeScript through tsx (about a second slower to start) and, unless
// forced, says on stderr how to rebuild. The Batch worker image does not use this file: it runs an esbuild
// bundle of batch-worker/src/main.ts.
const path = require("node:path");

async function load() {
  if (process.env.BACKUP_ACTIONS_CLI_TSX !== "1") {
    const state = require("../scripts/cli-bundle.cjs").cliBundleState(path.join(__dirname, ".."));
    if (state.fresh) return require(state.bundle);
    process.stderr.write(`backup-actions: ${state.reason}; running through tsx (slower). Rebuild: npm run build:cli\n`);
  }
  // Both of tsx's hooks: the commands load their heavy modules with `await import(...)`, which Node resolves
  // through its ESM loader even from CommonJS.
  require("tsx/cjs");
  (await import("tsx/esm/api")).register();
  return require("./main.ts");
}

load()
  .then((cli) => cli.main(process.argv.slice(2)))
  .then((code) => {
    process.exitCode = code;
  });
