// Bundles the Batch worker (batch-worker/src/main.ts and the AWS SDK clients it uses) into one
// file for the container image: dist/batch-worker/worker.js. Not committed; built in the Dockerfile.
import { build } from "esbuild";
import { fileURLToPath } from "node:url";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
await build({
  entryPoints: [path.join(root, "batch-worker/src/main.ts")],
  outfile: path.join(root, "dist/batch-worker/worker.js"),
  bundle: true,
  platform: "node",
  target: "node22",
  format: "cjs",
  sourcemap: true, // worker.js.map next to it; the image runs node --enable-source-maps
  legalComments: "none",
  logLevel: "info",
});
