import {
  drillableWorkflows,
  drillJobName,
  parseDrillEnv,
  parseDrillRequest,
  pickDrillSample,
  restoreCostUsd,
  restoreStateOf,
  type DrillCandidate,
} from "../../core/drill";
import { parseVerifyJob } from "../../batch-worker/src/verify-job";

const candidate = (n: number, workflow: DrillCandidate["workflow"] = "ebs"): DrillCandidate => ({
  recoveryPointArn: `rp-${workflow}-${n}`,
  workflow,
  archiveUrl: `s3://a/${workflow}/${n}/`,
  sha256: "0".repeat(64),
  startedAt: `2026-11-${String(n).padStart(2, "0")}T00:00:00.000Z`,
  resourceArn: null,
  bytes: null,
});

describe("pickDrillSample", () => {
  const pool = [...[1, 2, 3, 4, 5, 6].map((n) => candidate(n)), candidate(3, "rds"), candidate(9, "rds")];

  it("always takes the newest archive of each type, then sampleSize of the rest", () => {
    const picked = pickDrillSample(pool, 2, () => 0);
    expect(picked.slice(0, 2).map((c) => c.recoveryPointArn)).toEqual(["rp-rds-9", "rp-ebs-6"]);
    expect(picked).toHaveLength(4);
    expect(new Set(picked.map((c) => c.recoveryPointArn)).size).toBe(4);
  });

  it("draws without replacement by the random source, and never more than there are", () => {
    // random 0.999: each draw swaps the last of what is left forward (Fisher-Yates): the oldest, then the one it displaced
    expect(
      pickDrillSample(pool, 2, () => 0.999)
        .slice(2)
        .map((c) => c.recoveryPointArn),
    ).toEqual(["rp-ebs-1", "rp-ebs-5"]);
    expect(pickDrillSample(pool, 100, Math.random)).toHaveLength(pool.length);
    expect(pickDrillSample(pool, 0)).toHaveLength(2);
    expect(pickDrillSample([], 3)).toEqual([]);
    expect(() => pickDrillSample(pool, -1)).toThrow("drill sample size must be a whole number ≥ 0, got -1");
  });
});

describe("restoreCostUsd (Bulk, core/prices.ts)", () => {
  it("is free from Glacier Flexible Retrieval and $0.0025/GiB + $0.025 per 1,000 objects from Deep Archive", () => {
    expect(restoreCostUsd([{ storageClass: "GLACIER", bytes: 100 * 2 ** 30 }])).toBe(0);
    // 100 GiB in 2 objects: 100 x 0.0025 + 2 x 0.025 / 1000
    expect(
      restoreCostUsd([
        { storageClass: "DEEP_ARCHIVE", bytes: 60 * 2 ** 30 },
        { storageClass: "DEEP_ARCHIVE", bytes: 40 * 2 ** 30 },
      ]),
    ).toBe(0.25005);
    // Intelligent-Tiering's archive tiers: Bulk is free
    expect(restoreCostUsd([{ storageClass: "INTELLIGENT_TIERING DEEP_ARCHIVE_ACCESS", bytes: 100 * 2 ** 30 }])).toBe(0);
  });
});

describe("restoreStateOf (HeadObject x-amz-restore)", () => {
  it("reads no restore, a restore under way and a restored copy with its expiry, as the HeadObject reference shows them", () => {
    expect(restoreStateOf(undefined)).toEqual({ state: "none" });
    expect(restoreStateOf("")).toEqual({ state: "none" });
    expect(restoreStateOf('ongoing-request="true"')).toEqual({ state: "ongoing" });
    expect(restoreStateOf('ongoing-request="false", expiry-date="Fri, 21 Dec 2012 00:00:00 GMT"')).toEqual({
      state: "restored",
      expiry: new Date("2012-12-21T00:00:00.000Z"),
    });
    expect(restoreStateOf('ongoing-request="false"')).toEqual({ state: "restored", expiry: null });
  });

  it("refuses a header it does not understand, quoting it", () => {
    expect(() => restoreStateOf("restoring")).toThrow('HeadObject Restore header not understood: "restoring"');
  });
});

describe("drill contract", () => {
  it("drills EBS and the native dumps only", () => {
    expect(drillableWorkflows({ ebs: true, rds: { format: "dump" }, aurora: { format: "parquet" } })).toEqual([
      "ebs",
      "rds",
    ]);
    expect(drillableWorkflows({ ebs: false, rds: false, aurora: { format: "both" } })).toEqual(["aurora"]);
  });

  it("names jobs within Batch's rules (letters, digits, '-', ≤ 128)", () => {
    expect(drillJobName("arn:aws:ec2:us-east-1::snapshot/snap-1")).toMatch(/^drill-[0-9a-f]{32}$/);
  });

  it("refuses a bad environment and a bad request, naming what is wrong", () => {
    const env = { LEDGER_TABLE: "t", DRILL_SAMPLE_SIZE: "3", DRILL_GLACIER: "skip", DRILL_WORKFLOWS: "ebs,rds" };
    expect(parseDrillEnv(env)).toEqual({ ledgerTable: "t", sampleSize: 3, glacier: "skip", workflows: ["ebs", "rds"] });
    expect(() => parseDrillEnv({ ...env, DRILL_WORKFLOWS: "ebs,s3" })).toThrow(
      'DRILL_WORKFLOWS: "s3" is not a workflow (ebs, rds, aurora, dynamodb)',
    );
    expect(() => parseDrillEnv({ ...env, DRILL_GLACIER: "expedited" })).toThrow(
      'DRILL_GLACIER must be "skip" or "restore", got "expedited"',
    );
    expect(() => parseDrillRequest({ action: "drop" })).toThrow(
      'unknown drill action "drop" (sample, restore-status or report)',
    );
    expect(() => parseDrillRequest({ action: "report", results: [{ result: "OK" }] })).toThrow(
      'report: result "OK" is not one of PASSED,FAILED,SKIPPED',
    );
  });
});

describe("the worker's verify job (batch-worker/src/verify-job.ts)", () => {
  const sha = "a".repeat(64);
  it("takes one archive URL and the ledger's manifest SHA-256", () => {
    expect(parseVerifyJob(["s3://bucket-a/p/", "--expect-manifest-sha256", sha])).toEqual({
      url: "s3://bucket-a/p/",
      expectManifestSha256: sha,
      restoreScratch: false,
    });
  });
  it("takes --restore-scratch (config drills.restoreDumps), a flag without a value", () => {
    expect(parseVerifyJob(["s3://bucket-a/p/", "--expect-manifest-sha256", sha, "--restore-scratch"])).toMatchObject({
      restoreScratch: true,
    });
    expect(() =>
      parseVerifyJob(["s3://bucket-a/p/", "--expect-manifest-sha256", sha, "--restore-scratch=yes"]),
    ).toThrow(/--restore-scratch/);
  });
  it("refuses a missing hash, two URLs and an unknown flag", () => {
    expect(() => parseVerifyJob(["s3://bucket-a/p/"])).toThrow(/--expect-manifest-sha256 must be the 64 hex digits/);
    expect(() => parseVerifyJob(["s3://bucket-a/p/", "s3://bucket-a/q/", "--expect-manifest-sha256", sha])).toThrow(
      /one archive URL is required, got 2/,
    );
    expect(() => parseVerifyJob(["s3://bucket-a/p/", "--force"])).toThrow(/Unknown option '--force'/);
  });
});
