/**
 * The IAM simulator is AGPL-3.0 (docs/adr/0007): a test-only tool that must never reach what we ship.
 * Checked on what ships: every Lambda bundle (esbuild's metafile of the synthesized bundle) and the
 * worker image (its bundle, built with the image's own options, and the Dockerfile's final stage).
 */
import { buildSync } from "esbuild";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { bundleLambda, REPO_ROOT } from "../../stacks/constructs/lambda-bundle";

// eslint-disable-next-line @typescript-eslint/no-require-imports -- a .cjs script without type declarations
const { workerBundleOptions } = require("../../scripts/worker-bundle.cjs") as {
  workerBundleOptions: (root: string) => Record<string, unknown>;
};

/** `node_modules/@scope/name/...` or `node_modules/name/...` → the package directory (the innermost). */
function packageDirOf(input: string): string | undefined {
  const m = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input);
  return m?.[1];
}

function licenseOf(packageDir: string): { name: string; license: string } {
  const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, packageDir, "package.json"), "utf8"));
  const license =
    typeof pkg.license === "string"
      ? pkg.license
      : (pkg.license?.type ?? (pkg.licenses ?? []).map((l: { type: string }) => l.type).join(" OR "));
  return { name: pkg.name, license: String(license || "UNKNOWN") };
}

/** The packages of a bundle's inputs with their licenses. */
function packagesOf(inputs: readonly string[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const dir of new Set(inputs.map(packageDirOf).filter((d): d is string => Boolean(d)))) {
    const { name, license } = licenseOf(dir);
    out.set(name, license);
  }
  return out;
}

const agpl = (packages: Map<string, string>) =>
  [...packages].filter(([, license]) => /AGPL/i.test(license)).map(([name, license]) => `${name} (${license})`);

function bundleInputs(options: Record<string, unknown>): string[] {
  const result = buildSync({ ...options, absWorkingDir: REPO_ROOT, write: false, metafile: true, logLevel: "silent" });
  return Object.keys(result.metafile!.inputs);
}

describe("no AGPL-licensed package reaches what we ship", () => {
  it("the license scan sees the simulator where it is used (a bundle of testing/iam)", () => {
    const packages = packagesOf(
      bundleInputs({
        entryPoints: [path.join(REPO_ROOT, "testing/iam/evaluate.ts")],
        bundle: true,
        platform: "node",
        format: "cjs",
        outfile: "x.js",
      }),
    );
    expect(agpl(packages)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^@cloud-copilot\/iam-simulate \(AGPL-3\.0/)]),
    );
  });

  it.each(["starter", "verify", "janitor"])("the %s Lambda bundle", (name) => {
    const bundle = bundleLambda(name);
    expect(bundle.inputs).toContain(`lambdas/${name}/handler.ts`);
    const packages = packagesOf(bundle.inputs);
    expect(agpl(packages)).toEqual([]);
    // the scan is not vacuous: what core/ and the handler pull in is there, the SDK with it
    expect(bundle.inputs).toContain("core/aws-client-hook.ts");
    expect([...packages.keys()].some((p) => p.startsWith("@aws-sdk/client-"))).toBe(true);
    expect(bundle.inputs.some((i) => i.startsWith("testing/"))).toBe(false);
  });

  it("the worker image: its bundle, built with the image's options, holds no AGPL package and nothing of testing/", () => {
    const inputs = bundleInputs(workerBundleOptions(REPO_ROOT));
    const packages = packagesOf(inputs);
    expect(packages.has("@aws-sdk/client-s3")).toBe(true); // bundled into the image, as into the Lambdas
    expect(agpl(packages)).toEqual([]);
    expect(inputs.some((i) => i.startsWith("testing/"))).toBe(false);
  });

  it("the worker image's final stage copies only the bundle (the build stage's node_modules, dev tools included, stay behind)", () => {
    const dockerfile = readFileSync(path.join(REPO_ROOT, "batch-worker/Dockerfile"), "utf8").replace(/\\\n/g, " ");
    const stages = dockerfile.split(/^FROM /m);
    const final = stages.at(-1)!;
    const copies = final.split("\n").filter((l) => /^(COPY|ADD)\b/.test(l.trim()));
    expect(copies.length).toBeGreaterThan(0);
    // the database clients' stages are plain Debian with no Node and no npm: their files carry no npm package
    const toolStages = new Map(
      stages.slice(1, -1).flatMap((st) => {
        const m = /^(\S+) AS ([\w-]+)/.exec(st);
        return m && m[2] !== "build" ? [[m[2]!, { image: m[1]!, body: st }] as const] : [];
      }),
    );
    expect([...toolStages.keys()]).toEqual(["apt-keys", "mysql-client"]);
    for (const { image, body } of toolStages.values()) {
      expect(image).toBe("debian:bookworm-slim");
      expect(body).not.toMatch(/\b(npm|node|nodejs|yarn|pnpm)\b/);
    }
    for (const line of copies) {
      const from = /^COPY --from=([\w-]+) /.exec(line.trim())?.[1];
      if (from === "build")
        expect(line.trim()).toMatch(/^COPY --from=build( \/src\/dist\/batch-worker\/[\w.]+)+ \.\/$/);
      else
        expect(line.trim()).toMatch(
          /^COPY --from=(apt-keys \/etc\/apt\/keyrings\/|mysql-client \/opt\/mysql-\$\{MYSQL_SERIES\}\/) \/\S+$/,
        );
    }
  });

  it("the simulator and everything AGPL in the lockfile are development dependencies only", () => {
    const pkg = JSON.parse(readFileSync(path.join(REPO_ROOT, "package.json"), "utf8"));
    expect(pkg.dependencies["@cloud-copilot/iam-simulate"]).toBeUndefined();
    expect(pkg.devDependencies["@cloud-copilot/iam-simulate"]).toMatch(/^\d+\.\d+\.\d+$/); // pinned exactly
    const lock = JSON.parse(readFileSync(path.join(REPO_ROOT, "package-lock.json"), "utf8"));
    const agplInLock = Object.entries<any>(lock.packages).filter(([, p]) => /AGPL/i.test(String(p.license ?? "")));
    expect(agplInLock.map(([k]) => k)).toContain("node_modules/@cloud-copilot/iam-simulate");
    for (const [name, p] of agplInLock) expect({ name, dev: p.dev }).toEqual({ name, dev: true });
  });
});
