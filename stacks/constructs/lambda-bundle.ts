/**
 * Bundles `lambdas/<name>/handler.ts` with esbuild at synth time into
 * `.gen/lambdas/<name>/` (gitignored): `index.js` + `index.js.map`, for the functions' Node.js
 * (LAMBDA_BUNDLE_TARGET), minified.
 * The AWS SDK clients are bundled too, at the lockfile's one SDK release (__tests__/sdk-versions.test.ts), rather
 * than left to the SDK of the Lambda runtime, whose version AWS changes without notice.
 *
 * The hash is computed from the bundle in memory, so it depends on the code only (not on
 * file times) and `source_code_hash` changes exactly when the code does. Files are
 * written through a temporary name and renamed, so parallel synths (jest workers) never
 * read a half-written bundle.
 */
import { buildSync } from "esbuild";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { LAMBDA_BUNDLE_TARGET } from "../lambda-runtimes";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");
export const LAMBDAS_DIR = path.join(REPO_ROOT, "lambdas");
export const BUNDLE_DIR = path.join(REPO_ROOT, ".gen", "lambdas");

export interface LambdaBundle {
  /** Directory holding index.js and index.js.map. */
  readonly dir: string;
  /** SHA-256 (hex) over the bundle's files. */
  readonly hash: string;
  /** Handler setting for the function. */
  readonly handler: "index.handler";
  /** Every source file esbuild put into the bundle (repository-relative; esbuild's metafile). */
  readonly inputs: readonly string[];
}

const cache = new Map<string, LambdaBundle>();

export function bundleLambda(name: string): LambdaBundle {
  const cached = cache.get(name);
  if (cached && existsSync(cached.dir)) return cached;
  if (!/^[a-z][a-z0-9-]*$/.test(name))
    throw new Error(`Lambda name "${name}" must be a lowercase directory name under lambdas/`);
  const entry = path.join(LAMBDAS_DIR, name, "handler.ts");
  if (!existsSync(entry)) throw new Error(`Lambda "${name}": ${path.relative(REPO_ROOT, entry)} does not exist`);

  const dir = path.join(BUNDLE_DIR, name);
  const result = buildSync({
    entryPoints: [entry],
    outfile: path.join(dir, "index.js"),
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: "node",
    target: LAMBDA_BUNDLE_TARGET,
    format: "cjs",
    minify: true,
    sourcemap: true,
    // Identifiers are minified; error names survive because they are string literals (core/errors.ts).
    legalComments: "none",
    write: false,
    metafile: true, // what went in: __tests__/iam/agpl.test.ts refuses AGPL-licensed packages
    logLevel: "silent",
  });
  if (result.errors.length > 0) {
    throw new Error(
      `Lambda "${name}": esbuild failed:\n${result.errors.map((e) => `  ${e.location?.file ?? ""}:${e.location?.line ?? ""} ${e.text}`).join("\n")}`,
    );
  }

  const files = [...result.outputFiles].sort((a, b) => a.path.localeCompare(b.path));
  const hash = createHash("sha256");
  for (const file of files) hash.update(path.basename(file.path)).update("\0").update(file.contents).update("\0");

  mkdirSync(dir, { recursive: true });
  const wanted = new Set(files.map((f) => path.basename(f.path)));
  for (const file of files) {
    if (existsSync(file.path) && Buffer.compare(readFileSync(file.path), Buffer.from(file.contents)) === 0) continue;
    // The temporary file lives next to, not inside, the bundle directory: never zipped.
    const tmp = path.join(
      BUNDLE_DIR,
      `.${name}.${path.basename(file.path)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`,
    );
    writeFileSync(tmp, file.contents);
    renameSync(tmp, file.path);
  }
  // Leftovers of older builds would end up in the zip.
  for (const entryName of readdirSync(dir)) {
    if (!wanted.has(entryName)) rmSync(path.join(dir, entryName), { force: true, recursive: true });
  }

  const inputs = Object.keys(result.metafile?.inputs ?? {}).sort();
  const bundle: LambdaBundle = { dir, hash: hash.digest("hex"), handler: "index.handler", inputs };
  cache.set(name, bundle);
  return bundle;
}
