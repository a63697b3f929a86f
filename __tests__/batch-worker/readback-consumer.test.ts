/**
 * tar stops reading at its end-of-archive records and exits; it does not read its input to the end.
 * When zstd's output ends after that (a slow download, a busy machine: CI saw it once as "Premature
 * close" on a sound ext4 export), the consumer's stdin is already gone. verify and restore must judge
 * tar by its exit status and the bytes by their count and hashes, not fail on the closed pipe.
 * Made certain here: 4 MiB of zeros follow the archive inside the compressed object, so tar has
 * exited long before zstd's output ends.
 */
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { MANIFEST_NAME, ManifestItem } from "../../core/manifest";
import { restoreExport } from "../../batch-worker/src/restore";
import { FileStore } from "../../batch-worker/src/store";
import { uploadStream } from "../../batch-worker/src/upload";
import { verifyExport } from "../../batch-worker/src/verify";
import { manifestOf } from "../helpers/manifest";
import { describeWithPrereqs } from "./helpers";

const missing = [
  ...(spawnSync("zstd", ["--version"]).status === 0 ? [] : ["zstd (Debian package zstd)"]),
  ...(spawnSync("tar", ["--version"]).status === 0 ? [] : ["GNU tar (Debian package tar)"]),
];

const TRAILING = 4 * 1024 * 1024;

describeWithPrereqs("verify and restore when tar exits before zstd's output ends", missing, () => {
  let dir: string;
  let source: string;
  let store: FileStore;
  let names: string[];

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "readback-consumer-"));
    source = path.join(dir, "source");
    mkdirSync(source);
    names = Array.from({ length: 12 }, (_, i) => `f${i}.bin`);
    for (const n of names) writeFileSync(path.join(source, n), randomBytes(50_000));
    const tar = spawnSync("tar", ["-C", source, "-cf", "-", "."], { maxBuffer: 1 << 26 }).stdout;
    const stream = Buffer.concat([tar, Buffer.alloc(TRAILING)]);
    const zst = spawnSync("zstd", ["-c", "-q"], { input: stream, maxBuffer: 1 << 26 }).stdout;
    store = new FileStore(path.join(dir, "export"));
    const partSize = 256 * 1024;
    const r = await uploadStream(Readable.from([zst]), store, "disk.tar.zst", { partSize, concurrency: 1 });
    const item: ManifestItem = {
      name: "disk",
      kind: "tar",
      source: { path: "/dev/loop9", fsType: "ext4", offsetBytes: 0, sizeBytes: 1 << 24 },
      key: "disk.tar.zst",
      uncompressedBytes: stream.length,
      compressedBytes: r.bytes,
      sha256: r.sha256,
      s3ChecksumSHA256: r.s3ChecksumSHA256,
      partSize,
      parts: r.parts,
      files: names.length,
    };
    await store.put(
      MANIFEST_NAME,
      JSON.stringify(manifestOf([item], { device: { path: "/dev/loop9", sizeBytes: 1 << 24 } })),
    );
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("verify reports the export OK", async () => {
    // tar really leaves early: it reads the archive's records and not one byte of what follows
    const probe = spawnSync("sh", [
      "-c",
      `zstd -d -c -q ${JSON.stringify(path.join(dir, "export", "disk.tar.zst"))} | (tar --list --file=- >/dev/null; wc -c)`,
    ]);
    expect(Number(probe.stdout.toString().trim())).toBeGreaterThan(TRAILING - 64 * 1024);

    const report = await verifyExport(store);
    expect(report.items).toEqual([{ name: "disk", kind: "tar", ok: true, problems: [] }]);
    expect(report.ok).toBe(true);
  });

  it("restore extracts every file and reports no problem", async () => {
    const to = path.join(dir, "restored");
    await restoreExport({ store, to });
    const got = readdirSync(path.join(to, "disk")).sort();
    expect(got).toEqual([...names].sort());
    for (const n of names)
      expect(readFileSync(path.join(to, "disk", n)).equals(readFileSync(path.join(source, n)))).toBe(true);
  });
});
