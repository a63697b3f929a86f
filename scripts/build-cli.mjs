// Builds the CLI's bundle, dist/cli/main.js, and its manifest dist/cli/inputs.json (scripts/cli-bundle.cjs says
// why at install). Run by npm's `prepare` and by `npm run build:cli`. Not committed (dist/ is ignored).
import { build } from "esbuild";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import fs from "node:fs";
import path from "node:path";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { BUNDLE_DIR, MANIFEST, cliBundleOptions, manifestOf } = createRequire(import.meta.url)("./cli-bundle.cjs");
const dir = path.join(root, BUNDLE_DIR);
const manifest = path.join(dir, MANIFEST);

// The manifest goes first and comes back last: a CLI started meanwhile finds no bundle and runs tsx.
fs.rmSync(manifest, { force: true });
const options = cliBundleOptions(root);
const result = await build({ ...options, absWorkingDir: root, logLevel: "warning" });
const inputs = Object.keys(result.metafile.inputs);
fs.writeFileSync(`${manifest}.tmp`, `${JSON.stringify(manifestOf(root, inputs), null, 1)}\n`);
fs.renameSync(`${manifest}.tmp`, manifest);
const size = fs.statSync(options.outfile).size;
console.log(
  `built ${path.relative(root, options.outfile)} (${(size / 1024).toFixed(0)} KiB, ${inputs.length} sources)`,
);
