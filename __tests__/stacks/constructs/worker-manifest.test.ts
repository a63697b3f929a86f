import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { build } from "esbuild";
import { sourcesHash, stageWorkerContext, WORKER_CONTEXT_FILES } from "../../../stacks/constructs/worker-image";
import {
  importedPackages,
  packageOf,
  workerManifest,
  WorkerManifestError,
} from "../../../stacks/constructs/worker-manifest";

const ROOT = path.resolve(__dirname, "../../..");

/** A copy of what the worker's context is made of: the repository's manifest, lockfile and worker sources. */
function copyOfRepository(): string {
  const repo = mkdtempSync(path.join(tmpdir(), "ba-worker-manifest-"));
  for (const rel of [...WORKER_CONTEXT_FILES, "package.json", "package-lock.json"])
    cpSync(path.join(ROOT, rel), path.join(repo, rel), { recursive: true });
  return repo;
}

function editJson(file: string, edit: (json: Record<string, any>) => void): void {
  const json = JSON.parse(readFileSync(file, "utf8"));
  edit(json);
  writeFileSync(file, `${JSON.stringify(json, null, 2)}\n`);
}

describe("the worker's own manifest and lockfile", () => {
  it("declares the packages the worker's bundle imports and the bundler, at the repository's specs, nothing else", () => {
    // the DynamoDB client: the direct read's lease (batch-worker/src/rate-lease.ts)
    expect(importedPackages(ROOT)).toEqual([
      "@aws-sdk/client-dynamodb",
      "@aws-sdk/client-ec2",
      "@aws-sdk/client-s3",
      "@aws-sdk/client-ssm",
      "@smithy/signature-v4",
      "zod",
    ]);
    const manifest = JSON.parse(workerManifest(ROOT).manifest);
    const root = JSON.parse(readFileSync(path.join(ROOT, "package.json"), "utf8"));
    expect(manifest.dependencies).toEqual({
      "@aws-sdk/client-dynamodb": root.dependencies["@aws-sdk/client-dynamodb"],
      "@aws-sdk/client-ec2": root.dependencies["@aws-sdk/client-ec2"],
      "@aws-sdk/client-s3": root.dependencies["@aws-sdk/client-s3"],
      "@aws-sdk/client-ssm": root.dependencies["@aws-sdk/client-ssm"],
      "@smithy/signature-v4": root.dependencies["@smithy/signature-v4"],
      zod: root.dependencies.zod,
    });
    expect(manifest.devDependencies).toEqual({ esbuild: root.devDependencies.esbuild });
  });

  it("names the package of a specifier; none for relative and node: ones", () => {
    expect(
      ["@aws-sdk/client-s3", "@scope/pkg/sub/path", "zod/mini", "zod", "./x", "../y", "node:fs"].map(packageOf),
    ).toEqual(["@aws-sdk/client-s3", "@scope/pkg", "zod", "zod", undefined, undefined, undefined]);
  });

  it("locks each package at the repository's version and integrity, and no package the worker does not reach", () => {
    const rootLock = JSON.parse(readFileSync(path.join(ROOT, "package-lock.json"), "utf8"));
    const lock = JSON.parse(workerManifest(ROOT).lock);
    const keys = Object.keys(lock.packages).filter((k) => k !== "");
    for (const key of keys) expect(lock.packages[key]).toEqual(rootLock.packages[key]);
    expect(keys).toContain("node_modules/zod");
    expect(keys).toContain("node_modules/@aws-sdk/client-s3");
    expect(keys).toContain("node_modules/@esbuild/linux-x64"); // the bundler's binary (optional, per platform)
    for (const absent of [
      "node_modules/jest",
      "node_modules/cdktf",
      "node_modules/prettier",
      // the Lambdas' and the CLI's Step Functions client: not the worker's
      "node_modules/@aws-sdk/client-sfn",
    ])
      expect(keys).not.toContain(absent);
    expect(lock.packages[""].dependencies).toEqual(JSON.parse(workerManifest(ROOT).manifest).dependencies);
  });

  it("follows Node's resolution: a nested copy of a dependency wins over the top-level one", () => {
    const repo = mkdtempSync(path.join(tmpdir(), "ba-worker-lock-"));
    writeFileSync(
      path.join(repo, "package.json"),
      JSON.stringify({
        name: "r",
        version: "1.0.0",
        dependencies: { a: "1.0.0" },
        devDependencies: { esbuild: "1", z: "9" },
      }),
    );
    const lock = {
      lockfileVersion: 3,
      packages: {
        "": {},
        "node_modules/a": { version: "1.0.0", dependencies: { b: "^2" }, optionalDependencies: { gone: "1" } },
        "node_modules/a/node_modules/b": { version: "2.0.0", dependencies: { c: "1" } },
        "node_modules/b": { version: "1.0.0" },
        "node_modules/c": { version: "1.0.0", peerDependencies: { a: "1" } },
        "node_modules/esbuild": { version: "1.0.0", dev: true },
        "node_modules/z": { version: "9.0.0", dev: true },
      },
    };
    writeFileSync(path.join(repo, "package-lock.json"), JSON.stringify(lock));
    const out = JSON.parse(workerManifest(repo, ["a"]).lock);
    expect(Object.keys(out.packages)).toEqual([
      "",
      "node_modules/a",
      "node_modules/a/node_modules/b",
      "node_modules/c",
      "node_modules/esbuild",
    ]);
    expect(out.packages[""]).toEqual({
      name: "r-worker",
      version: "1.0.0",
      dependencies: { a: "1.0.0" },
      devDependencies: { esbuild: "1" },
    });
  });

  it("refuses an import that package.json does not declare, and a dependency the lockfile lacks", () => {
    const repo = copyOfRepository();
    expect(() => workerManifest(repo, ["left-pad"])).toThrow(
      new WorkerManifestError(
        'the worker imports "left-pad", but package.json declares it in neither dependencies nor devDependencies',
      ),
    );
    editJson(path.join(repo, "package-lock.json"), (lock) => delete lock.packages["node_modules/zod"]);
    expect(() => workerManifest(repo)).toThrow(
      new WorkerManifestError('package-lock.json has no entry for "zod" (needed by package.json); run npm install'),
    );
  });
});

describe("the worker image tag", () => {
  it("stays when an unrelated dependency of the repository changes; changes with the worker's sources and packages", () => {
    const repo = copyOfRepository();
    const first = sourcesHash(repo);
    // an unrelated devDependency bumped: package.json and its lock entry
    editJson(path.join(repo, "package.json"), (p) => (p.devDependencies.prettier = "9.9.9"));
    editJson(path.join(repo, "package-lock.json"), (l) => {
      l.packages[""].devDependencies.prettier = "9.9.9";
      l.packages["node_modules/prettier"].version = "9.9.9";
    });
    expect(sourcesHash(repo)).toBe(first);
    // a package the worker bundles, at another locked version
    editJson(path.join(repo, "package-lock.json"), (l) => (l.packages["node_modules/zod"].version = "4.0.0"));
    const zodChanged = sourcesHash(repo);
    expect(zodChanged).not.toBe(first);
    // a worker source
    writeFileSync(path.join(repo, "batch-worker", "src", "main.ts"), "// edited\n", { flag: "a" });
    expect(sourcesHash(repo)).not.toBe(zodChanged);
  });
});

describe("the staged context's own manifest and lockfile", () => {
  it("install with npm ci (in sync, nothing missing) and bundle the same worker.js as the repository does", async () => {
    // GIVEN the staged context, copied where npm may write (node_modules, dist)
    const staged = stageWorkerContext(ROOT, path.join(mkdtempSync(path.join(tmpdir(), "ba-staged-")), "context"));
    const dir = mkdtempSync(path.join(tmpdir(), "ba-worker-install-"));
    cpSync(staged, dir, { recursive: true });
    // WHEN the Dockerfile's build stage runs there (npm's cache first: the versions are the repository's)
    const npm = spawnSync("npm", ["ci", "--prefer-offline", "--no-audit", "--no-fund", "--ignore-scripts"], {
      cwd: dir,
      encoding: "utf8",
      timeout: 120_000,
    });
    expect(npm.stderr.match(/npm error.*/g) ?? []).toEqual([]);
    expect(npm.status).toBe(0);
    expect(existsSync(path.join(dir, "node_modules", "jest"))).toBe(false);
    const bundle = spawnSync(process.execPath, ["scripts/build-worker.mjs"], { cwd: dir, encoding: "utf8" });
    expect(bundle.status).toBe(0);
    // THEN the worker is the one bundled from the repository's node_modules, byte for byte
    const reference = path.join(mkdtempSync(path.join(tmpdir(), "ba-worker-ref-")), "worker.js");
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- the image build's own options
    const { workerBundleOptions } = require(path.join(ROOT, "scripts", "worker-bundle.cjs"));
    await build({ ...workerBundleOptions(ROOT), outfile: reference, logLevel: "silent" });
    expect(readFileSync(path.join(dir, "dist", "batch-worker", "worker.js")).equals(readFileSync(reference))).toBe(
      true,
    );
  });
});
