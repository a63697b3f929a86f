import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { isAllZero, SparseFileWriter } from "../../batch-worker/src/sparse-writer";

describe("SparseFileWriter", () => {
  it("writes the same bytes, leaving zero runs (also a trailing one) as holes", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "sparse-"));
    try {
      const data = randomBytes(64 * 1024);
      const zeros = Buffer.alloc(8 * 1024 * 1024);
      const file = path.join(dir, "img");
      await pipeline(Readable.from([data, zeros, data, zeros]), new SparseFileWriter(file));
      expect(readFileSync(file).equals(Buffer.concat([data, zeros, data, zeros]))).toBe(true);
      const st = statSync(file);
      expect(st.size).toBe(2 * data.length + 2 * zeros.length);
      expect(st.blocks * 512).toBeLessThan(zeros.length); // the 16 MiB of zeros take no space
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("tells zero chunks from others, at any length", () => {
    expect(isAllZero(Buffer.alloc(3 * 1024 * 1024 + 5))).toBe(true);
    const b = Buffer.alloc(3 * 1024 * 1024 + 5);
    b[b.length - 1] = 1;
    expect(isAllZero(b)).toBe(false);
  });
});
