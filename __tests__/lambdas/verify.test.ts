import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createHash, randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import type { Manifest, ManifestItem } from "../../core/manifest";
import { MIB } from "../../batch-worker/src/part-size";
import { makeS3Client, S3Store } from "../../batch-worker/src/store";
import { uploadStream } from "../../batch-worker/src/upload";
import { Logger } from "@aws-lambda-powertools/logger";
import { InvalidEventError } from "../../core/errors";
import { handleVerify, verifyArchive } from "../../lambdas/verify/logic";
import { describeWithPrereqs } from "../../testing/prereq";
import { motoMissing } from "../../testing/moto/availability";
import { captureLogs, withCapturedLogs } from "../helpers/logs";
import { manifestOf } from "../helpers/manifest";
import { MALFORMED, validManifest } from "../helpers/malformed-manifests";

const missing = motoMissing();

describeWithPrereqs("verify Lambda against moto's S3", missing, () => {
  const s3 = new S3Client({ region: "us-east-1", forcePathStyle: true });
  const bucket = `verify-test-${randomBytes(4).toString("hex")}`;
  const data = randomBytes(100_000);

  function manifest(items: Manifest["items"]): string {
    return JSON.stringify(manifestOf(items, { tools: { tar: "1.34", zstd: "1.5.4" } }));
  }
  // pN lies in the N-th GiB of the device
  const item = (name: string, bytes = data.length) => ({
    name,
    kind: "tar" as const,
    source: {
      path: `/dev/nvme1n1${name}`,
      fsType: "ext4",
      offsetBytes: (Number(name.slice(1)) - 1) * (1 << 30),
      sizeBytes: 1 << 30,
    },
    key: `${name}.tar.zst`,
    compressedBytes: bytes,
    uncompressedBytes: 200_000,
    sha256: createHash("sha256").update(data).digest("hex"),
  });
  const put = (key: string, body: string | Buffer) =>
    s3.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

  beforeAll(async () => {
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    await put("ok/p1.tar.zst", data);
    await put(
      "ok/manifest.json",
      manifest([
        item("p1"),
        {
          name: "p2",
          kind: "skipped",
          reason: "swap",
          source: { path: "/dev/x", fsType: "swap", offsetBytes: 1 << 30, sizeBytes: 1 },
        },
      ]),
    );
    await put("short/p1.tar.zst", data.subarray(1));
    await put("short/manifest.json", manifest([item("p1")]));
    await put("lost/manifest.json", manifest([item("p1")]));
    await put("bad/manifest.json", "{ not json");
  });

  it("passes an archive whose objects all have the manifest's sizes", async () => {
    const text = manifest([
      item("p1"),
      {
        name: "p2",
        kind: "skipped",
        reason: "swap",
        source: { path: "/dev/x", fsType: "swap", offsetBytes: 1 << 30, sizeBytes: 1 },
      },
    ]);
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
    expect(r).toMatchObject({
      verified: false,
      reason: `manifest.json is missing under s3://${bucket}/nothing-here/: the export did not finish`,
    });
  });

  it("throws S3's other errors (access denied, throttling) for the state machine to retry, not 'missing'", async () => {
    // the fault: S3 refuses the one command named, as it does without a grant or under throttling
    const refusing = (command: string, name: string) => {
      const client = new S3Client({ region: "us-east-1", forcePathStyle: true });
      client.middlewareStack.add(
        (next, context) => async (args) => {
          if (context.commandName === command) throw Object.assign(new Error(`${name} (injected)`), { name });
          return next(args);
        },
        { step: "initialize", name: "injectS3Error" },
      );
      return client;
    };
    const ok = { archiveUrl: `s3://${bucket}/ok/` };
    await expect(verifyArchive(refusing("GetObjectCommand", "AccessDenied"), ok)).rejects.toThrow(
      expect.objectContaining({ name: "AccessDenied" }),
    );
    await expect(verifyArchive(refusing("HeadObjectCommand", "SlowDown"), ok)).rejects.toThrow(
      expect.objectContaining({ name: "SlowDown" }),
    );
  });

  it("answers a URL that is not the archive bucket's with verified: false, naming it", async () => {
    await expect(verifyArchive(s3, { archiveUrl: "file:///tmp/x/" })).resolves.toEqual({
      verified: false,
      bytes: 0,
      sha256: "",
      reason: 'not an s3://bucket/prefix/ URL: "file:///tmp/x/"',
      objects: 0,
    });
  });

  it("fails an object whose size differs from the manifest", async () => {
    const r = await verifyArchive(s3, { archiveUrl: `s3://${bucket}/short/` });
    expect(r).toMatchObject({
      verified: false,
      reason: `p1: object p1.tar.zst has ${data.length - 1} bytes, the manifest says ${data.length}`,
    });
  });

  it("fails a missing object and a manifest that does not parse", async () => {
    expect((await verifyArchive(s3, { archiveUrl: `s3://${bucket}/lost/` })).reason).toBe(
      "p1: object p1.tar.zst is missing",
    );
    expect((await verifyArchive(s3, { archiveUrl: `s3://${bucket}/bad/` })).reason).toMatch(
      new RegExp(`^invalid manifest s3://${bucket}/bad/manifest\\.json: not JSON \\(`),
    );
  });

  describe("refuses a malformed manifest before it looks at any object, naming the file, the item and the field", () => {
    it.each(MALFORMED.map((c, i) => [c.title, c, i] as const))("%s", async (_t, c, i) => {
      const prefix = `malformed/${i}/`;
      await put(`${prefix}p1.tar.zst`, data);
      await put(`${prefix}manifest.json`, c.json);
      await expect(verifyArchive(s3, { archiveUrl: `s3://${bucket}/${prefix}` })).resolves.toEqual({
        verified: false,
        bytes: 0,
        sha256: createHash("sha256").update(c.json).digest("hex"),
        reason: `invalid manifest s3://${bucket}/${prefix}manifest.json: ${c.issue}`,
        objects: 0,
      });
    });

    it("a version 1 manifest: the pipeline's worker writes version 2, the only one that accounts for the device", async () => {
      const v1 = validManifest((m) => {
        (m as { version: number }).version = 1;
        delete m.ranges;
      });
      await put("v1/manifest.json", v1);
      expect((await verifyArchive(s3, { archiveUrl: `s3://${bucket}/v1/` })).reason).toBe(
        `invalid manifest s3://${bucket}/v1/manifest.json: version: 1 is not one this reader accepts (2) ` +
          "(version 1 has no byte ranges to account for the device)",
      );
    });
  });

  describe("S3 checksums recorded by the worker", () => {
    // Archives written as the worker writes them: the worker's uploader (multipart, SHA-256 per part)
    // and the composite checksum it records. moto reports composites on HeadObject as S3 does
    // (the launcher's HeadObject patch, testing/moto/patches.py).
    const worker = makeS3Client();
    const partSize = 8 * MIB;
    const original = randomBytes(12 * MIB); // two parts
    const sha256 = (b: Buffer) => createHash("sha256").update(b).digest("hex");
    const upload = (prefix: string, body: Buffer) =>
      uploadStream(Readable.from([body]), new S3Store(worker, bucket, prefix), "p1.tar.zst", {
        partSize,
        concurrency: 2,
      });
    async function archive(prefix: string): Promise<ManifestItem> {
      const r = await upload(prefix, original);
      const it = {
        ...item("p1", r.bytes),
        sha256: r.sha256,
        s3ChecksumSHA256: r.s3ChecksumSHA256,
        partSize,
        parts: r.parts,
      };
      await put(`${prefix}manifest.json`, manifest([it]));
      return it;
    }

    it("passes an archive whose objects have the recorded checksums", async () => {
      const it = await archive("good/");
      expect(it.s3ChecksumSHA256).toMatch(/^[A-Za-z0-9+/]{43}=-2$/);
      await expect(verifyArchive(s3, { archiveUrl: `s3://${bucket}/good/` })).resolves.toMatchObject({
        verified: true,
        bytes: original.length,
        reason: "1 objects present with the manifest's sizes and S3 checksums",
      });
    });

    it("fails an object rewritten with other bytes of the same length (a multipart upload like the worker's)", async () => {
      const it = await archive("rewritten/");
      const other = Buffer.from(original);
      other[original.length - 1] ^= 0x01; // in the last part
      const now = await upload("rewritten/", other);
      expect(now.bytes).toBe(original.length);
      expect(now.sha256).not.toBe(sha256(original));
      const r = await verifyArchive(s3, { archiveUrl: `s3://${bucket}/rewritten/` });
      expect(r).toMatchObject({
        verified: false,
        reason: `p1: object p1.tar.zst has S3 checksum ${now.s3ChecksumSHA256}, the manifest records ${it.s3ChecksumSHA256}: the object was rewritten after the export`,
      });
    });

    it("fails an object rewritten by one PutObject with a SHA-256 checksum (the same length)", async () => {
      const it = await archive("put-sha/");
      const other = randomBytes(original.length);
      await worker.send(
        new PutObjectCommand({ Bucket: bucket, Key: "put-sha/p1.tar.zst", Body: other, ChecksumAlgorithm: "SHA256" }),
      );
      const plain = createHash("sha256").update(other).digest("base64");
      expect((await verifyArchive(s3, { archiveUrl: `s3://${bucket}/put-sha/` })).reason).toBe(
        `p1: object p1.tar.zst has S3 checksum ${plain}, the manifest records ${it.s3ChecksumSHA256}: the object was rewritten after the export`,
      );
    });

    it("fails an object replaced by one uploaded without a checksum: S3 reports none", async () => {
      const it = await archive("no-checksum/");
      // makeS3Client sends checksums only when an operation requires them: this PutObject has none
      await worker.send(
        new PutObjectCommand({ Bucket: bucket, Key: "no-checksum/p1.tar.zst", Body: randomBytes(original.length) }),
      );
      expect((await verifyArchive(s3, { archiveUrl: `s3://${bucket}/no-checksum/` })).reason).toBe(
        `p1: S3 reports no SHA-256 checksum for object p1.tar.zst, the manifest records ${it.s3ChecksumSHA256}: ` +
          "the object was replaced after the export by one uploaded without it " +
          "(or this role may not use kms:Decrypt on the archive key, which S3 requires to return checksums)",
      );
    });

    it("checks only the items that record a checksum when a manifest mixes both", async () => {
      const it = await archive("mixed/");
      await put("mixed/p2.tar.zst", data);
      await put("mixed/manifest.json", manifest([it, { ...item("p2"), key: "p2.tar.zst" }]));
      await expect(verifyArchive(s3, { archiveUrl: `s3://${bucket}/mixed/` })).resolves.toMatchObject({
        verified: true,
        reason: "2 objects present with the manifest's sizes; 1 with the manifest's S3 checksum",
      });
    });
  });

  describe("the handler's log lines (Powertools Logger)", () => {
    const RP = "arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0";
    const handle = (payload: unknown) => withCapturedLogs((logger) => handleVerify(payload, { s3, logger }));

    it("an archive that passes: one INFO line with the recovery point, the archive and the result", async () => {
      const { result, lines } = await handle({ archiveUrl: `s3://${bucket}/ok/`, recoveryPointArn: RP });
      expect(result.verified).toBe(true);
      expect(lines).toEqual([
        expect.objectContaining({
          level: "INFO",
          message: "verified",
          recoveryPointArn: RP,
          recoveryPointId: "snap-0123456789abcdef0",
          archiveUrl: `s3://${bucket}/ok/`,
          verified: true,
          objects: 1,
        }),
      ]);
    });

    it("an archive that fails: a WARN line with the recovery point and the reason", async () => {
      const { lines } = await handle({ archiveUrl: `s3://${bucket}/short/`, recoveryPointArn: RP });
      expect(lines).toEqual([
        expect.objectContaining({
          level: "WARN",
          message: "not verified",
          recoveryPointArn: RP,
          verified: false,
          reason: expect.stringContaining("p1"),
        }),
      ]);
    });

    it("an S3 error is thrown on to the state machine, after an ERROR line with the recovery point", async () => {
      const logs = captureLogs();
      try {
        const logger = new Logger({ serviceName: "test" });
        await expect(
          handleVerify({ archiveUrl: "s3://no-such-bucket-for-verify/x/", recoveryPointArn: RP }, { s3, logger }),
        ).rejects.toThrow(expect.objectContaining({ name: "NoSuchBucket" }));
        expect(logs.lines()).toEqual([
          expect.objectContaining({
            level: "ERROR",
            message: "verify failed",
            recoveryPointArn: RP,
            error: expect.objectContaining({ name: "NoSuchBucket" }),
          }),
        ]);
      } finally {
        logs.restore();
      }
    });

    it("a payload without archiveUrl: InvalidEventError, logged with the recovery point it names", async () => {
      const logs = captureLogs();
      try {
        const logger = new Logger({ serviceName: "test" });
        await expect(handleVerify({ recoveryPointArn: RP }, { s3, logger })).rejects.toThrow(
          new InvalidEventError("VerifyArchive: the payload needs archiveUrl"),
        );
        expect(logs.lines()).toEqual([
          expect.objectContaining({
            level: "ERROR",
            recoveryPointArn: RP,
            error: expect.objectContaining({ name: "InvalidEventError" }),
          }),
        ]);
        // The keys are per invocation: the next line of the same logger no longer carries them.
        logger.info("next");
        expect(logs.lines().at(-1)).not.toHaveProperty("recoveryPointArn");
      } finally {
        logs.restore();
      }
    });
  });
  describe("durationSeconds: how long the export took until the verdict (the outcome events')", () => {
    const start = "2026-12-03T09:47:12.418Z";
    const answer = (payload: Record<string, unknown>, now?: Date) =>
      withCapturedLogs((logger) => handleVerify(payload, { s3, logger, ...(now ? { now: () => now } : {}) }));

    it("counts from the execution's start to the verdict, to 0.1 s, on the Lambda's clock", async () => {
      const { result, lines } = await answer(
        { archiveUrl: `s3://${bucket}/ok/`, executionStartTime: start },
        new Date("2026-12-03T11:02:41.377Z"),
      );
      expect(result).toMatchObject({ verified: true, durationSeconds: 4529 });
      expect(lines).toEqual([expect.objectContaining({ message: "verified", durationSeconds: 4529 })]);
    });

    it("also on a failed verification", async () => {
      const { result } = await answer(
        { archiveUrl: `s3://${bucket}/short/`, executionStartTime: start },
        new Date("2026-12-03T09:47:15.000Z"),
      );
      expect(result).toMatchObject({ verified: false, durationSeconds: 2.6 });
    });

    it("is 0, not negative, when the Lambda's clock is behind the execution's start", async () => {
      const { result } = await answer(
        { archiveUrl: `s3://${bucket}/ok/`, executionStartTime: start },
        new Date("2026-12-03T09:47:11.900Z"),
      );
      expect(result.durationSeconds).toBe(0);
    });

    it("reads the system clock by default", async () => {
      const before = Date.now();
      const { result } = await answer({
        archiveUrl: `s3://${bucket}/ok/`,
        executionStartTime: new Date(before - 5_000).toISOString(),
      });
      const most = (Date.now() - before + 5_000) / 1000 + 0.05;
      expect(result.durationSeconds).toBeGreaterThanOrEqual(4.9);
      expect(result.durationSeconds).toBeLessThanOrEqual(most);
    });

    it("is null for a payload without executionStartTime (a dispatcher from before it)", async () => {
      const { result } = await answer({ archiveUrl: `s3://${bucket}/ok/` }, new Date());
      expect(result).toMatchObject({ verified: true, durationSeconds: null });
    });
  });
});
