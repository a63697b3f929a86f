import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { mockClient } from "aws-sdk-client-mock";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { MIB } from "../../batch-worker/src/part-size";
import { FileStore, makeS3Client, MultipartWriter, ObjectStore, PartBody, S3Store } from "../../batch-worker/src/store";
import { uploadStream } from "../../batch-worker/src/upload";
import { chunks, describeWithPrereqs, incompleteUploads, motoMissing, newBucket } from "./helpers";

const sha256 = (b: Buffer, enc: "hex" | "base64" = "hex") => createHash("sha256").update(b).digest(enc);
const bytesOf = (body: PartBody) => (Buffer.isBuffer(body) ? body : readFileSync(body.path));

/** S3's composite checksum of `data` cut into parts of `partSize`, computed here from the bytes alone. */
function composite(data: Buffer, partSize: number): string {
  const digests: Buffer[] = [];
  for (let off = 0; off < data.length; off += partSize)
    digests.push(
      createHash("sha256")
        .update(data.subarray(off, off + partSize))
        .digest(),
    );
  return `${createHash("sha256").update(Buffer.concat(digests)).digest("base64")}-${digests.length}`;
}

/** Wraps a store to observe (and optionally fail) part uploads. */
function instrument(store: ObjectStore, failPart?: number) {
  const stats = {
    inFlight: 0,
    maxInFlight: 0,
    parts: [] as { n: number; bytes: number; sha: string; actualSha: string }[],
  };
  const wrapped: ObjectStore = Object.create(store);
  wrapped.createMultipart = async (key) => {
    const w = await store.createMultipart(key);
    const iw: MultipartWriter = {
      async uploadPart(n, body, sha, offset) {
        stats.inFlight++;
        stats.maxInFlight = Math.max(stats.maxInFlight, stats.inFlight);
        try {
          await new Promise((r) => setTimeout(r, 20)); // let parts overlap
          if (n === failPart) throw new Error(`injected failure of part ${n}`); // on every attempt
          await w.uploadPart(n, body, sha, offset);
          stats.parts.push({ n, bytes: body.length, sha, actualSha: sha256(bytesOf(body), "base64") });
        } finally {
          stats.inFlight--;
        }
      },
      complete: (checksum) => w.complete(checksum),
      abort: () => w.abort(),
    };
    return iw;
  };
  return { wrapped, stats };
}

describeWithPrereqs("uploadStream against moto S3", motoMissing(), () => {
  let client: S3Client;
  let bucket: string;
  beforeAll(async () => {
    client = makeS3Client();
    bucket = await newBucket(client);
  });

  it("uploads in parts with a SHA-256 each, bounded parts in flight, and the whole stream's SHA-256", async () => {
    const data = randomBytes(45 * MIB);
    const { wrapped, stats } = instrument(new S3Store(client, bucket, "ok/"));
    let consumed = 0;
    let maxAhead = 0;
    async function* source() {
      for await (const c of chunks(data, 1 * MIB)) {
        consumed += c.length;
        const uploaded = stats.parts.reduce((a, p) => a + p.bytes, 0);
        maxAhead = Math.max(maxAhead, consumed - uploaded);
        yield c;
      }
    }
    const r = await uploadStream(source(), wrapped, "x.bin", { partSize: 8 * MIB, concurrency: 2 });

    expect(r).toEqual({
      bytes: data.length,
      sha256: sha256(data),
      s3ChecksumSHA256: composite(data, 8 * MIB),
      parts: 6,
      concurrency: 2,
      partBuffers: 2,
    });
    expect(stats.maxInFlight).toBeLessThanOrEqual(2);
    expect(stats.maxInFlight).toBe(2);
    // memory: never more than (concurrency + 1) parts read ahead of what was uploaded (+ one chunk)
    expect(maxAhead).toBeLessThanOrEqual(3 * 8 * MIB + 1 * MIB);
    for (const p of stats.parts) expect(p.sha).toBe(p.actualSha);
    expect(stats.parts.map((p) => p.bytes).sort((a, b) => a - b)).toEqual([5, 8, 8, 8, 8, 8].map((m) => m * MIB));
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "ok/x.bin", ChecksumMode: "ENABLED" }));
    expect(sha256(Buffer.from(await got.Body!.transformToByteArray()))).toBe(sha256(data));
    // the checksum the manifest records is the one S3 (here moto) computed from the parts it stored
    expect(got.ChecksumSHA256).toBe(r.s3ChecksumSHA256);
    expect(
      (await client.send(new HeadObjectCommand({ Bucket: bucket, Key: "ok/x.bin", ChecksumMode: "ENABLED" })))
        .ChecksumSHA256,
    ).toBe(r.s3ChecksumSHA256);
    expect(await incompleteUploads(bucket, client)).toEqual([]);
  });

  it("cuts the concurrency to what the memory budget holds, and S3 and the file sink record the same checksum", async () => {
    const data = randomBytes(20 * MIB);
    const { wrapped, stats } = instrument(new S3Store(client, bucket, "budget/"));
    // 14 MiB hold two 6 MiB parts (not the four asked for)
    const r = await uploadStream(chunks(data, MIB), wrapped, "x.bin", {
      partSize: 6 * MIB,
      concurrency: 4,
      memoryBudget: 14 * MIB,
    });
    expect(r).toMatchObject({
      bytes: data.length,
      sha256: sha256(data),
      s3ChecksumSHA256: composite(data, 6 * MIB),
      parts: 4,
      concurrency: 2,
    });
    expect(r.partBuffers).toBeLessThanOrEqual(2);
    expect(stats.maxInFlight).toBeLessThanOrEqual(2);
    for (const p of stats.parts) expect(p.sha).toBe(p.actualSha);
    const got = await client.send(new GetObjectCommand({ Bucket: bucket, Key: "budget/x.bin" }));
    expect(sha256(Buffer.from(await got.Body!.transformToByteArray()))).toBe(sha256(data));

    const dir = mkdtempSync(path.join(os.tmpdir(), "filestore-test-"));
    const f = await uploadStream(chunks(data, MIB), new FileStore(dir), "x.bin", {
      partSize: 6 * MIB,
      concurrency: 4,
      memoryBudget: 14 * MIB,
    });
    expect(sha256(readFileSync(path.join(dir, "x.bin")))).toBe(sha256(data));
    expect(f.s3ChecksumSHA256).toBe(r.s3ChecksumSHA256);
    expect(readdirSync(dir)).toEqual(["x.bin"]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("a failing part aborts the multipart upload and leaves no object", async () => {
    const { wrapped } = instrument(new S3Store(client, bucket, "fail/"), 3);
    await expect(
      uploadStream(chunks(randomBytes(40 * MIB), MIB), wrapped, "x.bin", { partSize: 8 * MIB, concurrency: 2 }),
    ).rejects.toThrow("injected failure of part 3");
    expect(await incompleteUploads(bucket, client)).toEqual([]);
    await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: "fail/x.bin" }))).rejects.toMatchObject({
      name: "NotFound",
    });
  });

  it("a failing producer (beforeComplete) aborts instead of completing a truncated stream", async () => {
    const store = new S3Store(client, bucket, "producer/");
    await expect(
      uploadStream(chunks(randomBytes(10 * MIB), MIB), store, "x.bin", {
        partSize: 8 * MIB,
        concurrency: 2,
        beforeComplete: async () => {
          throw new Error("tar failed (exit 2)");
        },
      }),
    ).rejects.toThrow("tar failed (exit 2)");
    expect(await incompleteUploads(bucket, client)).toEqual([]);
    await expect(client.send(new HeadObjectCommand({ Bucket: bucket, Key: "producer/x.bin" }))).rejects.toMatchObject({
      name: "NotFound",
    });
  });
});

describe("uploadStream with S3 rejecting a part checksum (fault injection)", () => {
  // moto 5.2 echoes ChecksumSHA256 without checking it; real S3 answers BadDigest. A mock is the
  // only way to show that the uploader turns that answer into an aborted upload.
  it("sends SHA256 checksums, and BadDigest aborts the upload", async () => {
    const s3 = mockClient(S3Client);
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: "u1" });
    s3.on(UploadPartCommand).rejects(
      Object.assign(new Error("The SHA256 you specified did not match the calculated checksum."), {
        name: "BadDigest",
      }),
    );
    s3.on(AbortMultipartUploadCommand).resolves({});
    const client = new S3Client({ region: "us-east-1" });
    const data = randomBytes(3 * MIB);
    await expect(
      uploadStream(chunks(data, MIB), new S3Store(client, "b", "p/"), "k", { partSize: 8 * MIB, concurrency: 2 }),
    ).rejects.toMatchObject({ name: "BadDigest" });
    expect(s3.commandCalls(CreateMultipartUploadCommand)[0].args[0].input).toMatchObject({
      ChecksumAlgorithm: "SHA256",
      ChecksumType: "COMPOSITE",
      Key: "p/k",
    });
    expect(s3.commandCalls(UploadPartCommand)[0].args[0].input).toMatchObject({
      ChecksumAlgorithm: "SHA256",
      ChecksumSHA256: sha256(data, "base64"),
    });
    expect(s3.commandCalls(AbortMultipartUploadCommand)[0].args[0].input).toEqual({
      Bucket: "b",
      Key: "p/k",
      UploadId: "u1",
    });
    s3.restore();
  });
});

describe("CompleteMultipartUpload's checksum (fault injection)", () => {
  // moto 5.2 answers CompleteMultipartUpload without a checksum; real S3 answers the composite of
  // the parts it stored. A mock is the only way to make it disagree with what was sent.
  const data = randomBytes(20 * MIB);
  const upload = (answer: string) => {
    const s3 = mockClient(S3Client);
    s3.on(CreateMultipartUploadCommand).resolves({ UploadId: "u1" });
    s3.on(UploadPartCommand).callsFake((input: { ChecksumSHA256?: string; PartNumber?: number }) => ({
      ETag: `"e${input.PartNumber}"`,
      ChecksumSHA256: input.ChecksumSHA256,
    }));
    s3.on(CompleteMultipartUploadCommand).resolves({
      ChecksumSHA256: answer,
      ChecksumType: "COMPOSITE",
      VersionId: "v2",
    });
    s3.on(AbortMultipartUploadCommand).resolves({});
    s3.on(DeleteObjectCommand).resolves({});
    const run = uploadStream(chunks(data, MIB), new S3Store(new S3Client({ region: "us-east-1" }), "b", "p/"), "k", {
      partSize: 8 * MIB,
      concurrency: 2,
    });
    return { s3, run };
  };

  it("an answer that matches the parts sent is recorded", async () => {
    const { s3, run } = upload(composite(data, 8 * MIB));
    await expect(run).resolves.toMatchObject({ s3ChecksumSHA256: composite(data, 8 * MIB), parts: 3 });
    // the parts were completed in order with the checksums they were sent with
    expect(
      s3
        .commandCalls(CompleteMultipartUploadCommand)[0]!
        .args[0].input.MultipartUpload!.Parts!.map((p) => p.ChecksumSHA256),
    ).toEqual([0, 1, 2].map((i) => sha256(data.subarray(i * 8 * MIB, (i + 1) * 8 * MIB), "base64")));
    expect(s3.commandCalls(DeleteObjectCommand)).toEqual([]);
    s3.restore();
  });

  it("an answer with another checksum fails the upload, naming both", async () => {
    const other = composite(randomBytes(20 * MIB), 8 * MIB);
    const { s3, run } = upload(other);
    await expect(run).rejects.toThrow(
      `p/k: CompleteMultipartUpload reports checksum ${other}, the 3 part(s) sent make ${composite(data, 8 * MIB)}; the object (version v2) was deleted`,
    );
    // exactly the version just written: an earlier version of the key stays current, no delete marker
    expect(s3.commandCalls(DeleteObjectCommand).map((c) => c.args[0].input)).toEqual([
      { Bucket: "b", Key: "p/k", VersionId: "v2" },
    ]);
    s3.restore();
  });

  it("an answer with another checksum whose object cannot be deleted says so", async () => {
    const other = composite(randomBytes(20 * MIB), 8 * MIB);
    const { s3, run } = upload(other);
    s3.on(DeleteObjectCommand).rejects(Object.assign(new Error("Access Denied"), { name: "AccessDenied" }));
    await expect(run).rejects.toThrow(
      /; the object \(version v2\) could not be deleted and is not what was sent: Access Denied$/,
    );
    s3.restore();
  });
});
