/**
 * The restore drill with `drills.glacier` "restore", executed: the synthesized drill machine, the drill
 * function's logic against moto's S3 and DynamoDB, and the worker image's `verify` as its Batch job, on a
 * real ext4 archive whose objects were moved to Glacier. moto is patched to restore as S3 does
 * (testing/moto/patches.py, "Archive restores"): a restore stays under way, refused a second time with
 * 409 RestoreAlreadyInProgress, until the test lets its hours pass (completeRestores), and the Wait states
 * of the machine pass in virtual time (testing/asl/clock.ts).
 */
import {
  CopyObjectCommand,
  ListObjectsV2Command,
  RestoreObjectCommand,
  S3Client,
  type StorageClass,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import type { AslDefinition } from "../../testing/asl";
import { cleanupStaleFixtures, diskPrerequisites, type DiskFixture } from "../../testing/fixtures/disks";
import { clearRecorded, recorded } from "../../testing/iam/recorder";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { completeRestores, restoreRequests, setArchiveTier } from "../../testing/moto/s3-restores";
import { describeWithPrereqs } from "../../testing/prereq";
import { exportEbsArchive, runDrill as runSynthesizedDrill, seedDrillRecord } from "../helpers/drill-bench";
import { Bench, createBench, ledgerItem, REGION } from "../helpers/pipeline-bench";

const missing = [...diskPrerequisites().missing, ...motoMissing(), ...backupFakeMissing()];

describeWithPrereqs('restore drill with drills.glacier "restore", executed on an archive in Glacier', missing, () => {
  jest.setTimeout(300_000);
  let bench: Bench;
  let fixture: DiskFixture;
  let drill: AslDefinition;
  const goodPrefix = "ebs/111111111111/us-east-1/vol-0123456789abcdef0/2026/11/01/glacier-good/";
  let manifestSha256: string;
  let archiveKeys: string[];
  // set-up and assertions: not recorded (no role)
  const plainS3 = new S3Client({ region: REGION, forcePathStyle: true });

  beforeAll(async () => {
    cleanupStaleFixtures();
    bench = await createBench({ drills: { enabled: true, sampleSize: 0, glacier: "restore" } });
    drill = bench.definitionOf("backup-actions-restore-drill");
    ({ fixture, manifestSha256 } = await exportEbsArchive(bench, goodPrefix));
    const list = await plainS3.send(new ListObjectsV2Command({ Bucket: bench.archiveBucket, Prefix: goodPrefix }));
    archiveKeys = (list.Contents ?? []).map((o) => o.Key!.slice(goodPrefix.length)).sort();
  });
  afterAll(async () => {
    await fixture?.cleanup();
    plainS3.destroy();
  });

  /** A copy of the good archive under its own prefix, every object in `storageClass`; its ledger record. */
  async function archivedCopy(name: string, storageClass: StorageClass): Promise<{ prefix: string; arn: string }> {
    const prefix = goodPrefix.replace("glacier-good/", `glacier-${name}/`);
    for (const key of archiveKeys)
      await plainS3.send(
        new CopyObjectCommand({
          Bucket: bench.archiveBucket,
          Key: prefix + key,
          CopySource: `${bench.archiveBucket}/${goodPrefix}${key}`,
          StorageClass: storageClass,
        }),
      );
    const arn = `arn:aws:ec2:${REGION}::snapshot/snap-0glacier${createHash("sha256").update(name).digest("hex").slice(0, 8)}`;
    await seedDrillRecord(bench, {
      recoveryPointArn: arn,
      name,
      prefix,
      sha256: manifestSha256,
      // newest first: each test's archive is the newest, so the drill (sampleSize 0) picks it alone
      startedAt: new Date().toISOString(),
    });
    return { prefix, arn };
  }

  /**
   * Runs the synthesized drill. `onCheck(n)` runs before the drill function's n-th restore-status: the
   * test's view of the hours between two checks (it completes the restores when S3 would have).
   */
  async function runDrill(executionName: string, onCheck: (n: number) => Promise<void>, now?: () => Date) {
    const checks: unknown[] = [];
    clearRecorded();
    const run = await runSynthesizedDrill(bench, drill, executionName, {
      now,
      aroundDrillCall: async (request, call) => {
        if (request.action === "restore-status") await onCheck(checks.length + 1);
        const out = await call();
        if (request.action === "restore-status") checks.push(out);
        return out;
      },
    });
    expect(run.env.DRILL_GLACIER).toBe("restore");
    const s3Requests = recorded().filter((r) => r.role === "drill" && r.service === "s3");
    return { ...run, checks, s3Requests };
  }

  it("first run: one Bulk restore per object, the ledger says RESTORING with the cost while it waits, then PASSED", async () => {
    const { prefix, arn } = await archivedCopy("deep", "DEEP_ARCHIVE");
    const url = `s3://${bench.archiveBucket}/${prefix}`;
    const during: Array<Record<string, unknown>> = [];

    const { result, metrics, commands, checks, s3Requests } = await runDrill("glacier-first", async (n) => {
      during.push(await ledgerItem(bench, arn));
      // Bulk from Deep Archive: up to 48 hours; here the restore is done by the drill's third check.
      if (n === 3)
        expect(await completeRestores(bench.archiveBucket, prefix)).toEqual(archiveKeys.map((k) => prefix + k));
    });

    // S3 was asked once per archived object, Tier Bulk, for DRILL_RESTORE_DAYS days, and accepted each (202).
    const asked = (await restoreRequests(bench.archiveBucket)).filter((r) => r.key.startsWith(prefix));
    expect(asked.map((r) => r.key).sort()).toEqual(archiveKeys.map((k) => prefix + k));
    expect(new Set(asked.map((r) => `${r.tier} ${r.days} ${r.answer}`))).toEqual(new Set(["Bulk 3 202"]));
    const restoreCalls = s3Requests.filter((r) => r.operation === "RestoreObject");
    expect(restoreCalls).toHaveLength(archiveKeys.length);
    for (const r of restoreCalls)
      expect(r.input.RestoreRequest).toEqual({ Days: 3, GlacierJobParameters: { Tier: "Bulk" } });

    // While it waited: RESTORING, not FAILED, with what was asked and what it costs (Deep Archive Bulk:
    // $0.025 per 1,000 requests plus $0.0025 per GiB, core/prices.ts).
    expect(during).toHaveLength(3);
    for (const item of during) {
      expect(item.lastVerifyResult).toBe("RESTORING");
      expect(item.lastVerifyCause).toMatch(
        new RegExp(
          `^${archiveKeys.length} object\\(s\\) of the archive \\(\\d+ bytes\\) are in DEEP_ARCHIVE: Bulk restore for 3 days, ` +
            `about \\$0\\.0000\\d+; this drill requested ${archiveKeys.length}, found 0 under way and 0 restored$`,
        ),
      );
    }
    expect(checks).toEqual([
      { done: false, pending: archiveKeys.length },
      { done: false, pending: archiveKeys.length },
      { done: true, pending: 0 },
    ]);

    // Then the worker's verify read the restored copies: PASSED, recorded in the ledger.
    expect(commands).toEqual([["verify", url, "--expect-manifest-sha256", manifestSha256]]);
    expect(result.status).toBe("SUCCEEDED");
    expect(result.output).toEqual({ passed: 1, failed: 0, skipped: 0 });
    const item = await ledgerItem(bench, arn);
    expect(item).toMatchObject({ status: "SUCCEEDED", lastVerifyResult: "PASSED" });
    expect(item).not.toHaveProperty("lastVerifyCause");
    expect(item.lastVerifiedAt).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/);
    // three waits of an hour (virtual time) between the request and the verify
    expect(
      Date.parse(item.lastVerifiedAt as string) - Date.parse(during[0]!.lastVerifiedAt as string),
    ).toBeGreaterThanOrEqual(3 * 3600_000);
    expect(metrics.map((m) => [m.metric.name, m.value])).toEqual([["DrillFailed", 0]]);
  });

  it("a drill while an earlier restore is under way asks for no second one, and verifies once it is done", async () => {
    const { prefix, arn } = await archivedCopy("ongoing", "GLACIER");
    // An earlier drill's restores, still under way (set-up: not the product's request).
    for (const key of archiveKeys)
      await plainS3.send(
        new RestoreObjectCommand({
          Bucket: bench.archiveBucket,
          Key: prefix + key,
          RestoreRequest: { Days: 3, GlacierJobParameters: { Tier: "Bulk" } },
        }),
      );
    const before = (await restoreRequests(bench.archiveBucket)).filter((r) => r.key.startsWith(prefix));
    expect(before.map((r) => r.answer)).toEqual(archiveKeys.map(() => 202));

    const { result, commands, s3Requests } = await runDrill("glacier-ongoing", async (n) => {
      if (n === 1) {
        const item = await ledgerItem(bench, arn);
        expect(item.lastVerifyResult).toBe("RESTORING");
        expect(item.lastVerifyCause).toMatch(
          new RegExp(
            `are in GLACIER: Bulk restore for 3 days, about \\$0; this drill requested 0, found ${archiveKeys.length} under way and 0 restored$`,
          ),
        );
        await completeRestores(bench.archiveBucket, prefix);
      }
    });

    // HeadObject saw every restore under way: no RestoreObject at all (not even one S3 refused with 409).
    expect(s3Requests.filter((r) => r.operation === "RestoreObject")).toEqual([]);
    expect(s3Requests.filter((r) => r.operation === "HeadObject").length).toBeGreaterThanOrEqual(archiveKeys.length);
    expect((await restoreRequests(bench.archiveBucket)).filter((r) => r.key.startsWith(prefix))).toEqual(before);
    expect(commands).toHaveLength(1);
    expect(result.status).toBe("SUCCEEDED");
    expect(await ledgerItem(bench, arn)).toMatchObject({ lastVerifyResult: "PASSED" });
  });

  it("a restore that started between the drill's HeadObject and its RestoreObject (409 RestoreAlreadyInProgress) is waited for", async () => {
    const { prefix, arn } = await archivedCopy("race", "GLACIER");
    // Fault injection: another restore of each object lands just before the drill's own request reaches S3.
    const race = bench.clients.s3.middlewareStack;
    const name = "glacier-race-injection";
    race.add(
      (next, context) => async (args) => {
        if (context.commandName === "RestoreObjectCommand") {
          const input = args.input as { Bucket: string; Key: string };
          await plainS3.send(
            new RestoreObjectCommand({
              Bucket: input.Bucket,
              Key: input.Key,
              RestoreRequest: { Days: 1, GlacierJobParameters: { Tier: "Standard" } },
            }),
          );
        }
        return next(args);
      },
      { step: "initialize", name },
    );
    try {
      const { result, s3Requests } = await runDrill("glacier-race", async (n) => {
        if (n === 1) {
          expect((await ledgerItem(bench, arn)).lastVerifyCause).toMatch(
            new RegExp(`this drill requested 0, found ${archiveKeys.length} under way and 0 restored$`),
          );
          await completeRestores(bench.archiveBucket, prefix);
        }
      });
      const refused = s3Requests.filter((r) => r.operation === "RestoreObject");
      expect(refused.map((r) => r.outcome)).toEqual(archiveKeys.map(() => "RestoreAlreadyInProgress"));
      expect(result.status).toBe("SUCCEEDED");
      expect(await ledgerItem(bench, arn)).toMatchObject({ lastVerifyResult: "PASSED" });
    } finally {
      race.remove(name);
    }
  });

  it("an Intelligent-Tiering archive in its Archive Access tier: ArchiveStatus seen, restored without Days (free), then PASSED", async () => {
    const { prefix, arn } = await archivedCopy("tiering", "INTELLIGENT_TIERING");
    for (const key of archiveKeys) await setArchiveTier(bench.archiveBucket, prefix + key, "ARCHIVE_ACCESS");

    const { result, s3Requests } = await runDrill("glacier-tiering", async (n) => {
      if (n === 1) {
        const item = await ledgerItem(bench, arn);
        expect(item.lastVerifyResult).toBe("RESTORING");
        expect(item.lastVerifyCause).toMatch(
          new RegExp(
            `are in INTELLIGENT_TIERING ARCHIVE_ACCESS: Bulk restore back to Frequent Access, about \\$0; ` +
              `this drill requested ${archiveKeys.length}, found 0 under way and 0 restored$`,
          ),
        );
      }
      if (n === 2) await completeRestores(bench.archiveBucket, prefix);
    });

    const asked = (await restoreRequests(bench.archiveBucket)).filter((r) => r.key.startsWith(prefix));
    expect(asked.map((r) => `${r.tier} ${r.days} ${r.answer}`)).toEqual(archiveKeys.map(() => "Bulk 0 202"));
    for (const r of s3Requests.filter((x) => x.operation === "RestoreObject"))
      expect(r.input.RestoreRequest).toEqual({ GlacierJobParameters: { Tier: "Bulk" } });
    expect(result.status).toBe("SUCCEEDED");
    expect(await ledgerItem(bench, arn)).toMatchObject({ lastVerifyResult: "PASSED" });
  });

  it("a restored copy that lasts another day is used as it is; one that expires sooner is restored again (its expiry moves)", async () => {
    const { prefix, arn } = await archivedCopy("restored", "GLACIER");
    for (const key of archiveKeys)
      await plainS3.send(
        new RestoreObjectCommand({
          Bucket: bench.archiveBucket,
          Key: prefix + key,
          RestoreRequest: { Days: 3, GlacierJobParameters: { Tier: "Bulk" } },
        }),
      );
    await completeRestores(bench.archiveBucket, prefix);
    const mine = async () => (await restoreRequests(bench.archiveBucket)).filter((r) => r.key.startsWith(prefix));

    // the copy expires in 3 days: nothing to ask, the first check finds it restored
    const fresh = await runDrill("glacier-restored", async () => undefined);
    expect(fresh.s3Requests.filter((r) => r.operation === "RestoreObject")).toEqual([]);
    expect(fresh.checks).toEqual([{ done: true, pending: 0 }]);
    expect(await ledgerItem(bench, arn)).toMatchObject({ lastVerifyResult: "PASSED" });

    // two and a half days later (the drill's clock): under a day left, so each copy's restore is asked again (200)
    const later = await runDrill(
      "glacier-restored-later",
      async () => undefined,
      () => new Date(Date.now() + 2.5 * 86400_000),
    );
    expect(later.s3Requests.filter((r) => r.operation === "RestoreObject")).toHaveLength(archiveKeys.length);
    expect((await mine()).map((r) => r.answer)).toEqual([...archiveKeys.map(() => 202), ...archiveKeys.map(() => 200)]);
    expect(later.result.status).toBe("SUCCEEDED");
  });

  it("a restore that never completes: FAILED RestoreTimedOut after the machine's 60 hourly checks, Drill Failed", async () => {
    const { arn } = await archivedCopy("stuck", "DEEP_ARCHIVE");
    const { result, checks, commands, metrics } = await runDrill("glacier-stuck", async () => undefined);
    expect(checks).toHaveLength(61);
    expect(commands).toEqual([]);
    expect(result.status).toBe("FAILED");
    const item = await ledgerItem(bench, arn);
    expect(item.lastVerifyResult).toBe("FAILED");
    expect(item.lastVerifyCause).toMatch(
      new RegExp(
        `^RestoreTimedOut: ${archiveKeys.length} object\\(s\\) of s3://.+ still not restored after 60 checks 3600 s apart$`,
      ),
    );
    expect(metrics.map((m) => [m.metric.name, m.value])).toEqual([["DrillFailed", 1]]);
  });
});
