/**
 * Issue 9, tamper evidence: `verify` and `restore` compare manifest.json's SHA-256 with what the
 * pipeline recorded in the ledger (moto's DynamoDB, the ledger table's real key schema) and with
 * --expect-manifest-sha256; the archive is on moto's S3 under the pipeline's own layout. An
 * archive rewritten consistently (every checksum recomputed) is refused before any object is read.
 */
import { DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { DeleteObjectCommand } from "@aws-sdk/client-s3";
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { makeS3Client, S3Store } from "../../batch-worker/src/store";
import { LEDGER_PARTITION_KEY } from "../../core/ledger";
import { gnuTar, writeExport } from "../helpers/hostile-archive";
import { describeWithPrereqs, motoMissing, newBucket } from "../batch-worker/helpers";
import { createLedgerTable } from "../helpers/ledger-table";

const BIN = path.resolve(__dirname, "..", "..", "cli", "bin.js");
const ARN = "arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0";
const PREFIX = "ebs/111111111111/us-east-1/vol-0a1b2c3d4e5f60718/2026/11/26/snap-0123456789abcdef0/";

function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const env = { ...process.env };
    delete env.BACKUP_ACTIONS_CONFIG;
    const child = spawn(process.execPath, [BIN, ...args], { env });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b));
    child.stderr.on("data", (b: Buffer) => (stderr += b));
    child.on("close", (code) => resolve({ code, stdout, stderr }));
  });
}

describeWithPrereqs(
  "verify and restore compare the manifest with the ledger (moto S3 + DynamoDB)",
  motoMissing(),
  () => {
    const ddb = new DynamoDBClient({ region: "us-east-1" });
    const table = "ledger-trust-test";
    const s3 = makeS3Client();
    let bucket: string;
    let url: string;
    let store: S3Store;
    let recorded: string;
    let work: string;
    jest.setTimeout(60_000);

    const record = (status: string, sha256: string, archiveUrl = url) =>
      ddb.send(
        new PutItemCommand({
          TableName: table,
          Item: {
            [LEDGER_PARTITION_KEY]: { S: ARN },
            status: { S: status },
            startedAt: { S: "2026-11-26T01:00:00Z" },
            workflow: { S: "ebs" },
            archiveUrl: { S: archiveUrl },
            sha256: { S: sha256 },
          },
        }),
      );

    /** The same export, rewritten by someone with write access to the bucket: every checksum consistent. */
    async function tamper(): Promise<string> {
      const src = await fs.mkdtemp(path.join(work, "evil-"));
      await fs.writeFile(path.join(src, "authorized_keys"), "ssh-ed25519 AAAA attacker\n");
      return (await writeExport(store, [{ name: "p1", kind: "tar", payload: gnuTar(src) }])).manifestSha256;
    }

    beforeAll(async () => {
      await createLedgerTable(ddb, table);
      work = await fs.mkdtemp(path.join(os.tmpdir(), "manifest-trust-"));
    });
    afterAll(async () => {
      if (work) await fs.rm(work, { recursive: true, force: true });
    });

    beforeEach(async () => {
      bucket = await newBucket(s3);
      url = `s3://${bucket}/${PREFIX}`;
      store = new S3Store(s3, bucket, PREFIX);
      const src = await fs.mkdtemp(path.join(work, "src-"));
      await fs.writeFile(path.join(src, "hello"), "from the pipeline\n");
      recorded = (await writeExport(store, [{ name: "p1", kind: "tar", payload: gnuTar(src) }])).manifestSha256;
      await record("SUCCEEDED", recorded);
    });

    it("verify and restore pass when the manifest is the one the ledger recorded (key derived from the archive URL)", async () => {
      const v = await cli(["verify", url, "--ledger-table", table]);
      expect(v.stderr).toContain(`manifest.json matches the SHA-256 ledger ${table} (us-east-1) recorded for ${ARN}`);
      expect(v.code).toBe(0);
      const to = path.join(work, "ok");
      const r = await cli(["restore", url, "--to", to, "--ledger-table", table]);
      expect(r.code).toBe(0);
      expect(await fs.readFile(path.join(to, "p1", "hello"), "utf8")).toBe("from the pipeline\n");
    });

    it("a consistently rewritten archive is refused by verify and restore before any object is read", async () => {
      const evil = await tamper();
      // the rewritten archive is internally consistent: without the ledger, verify passes it
      const unchecked = await cli(["verify", url]);
      expect(unchecked.code).toBe(0);
      expect(unchecked.stderr).toContain(
        "manifest.json was not compared with the ledger (--ledger-table) or a known SHA-256 (--expect-manifest-sha256)",
      );
      // its object is gone: were any object read, the error would say so instead
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: `${PREFIX}p1.tar.zst` }));

      const message = `manifest.json at ${url} has SHA-256 ${evil}, ledger ${table} (us-east-1) recorded ${recorded} for ${ARN}: the archive was changed after the pipeline verified it`;
      const v = await cli(["verify", url, "--ledger-table", table]);
      expect(v.stderr).toContain(message);
      expect(v.stdout).toBe("");
      expect(v.code).toBe(1);
      const to = path.join(work, "tampered");
      const r = await cli(["restore", url, "--to", to, "--ledger-table", table]);
      expect(r.stderr).toContain(message);
      expect(r.code).toBe(1);
      await expect(fs.lstat(to)).rejects.toThrow(/ENOENT/);
    });

    it("--expect-manifest-sha256: the right one passes, another one fails, a malformed one is a usage error", async () => {
      expect((await cli(["verify", url, "--expect-manifest-sha256", recorded.toUpperCase()])).code).toBe(0);
      const wrong = await cli(["verify", url, "--expect-manifest-sha256", "ab".repeat(32)]);
      expect(wrong.stderr).toContain(
        `manifest.json at ${url} has SHA-256 ${recorded}, --expect-manifest-sha256 says ${"ab".repeat(32)}: refusing it`,
      );
      expect(wrong.code).toBe(1);
      const to = path.join(work, "expect");
      const r = await cli(["restore", url, "--to", to, "--expect-manifest-sha256", "ab".repeat(32)]);
      expect(r.code).toBe(1);
      await expect(fs.lstat(to)).rejects.toThrow(/ENOENT/);
      const bad = await cli(["verify", url, "--expect-manifest-sha256", "xyz"]);
      expect(bad.stderr).toContain('--expect-manifest-sha256 must be 64 hexadecimal characters, got "xyz"');
      expect(bad.code).toBe(2);
    });

    it("a ledger that did not record this archive as SUCCEEDED, or recorded it elsewhere, refuses it", async () => {
      await record("FAILED", recorded);
      const failed = await cli(["verify", url, "--ledger-table", table]);
      expect(failed.stderr).toContain(`ledger ${table} (us-east-1) records ${ARN} as FAILED, not SUCCEEDED`);
      expect(failed.code).toBe(1);

      await record("SUCCEEDED", recorded, "s3://other-bucket/somewhere/");
      const elsewhere = await cli(["verify", url, "--ledger-table", table]);
      expect(elsewhere.stderr).toContain(`records ${ARN} at s3://other-bucket/somewhere/, not at ${url}`);
      expect(elsewhere.code).toBe(1);

      const other = "arn:aws:ec2:us-east-1::snapshot/snap-0fedcba9876543210";
      const none = await cli(["verify", url, "--ledger-table", table, "--recovery-point-arn", other]);
      expect(none.stderr).toContain(`ledger ${table} (us-east-1) has no record of ${other}`);
      expect(none.code).toBe(1);

      const missingTable = await cli(["verify", url, "--ledger-table", "no-such-ledger"]);
      expect(missingTable.stderr).toContain(`cannot read the ledger no-such-ledger (us-east-1) for ${ARN}`);
      expect(missingTable.code).toBe(1);
    });

    it("a URL that does not name its recovery point needs --recovery-point-arn", async () => {
      const r = await cli(["verify", `s3://${bucket}/elsewhere/`, "--ledger-table", table]);
      expect(r.stderr).toContain(`cannot tell the recovery point from s3://${bucket}/elsewhere/`);
      expect(r.code).toBe(2);
    });
  },
);
