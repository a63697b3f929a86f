/**
 * The worker image is built from WORKER_CONTEXT_FILES, and its Dockerfile copies sources into the
 * build stage one directory at a time: every file of ours that the worker's bundle imports must be
 * in both, or the image does not build (the worker imports core/ since the manifest moved there).
 */
import { build } from "esbuild";
import { readFileSync } from "node:fs";
import path from "node:path";
import { WORKER_CONTEXT_FILES } from "../../../stacks/constructs/worker-image";

const root = path.resolve(__dirname, "../../..");

describe("the worker image's build context", () => {
  it("holds, and the Dockerfile copies, every source the worker's bundle imports", async () => {
    const r = await build({
      entryPoints: [path.join(root, "batch-worker/src/main.ts")],
      bundle: true,
      platform: "node",
      packages: "external",
      write: false,
      metafile: true,
      logLevel: "silent",
      absWorkingDir: root,
    });
    const ours = Object.keys(r.metafile.inputs).filter((f) => !f.startsWith("node_modules/"));
    expect(ours).toContain("core/manifest.ts");
    const within = (f: string, dirs: readonly string[]) => dirs.some((d) => f === d || f.startsWith(`${d}/`));
    expect(ours.filter((f) => !within(f, WORKER_CONTEXT_FILES))).toEqual([]);
    const copied = [
      ...readFileSync(path.join(root, "batch-worker/Dockerfile"), "utf8").matchAll(/^COPY (?!--from)(\S+) /gm),
    ].map((m) => m[1]!);
    expect(ours.filter((f) => !within(f, copied))).toEqual([]);
  });
});
