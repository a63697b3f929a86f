/**
 * One AWS SDK for JavaScript v3, everywhere: every @aws-sdk/* package the project names is pinned to one
 * release, the lockfile holds one copy of each @aws-sdk/* and @smithy/* package, and what ships (each Lambda
 * bundle, the worker image's bundle) carries exactly those copies (the Lambdas bundle the SDK instead of using
 * the one of the Lambda runtime, whose version AWS changes without notice). Clients only the tests use are
 * development dependencies.
 */
import { buildSync } from "esbuild";
import { readdirSync, readFileSync } from "node:fs";
import * as path from "node:path";
import { bundleLambda, REPO_ROOT } from "../stacks/constructs/lambda-bundle";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- an untyped .cjs module, typed here
const { workerBundleOptions } = require("../scripts/worker-bundle.cjs") as {
  workerBundleOptions: (root: string) => Record<string, unknown>;
};

/** The release every @aws-sdk/* package of package.json is pinned to (the newest that has all the clients we use). */
const SDK_VERSION = "3.1092.0";

/** Where the product's code lives: what these import must be a runtime dependency. */
const PRODUCT_DIRS = ["lambdas", "batch-worker/src", "cli", "core"];
/** Code only the tests run. */
const TEST_DIRS = ["__tests__", "testing", "bench"];

const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8"));
const SDK_PACKAGE = /^@(aws-sdk|smithy)\//;

const sdkDeps = (deps: Record<string, string> = {}) => Object.keys(deps).filter((n) => n.startsWith("@aws-sdk/"));

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(REPO_ROOT, dir), { withFileTypes: true })) {
    const rel = path.join(dir, entry.name);
    if (entry.isDirectory() && entry.name !== "node_modules") out.push(...tsFiles(rel));
    else if (/\.(ts|mjs|cjs|js)$/.test(entry.name)) out.push(rel);
  }
  return out;
}

/** @aws-sdk/* packages the files import or require by name. */
function sdkImportsOf(dirs: string[]): Set<string> {
  const found = new Set<string>();
  for (const file of dirs.flatMap(tsFiles)) {
    const text = readFileSync(path.join(REPO_ROOT, file), "utf8");
    // An import or require statement, not a quoted mention of one (as in this file)
    for (const m of text.matchAll(/(?:^|[^'`\w])(?:from\s+|require\(|import\()"(@aws-sdk\/[a-z0-9-]+)"/gm))
      found.add(m[1]);
  }
  return found;
}

/** Services the test interpreter of state machines calls with `@aws-sdk/client-<service>` (testing/asl). */
function interpretedServices(): Set<string> {
  const found = new Set<string>();
  for (const file of [...tsFiles("stacks"), ...tsFiles("__tests__"), ...tsFiles("testing")]) {
    const text = readFileSync(path.join(REPO_ROOT, file), "utf8");
    for (const m of text.matchAll(/:states:::aws-sdk:([a-z0-9]+):/g)) found.add(`@aws-sdk/client-${m[1]}`);
    for (const m of text.matchAll(/:states:::(sns|sqs|dynamodb):/g)) found.add(`@aws-sdk/client-${m[1]}`);
  }
  return found;
}

/** Installed copies in the lockfile: package name → the versions found (nested copies included). */
function lockedVersions(): Map<string, Set<string>> {
  const out = new Map<string, Set<string>>();
  for (const [where, entry] of Object.entries<{ version?: string }>(lock.packages)) {
    const i = where.lastIndexOf("node_modules/");
    if (i < 0) continue;
    const name = where.slice(i + "node_modules/".length);
    if (!SDK_PACKAGE.test(name)) continue;
    out.set(name, (out.get(name) ?? new Set()).add(String(entry.version)));
  }
  return out;
}

/** The @aws-sdk/* and @smithy/* packages a bundle's inputs come from, each with the version of that copy. */
function bundledSdk(inputs: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const input of inputs) {
    const m = /^(.*node_modules\/(@(?:aws-sdk|smithy)\/[^/]+))\//.exec(input);
    if (!m) continue;
    const version = JSON.parse(readFileSync(path.join(REPO_ROOT, m[1], "package.json"), "utf8")).version as string;
    const seen = out.get(m[2]);
    if (seen !== undefined && seen !== version) throw new Error(`${m[2]} is bundled twice: ${seen} and ${version}`);
    out.set(m[2], version);
  }
  return out;
}

/** Compares what a bundle carries with the lockfile: [package, bundled version, locked version] of each mismatch. */
function driftOf(bundled: Map<string, string>): string[] {
  const locked = lockedVersions();
  return [...bundled]
    .filter(([name, version]) => ![...(locked.get(name) ?? [])].includes(version) || locked.get(name)!.size !== 1)
    .map(([name, version]) => `${name} ${version} (lockfile: ${[...(locked.get(name) ?? [])].join(", ") || "none"})`);
}

describe("one AWS SDK release", () => {
  it(`package.json pins every @aws-sdk/* package exactly to ${SDK_VERSION}`, () => {
    const all = { ...pkg.dependencies, ...pkg.devDependencies } as Record<string, string>;
    const named = sdkDeps(all);
    expect(named.length).toBeGreaterThan(0);
    expect(Object.fromEntries(named.map((n) => [n, all[n]]))).toEqual(
      Object.fromEntries(named.map((n) => [n, SDK_VERSION])),
    );
  });

  it("the lockfile holds one copy of each @aws-sdk/* and @smithy/* package, the pinned ones at that release", () => {
    const locked = lockedVersions();
    expect(locked.size).toBeGreaterThan(10);
    const duplicated = [...locked]
      .filter(([, versions]) => versions.size !== 1)
      .map(([n, v]) => `${n}: ${[...v].join(", ")}`);
    expect(duplicated).toEqual([]);
    for (const name of sdkDeps({ ...pkg.dependencies, ...pkg.devDependencies })) {
      expect({ name, locked: [...(locked.get(name) ?? [])] }).toEqual({ name, locked: [SDK_VERSION] });
      const installed = JSON.parse(
        readFileSync(path.join(REPO_ROOT, "node_modules", name, "package.json"), "utf8"),
      ).version;
      expect({ name, installed }).toEqual({ name, installed: SDK_VERSION }); // not a stale install: run npm ci
    }
  });

  it("product code's clients are dependencies, the tests' other clients devDependencies, none unused", () => {
    const product = sdkImportsOf(PRODUCT_DIRS);
    const tests = new Set([...sdkImportsOf(TEST_DIRS), ...interpretedServices()]);
    // the scan sees imports
    expect([...product].sort()).toEqual(expect.arrayContaining(["@aws-sdk/client-ec2", "@aws-sdk/client-s3"]));
    expect(sdkDeps(pkg.dependencies).sort()).toEqual([...product].sort());
    expect(sdkDeps(pkg.devDependencies).sort()).toEqual([...tests].filter((n) => !product.has(n)).sort());
  });

  it.each(["starter", "verify", "janitor"])(
    "the %s Lambda bundles the SDK clients it uses, at the lockfile's versions",
    (name) => {
      const bundle = bundleLambda(name);
      const js = readFileSync(path.join(bundle.dir, "index.js"), "utf8");
      // Nothing left to the Lambda runtime's SDK but the optional CRT signer, which the SDK loads only for SigV4a.
      expect([...new Set(js.match(/require\("@(aws-sdk|smithy)\/[^"]+"\)/g))]).toEqual([
        'require("@aws-sdk/signature-v4-crt")',
      ]);
      const sdk = bundledSdk(bundle.inputs);
      expect([...sdk.keys()].filter((n) => n.startsWith("@aws-sdk/client-")).length).toBeGreaterThan(0);
      for (const [client, version] of sdk)
        if (client.startsWith("@aws-sdk/client-"))
          expect({ client, version }).toEqual({ client, version: SDK_VERSION });
      expect(driftOf(sdk)).toEqual([]);
    },
  );

  it("the worker image's bundle (built as the Dockerfile builds it, from the lockfile) carries the same copies", () => {
    const result = buildSync({
      ...workerBundleOptions(REPO_ROOT),
      absWorkingDir: REPO_ROOT,
      write: false,
      metafile: true,
      logLevel: "silent",
    });
    const sdk = bundledSdk(Object.keys(result.metafile!.inputs));
    expect(sdk.get("@aws-sdk/client-s3")).toBe(SDK_VERSION);
    expect(sdk.get("@aws-sdk/client-ec2")).toBe(SDK_VERSION);
    expect(driftOf(sdk)).toEqual([]);
    // The image installs exactly the lockfile (npm ci) before bundling, and nothing else from the registry.
    const dockerfile = readFileSync(path.join(REPO_ROOT, "batch-worker/Dockerfile"), "utf8");
    expect(dockerfile).toMatch(/^COPY package\.json package-lock\.json \.\/\nRUN npm ci\b/m);
    expect(dockerfile).not.toMatch(/\bnpm (install|i|add|update)\b|\byarn\b|\bpnpm\b/);
    expect(dockerfile).toContain("RUN node scripts/build-worker.mjs");
  });
});
