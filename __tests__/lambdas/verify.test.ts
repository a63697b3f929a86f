import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createHash, randomBytes } from "node:crypto";
import type { Manifest } from "../../batch-worker/src/manifest";
import { parseS3Url, verifyArchive } from "../../lambdas/verify/logic";
import { describeWithPrereqs } from "../../testing/prereq";
import { motoMissing } from "../../testing/moto/availability";

const missing = motoMissing();

describe("parseS3Url", () => {
  it("splits bucket and prefix and ends the prefix with a slash", () => {
    expect(parseS3Url("s3://archive-b/ebs/1/x")).toEqual({ bucket: "archive-b", prefix: "ebs/1/x/" });
    expect(() => parseS3Url("file:///tmp/x/")).toThrow('not an s3://bucket/prefix/ URL: "file:///tmp/x/"');
  });
});

describeWithPrereqs("verify Lambda against moto's S3", missing, () => {
  const s3 = new S3Client({ region: "us-east-1", forcePathStyle: true });
  const bucket = `verify-test-${randomBytes(4).toString("hex")}`;
  const data = randomBytes(100_000);

  function manifest(items: Manifest["items"]): string {
    const m: Manifest = {
      version: 1,
      tool: "backup-actions",
      device: { path: "/dev/nvme1n1", sizeBytes: 1 << 30 },
      partitionTable: { type: null, partitions: [] },
      items,
      compression: { tool: "zstd", level: 3 },
      tools: { tar: "1.34", zstd: "1.5.4" },
      startedAt: "2026-11-26T00:00:00Z",
      finishedAt: "2026-11-26T00:01:00Z",
      seconds: 60,
      bytesPerSecond: 1,
      totals: { uncompressedBytes: 200_000, compressedBytes: data.length },
    };
    return JSON.stringify(m);
  }
  const item = (name: string, bytes = data.length) => ({
    name,
    kind: "tar" as const,
    source: { path: "/dev/nvme1n1p1", fsType: "ext4", offsetBytes: 0, sizeBytes: 1 << 30 },
    key: `${name}.tar.zst`,
    compressedBytes: bytes,
    uncompressedBytes: 200_000,
    sha256: createHash("sha256").update(data).digest("hex"),
  });
  const put = (key: string, body: string | Buffer) => s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await put("ok/p1.tar.zst", data);
    await put("ok/manifest.json", manifest([item("p1"), { name: "p2", kind: "skipped", reason: "swap", source: { path: "/dev/x", fsType: "swap", offsetBytes: 0, sizeBytes: 1 } }]));
    await put("short/p1.tar.zst", data.subarray(1));
    await put("short/manifest.json", manifest([item("p1")]));
    await put("lost/manifest.json", manifest([item("p1")]));
    await put("bad/manifest.json", "{ not json");
  });

  it("passes an archive whose objects all have the manifest's sizes", async () => {
    const text = manifest([item("p1"), { name: "p2", kind: "skipped", reason: "swap", source: { path: "/dev/x", fsType: "swap", offsetBytes: 0, sizeBytes: 1 } }]);
    await expect(verifyArchive(s3, { archiveUrl: `s3://${bucket}/ok/` })).resolves.toEqual({
      verified: true,
      bytes: data.length,
      sha256: createHash("sha256").update(text).digest("hex"),
      reason: "1 objects present with the manifest's sizes",
      objects: 1,
    });
  });

  it("fails an export without a manifest: it did not finish", async () => {
    const r = await verifyArchive(s3, { archiveUrl: `s3://${bucket}/nothing-here/` });
    expect(r).toMatchObject({ verified: false, reason: `manifest.json is missing under s3://${bucket}/nothing-here/: the export did not finish` });
  });

  it("fails an object whose size differs from the manifest", async () => {
    const r = await verifyArchive(s3, { archiveUrl: `s3://${bucket}/short/` });
    expect(r).toMatchObject({ verified: false, reason: `p1: object p1.tar.zst has ${data.length - 1} bytes, the manifest says ${data.length}` });
  });

  it("fails a missing object and a manifest that does not parse", async () => {
    expect((await verifyArchive(s3, { archiveUrl: `s3://${bucket}/lost/` })).reason).toBe("p1: object p1.tar.zst is missing");
    expect((await verifyArchive(s3, { archiveUrl: `s3://${bucket}/bad/` })).reason).toMatch(/^manifest.json is not valid: /);
  });
});
