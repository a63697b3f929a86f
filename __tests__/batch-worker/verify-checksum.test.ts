/**
 * `backup-actions verify` (verifyExport) recomputes the S3 checksum the manifest records while it
 * re-reads each object. A file:// export keeps it fast: no disk fixture, no emulator, only zstd.
 */
import { spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { compositeSha256 } from "../../core/s3-checksum";
import { MANIFEST_NAME, ManifestItem } from "../../core/manifest";
import { manifestOf } from "../helpers/manifest";
import { FileStore } from "../../batch-worker/src/store";
import { uploadStream } from "../../batch-worker/src/upload";
import { verifyExport } from "../../batch-worker/src/verify";
import { describeWithPrereqs } from "./helpers";

const zstdMissing = spawnSync("zstd", ["--version"]).status === 0 ? [] : ["zstd (Debian package zstd)"];

describeWithPrereqs("verify recomputes the recorded S3 checksum", zstdMissing, () => {
  const partSize = 64 * 1024;
  const raw = randomBytes(300 * 1024); // incompressible: 5 parts of 64 KiB after zstd
  const compressed = spawnSync("zstd", ["-c", "-q"], { input: raw, maxBuffer: 1 << 24 }).stdout;
  let dir: string;
  let store: FileStore;
  let item: ManifestItem;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), "verify-checksum-"));
    store = new FileStore(dir);
    const r = await uploadStream(Readable.from([compressed]), store, "p1.img.zst", { partSize, concurrency: 2 });
    item = {
      name: "p1",
      kind: "img",
      source: { path: "/dev/loop9", fsType: null, offsetBytes: 0, sizeBytes: raw.length },
      key: "p1.img.zst",
      uncompressedBytes: raw.length,
      compressedBytes: r.bytes,
      sha256: r.sha256,
      s3ChecksumSHA256: r.s3ChecksumSHA256,
      partSize,
      parts: r.parts,
    };
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function verifyWith(changes: Partial<ManifestItem>) {
    const m = manifestOf([{ ...item, ...changes }], {
      device: { path: "/dev/loop9", sizeBytes: raw.length },
      totals: { uncompressedBytes: raw.length, compressedBytes: compressed.length },
    });
    await store.put(MANIFEST_NAME, JSON.stringify(m));
    return verifyExport(store);
  }

  it("the file:// export recorded S3's composite of its parts, and verify recomputes it", async () => {
    expect(item.parts).toBe(Math.ceil(compressed.length / partSize));
    const parts: string[] = [];
    for (let off = 0; off < compressed.length; off += partSize)
      parts.push(
        createHash("sha256")
          .update(compressed.subarray(off, off + partSize))
          .digest("base64"),
      );
    expect(item.s3ChecksumSHA256).toBe(compositeSha256(parts));
    await expect(verifyWith({})).resolves.toMatchObject({ ok: true, items: [{ name: "p1", ok: true, problems: [] }] });
  });

  it("fails when the recorded checksum is not the one of the object's bytes", async () => {
    const other = compositeSha256(
      Array.from({ length: item.parts! }, () => createHash("sha256").update(randomBytes(8)).digest("base64")),
    );
    const report = await verifyWith({ s3ChecksumSHA256: other });
    expect(report.ok).toBe(false);
    expect(report.items[0]!.problems).toEqual([
      `S3 checksum ${item.s3ChecksumSHA256} (parts of ${partSize} bytes), manifest says ${other}`,
    ]);
  });

  it("fails when the recorded part size is not the one the object was uploaded with", async () => {
    // a part size that gives the same number of parts passes the manifest's checks: only the bytes tell
    const other = [partSize + 1, partSize - 1].find((p) => Math.ceil(compressed.length / p) === item.parts)!;
    const report = await verifyWith({ partSize: other });
    expect(report.items[0]!.problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^S3 checksum \\S+-${item.parts} \\(parts of ${other} bytes\\), manifest says ${escape(item.s3ChecksumSHA256!)}$`,
        ),
      ),
    ]);
  });

  it("refuses a part size that does not give the recorded number of parts before reading the object", async () => {
    const halves = Math.ceil(compressed.length / (partSize / 2));
    await expect(verifyWith({ partSize: partSize / 2 })).rejects.toThrow(
      `invalid manifest ${store.url}manifest.json: item 0 ("p1"): parts: ${item.parts}, but ${compressed.length} compressed bytes ` +
        `in parts of ${partSize / 2} bytes are ${halves} part(s)`,
    );
  });

  it("reports a composite it cannot recompute without the part size", async () => {
    const report = await verifyWith({ partSize: undefined });
    expect(report.items[0]!.problems).toEqual([
      `S3 checksum ${item.s3ChecksumSHA256} cannot be recomputed: the manifest records no partSize`,
    ]);
  });

  it("recomputes the plain form (an object written by one PutObject) as the base64 SHA-256 of the object", async () => {
    const plain = createHash("sha256").update(compressed).digest("base64");
    await expect(verifyWith({ s3ChecksumSHA256: plain })).resolves.toMatchObject({ ok: true });
    const report = await verifyWith({ s3ChecksumSHA256: createHash("sha256").update(raw).digest("base64") });
    expect(report.items[0]!.problems).toEqual([
      `S3 checksum ${plain}, manifest says ${createHash("sha256").update(raw).digest("base64")}`,
    ]);
  });

  it("verifies a manifest written before the field existed on size and SHA-256 alone", async () => {
    await expect(verifyWith({ s3ChecksumSHA256: undefined })).resolves.toMatchObject({ ok: true });
  });
});

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
}
