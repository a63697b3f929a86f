/**
 * Issue 9: restore against archives rewritten by someone who can write the bucket. Every case of
 * the list: item names that escape, symlinks chained across items, a target that already
 * holds symlinks, swapped objects, decompression bombs. Exports are file:// (the same code path as
 * S3 for restore) so no emulator is needed; the attacker's archives have consistent checksums
 * unless a case says otherwise. Device cases are in restore-device.test.ts.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { PassThrough, Writable } from "node:stream";
import { Cleanup } from "../../batch-worker/src/cleanup";
import { readBack } from "../../batch-worker/src/readback";
import { restoreExport } from "../../batch-worker/src/restore";
import { SAFE_ITEM_NAME } from "../../batch-worker/src/restore-target";
import { FileStore } from "../../batch-worker/src/store";
import { entries, gnuTar, snapshotTree, ustar, writeExport } from "../helpers/hostile-archive";
import { describeWithPrereqs } from "./helpers";

const missing = [
  ...(spawnSync("zstd", ["--version"]).status === 0 ? [] : ["zstd (Debian package zstd)"]),
  ...(spawnSync("tar", ["--version"]).status === 0 ? [] : ["GNU tar (Debian package tar)"]),
  ...(process.getuid?.() === 0 ? [] : ["root (restore reproduces owners)"]),
];

describeWithPrereqs("restore writes only inside its target (hostile archives)", missing, () => {
  let root: string;
  let store: FileStore;
  let target: string;
  let sentinel: string;
  let before: Record<string, string>;

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "restore-safety-"));
    sentinel = path.join(root, "sentinel");
    await fs.mkdir(path.join(sentinel, "dir"), { recursive: true });
    await fs.writeFile(path.join(sentinel, "victim.img"), "precious\n");
    await fs.writeFile(path.join(sentinel, "dir", "file"), "keep me\n");
    await fs.chmod(path.join(sentinel, "dir"), 0o750);
    store = new FileStore(path.join(root, "export"));
    target = path.join(root, "target");
  });
  afterEach(async () => {
    await fs.rm(root, { recursive: true, force: true });
  });

  /** Snapshot everything but the target; call after the export is written. */
  const snap = async () => (before = await snapshotTree(root, target));
  const outsideUnchanged = async () => expect(await snapshotTree(root, target)).toEqual(before);
  const simpleTar = async (files: Record<string, string>) => {
    const src = await fs.mkdtemp(path.join(root, "src-"));
    for (const [n, c] of Object.entries(files)) await fs.writeFile(path.join(src, n), c);
    const t = gnuTar(src);
    await fs.rm(src, { recursive: true });
    return t;
  };

  describe("item names that are not one safe path component are refused before anything is written", () => {
    const hostile = [
      "../escape",
      "../../sentinel/dir",
      "/abs",
      "a/b",
      ".",
      "..",
      "",
      ".hidden",
      "p1\0x",
      "x".repeat(201),
    ];
    it.each(hostile.map((n) => [JSON.stringify(n), n]))("tar item %s", async (_label, name) => {
      await writeExport(store, [{ name, kind: "tar", payload: await simpleTar({ f: "x" }) }]);
      await snap();
      await expect(restoreExport({ store, to: target })).rejects.toThrow(
        `${JSON.stringify(name)} is not a single safe path component`,
      );
      await expect(fs.lstat(target)).rejects.toThrow(/ENOENT/);
      await outsideUnchanged();
    });
    it.each(hostile.map((n) => [JSON.stringify(n), n]))("img item %s", async (_label, name) => {
      await writeExport(store, [{ name, kind: "img", payload: Buffer.alloc(4096, 0x41) }]);
      await snap();
      await expect(restoreExport({ store, to: target })).rejects.toThrow(
        `${JSON.stringify(name)} is not a single safe path component`,
      );
      await expect(fs.lstat(target)).rejects.toThrow(/ENOENT/);
      await outsideUnchanged();
    });
    it("the pattern admits what exports name items (p1, vg0-root, disk, lv_home.2)", () => {
      for (const n of ["p1", "p15", "vg0-root", "disk", "lv_home.2", "vg+x"]) expect(n).toMatch(SAFE_ITEM_NAME);
    });
  });

  describe("symlinks never chain across items", () => {
    it("p1 (a tar holding a symlink y -> outside) then an img item p1/y: refused before writing", async () => {
      const tar = ustar([
        { type: "dir", name: "./" },
        { type: "symlink", name: "./y", linkname: path.join(sentinel, "victim.img") },
      ]);
      await writeExport(store, [
        { name: "p1", kind: "tar", payload: tar },
        { name: "p1/y", kind: "img", payload: Buffer.alloc(4096, 0x42) },
      ]);
      await snap();
      await expect(restoreExport({ store, to: target })).rejects.toThrow(
        `item 1 ("p1/y"): name: "p1/y" is not a single safe path component`,
      );
      await expect(fs.lstat(target)).rejects.toThrow(/ENOENT/);
      await outsideUnchanged();
    });

    it("a tar item a (symlink b -> outside dir) then a tar item a/b: refused", async () => {
      const tar = ustar([
        { type: "dir", name: "./" },
        { type: "symlink", name: "./b", linkname: path.join(sentinel, "dir") },
      ]);
      await writeExport(store, [
        { name: "a", kind: "tar", payload: tar },
        { name: "a/b", kind: "tar", payload: await simpleTar({ evil: "x" }) },
      ]);
      await snap();
      await expect(restoreExport({ store, to: target })).rejects.toThrow(
        `item 1 ("a/b"): name: "a/b" is not a single safe path component`,
      );
      await outsideUnchanged();
    });

    it("duplicate names, and a tar item a.img beside an img item a, are refused", async () => {
      const t = await simpleTar({ f: "1" });
      await writeExport(store, [
        { name: "p1", kind: "tar", payload: t, key: "one.tar.zst" },
        { name: "p1", kind: "tar", payload: t, key: "two.tar.zst" },
        { name: "a", kind: "img", payload: Buffer.alloc(512) },
        { name: "a.img", kind: "tar", payload: t },
      ]);
      await snap();
      const err = restoreExport({ store, to: target });
      // duplicates: the strict manifest reader (core/manifest.ts) refuses them before restore's own check
      await expect(err).rejects.toThrow(`item 1 ("p1"): name: "p1" is also the name of item 0`);
      // distinct names whose entries collide (a.img, a tar item, beside a.img, the img item a): restore's own check
      await writeExport(store, [
        { name: "a", kind: "img", payload: Buffer.alloc(512) },
        { name: "a.img", kind: "tar", payload: t },
      ]);
      await snap();
      await expect(restoreExport({ store, to: target })).rejects.toThrow(
        `items[1].name "a.img" would be restored to a.img, as items[0] is`,
      );
      await outsideUnchanged();
    });

    it("inside one tar: a symlink p1 -> outside then p1/y is not written through (the item fails, nothing kept)", async () => {
      const tar = ustar([
        { type: "dir", name: "./" },
        { type: "symlink", name: "./p1", linkname: path.join(sentinel, "dir") },
        { type: "file", name: "./p1/y", data: Buffer.from("owned\n") },
      ]);
      await writeExport(store, [{ name: "disk", kind: "tar", payload: tar }]);
      await snap();
      await expect(restoreExport({ store, to: target })).rejects.toThrow(
        /restore of disk FAILED, nothing of it was kept/,
      );
      await outsideUnchanged();
      await expect(fs.lstat(target)).rejects.toThrow(/ENOENT/); // created by restore, nothing restored: removed
    });

    it("traversal and absolute member names, and hard links to outside, stay inside the item", async () => {
      const tar = ustar([
        { type: "dir", name: "./" },
        { type: "file", name: "../../sentinel/dir/file", data: Buffer.from("owned\n") },
        { type: "file", name: path.join(sentinel, "dir", "file"), data: Buffer.from("owned\n") },
        { type: "hardlink", name: "./h", linkname: path.join(sentinel, "victim.img") },
        { type: "hardlink", name: "./h2", linkname: "../sentinel/victim.img" },
      ]);
      await writeExport(store, [{ name: "disk", kind: "tar", payload: tar }]);
      await snap();
      // GNU tar skips `..` members and fails the missing link targets: the item fails and is removed
      await expect(restoreExport({ store, to: target })).rejects.toThrow(/restore of disk FAILED/);
      await outsideUnchanged();
      await expect(entries(target)).resolves.toEqual([]);
    });
  });

  describe("a target that already holds entries", () => {
    it("is refused when not empty, without --force", async () => {
      await writeExport(store, [{ name: "p1", kind: "tar", payload: await simpleTar({ f: "x" }) }]);
      await fs.mkdir(target);
      await fs.symlink(path.join(sentinel, "dir"), path.join(target, "p1"));
      await snap();
      await expect(restoreExport({ store, to: target })).rejects.toThrow(
        `--to ${target} is not empty (p1): restore into a new or empty directory, or pass --force`,
      );
      await outsideUnchanged();
      expect(await fs.readlink(path.join(target, "p1"))).toBe(path.join(sentinel, "dir"));
    });

    it("with --force, a symlink where a tar item goes is neither followed nor replaced", async () => {
      await writeExport(store, [{ name: "p1", kind: "tar", payload: await simpleTar({ f: "x" }) }]);
      await fs.mkdir(target);
      await fs.symlink(path.join(sentinel, "dir"), path.join(target, "p1"));
      await snap();
      await expect(restoreExport({ store, to: target, force: true })).rejects.toThrow(
        `${target} already holds p1: restore never replaces or follows an existing entry`,
      );
      await outsideUnchanged();
      expect(await entries(target)).toEqual(["p1"]);
      expect(await fs.readlink(path.join(target, "p1"))).toBe(path.join(sentinel, "dir"));
    });

    it("with --force, a symlink where an image goes (d.img -> outside file) is not written through", async () => {
      await writeExport(store, [{ name: "d", kind: "img", payload: Buffer.alloc(8192, 0x43) }]);
      await fs.mkdir(target);
      await fs.symlink(path.join(sentinel, "victim.img"), path.join(target, "d.img"));
      await snap();
      await expect(restoreExport({ store, to: target, force: true })).rejects.toThrow(`${target} already holds d.img`);
      await outsideUnchanged();
    });

    it("with --force, other entries stay and the items are restored beside them", async () => {
      await writeExport(store, [{ name: "p1", kind: "tar", payload: await simpleTar({ f: "restored" }) }]);
      await fs.mkdir(target, { mode: 0o711 });
      await fs.chmod(target, 0o711);
      await fs.symlink(path.join(sentinel, "dir"), path.join(target, "other"));
      await snap();
      await restoreExport({ store, to: target, force: true });
      await outsideUnchanged();
      expect(await entries(target)).toEqual(["other", "p1"]);
      expect(await fs.readFile(path.join(target, "p1", "f"), "utf8")).toBe("restored");
      expect((await fs.stat(target)).mode & 0o7777).toBe(0o711); // its own mode again
    });

    it("an existing target others can write (like /tmp) is refused, even with --force, and keeps its mode", async () => {
      await writeExport(store, [{ name: "p1", kind: "tar", payload: await simpleTar({ f: "x" }) }]);
      await fs.mkdir(target);
      await fs.chmod(target, 0o1777);
      await snap();
      await expect(restoreExport({ store, to: target, force: true })).rejects.toThrow(
        `--to ${target} is writable by other users (mode 1777)`,
      );
      expect((await fs.stat(target)).mode & 0o7777).toBe(0o1777);
      expect(await entries(target)).toEqual([]);
    });

    it("a target that is a symlink is refused, even with --force", async () => {
      await writeExport(store, [{ name: "p1", kind: "tar", payload: await simpleTar({ f: "x" }) }]);
      await fs.symlink(path.join(sentinel, "dir"), target);
      await snap();
      await expect(restoreExport({ store, to: target, force: true })).rejects.toThrow(
        `--to ${target} is a symbolic link`,
      );
      await outsideUnchanged();
    });
  });

  describe("check before write, stage then move", () => {
    it("a swapped object (size recorded anew, SHA-256 not) is extracted into staging, FAILED, and leaves nothing", async () => {
      await writeExport(store, [{ name: "p1", kind: "tar", payload: await simpleTar({ f: "original" }) }]);
      const good = JSON.parse(await fs.readFile(path.join(root, "export", "manifest.json"), "utf8"));
      await writeExport(store, [
        {
          name: "p1",
          kind: "tar",
          payload: await simpleTar({ f: "swapped", g: "more" }),
          lie: { sha256: good.items[0].sha256 },
        },
      ]);
      await snap();
      await expect(restoreExport({ store, to: target })).rejects.toThrow(
        /restore of p1 FAILED, nothing of it was kept .*SHA-256 [0-9a-f]{64}, manifest says/,
      );
      await expect(fs.lstat(target)).rejects.toThrow(/ENOENT/);
      await outsideUnchanged();
    });

    it("a failed item after a good one: the good one stays, the failed one leaves nothing, the error says which", async () => {
      await writeExport(store, [
        { name: "p1", kind: "tar", payload: await simpleTar({ f: "good" }) },
        { name: "p2", kind: "img", payload: Buffer.alloc(100_000, 0x44), lie: { sha256: "0".repeat(64) } },
      ]);
      await snap();
      await expect(restoreExport({ store, to: target })).rejects.toThrow(
        new RegExp(`restore of p2 FAILED.*\\(restored before it, checked and kept: p1 -> ${target}/p1\\)`),
      );
      expect(await entries(target)).toEqual(["p1"]);
      await outsideUnchanged();
    });

    it("an object whose size is not the recorded one is refused before streaming (truncated)", async () => {
      await writeExport(store, [{ name: "p1", kind: "img", payload: randomBytes(300_000), truncateTo: 1000 }]);
      await snap();
      await expect(restoreExport({ store, to: target })).rejects.toThrow(
        /item p1: object p1\.img\.zst has 1000 bytes, the manifest says \d+/,
      );
      await expect(fs.lstat(target)).rejects.toThrow(/ENOENT/);
    });

    it("a decompression bomb stops at the recorded size: no byte beyond it reaches the consumer", async () => {
      const bomb = Buffer.alloc(64 * 1024 * 1024); // 64 MiB of zeros, a few KiB compressed
      const limit = 1024 * 1024;
      const { manifest } = await writeExport(store, [
        { name: "p1", kind: "img", payload: bomb, lie: { uncompressedBytes: limit } },
      ]);
      let received = 0;
      const r = await readBack(store, manifest.items[0]!, {
        writable: new Writable({ write: (c: Buffer, _e, cb) => ((received += c.length), cb()) }),
      });
      expect(r.errors).toContainEqual(`stopped: decompressed output exceeds the ${limit} bytes the manifest records`);
      expect(received).toBeLessThanOrEqual(limit);

      await snap();
      await expect(restoreExport({ store, to: target })).rejects.toThrow(
        `stopped: decompressed output exceeds the ${limit} bytes the manifest records`,
      );
      await expect(fs.lstat(target)).rejects.toThrow(/ENOENT/);
      await outsideUnchanged();
    });

    it("a tar bomb fails the same way and its staging directory is removed", async () => {
      const src = await fs.mkdtemp(path.join(root, "src-"));
      await fs.writeFile(path.join(src, "zeros"), Buffer.alloc(32 * 1024 * 1024));
      const tar = gnuTar(src);
      await fs.rm(src, { recursive: true });
      await writeExport(store, [{ name: "p1", kind: "tar", payload: tar, lie: { uncompressedBytes: 10_240 } }]);
      await fs.mkdir(target);
      await snap();
      await expect(restoreExport({ store, to: target })).rejects.toThrow(
        "stopped: decompressed output exceeds the 10240 bytes the manifest records",
      );
      expect(await entries(target)).toEqual([]);
      await outsideUnchanged();
    });

    it("an interrupted restore (the CLI's signal cleanup) kills tar, removes the unfinished item and the target it created", async () => {
      await writeExport(store, [{ name: "p1", kind: "tar", payload: await simpleTar({ f: "x".repeat(100_000) }) }]);
      const realGet = store.get.bind(store);
      const stalled = new PassThrough();
      store.get = async (key) => {
        if (key === "manifest.json") return realGet(key);
        const chunks: Buffer[] = [];
        for await (const c of await realGet(key)) chunks.push(c as Buffer);
        stalled.write(Buffer.concat(chunks).subarray(0, 64)); // then nothing more: a download that hangs
        return stalled;
      };
      await snap();
      const cleanup = new Cleanup();
      const restoring = restoreExport({ store, to: target, cleanup });
      for (let i = 0; i < 200 && !(await entries(target)).some((e) => e.startsWith(".restore-p1-")); i++)
        await new Promise((r) => setTimeout(r, 25));
      expect(await entries(target)).toEqual([expect.stringMatching(/^\.restore-p1-/), "p1"]); // staging, reservation

      await cleanup.runAll(); // what SIGTERM / SIGINT run
      const afterCleanup = await entries(target);
      stalled.destroy(new Error("interrupted")); // ends the restore whatever the cleanup did
      await expect(restoring).rejects.toThrow(/restore of p1 FAILED/);
      expect(afterCleanup).toEqual([]);
      await expect(fs.lstat(target)).rejects.toThrow(/ENOENT/);
      await outsideUnchanged();
    });

    it("the target is 0700 while items are written, and 0755 once a new one is done", async () => {
      await writeExport(store, [{ name: "p1", kind: "img", payload: Buffer.alloc(4096, 1) }]);
      const seen: number[] = [];
      const realGet = store.get.bind(store);
      store.get = async (key) => {
        if (key !== "manifest.json") seen.push((await fs.stat(target)).mode & 0o777);
        return realGet(key);
      };
      const out = await restoreExport({ store, to: target });
      expect(seen).toEqual([0o700]);
      expect((await fs.stat(target)).mode & 0o777).toBe(0o755);
      expect(out).toEqual([{ name: "p1", kind: "img", path: path.join(target, "p1.img"), bytes: 4096 }]);
      expect((await fs.stat(path.join(target, "p1.img"))).mode & 0o777).toBe(0o600);
      expect(await entries(target)).toEqual(["p1.img"]);
    });
  });
});
