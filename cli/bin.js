#!/usr/bin/env node
"use strict";
// Runs the TypeScript CLI through tsx (installed by `npm ci`), so a clone needs no build step.
// The Batch worker image does not use this file: it runs an esbuild bundle of batch-worker/src/main.ts.
require("tsx/cjs");
require("./main.ts")
  .main(process.argv.slice(2))
  .then((code) => {
    process.exitCode = code;
  });
