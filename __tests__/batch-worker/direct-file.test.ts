/**
 * file:// exports let zstd write the object's file itself and hash it by reading it back (store.ts
 * DirectWriter, upload.ts followUpload). The results must be the ones the uploader computes from a
 * pipe: the same object bytes, the whole stream's SHA-256, S3's composite checksum of its parts and
 * the part count; a producer that fails leaves no file, not even the `.partial` one.
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { commandToStore, rawToStore, StreamOptions } from "../../batch-worker/src/pipeline";
import { FileStore } from "../../batch-worker/src/store";
import { followUpload } from "../../batch-worker/src/upload";

const MiB = 1024 * 1024;

/** S3's composite checksum of `data` cut into parts of `partSize`, computed here from the bytes alone. */
function composite(data: Buffer, partSize: number): string {
  const digests: Buffer[] = [];
  for (let off = 0; off < data.length || digests.length === 0; off += partSize)
    digests.push(
      createHash("sha256")
        .update(data.subarray(off, off + partSize))
        .digest(),
    );
  return `${createHash("sha256").update(Buffer.concat(digests)).digest("base64")}-${digests.length}`;
}

const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");

describe("zstd writes a file:// object itself; the worker hashes what it wrote", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), "direct-file-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const opts = (store: FileStore, key: string, partSize: number): StreamOptions => ({
    store,
    key,
    compressionLevel: 3,
    zstdThreads: 1,
    partSize,
    concurrency: 2,
  });

  it("gives the same object, SHA-256, composite checksum and part count as the uploader's pipe path", async () => {
    // incompressible: zstd's output is a little larger than the input, several parts and a short last one
    const input = path.join(dir, "random.bin");
    const data = randomBytes(5 * MiB + 12345);
    writeFileSync(input, data);
    const partSize = MiB;
    const direct = new FileStore(path.join(dir, "direct"));
    const piped = new FileStore(path.join(dir, "piped"), false);
    const a = await rawToStore(input, data.length, opts(direct, "d-0.img.zst", partSize));
    const b = await rawToStore(input, data.length, opts(piped, "d-0.img.zst", partSize));
    const objectA = readFileSync(path.join(dir, "direct", "d-0.img.zst"));
    const objectB = readFileSync(path.join(dir, "piped", "d-0.img.zst"));
    expect(objectA.equals(objectB)).toBe(true);
    expect(a).toEqual(b);
    expect(a.compressedBytes).toBe(objectA.length);
    expect(a.sha256).toBe(sha256(objectA));
    expect(a.s3ChecksumSHA256).toBe(composite(objectA, partSize));
    expect(a.parts).toBe(Math.ceil(objectA.length / partSize));
    expect(a.parts).toBeGreaterThan(5);
    expect(readdirSync(path.join(dir, "direct"))).toEqual(["d-0.img.zst"]);
  });

  it("follows a file that grows slowly and reads every byte written before zstd exited", async () => {
    const store = new FileStore(path.join(dir, "slow"));
    // bursts with pauses: the reader catches up with zstd several times and must wait for more
    const script = "for i in 1 2 3 4 5 6; do head -c 700000 /dev/urandom; sleep 0.15; done";
    const r = await commandToStore(
      { cmd: "sh", args: ["-c", script], env: process.env, name: "slow producer" },
      opts(store, "slow.zst", 512 * 1024),
    );
    const object = readFileSync(path.join(dir, "slow", "slow.zst"));
    expect(r.uncompressedBytes).toBe(6 * 700000);
    expect(r.compressedBytes).toBe(object.length);
    expect(r.sha256).toBe(sha256(object));
    expect(r.s3ChecksumSHA256).toBe(composite(object, 512 * 1024));
  });

  it("a producer that fails after writing leaves no object and no .partial file", async () => {
    const store = new FileStore(path.join(dir, "failed"));
    await expect(
      commandToStore(
        {
          cmd: "sh",
          args: ["-c", "head -c 3000000 /dev/urandom; echo broken >&2; exit 3"],
          env: process.env,
          name: "dump",
        },
        opts(store, "broken.zst", MiB),
      ),
    ).rejects.toThrow(/dump.*3|broken/);
    expect(readdirSync(path.join(dir, "failed"))).toEqual([]);
  });

  it("a producer that fails after zstd finished the file (stdout closed first) still leaves no object", async () => {
    const store = new FileStore(path.join(dir, "late-failure"));
    // zstd sees the end of its input, writes its last frame and exits 0; the producer fails later
    const script = "head -c 2000000 /dev/urandom; exec >&-; sleep 0.5; echo late >&2; exit 4";
    await expect(
      commandToStore({ cmd: "sh", args: ["-c", script], env: process.env, name: "dump" }, opts(store, "late.zst", MiB)),
    ).rejects.toThrow(/late/);
    expect(readdirSync(path.join(dir, "late-failure"))).toEqual([]);
  });

  it("an empty stream is one empty part, and is complete only after the producer exited", async () => {
    const store = new FileStore(path.join(dir, "empty"));
    const writer = (await store.openDirect("empty.zst"))!;
    let release!: () => void;
    const written = new Promise<void>((r) => (release = r));
    const done = followUpload(writer, "empty.zst", { partSize: MiB, written });
    await new Promise((r) => setTimeout(r, 100));
    expect(existsSync(path.join(dir, "empty", "empty.zst"))).toBe(false);
    release();
    const r = await done;
    expect(r).toMatchObject({ bytes: 0, parts: 1, sha256: sha256(Buffer.alloc(0)) });
    expect(r.s3ChecksumSHA256).toBe(composite(Buffer.alloc(0), MiB));
    expect(readFileSync(path.join(dir, "empty", "empty.zst")).length).toBe(0);
  });
});
