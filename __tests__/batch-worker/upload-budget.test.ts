/**
 * The uploader holds parts in memory only: the concurrency follows from the memory budget, and an
 * upload that cannot hold two parts is refused before anything is written. Small numbers, a real
 * file sink; no emulator needed.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { MIB } from "../../batch-worker/src/part-size";
import { FileStore, MultipartWriter, ObjectStore } from "../../batch-worker/src/store";
import { defaultMemoryBudget, partConcurrency, PartBudgetError, uploadStream } from "../../batch-worker/src/upload";
import { chunks } from "./helpers";

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

/** A FileStore that counts parts in flight and multipart uploads started. */
function observed(dir: string) {
  const store = new FileStore(dir);
  const stats = { inFlight: 0, maxInFlight: 0, started: 0 };
  const wrapped: ObjectStore = Object.create(store);
  wrapped.createMultipart = async (key) => {
    stats.started++;
    const w = await store.createMultipart(key);
    const iw: MultipartWriter = {
      async uploadPart(n, body, sha, offset) {
        stats.inFlight++;
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
        try {
          await new Promise((r) => setTimeout(r, 10)); // let parts overlap
          await w.uploadPart(n, body, sha, offset);
        } finally {
          stats.inFlight--;
        }
      },
      complete: (c) => w.complete(c),
      abort: () => w.abort(),
    };
    return iw;
  };
  return { wrapped, stats };
}

describe("partConcurrency", () => {
  it("keeps the asked concurrency when that many parts fit", () => {
    expect(partConcurrency(8 * MIB, 4, 32 * MIB)).toBe(4);
  });
  it("cuts it to what the budget holds", () => {
    expect(partConcurrency(8 * MIB, 4, 31 * MIB)).toBe(3);
    expect(partConcurrency(8 * MIB, 4, 16 * MIB)).toBe(2);
  });
  it("refuses a budget below two parts, naming sizes, the variable and the config keys", () => {
    expect(() => partConcurrency(8 * MIB, 4, 15 * MIB)).toThrow(
      new PartBudgetError(
        "parts of 8 MiB need two buffers (16 MiB: one filling, one uploading), but the part-buffer budget is 15 MiB (BACKUP_ACTIONS_PART_MEMORY_MIB); give the job more memory (worker.memoryMiB) or export smaller volumes (worker.maxVolumeGiB)",
      ),
    );
  });
});

describe("defaultMemoryBudget", () => {
  it("comes from BACKUP_ACTIONS_PART_MEMORY_MIB, else a quarter of the machine's memory", () => {
    expect(defaultMemoryBudget({ BACKUP_ACTIONS_PART_MEMORY_MIB: "6656" }, 64 * 1024 * MIB)).toBe(6656 * MIB);
    expect(defaultMemoryBudget({}, 64 * 1024 * MIB)).toBe(16 * 1024 * MIB);
    expect(() => defaultMemoryBudget({ BACKUP_ACTIONS_PART_MEMORY_MIB: "lots" })).toThrow(
      'BACKUP_ACTIONS_PART_MEMORY_MIB must be a positive whole number of MiB, got "lots"',
    );
  });
});

describe("uploadStream within a memory budget", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "upload-budget-"));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("holds at most budget / partSize buffers (3, not the 8 asked for), writing no spool file", async () => {
    const data = randomBytes(20 * MIB + 123);
    const { wrapped, stats } = observed(dir);
    const tmpBefore = new Set(readdirSync(os.tmpdir()));
    const r = await uploadStream(chunks(data, 256 * 1024), wrapped, "x.bin", {
      partSize: 2 * MIB,
      concurrency: 8,
      memoryBudget: 6 * MIB,
    });
    expect(r).toMatchObject({ bytes: data.length, sha256: sha256(data), parts: 11, concurrency: 3 });
    expect(r.partBuffers).toBeLessThanOrEqual(3);
    expect(stats.maxInFlight).toBeLessThanOrEqual(3);
    expect(sha256(readFileSync(path.join(dir, "x.bin")))).toBe(sha256(data));
    expect(readdirSync(dir)).toEqual(["x.bin"]);
    // nothing spooled next to the temp files of others
    expect(
      [...readdirSync(os.tmpdir())].filter((f) => !tmpBefore.has(f) && f.startsWith("backup-actions-spool-")),
    ).toEqual([]);
  });

  it("refuses a budget below two parts before any upload starts, leaving nothing behind", async () => {
    const { wrapped, stats } = observed(dir);
    await expect(
      uploadStream(chunks(randomBytes(4 * MIB), MIB), wrapped, "x.bin", {
        partSize: 2 * MIB,
        concurrency: 4,
        memoryBudget: 3 * MIB,
      }),
    ).rejects.toThrow(PartBudgetError);
    expect(stats.started).toBe(0);
    expect(existsSync(path.join(dir, "x.bin"))).toBe(false);
    expect(readdirSync(dir)).toEqual([]);
  });
});
