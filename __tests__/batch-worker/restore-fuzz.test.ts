/**
 * Property (issue 9): whatever manifest and tar streams an attacker writes to the bucket, and
 * whatever restore answers, nothing outside the target is created, removed or changed, and a failed
 * restore leaves nothing behind but the items it reports as restored (which passed every check).
 *
 * Generated: manifest items with hostile or colliding names and kinds; tar streams from GNU tar on
 * crafted trees (symlinks and hard links, fifos) and from a ustar writer for what GNU tar will not
 * write (`..` and absolute member names, links to outside, duplicates, a symlink then a member
 * through it, device nodes); lies about sizes and checksums (oversize, truncation, swapped
 * bytes); item fields of the wrong shape in manifest.json; targets absent, empty, or already
 * holding symlinks to outside (with and without --force).
 *
 * Bounded and reproducible: FUZZ_RUNS runs (default 100), seed FUZZ_SEED, fixed under CI=true and
 * printed either way; a failure prints fast-check's seed and path for replay.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import fc from "fast-check";
import { restoreExport, RestoreFailedError, RestoredItem } from "../../batch-worker/src/restore";
import { FileStore } from "../../batch-worker/src/store";
import { CraftedItem, entries, gnuTar, snapshotTree, TarEntry, ustar, writeExport } from "../helpers/hostile-archive";
import { describeWithPrereqs } from "./helpers";

const missing = [
  ...(spawnSync("zstd", ["--version"]).status === 0 ? [] : ["zstd (Debian package zstd)"]),
  ...(spawnSync("tar", ["--version"]).status === 0 ? [] : ["GNU tar (Debian package tar)"]),
  ...(process.getuid?.() === 0 ? [] : ["root (restore reproduces owners and device nodes)"]),
];

const SEED = process.env.FUZZ_SEED
  ? Number(process.env.FUZZ_SEED)
  : process.env.CI === "true"
    ? 20261202
    : Date.now() % 2 ** 31;
const RUNS = Number(process.env.FUZZ_RUNS ?? 100);

/** Paths in the generated archives that point at the sentinel tree; `@` is replaced by the run's root. */
const MEMBER_NAMES = [
  "./",
  "x",
  "p1",
  "p1/y",
  "d",
  "d/f",
  "../x",
  "../../sentinel/file",
  "@/sentinel/file",
  "@/sentinel/dir/new",
  "/etc-evil/x",
  "a/../../b",
  "sub/../../../x",
  ".",
];
const LINK_TARGETS = [
  "@/sentinel/dir",
  "@/sentinel/file",
  "../../sentinel",
  "../../../sentinel/file",
  "..",
  ".",
  "/",
  "p1",
  "x",
  "d",
];
const ITEM_NAMES = [
  "p1",
  "p2",
  "a",
  "a.img",
  "d",
  "p1/y",
  "a/b",
  "../p1",
  "..",
  ".",
  "@/sentinel/dir/evil",
  ".restore-p1-x",
  "",
];

type Lie = "none" | "oversize" | "truncate" | "sha" | "undersize";

const tarEntry: fc.Arbitrary<TarEntry> = fc.oneof(
  fc.record({
    type: fc.constant("file" as const),
    name: fc.constantFrom(...MEMBER_NAMES),
    data: fc.uint8Array({ maxLength: 600 }).map((a) => Buffer.from(a)),
    mode: fc.constantFrom(0o644, 0o4755, 0o777),
  }),
  fc.record({
    type: fc.constant("dir" as const),
    name: fc.constantFrom(...MEMBER_NAMES),
    mode: fc.constantFrom(0o755, 0o777, 0o000),
  }),
  fc.record({
    type: fc.constantFrom("symlink" as const, "hardlink" as const),
    name: fc.constantFrom(...MEMBER_NAMES),
    linkname: fc.constantFrom(...LINK_TARGETS),
  }),
  fc.record({
    type: fc.constantFrom("chardev" as const, "blockdev" as const),
    name: fc.constantFrom(...MEMBER_NAMES),
    major: fc.constantFrom(1, 7),
    minor: fc.constantFrom(3, 0),
  }),
  fc.record({ type: fc.constant("fifo" as const), name: fc.constantFrom(...MEMBER_NAMES) }),
);

/** A tree GNU tar archives as it is: files, symlinks (to outside too), a hard link, a fifo. */
const gnuTree = fc.record({
  files: fc.uniqueArray(fc.constantFrom("f1", "f2", "sub/f3"), { maxLength: 3 }),
  symlinks: fc.array(fc.tuple(fc.constantFrom("l1", "l2", "sub/l3"), fc.constantFrom(...LINK_TARGETS)), {
    maxLength: 2,
  }),
  hardlink: fc.boolean(),
  fifo: fc.boolean(),
});

const item = fc.record({
  // safe names more often than not, so that runs get past the name checks and extract
  name: fc.oneof(
    { arbitrary: fc.constantFrom("p1", "p2", "p3", "d", "vg0-root", "disk"), weight: 4 },
    { arbitrary: fc.constantFrom(...ITEM_NAMES), weight: 1 },
  ),
  kind: fc.constantFrom("tar" as const, "img" as const),
  payload: fc.oneof(
    fc.record({ how: fc.constant("ustar" as const), entries: fc.array(tarEntry, { minLength: 1, maxLength: 6 }) }),
    fc.record({ how: fc.constant("gnu" as const), tree: gnuTree }),
    fc.record({ how: fc.constant("bytes" as const), size: fc.integer({ min: 0, max: 200_000 }) }),
  ),
  lie: fc.oneof(
    { arbitrary: fc.constant<Lie>("none"), weight: 6 },
    fc.constantFrom<Lie>("oversize", "truncate", "sha", "undersize"),
  ),
});

/** A field of one item rewritten in manifest.json to a value of the wrong shape or a hostile one. */
const mangle = fc.oneof(
  { arbitrary: fc.constant(null), weight: 3 },
  {
    arbitrary: fc.record({
      index: fc.nat(2),
      field: fc.constantFrom("name", "kind", "key", "uncompressedBytes", "compressedBytes"),
      value: fc.constantFrom<unknown>(null, -1, 1e300, 2.5, "7", "dir", "skipped", "../../sentinel/file", "", [], {}),
    }),
    weight: 1,
  },
);

const scenario = fc.record({
  items: fc.array(item, { minLength: 1, maxLength: 3 }),
  target: fc.constantFrom("absent", "empty", "symlinks", "symlinks-force"),
  mangle,
});

type Scenario = typeof scenario extends fc.Arbitrary<infer T> ? T : never;

async function payloadOf(p: Scenario["items"][number]["payload"], root: string, scratch: string): Promise<Buffer> {
  const at = (s: string) => s.replace(/^@/, root);
  if (p.how === "bytes") return randomBytes(p.size);
  if (p.how === "ustar") {
    return ustar(
      p.entries.map(
        (e) => ({ ...e, name: at(e.name), ...("linkname" in e ? { linkname: at(e.linkname) } : {}) }) as TarEntry,
      ),
    );
  }
  const dir = await fs.mkdtemp(path.join(scratch, "tree-"));
  await fs.mkdir(path.join(dir, "sub"));
  for (const f of p.tree.files) await fs.writeFile(path.join(dir, f), randomBytes(64));
  for (const [l, t] of p.tree.symlinks) await fs.symlink(at(t), path.join(dir, l)).catch(() => undefined);
  if (p.tree.hardlink && p.tree.files.length) await fs.link(path.join(dir, p.tree.files[0]!), path.join(dir, "hard"));
  if (p.tree.fifo) spawnSync("mkfifo", [path.join(dir, "fifo")]);
  const tar = gnuTar(dir);
  await fs.rm(dir, { recursive: true });
  return tar;
}

describeWithPrereqs("restore fuzzer: hostile manifests and tar streams never reach outside the target", missing, () => {
  jest.setTimeout(120_000);

  it(`holds for ${RUNS} generated archives (seed ${SEED})`, async () => {
    console.log(`restore fuzzer: seed ${SEED}, ${RUNS} runs (replay: FUZZ_SEED=${SEED})`);
    const base = await fs.mkdtemp(path.join(os.tmpdir(), "restore-fuzz-"));
    let n = 0;
    const outcomes = { restored: 0, refused: 0, itemFailed: 0 };
    try {
      await fc.assert(
        fc.asyncProperty(scenario, async (s) => {
          const root = path.join(base, `run${n++}`);
          const sentinel = path.join(root, "sentinel");
          await fs.mkdir(path.join(sentinel, "dir"), { recursive: true });
          await fs.writeFile(path.join(sentinel, "file"), "precious\n");
          await fs.symlink("file", path.join(sentinel, "link"));
          const scratch = path.join(root, "scratch");
          await fs.mkdir(scratch);
          const store = new FileStore(path.join(root, "export"));
          const target = path.join(root, "target");

          const crafted: CraftedItem[] = [];
          for (const it of s.items) {
            const payload = await payloadOf(it.payload, root, scratch);
            const c: CraftedItem = { name: it.name.replace(/^@/, root), kind: it.kind, payload };
            if (it.lie === "oversize") c.lie = { uncompressedBytes: Math.floor(payload.length / 2) };
            if (it.lie === "undersize") c.lie = { uncompressedBytes: payload.length + 512 };
            if (it.lie === "sha") c.lie = { sha256: "0".repeat(64) };
            if (it.lie === "truncate") c.truncateTo = 9;
            crafted.push(c);
          }
          await writeExport(store, crafted);
          if (s.mangle) {
            const file = path.join(root, "export", "manifest.json");
            const m = JSON.parse(await fs.readFile(file, "utf8"));
            const target = m.items[s.mangle.index % m.items.length];
            target[s.mangle.field] = s.mangle.value;
            await fs.writeFile(file, JSON.stringify(m));
          }
          await fs.rm(scratch, { recursive: true });

          if (s.target !== "absent") {
            await fs.mkdir(target);
            await fs.chmod(target, 0o755); // whatever the umask: only root may write it
          }
          if (s.target.startsWith("symlinks")) {
            for (const e of ["p1", "a.img", "d"]) await fs.symlink(path.join(sentinel, "dir"), path.join(target, e));
          }
          const existing = await entries(target);
          const before = await snapshotTree(root, target);

          let restored: readonly RestoredItem[] = [];
          let failed: Error | undefined;
          try {
            restored = await restoreExport({ store, to: target, force: s.target === "symlinks-force" });
          } catch (e) {
            failed = e as Error;
            if (e instanceof RestoreFailedError) restored = e.restored;
          }

          expect(await snapshotTree(root, target)).toEqual(before);
          for (const r of restored) expect(path.dirname(r.path)).toBe(target);
          const expected = [...existing, ...restored.map((r) => path.basename(r.path))].sort();
          if (s.target === "absent" && expected.length === 0) {
            await expect(fs.lstat(target)).rejects.toThrow(/ENOENT/); // created by restore, removed again
          } else {
            expect(await entries(target)).toEqual(expected); // no staging or partial item left
          }
          for (const e of existing) expect(await fs.readlink(path.join(target, e))).toBe(path.join(sentinel, "dir"));
          if (!failed && !s.mangle) expect(restored.length).toBe(s.items.length);
          if (!failed) outcomes.restored++;
          else if (/FAILED/.test(failed.message)) outcomes.itemFailed++;
          else outcomes.refused++;
          await fs.rm(root, { recursive: true, force: true });
        }),
        { numRuns: RUNS, seed: SEED, endOnFailure: true },
      );
      console.log(`restore fuzzer outcomes: ${JSON.stringify(outcomes)}`);
      // not vacuous: archives were restored, refused before writing, and failed after extracting
      if (RUNS >= 30)
        for (const k of Object.keys(outcomes) as (keyof typeof outcomes)[])
          expect({ [k]: outcomes[k] > 0 }).toEqual({ [k]: true });
    } finally {
      await fs.rm(base, { recursive: true, force: true });
    }
  });
});
