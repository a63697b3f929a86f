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
 *
 * esbuild runs only when the bundle on disk is not fresh (`lambdaBundleState`): each build records, in
 * `.gen/lambdas/.<name>.inputs.json` (beside the directory, never zipped), the esbuild version and options, the
 * bundle's hash, and the size, mtime and SHA-256 of every input (sources and the packages' files, from esbuild's
 * metafile) and of npm's install stamp. Every synthesis of a pipeline stack bundles three Lambdas (~1 s each of
 * esbuild); a fresh bundle is re-read and re-hashed instead (tens of milliseconds).
 */
import { buildSync, version as esbuildVersion, type BuildOptions } from "esbuild";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
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

/** npm rewrites it at every install: it changes whenever a package may have (as for the CLI's bundle). */
const INSTALL_STAMP = "node_modules/.package-lock.json";

function optionsOf(name: string) {
  return {
    entryPoints: [path.join(LAMBDAS_DIR, name, "handler.ts")],
    outfile: path.join(BUNDLE_DIR, name, "index.js"),
    absWorkingDir: REPO_ROOT,
    bundle: true,
    platform: "node",
    target: LAMBDA_BUNDLE_TARGET,
    format: "cjs",
    minify: true,
    sourcemap: true,
    // Identifiers are minified; error names survive because they are string literals (core/errors.ts).
    legalComments: "none",
    write: false as const,
    metafile: true as const, // what went in: __tests__/iam/agpl.test.ts refuses AGPL-licensed packages
    logLevel: "silent" as const,
  } satisfies BuildOptions;
}

/** What esbuild would be asked to do: a build recorded under another key is not this one. */
function buildKey(name: string): string {
  return createHash("sha256")
    .update(JSON.stringify({ esbuild: esbuildVersion, options: optionsOf(name) }))
    .digest("hex");
}

/** The record of the last build of `name` (see the module comment). */
export function lambdaManifestPath(name: string): string {
  return path.join(BUNDLE_DIR, `.${name}.inputs.json`);
}

interface InputRecord {
  readonly size: number;
  readonly mtimeMs: number;
  readonly sha256: string;
}

interface LambdaManifest {
  readonly version: 1;
  readonly key: string;
  readonly hash: string;
  /** esbuild's metafile inputs, repository-relative. */
  readonly inputs: readonly string[];
  /** Every input and the install stamp. */
  readonly files: Readonly<Record<string, InputRecord>>;
}

const sha256Of = (file: string) => createHash("sha256").update(readFileSync(file)).digest("hex");

/** SHA-256 (hex) over the bundle's files: their names and contents, in name order. */
function hashOfFiles(files: readonly { name: string; contents: Uint8Array }[]): string {
  const hash = createHash("sha256");
  for (const f of [...files].sort((a, b) => a.name.localeCompare(b.name)))
    hash.update(f.name).update("\0").update(f.contents).update("\0");
  return hash.digest("hex");
}

/**
 * Whether the bundle of `name` on disk may be used without running esbuild: it was built with this esbuild and
 * these options, every recorded input still has its size and mtime or, where the stat changed (a checkout or a
 * `touch`), its SHA-256, and the files in the directory are exactly those the record's hash was taken over. A new
 * file can enter the bundle only through an edit of a recorded one (an import) or an install (the stamp), so the
 * recorded list is enough.
 */
export function lambdaBundleState(
  name: string,
  manifestFile: string = lambdaManifestPath(name),
): { fresh: true; bundle: LambdaBundle } | { fresh: false; reason: string } {
  let manifest: LambdaManifest;
  try {
    manifest = JSON.parse(readFileSync(manifestFile, "utf8")) as LambdaManifest;
  } catch {
    return { fresh: false, reason: `no record of a build (${path.relative(REPO_ROOT, manifestFile)})` };
  }
  if (manifest.version !== 1 || manifest.key !== buildKey(name))
    return { fresh: false, reason: "built by another esbuild or with other options" };
  for (const [rel, want] of Object.entries(manifest.files)) {
    let st;
    try {
      st = statSync(path.join(REPO_ROOT, rel));
    } catch {
      return { fresh: false, reason: `${rel} is gone` };
    }
    if (st.size === want.size && st.mtimeMs === want.mtimeMs) continue;
    if (st.size !== want.size || sha256Of(path.join(REPO_ROOT, rel)) !== want.sha256)
      return { fresh: false, reason: `${rel} changed` };
  }
  const dir = path.join(BUNDLE_DIR, name);
  let onDisk: { name: string; contents: Uint8Array }[];
  try {
    onDisk = readdirSync(dir).map((f) => ({ name: f, contents: readFileSync(path.join(dir, f)) }));
  } catch {
    return { fresh: false, reason: `${path.relative(REPO_ROOT, dir)} is missing` };
  }
  if (hashOfFiles(onDisk) !== manifest.hash)
    return { fresh: false, reason: `${path.relative(REPO_ROOT, dir)} is not the recorded bundle` };
  return { fresh: true, bundle: { dir, hash: manifest.hash, handler: "index.handler", inputs: manifest.inputs } };
}

function recordOf(rel: string): InputRecord {
  const abs = path.join(REPO_ROOT, rel);
  const st = statSync(abs);
  return { size: st.size, mtimeMs: st.mtimeMs, sha256: sha256Of(abs) };
}

export function bundleLambda(name: string): LambdaBundle {
  const cached = cache.get(name);
  if (cached && existsSync(cached.dir)) return cached;
  if (!/^[a-z][a-z0-9-]*$/.test(name))
    throw new Error(`Lambda name "${name}" must be a lowercase directory name under lambdas/`);
  const entry = path.join(LAMBDAS_DIR, name, "handler.ts");
  if (!existsSync(entry)) throw new Error(`Lambda "${name}": ${path.relative(REPO_ROOT, entry)} does not exist`);

  const state = lambdaBundleState(name);
  if (state.fresh) {
    cache.set(name, state.bundle);
    return state.bundle;
  }

  const dir = path.join(BUNDLE_DIR, name);
  const started = Date.now();
  const result = buildSync(optionsOf(name));
  if (result.errors.length > 0) {
    throw new Error(
      `Lambda "${name}": esbuild failed:\n${result.errors.map((e) => `  ${e.location?.file ?? ""}:${e.location?.line ?? ""} ${e.text}`).join("\n")}`,
    );
  }

  const files = [...result.outputFiles].sort((a, b) => a.path.localeCompare(b.path));
  const hash = hashOfFiles(files.map((f) => ({ name: path.basename(f.path), contents: f.contents })));

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
  const bundle: LambdaBundle = { dir, hash, handler: "index.handler", inputs };
  cache.set(name, bundle);
  recordBuild(name, bundle, started);
  return bundle;
}

/**
 * Writes the record `lambdaBundleState` reads, through a temporary name. None when an input was written while
 * esbuild ran (its mtime is not older than the build): the bundle may hold the old content, so the next synthesis
 * builds again.
 */
function recordBuild(name: string, bundle: LambdaBundle, started: number): void {
  const files: Record<string, InputRecord> = {};
  for (const rel of [...bundle.inputs, INSTALL_STAMP]) {
    if (!existsSync(path.join(REPO_ROOT, rel))) continue; // esbuild's virtual inputs; the stamp without npm
    const record = recordOf(rel);
    if (record.mtimeMs >= started - 1000) return;
    files[rel] = record;
  }
  const manifest: LambdaManifest = { version: 1, key: buildKey(name), hash: bundle.hash, inputs: bundle.inputs, files };
  const file = lambdaManifestPath(name);
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, JSON.stringify(manifest));
  renameSync(tmp, file);
}
