/**
 * The restore drill with `drills.restoreDumps`, executed: the drill machine as the pipeline stack synthesizes
 * it with a native dump export on (exports.rds format "dump"), the drill function's logic against moto, and
 * as its Batch job the worker image's `verify` (batch-worker/src/verify-job.ts) with the Command the machine
 * built. In one execution a real PostgreSQL 15 dump archive (testing/databases.ts, dumped by the worker's
 * dump code into moto's S3) goes through VerifyKind to RunVerifyDump, whose job loads the dumps into a
 * scratch server (`--restore-scratch`), and a real EBS archive goes to RunVerify, whose job does not. Then a
 * dump that passes every byte check but does not restore: FAILED, Drill Failed, DrillFailed 1, and no
 * scratch server or directory left.
 */
import { DeleteItemCommand } from "@aws-sdk/client-dynamodb";
import { CopyObjectCommand, GetObjectCommand } from "@aws-sdk/client-s3";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import { dumpDatabases } from "../../batch-worker/src/dump-database";
import { makeS3Client, S3Store } from "../../batch-worker/src/store";
import { RESOURCE_TYPE_OF } from "../../core/drill";
import { MANIFEST_NAME, parseArchiveManifest, type DatabaseManifest } from "../../core/manifest";
import { CompositeSha256 } from "../../core/s3-checksum";
import type { AslDefinition } from "../../testing/asl";
import { databasePrerequisites, POSTGRES_BIN, startPostgres, type TestServer } from "../../testing/databases";
import { cleanupStaleFixtures, diskPrerequisites, type DiskFixture } from "../../testing/fixtures/disks";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";
import { processesUnder } from "../helpers/database-cli";
import { exportEbsArchive, manifestSha256Of, runDrill, seedDrillRecord } from "../helpers/drill-bench";
import { expectOutcomeEvent } from "../helpers/outcome-events";
import { ACCOUNT, Bench, createBench, ledgerItem, outcomeEvents, REGION } from "../helpers/pipeline-bench";

const missing = [...diskPrerequisites().missing, ...databasePrerequisites(), ...motoMissing(), ...backupFakeMissing()];

/** What the verify job prints (batch-worker/src/verify.ts VerifyReport). */
interface Report {
  ok: boolean;
  url: string;
  items: Array<{ name: string; ok: boolean; problems: string[] } & Record<string, unknown>>;
}

describeWithPrereqs("restore drill with drills.restoreDumps, executed on a real PostgreSQL dump", missing, () => {
  jest.setTimeout(300_000);
  let bench: Bench;
  let drill: AslDefinition;
  let fixture: DiskFixture;
  let server: TestServer;
  const ebsPrefix = `ebs/${ACCOUNT}/${REGION}/vol-0123456789abcdef0/2026/11/01/dumpdrill-ebs/`;
  let ebsSha256: string;
  // The archive layout (core/s3-layout.ts): rds/<account>/<region>/<DB identifier>/<date>/<recovery point id>/
  const dumpPrefix = (name: string) => `rds/${ACCOUNT}/${REGION}/shop-db/2026/11/02/awsbackup_job-${name}/`;
  const dbArn = `arn:aws:rds:${REGION}:${ACCOUNT}:db:shop-db`;
  const goodDump = dumpPrefix("good");
  let goodDumpSha256: string;
  const seeded: string[] = [];
  const savedBin = process.env.BACKUP_ACTIONS_POSTGRES_BIN;
  // set-up writes and reads: the worker's client, not recorded (no role)
  const setupS3 = makeS3Client();

  beforeAll(async () => {
    cleanupStaleFixtures();
    process.env.BACKUP_ACTIONS_POSTGRES_BIN = POSTGRES_BIN;
    bench = await createBench({
      exports: { rds: { format: "dump" } },
      drills: { enabled: true, sampleSize: 5, glacier: "skip", restoreDumps: true },
    });
    drill = bench.definitionOf("backup-actions-restore-drill");
    ({ fixture, manifestSha256: ebsSha256 } = await exportEbsArchive(bench, ebsPrefix));
    server = await startPostgres();
    server.sql("CREATE DATABASE shop");
    server.sql(
      `CREATE TABLE items (id integer PRIMARY KEY, label text);
       INSERT INTO items SELECT g, 'item ' || g FROM generate_series(1, 120) g;
       INSERT INTO items VALUES (777777, 'the last one');`,
      "shop",
    );
    // The dump job's own code (batch-worker/src/dump-database.ts), as the RDS child's Batch job runs it.
    await dumpDatabases({
      connection: {
        engine: "postgres",
        host: server.host,
        port: server.port,
        user: server.user,
        password: server.password,
      },
      store: new S3Store(setupS3, bench.archiveBucket, goodDump),
    });
    goodDumpSha256 = await manifestSha256Of(bench.archiveBucket, goodDump);
  });
  afterAll(async () => {
    if (savedBin === undefined) delete process.env.BACKUP_ACTIONS_POSTGRES_BIN;
    else process.env.BACKUP_ACTIONS_POSTGRES_BIN = savedBin;
    await server?.stop();
    await fixture?.cleanup();
    setupS3.destroy();
  });
  afterEach(async () => {
    for (const arn of seeded.splice(0))
      await bench.clients.ddb.send(
        new DeleteItemCommand({ TableName: bench.ledgerTable, Key: { recoveryPointArn: { S: arn } } }),
      );
  });

  async function objectBytes(key: string): Promise<Buffer> {
    const out = await setupS3.send(new GetObjectCommand({ Bucket: bench.archiveBucket, Key: key }));
    return Buffer.from(await out.Body!.transformToByteArray());
  }

  async function seedDump(name: string, prefix: string, sha256: string): Promise<string> {
    const arn = `arn:aws:rds:${REGION}:${ACCOUNT}:snapshot:awsbackup:job-${name}`;
    seeded.push(arn);
    await seedDrillRecord(bench, {
      recoveryPointArn: arn,
      name,
      prefix,
      sha256,
      workflow: "rds",
      resourceArn: dbArn,
    });
    return arn;
  }

  async function seedEbs(name: string): Promise<string> {
    const arn = `arn:aws:ec2:${REGION}::snapshot/snap-0${createHash("sha256").update(name).digest("hex").slice(0, 16)}`;
    seeded.push(arn);
    await seedDrillRecord(bench, { recoveryPointArn: arn, name, prefix: ebsPrefix, sha256: ebsSha256 });
    return arn;
  }

  /**
   * A copy of the good dump archive whose `shop` dump no longer loads (an integer column's value made
   * "77x777", the same length, so the custom format's offsets stay right), uploaded as the worker uploads
   * (multipart, per-part SHA-256, S3's composite checksum) with a manifest rewritten to match: every byte
   * check of a plain verify passes. Returns the rewritten manifest's SHA-256.
   */
  async function tamperedDump(prefix: string): Promise<string> {
    const manifest = parseArchiveManifest(
      (await objectBytes(`${goodDump}${MANIFEST_NAME}`)).toString("utf8"),
      goodDump,
    ) as DatabaseManifest;
    const shop = manifest.items.find((i) => i.database === "shop")!;
    for (const item of manifest.items.filter((i) => i !== shop))
      await setupS3.send(
        new CopyObjectCommand({
          Bucket: bench.archiveBucket,
          Key: prefix + item.key,
          CopySource: `${bench.archiveBucket}/${goodDump}${item.key}`,
        }),
      );
    const unz = spawnSync("zstd", ["-q", "-d", "-c"], { input: await objectBytes(goodDump + shop.key) });
    expect(unz.status).toBe(0);
    const raw = Buffer.from(unz.stdout);
    const at = raw.indexOf("777777\t");
    expect(at).toBeGreaterThan(0);
    raw.write("77x777", at);
    const z = spawnSync("zstd", ["-q", "-c", "-3"], { input: raw });
    expect(z.status).toBe(0);
    const compressed = Buffer.from(z.stdout);
    const partSize = shop.partSize!;
    const composite = new CompositeSha256(partSize);
    composite.update(compressed);
    const store = new S3Store(setupS3, bench.archiveBucket, prefix);
    const upload = await store.createMultipart(shop.key);
    let parts = 0;
    for (let offset = 0; offset < compressed.length || parts === 0; offset += partSize) {
      const part = compressed.subarray(offset, offset + partSize);
      await upload.uploadPart(++parts, part, createHash("sha256").update(part).digest("base64"), offset);
    }
    const s3ChecksumSHA256 = composite.digest();
    await upload.complete(s3ChecksumSHA256);
    const next = structuredClone(manifest);
    const it = next.items.find((i) => i.name === shop.name)!;
    Object.assign(it, {
      compressedBytes: compressed.length,
      uncompressedBytes: raw.length,
      sha256: createHash("sha256").update(compressed).digest("hex"),
      s3ChecksumSHA256,
      parts,
    });
    next.totals = {
      compressedBytes: next.items.reduce((a, i) => a + i.compressedBytes, 0),
      uncompressedBytes: next.items.reduce((a, i) => a + i.uncompressedBytes, 0),
    };
    const text = JSON.stringify(next, null, 2);
    await store.put(MANIFEST_NAME, text);
    return createHash("sha256").update(text).digest("hex");
  }

  /**
   * What the verify jobs printed: each one's report (verify-job.ts writes it as one JSON line on stdout) and
   * the scratch servers they started (log lines on stderr, passed through).
   */
  function captureJobs(): { reports: Report[]; scratch: Array<{ dir: string; pid: number }>; stop(): void } {
    const reports: Report[] = [];
    const scratch: Array<{ dir: string; pid: number }> = [];
    const out = jest.spyOn(process.stdout, "write").mockImplementation((chunk: string | Uint8Array) => {
      for (const line of chunk.toString().split("\n")) {
        if (!line.startsWith("{")) continue;
        const r = JSON.parse(line) as Partial<Report>;
        if (typeof r.url === "string" && Array.isArray(r.items)) reports.push(r as Report);
      }
      return true;
    });
    const write = process.stderr.write.bind(process.stderr);
    const err = jest.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      for (const m of chunk.toString().matchAll(/scratch postgres server started in (\S+) \(pid (\d+),/g))
        scratch.push({ dir: m[1]!, pid: Number(m[2]) });
      return write(chunk);
    });
    return {
      reports,
      scratch,
      stop: () => {
        out.mockRestore();
        err.mockRestore();
      },
    };
  }

  /** Nothing of the scratch servers is left: their directories removed, their processes gone. */
  async function expectNoScratchLeft(scratch: ReadonlyArray<{ dir: string; pid: number }>): Promise<void> {
    for (const { dir, pid } of scratch) {
      await expect(fs.stat(dir)).rejects.toMatchObject({ code: "ENOENT" });
      expect(await processesUnder(dir)).toEqual([]);
      await expect(fs.stat(`/proc/${pid}`)).rejects.toMatchObject({ code: "ENOENT" });
    }
  }

  it("one run, both routes: the dump's job restores it into a scratch server, the EBS job does not; both PASSED", async () => {
    const dumpArn = await seedDump("good", goodDump, goodDumpSha256);
    const ebsArn = await seedEbs("dumpdrill-ebs");

    const capture = captureJobs();
    const run = await runDrill(bench, drill, "dumpdrill-both").finally(() => capture.stop());

    expect(run.result.status).toBe("SUCCEEDED");
    expect(run.result.output).toEqual({ passed: 2, failed: 0, skipped: 0 });
    // DRILL_WORKFLOWS: the drill function samples the dump archives too
    expect(run.env.DRILL_WORKFLOWS!.split(",")).toEqual(expect.arrayContaining(["ebs", "rds"]));
    expect(run.commands).toHaveLength(2);
    expect(run.commands).toEqual(
      expect.arrayContaining([
        [
          "verify",
          `s3://${bench.archiveBucket}/${goodDump}`,
          "--expect-manifest-sha256",
          goodDumpSha256,
          "--restore-scratch",
        ],
        ["verify", `s3://${bench.archiveBucket}/${ebsPrefix}`, "--expect-manifest-sha256", ebsSha256],
      ]),
    );
    // The dump's report has the scratch restore's item, its rows those of the dump (121 in shop.items); the EBS one none.
    const scratchItems = (url: string) =>
      capture.reports
        .filter((r) => r.url === url)
        .map((r) => [r.ok, r.items.filter((i) => i.name === "scratch-restore")]);
    expect(capture.reports).toHaveLength(2);
    expect(scratchItems(`s3://${bench.archiveBucket}/${goodDump}`)).toEqual([
      [true, [{ name: "scratch-restore", kind: "scratch-restore", ok: true, problems: [], rows: 121 }]],
    ]);
    expect(scratchItems(`s3://${bench.archiveBucket}/${ebsPrefix}`)).toEqual([[true, []]]);
    for (const arn of [dumpArn, ebsArn]) {
      const item = await ledgerItem(bench, arn);
      expect(item).toMatchObject({ status: "SUCCEEDED", lastVerifyResult: "PASSED" });
      expect(item.lastVerifiedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
      expect(item).not.toHaveProperty("lastVerifyCause");
    }
    expect(run.metrics.map((m) => [m.metric.name, m.value])).toEqual([["DrillFailed", 0]]);
    // one scratch server (the dump's job), stopped and removed
    expect(capture.scratch).toHaveLength(1);
    await expectNoScratchLeft(capture.scratch);
  });

  it("a dump that passes every byte check but does not restore: FAILED with the cause, Drill Failed, DrillFailed 1, nothing left", async () => {
    const prefix = dumpPrefix("tampered");
    const sha256 = await tamperedDump(prefix);
    const arn = await seedDump("tampered", prefix, sha256);

    const capture = captureJobs();
    const run = await runDrill(bench, drill, "dumpdrill-tampered").finally(() => capture.stop());

    expect(run.result.status).toBe("FAILED");
    expect(run.result.error).toBe("DrillFailed");
    expect(run.commands).toEqual([
      ["verify", `s3://${bench.archiveBucket}/${prefix}`, "--expect-manifest-sha256", sha256, "--restore-scratch"],
    ]);
    // Every byte check passed; the scratch restore is what failed, naming the value that does not load.
    expect(capture.reports).toHaveLength(1);
    const [report] = capture.reports;
    expect(report!.ok).toBe(false);
    expect(report!.items.filter((i) => i.ok !== true).map((i) => i.name)).toEqual(["scratch-restore"]);
    expect(report!.items.find((i) => i.name === "scratch-restore")!.problems).toEqual([
      expect.stringMatching(/^the scratch restore failed: .*invalid input syntax for type integer: "77x777"/s),
    ]);
    const item = await ledgerItem(bench, arn);
    expect(item).toMatchObject({ status: "SUCCEEDED", lastVerifyResult: "FAILED" });
    expect(item.lastVerifiedAt).toMatch(/^\d{4}-\d\d-\d\dT/);
    expect(item.lastVerifyCause).toMatch(/^States\.TaskFailed: .*Essential container in task exited/);
    expect(run.metrics.map((m) => [m.metric.name, m.value])).toEqual([["DrillFailed", 1]]);
    const events = (await outcomeEvents(bench, arn)).filter((e) => e["detail-type"] === "Drill Failed");
    expect(events).toHaveLength(1);
    expectOutcomeEvent(events[0]!, "Drill Failed", {
      recoveryPointArn: arn,
      resourceArn: dbArn,
      resourceType: RESOURCE_TYPE_OF.rds,
      workflow: "rds",
      pipeline: "backup-actions",
      executionArn: expect.stringMatching(/:execution:backup-actions-restore-drill:dumpdrill-tampered$/) as never,
      startedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as never,
      durationSeconds: null,
      archiveUrl: `s3://${bench.archiveBucket}/${prefix}`,
      bytes: 4096,
      error: "States.TaskFailed",
      cause: expect.stringContaining("Essential container in task exited") as never,
      reason: null,
    });
    expect(capture.scratch).toHaveLength(1);
    await expectNoScratchLeft(capture.scratch);
  });
});
