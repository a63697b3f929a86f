/**
 * A small item's zstd can exit before the uploader reads its output (CreateMultipartUpload is still
 * in flight). Node discards the stdout of an exited child that nobody listens to, so the object was
 * empty, or cut short, while the export reported success. The store here is slow to start an upload,
 * and writes its file from the uploader's parts (no direct file for zstd), like an upload to S3.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { rawToStore } from "../../batch-worker/src/pipeline";
import { FileStore } from "../../batch-worker/src/store";

class SlowStartStore extends FileStore {
  override async createMultipart(key: string) {
    await new Promise((r) => setTimeout(r, 500));
    return super.createMultipart(key);
  }
}

describe("the worker reads zstd's output however late its upload starts", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "late-consumer-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a raw item whose zstd exits before CreateMultipartUpload returns keeps every byte", async () => {
    const input = path.join(dir, "gap.bin");
    const data = Buffer.concat([randomBytes(4096), Buffer.alloc(1 << 20)]);
    writeFileSync(input, data);
    const store = new SlowStartStore(path.join(dir, "export"), false);
    const r = await rawToStore(input, data.length, {
      store,
      key: "gap-0.img.zst",
      compressionLevel: 3,
      zstdThreads: 1,
      partSize: 8 << 20,
      concurrency: 1,
    });
    expect(r.uncompressedBytes).toBe(data.length);
    const object = readFileSync(path.join(dir, "export", "gap-0.img.zst"));
    expect(object.length).toBe(r.compressedBytes);
    expect(execFileSync("zstd", ["-d", "-c", "-q"], { input: object, maxBuffer: 4 << 20 }).equals(data)).toBe(true);
  });
});
