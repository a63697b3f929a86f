// The esbuild options of the Batch worker's bundle (dist/batch-worker/worker.js), shared by
// scripts/build-worker.mjs (the image build) and the test that lists what the bundle contains
// (__tests__/iam/agpl.test.ts: no AGPL-licensed package may reach the image).
"use strict";
const path = require("node:path");

/** @param {string} root the repository root @returns {import("esbuild").BuildOptions} */
function workerBundleOptions(root) {
  return {
    entryPoints: [path.join(root, "batch-worker/src/main.ts")],
    outfile: path.join(root, "dist/batch-worker/worker.js"),
    bundle: true,
    platform: "node",
    target: "node22",
    format: "cjs",
    sourcemap: true, // worker.js.map next to it; the image runs node --enable-source-maps
    legalComments: "none",
  };
}

module.exports = { workerBundleOptions };
