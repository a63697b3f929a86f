/**
 * The worker image's own package manifest and lockfile, derived from the repository's.
 *
 * The Dockerfile runs `npm ci` before bundling. Given the repository's package.json and
 * package-lock.json it would install every devDependency (jest, eslint, cdktf-cli, …), and the
 * image tag — a hash of the build context — would change whenever any of them is bumped. So the
 * staged context carries, at the same paths, a manifest that names only what the worker needs:
 * the packages the worker's bundle imports, and the bundler (esbuild); and a
 * lockfile pruned to exactly the packages those resolve to, with the versions and integrity
 * hashes of the repository's lockfile (nothing is resolved anew, so the image gets what the tests ran).
 *
 * Why derived and not a committed `batch-worker/package.json`: the repository's lockfile stays
 * the one place versions are decided, and nothing can drift out of sync with it.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { buildSync, type BuildOptions } from "esbuild";
import { BackupActionsError } from "../../core/errors";

/** The bundler scripts/build-worker.mjs runs in the image's build stage. */
const BUNDLER = "esbuild";

/** The worker's dependencies cannot be derived: an import package.json does not declare, or a lock entry missing. */
export class WorkerManifestError extends BackupActionsError {
  override readonly name: string = "WorkerManifestError";
}

interface Manifest {
  name?: string;
  version?: string;
  license?: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}

interface LockEntry {
  dependencies?: Record<string, string>;
  optionalDependencies?: Record<string, string>;
  peerDependencies?: Record<string, string>;
  peerDependenciesMeta?: Record<string, { optional?: boolean }>;
  [key: string]: unknown;
}

interface Lockfile {
  lockfileVersion: number;
  packages: Record<string, LockEntry>;
  [key: string]: unknown;
}

/** `@scope/name/sub` → `@scope/name`, `zod/mini` → `zod`; undefined for relative and `node:` specifiers. */
export function packageOf(specifier: string): string | undefined {
  if (specifier.startsWith(".") || specifier.startsWith("/") || specifier.startsWith("node:")) return undefined;
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/**
 * The packages the worker's bundle imports: esbuild resolves the bundle's graph from the entry point
 * of scripts/worker-bundle.cjs with every package left external (~50 ms), so a module of core/ the
 * worker does not reach adds nothing, and an import in a comment is not one.
 */
export function importedPackages(repoRoot: string): string[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports -- the bundle's options, shared with the image build
  const { workerBundleOptions } = require(path.join(repoRoot, "scripts", "worker-bundle.cjs")) as {
    workerBundleOptions(root: string): BuildOptions;
  };
  const { entryPoints, platform, target, format } = workerBundleOptions(repoRoot);
  const result = buildSync({
    entryPoints,
    platform,
    target,
    format,
    bundle: true,
    packages: "external",
    write: false,
    metafile: true,
    logLevel: "silent",
    absWorkingDir: repoRoot,
  });
  const found = new Set<string>();
  for (const input of Object.values(result.metafile.inputs))
    for (const imp of input.imports) {
      const pkg = imp.external ? packageOf(imp.path) : undefined;
      if (pkg) found.add(pkg);
    }
  return [...found].sort();
}

/**
 * The worker's package.json and package-lock.json (as text) from the repository's: its imports
 * and the bundler, each declared as in the repository (dependencies stay dependencies), and the
 * lock entries they resolve to, following Node's resolution through nested node_modules.
 */
export function workerManifest(
  repoRoot: string,
  packages: readonly string[] = importedPackages(repoRoot),
): { manifest: string; lock: string } {
  const root = JSON.parse(readFileSync(path.join(repoRoot, "package.json"), "utf8")) as Manifest;
  const lock = JSON.parse(readFileSync(path.join(repoRoot, "package-lock.json"), "utf8")) as Lockfile;
  if (lock.lockfileVersion !== 3 && lock.lockfileVersion !== 2)
    throw new WorkerManifestError(
      `package-lock.json: lockfileVersion ${lock.lockfileVersion} has no "packages" map; regenerate it with npm 7 or newer`,
    );

  const dependencies: Record<string, string> = {};
  const devDependencies: Record<string, string> = {};
  for (const pkg of [...new Set([...packages, BUNDLER])].sort()) {
    if (root.dependencies?.[pkg]) dependencies[pkg] = root.dependencies[pkg];
    else if (root.devDependencies?.[pkg]) devDependencies[pkg] = root.devDependencies[pkg];
    else
      throw new WorkerManifestError(
        `the worker imports "${pkg}", but package.json declares it in neither dependencies nor devDependencies`,
      );
  }

  const kept: Record<string, LockEntry> = {};
  const visit = (from: string, name: string, optional: boolean) => {
    const key = resolve(lock.packages, from, name);
    if (key === undefined) {
      if (optional) return; // an optional dependency npm did not lock (another platform's binary)
      throw new WorkerManifestError(
        `package-lock.json has no entry for "${name}" (needed by ${from || "package.json"}); run npm install`,
      );
    }
    if (kept[key]) return;
    const entry = lock.packages[key]!;
    kept[key] = entry;
    for (const dep of Object.keys(entry.dependencies ?? {})) visit(key, dep, false);
    for (const dep of Object.keys(entry.optionalDependencies ?? {})) visit(key, dep, true);
    for (const dep of Object.keys(entry.peerDependencies ?? {}))
      visit(key, dep, entry.peerDependenciesMeta?.[dep]?.optional === true);
  };
  for (const name of [...Object.keys(dependencies), ...Object.keys(devDependencies)]) visit("", name, false);

  const head: Manifest = {
    name: `${root.name ?? "backup-actions"}-worker`,
    version: root.version ?? "0.0.0",
    ...(root.license ? { license: root.license } : {}),
    dependencies,
    devDependencies,
  };
  const packagesOut: Record<string, LockEntry> = { "": { ...head } };
  for (const key of Object.keys(kept).sort()) packagesOut[key] = kept[key]!;
  const manifest = {
    ...head,
    private: true,
    description: "The Batch worker's dependencies (derived; see stacks/constructs/worker-manifest.ts)",
  };
  const out = { name: head.name, version: head.version, lockfileVersion: 3, requires: true, packages: packagesOut };
  return { manifest: `${JSON.stringify(manifest, null, 2)}\n`, lock: `${JSON.stringify(out, null, 2)}\n` };
}

/** The lock key `name` resolves to when required from the package at key `from`: nearest node_modules up the tree. */
function resolve(packages: Record<string, LockEntry>, from: string, name: string): string | undefined {
  let base = from;
  for (;;) {
    const key = base === "" ? `node_modules/${name}` : `${base}/node_modules/${name}`;
    if (packages[key]) return key;
    if (base === "") return undefined;
    const at = base.lastIndexOf("/node_modules/");
    base = at === -1 ? "" : base.slice(0, at);
  }
}
