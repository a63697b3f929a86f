// Bundles the Batch worker (batch-worker/src/main.ts and the AWS SDK clients it uses) into one
// file for the container image: dist/batch-worker/worker.js. Not committed; built in the Dockerfile.
// The options live in worker-bundle.cjs, which the AGPL test bundles with too.
import { build } from "esbuild";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { workerBundleOptions } = createRequire(import.meta.url)("./worker-bundle.cjs");
await build({ ...workerBundleOptions(root), logLevel: "info" });
