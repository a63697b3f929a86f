// The CLI's install-time bundle: dist/cli/main.js (esbuild, like the worker's, see worker-bundle.cjs) and
// dist/cli/inputs.json, the manifest of the sources it was built from. Shared by scripts/build-cli.mjs
// (`npm run build:cli`, run by npm's `prepare` at `npm ci` / `npm install`) and cli/bin.js, which runs the
// bundle only while `cliBundleState` says it is fresh and otherwise falls back to tsx.
//
// Why at install and not on first run: a first run would write into the install tree at run time (it may be
// read-only, and two CLIs started at once would race over it) and would need esbuild, a devDependency, at run
// time. `prepare` runs at every `npm ci` / `npm install` without arguments, which is how CI and developers
// install; an edit of a source afterwards makes the bundle stale, and bin.js then runs tsx and says how to rebuild.
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const BUNDLE_DIR = "dist/cli";
const MANIFEST = "inputs.json";
/** npm rewrites it at every install: one stat stands for every package under node_modules. */
const INSTALL_STAMP = "node_modules/.package-lock.json";

/**
 * @param {string} root the repository root
 * @returns {import("esbuild").BuildOptions}
 */
function cliBundleOptions(root) {
  return {
    entryPoints: [path.join(root, "cli/main.ts")],
    outfile: path.join(root, BUNDLE_DIR, "main.js"),
    bundle: true,
    platform: "node",
    target: "node20",
    format: "cjs",
    // Only our TypeScript is bundled (tsx's cost is transpiling it at each start). Packages stay in node_modules
    // and are required when a command's `await import(...)` runs, so `--help` loads no AWS SDK, zod or cdktf.
    packages: "external",
    sourcemap: true,
    legalComments: "none",
    metafile: true,
    plugins: [dirnamePlugin(root)],
  };
}

/**
 * `__dirname` in a bundled source means that source's directory (config/load.ts finds default.json by it), not
 * the bundle's: rewrite it relative to the bundle, so the tree may still be moved as a whole.
 * @param {string} root
 * @returns {import("esbuild").Plugin}
 */
function dirnamePlugin(root) {
  return {
    name: "source-dirname",
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        if (args.path.includes(`${path.sep}node_modules${path.sep}`)) return undefined;
        const text = await fs.promises.readFile(args.path, "utf8");
        if (!/\b__dirname\b/.test(text)) return undefined;
        const rel = path.relative(path.join(root, BUNDLE_DIR), path.dirname(args.path)).split(path.sep).join("/");
        const expr = `require("node:path").join(__dirname, ${JSON.stringify(rel)})`;
        return { contents: text.replace(/\b__dirname\b/g, expr), loader: "ts" };
      });
    },
  };
}

/** @param {string} file */
function sha256(file) {
  return require("node:crypto").createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/**
 * The manifest of a build: size, mtime and SHA-256 of every source in the bundle, and the install stamp.
 * @param {string} root
 * @param {string[]} inputs paths relative to root (esbuild's metafile inputs)
 */
function manifestOf(root, inputs) {
  const files = {};
  for (const rel of [...inputs.filter((f) => !f.includes("node_modules/")), INSTALL_STAMP].sort()) {
    const abs = path.join(root, rel);
    if (!fs.existsSync(abs)) continue;
    const st = fs.statSync(abs);
    files[rel] = { size: st.size, mtimeMs: st.mtimeMs, sha256: sha256(abs) };
  }
  return { version: 1, files };
}

/**
 * Whether dist/cli/main.js may run: every recorded input still has its size and mtime (one stat each), or, where
 * the stat changed (a checkout or `touch` of an unchanged file), still has its SHA-256. A new source can only enter
 * the CLI through an edit of a recorded one, so the recorded list is enough. Measured for the ~50 sources: 0.4 ms
 * for the stats, 1.1 ms to hash every one (plus loading node:crypto), against ~200 ms for the whole start; the
 * stats come first because they are cheaper, not because hashing would be noticeable.
 * @param {string} root
 * @param {string} [dir] the bundle's directory, BUNDLE_DIR under root unless told (tests)
 * @returns {{ fresh: true, bundle: string } | { fresh: false, reason: string }}
 */
function cliBundleState(root, dir = path.join(root, BUNDLE_DIR)) {
  const bundle = path.join(dir, "main.js");
  let manifest;
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), "utf8"));
  } catch {
    return { fresh: false, reason: `no CLI bundle (${path.relative(root, path.join(dir, MANIFEST))} missing)` };
  }
  if (manifest.version !== 1 || !fs.existsSync(bundle)) return { fresh: false, reason: "the CLI bundle is incomplete" };
  for (const [rel, want] of Object.entries(manifest.files)) {
    const abs = path.join(root, rel);
    let st;
    try {
      st = fs.statSync(abs);
    } catch {
      return { fresh: false, reason: `the CLI bundle is stale (${rel} is gone)` };
    }
    if (st.size === want.size && st.mtimeMs === want.mtimeMs) continue;
    if (st.size !== want.size || sha256(abs) !== want.sha256) {
      return { fresh: false, reason: `the CLI bundle is stale (${rel} changed)` };
    }
  }
  return { fresh: true, bundle };
}

module.exports = { BUNDLE_DIR, MANIFEST, INSTALL_STAMP, cliBundleOptions, cliBundleState, manifestOf };
