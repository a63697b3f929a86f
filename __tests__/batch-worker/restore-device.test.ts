/**
 * Issue 9: `restore --device` on real loop devices. A device mounted read-write is refused (EBUSY
 * from the exclusive open) and not one byte is written; an image larger than the device is refused
 * before writing; a device whose restore failed after writing is said to be untrustworthy, exit 1.
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { promises as fs, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { restoreExport } from "../../batch-worker/src/restore";
import { WIPE_BYTES } from "../../batch-worker/src/restore-device";
import { FileStore } from "../../batch-worker/src/store";
import { detachSync } from "../../testing/fixtures/loop";
import { unmountSync } from "../../testing/fixtures/mounts";
import { writeExport } from "../helpers/hostile-archive";
import { describeWithPrereqs } from "./helpers";

const tools = ["losetup", "mkfs.ext4", "mount", "blockdev", "zstd", "tar"];
const missing = [
  ...(process.getuid?.() === 0 ? [] : ["root (loop devices)"]),
  ...tools
    .filter((t) => spawnSync("sh", ["-c", `command -v ${t}`]).status !== 0)
    .map((t) => `${t} (util-linux, e2fsprogs, zstd, tar)`),
];
const BIN = path.resolve(__dirname, "..", "..", "cli", "bin.js");
const sha = (f: string) => createHash("sha256").update(readFileSync(f)).digest("hex");

function attach(file: string): string {
  const r = spawnSync("losetup", ["--find", "--show", file], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`losetup: ${r.stderr}`);
  return r.stdout.trim();
}

describeWithPrereqs("restore --device on loop devices", missing, () => {
  let root: string;
  let store: FileStore;
  const loops: string[] = [];
  const mounts: string[] = [];
  jest.setTimeout(60_000);

  beforeEach(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "restore-device-"));
    store = new FileStore(path.join(root, "export"));
  });
  afterEach(async () => {
    for (const m of mounts.splice(0)) unmountSync(m);
    for (const l of loops.splice(0)) detachSync(l);
    await fs.rm(root, { recursive: true, force: true });
  });

  async function device(bytes: number, fill?: Buffer): Promise<{ file: string; dev: string }> {
    const file = path.join(root, `disk-${loops.length}.raw`);
    await fs.writeFile(file, fill ?? Buffer.alloc(bytes));
    await fs.truncate(file, bytes);
    const dev = attach(file);
    loops.push(dev);
    return { file, dev };
  }

  it("a device holding a filesystem mounted read-write is refused with EBUSY, nothing written (CLI, exit 1)", async () => {
    const { file, dev } = await device(16 * 1024 * 1024);
    // no lazy init: an idle mounted ext4 then writes nothing by itself
    expect(spawnSync("mkfs.ext4", ["-q", "-F", "-E", "lazy_itable_init=0,lazy_journal_init=0", dev]).status).toBe(0);
    const mnt = path.join(root, "mnt");
    await fs.mkdir(mnt);
    expect(spawnSync("mount", ["-o", "rw", dev, mnt]).status).toBe(0);
    mounts.push(mnt);
    await fs.writeFile(path.join(mnt, "live-data"), "do not overwrite\n");
    spawnSync("sync");
    await writeExport(store, [{ name: "p2", kind: "img", payload: randomBytes(1024 * 1024) }]);
    const before = sha(file);

    const r = spawnSync(
      process.execPath,
      [BIN, "restore", `file://${path.join(root, "export")}/`, "--item", "p2", "--device", dev],
      { encoding: "utf8" },
    );
    expect(r.stderr).toContain(`--device ${dev} is in use (EBUSY: mounted`);
    expect(r.stderr).not.toContain("SHA-256 verified");
    expect(r.status).toBe(1);
    spawnSync("sync");
    expect(sha(file)).toBe(before);
    expect(await fs.readFile(path.join(mnt, "live-data"), "utf8")).toBe("do not overwrite\n");
  });

  it("an image larger than the device is refused before writing", async () => {
    const pattern = randomBytes(1024 * 1024);
    const { file, dev } = await device(pattern.length, pattern);
    await writeExport(store, [{ name: "p2", kind: "img", payload: randomBytes(2 * 1024 * 1024) }]);
    await expect(restoreExport({ store, device: dev })).rejects.toThrow(
      `item p2 is ${2 * 1024 * 1024} bytes, --device ${dev} holds ${1024 * 1024}: refusing to write an image larger than the device`,
    );
    expect(readFileSync(file).equals(pattern)).toBe(true);
  });

  it("an image that fits is written and checked; the device is released afterwards", async () => {
    const { file, dev } = await device(2 * 1024 * 1024, Buffer.alloc(2 * 1024 * 1024, 0xff));
    const image = Buffer.concat([randomBytes(512 * 1024), Buffer.alloc(512 * 1024)]); // zeros are written too
    await writeExport(store, [{ name: "p2", kind: "img", payload: image }]);
    await expect(restoreExport({ store, device: dev })).resolves.toEqual([
      { name: "p2", kind: "img", path: dev, bytes: image.length },
    ]);
    spawnSync("sync");
    const disk = readFileSync(file);
    expect(disk.subarray(0, image.length).equals(image)).toBe(true);
    expect(disk.subarray(image.length).equals(Buffer.alloc(disk.length - image.length, 0xff))).toBe(true);
    // the exclusive claim ended with the restore
    expect(spawnSync("mkfs.ext4", ["-q", "-F", dev]).status).toBe(0);
  });

  it("a checksum failure after writing says the device is not trustworthy and zeroes its start", async () => {
    const { file, dev } = await device(4 * 1024 * 1024);
    await writeExport(store, [
      { name: "p2", kind: "img", payload: Buffer.alloc(3 * 1024 * 1024, 0x5a), lie: { sha256: "f".repeat(64) } },
    ]);
    await expect(restoreExport({ store, device: dev })).rejects.toThrow(
      new RegExp(
        `restore of p2 onto ${dev} FAILED: SHA-256 [0-9a-f]{64}, manifest says f{64}\\. ${3 * 1024 * 1024} bytes were written to ${dev} before the failure: ITS CONTENTS ARE NOT TRUSTWORTHY`,
      ),
    );
    spawnSync("sync");
    const disk = readFileSync(file);
    expect(disk.subarray(0, WIPE_BYTES).equals(Buffer.alloc(WIPE_BYTES))).toBe(true);
    expect(disk[WIPE_BYTES]).toBe(0x5a);
  });

  it("a regular file given as --device is refused", async () => {
    const f = path.join(root, "plain");
    await fs.writeFile(f, "x");
    await writeExport(store, [{ name: "p2", kind: "img", payload: Buffer.alloc(1024) }]);
    await expect(restoreExport({ store, device: f })).rejects.toThrow(`--device ${f} is not a block device`);
    expect(await fs.readFile(f, "utf8")).toBe("x");
  });
});
