import { mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { costInputsFromConfig, parseCostArgs } from "../../cli/cost/command";
import {
  CostInputs,
  CostItem,
  CostSection,
  costReport,
  ebsExportHours,
  LAZY_LOAD_MIBPS,
  ebsPutRequests,
  GIB,
  monthlyFixed,
  s3ClassDays,
  spotPriceKey,
} from "../../cli/cost/model";
import { costsReadmeBlock, currentCostsBlock, replaceCostsBlock } from "../../cli/cost/readme";
import { main } from "../../cli/main";
import { DEFAULT_CONFIG_PATH, loadConfig } from "../../config/load";

/** The interface endpoints of the default config (dumps on, volume read path), written out. */
const DEFAULT_ENDPOINTS = ["ecr_api", "ecr_dkr", "ecs", "ecs_agent", "ecs_telemetry", "logs", "ec2", "ssm"];

/** The default config's values, written out so a change to config/default.json does not move these hand computations. */
const BASE: CostInputs = {
  type: "ebs",
  sizeBytes: 100 * GIB,
  usedFraction: 1,
  compressionRatio: 0.5,
  region: "us-east-1",
  retentionDays: 2555,
  // A volume whose blocks read at its throughput (a warm volume): the lazy rate of a cold one is its own case below.
  worker: {
    vcpus: 4,
    memoryMiB: 8192,
    volume: { throughputMiBps: 500, iops: 6000 },
    read: { path: "volume", lazyLoadMiBps: 500 },
  },
  network: { egress: "endpoints", endpointAzCount: 1, interfaceEndpoints: DEFAULT_ENDPOINTS },
  lifecycle: { glacier: 30, deepArchive: 120, expiration: 2555 },
};

const usdOf = (s: CostSection, prefix: string): number => {
  const found = s.items.filter((i) => i.name.startsWith(prefix));
  if (found.length !== 1)
    throw new Error(`expected one item starting "${prefix}", got ${s.items.map((i) => i.name).join(" | ")}`);
  return found[0]!.usd;
};

describe("cost arithmetic against hand-computed cases", () => {
  it("one EBS export of a 100 GiB volume, fully used, default worker and volume", () => {
    const r = costReport(BASE);
    // duration: 100 GiB = 102,400 MiB / 500 MiB/s = 204.8 s = 0.0568889 h; + 10 min overhead = 0.2235556 h
    expect(ebsExportHours(BASE)).toBeCloseTo(0.2235556, 6);
    const h = 0.2235556;
    // compute: 4 vCPU x 0.2235556 h x $0.017 (c6i Spot: 8192 MiB / 4 vCPU = 2 GiB per vCPU) = $0.0152018
    expect(usdOf(r.perExport, "worker compute")).toBeCloseTo(4 * h * 0.017, 6);
    expect(usdOf(r.perExport, "worker compute")).toBeCloseTo(0.0152018, 6);
    // volume: 100 GB x 0.2235556 h / 730 h x $0.08 = $0.0024499
    expect(usdOf(r.perExport, "restored gp3 volume")).toBeCloseTo(0.0024499, 6);
    // throughput: (500 - 125) MiB/s x 0.2235556 / 730 x $0.04 = $0.0045936
    expect(usdOf(r.perExport, "gp3 throughput")).toBeCloseTo(0.0045936, 6);
    // IOPS: (6000 - 3000) x 0.2235556 / 730 x $0.005 = $0.0045936
    expect(usdOf(r.perExport, "gp3 IOPS")).toBeCloseTo(0.0045936, 6);
    // parts: worst case 107,374,182,400 + 838,860,800 + 1,048,576 = 108,214,091,776 B / 10,000 = 10,821,410 B
    // → 11 MiB; archive 50 GiB = 53,687,091,200 B / 11,534,336 B = 4,654.5 → 4,655 parts;
    // + create + complete + manifest = 4,658 PUTs
    expect(ebsPutRequests(100 * GIB, 50 * GIB)).toEqual({ parts: 4655, partSize: 11 * 1024 * 1024, requests: 4658 });
    // 4,658 x $0.005 / 1,000 = $0.02329
    expect(usdOf(r.perExport, "S3 PUT")).toBeCloseTo(0.02329, 6);
    // verify: 3 GET/HEAD x $0.0004 / 1,000 = $0.0000012; Step Functions: 60 x $0.025 / 1,000 = $0.0015;
    // endpoint data: 0.05 GB x $0.01 = $0.0005
    expect(usdOf(r.perExport, "S3 GET/HEAD")).toBeCloseTo(0.0000012, 7);
    expect(usdOf(r.perExport, "Step Functions")).toBeCloseTo(0.0015, 7);
    expect(usdOf(r.perExport, "interface endpoint data")).toBeCloseTo(0.0005, 7);
    // total: 0.0152018 + 0.0024499 + 0.0045936 + 0.0045936 + 0.02329 + 0.0000012 + 0.0015 + 0.0005 = $0.0521301
    expect(r.perExport.total).toBeCloseTo(0.0521301, 6);
    expect(r.perExport.items).toHaveLength(8);
    // the target: at most $0.30
    expect(r.perExport.total).toBeLessThanOrEqual(0.3);
  });

  it("60 % used, 1,000 MiB/s, a 300 MiB/s initialization rate and 8 vCPU / 32 GiB (m6i)", () => {
    const inputs: CostInputs = {
      ...BASE,
      usedFraction: 0.6,
      worker: {
        vcpus: 8,
        memoryMiB: 32768,
        volume: { throughputMiBps: 1000, iops: 3000, initializationRateMiBps: 300 },
        read: { path: "volume", lazyLoadMiBps: LAZY_LOAD_MIBPS },
      },
    };
    const r = costReport(inputs);
    // used 60 GiB = 61,440 MiB read at min(1000, 300) = 300 MiB/s = 204.8 s; + 10 min = 0.2235556 h
    expect(r.exportHours).toBeCloseTo(0.2235556, 6);
    // 32 GiB / 8 vCPU = 4 GiB per vCPU → m6i at $0.0192: 8 x 0.2235556 x 0.0192 = $0.0343381
    expect(spotPriceKey(8, 32768)).toBe("spotM6iVcpuHour");
    expect(usdOf(r.perExport, "worker compute")).toBeCloseTo(0.0343381, 6);
    // throughput above baseline: (1000 - 125) x 0.2235556 / 730 x $0.04 = 35 x 0.2235556 / 730 = $0.0107184
    expect(usdOf(r.perExport, "gp3 throughput")).toBeCloseTo(0.0107184, 6);
    // IOPS at the free 3,000: no item
    expect(r.perExport.items.some((i) => i.name.startsWith("gp3 IOPS"))).toBe(false);
    // initialization: 60 GB x $0.0015 = $0.09, flagged as unverified
    const init = r.perExport.items.find((i) => i.name.startsWith("provisioned initialization"))!;
    expect(init.usd).toBeCloseTo(0.09, 6);
    expect(init.note).toMatch(/NOT VERIFIED/);
    // archive 30 GiB in 11 MiB parts (the size rule follows the 100 GiB device):
    // 32,212,254,720 / 11,534,336 = 2,792.7 → 2,793 parts
    expect(ebsPutRequests(100 * GIB, 30 * GIB).parts).toBe(2793);
    expect(r.archiveGiB).toBe(30);
  });

  it("a cold volume without an initialization rate reads at the lazy-loading rate, and misses the $0.30 target", () => {
    const r = costReport({ ...BASE, worker: { ...BASE.worker, read: { path: "volume", lazyLoadMiBps: 3.5 } } });
    // 102,400 MiB / 3.5 MiB/s = 29,257.14 s = 8.1269841 h; + 10 min = 8.2936508 h
    expect(r.exportHours).toBeCloseTo(8.2936508, 6);
    // compute 4 x 8.2936508 x $0.017 = $0.5639683; volume 100 x 8.2936508 / 730 x $0.08 = $0.0908893
    expect(usdOf(r.perExport, "worker compute")).toBeCloseTo(0.5639683, 6);
    expect(usdOf(r.perExport, "restored gp3 volume")).toBeCloseTo(0.0908893, 6);
    // throughput 375 x 8.2936508 / 730 x $0.04 = $0.1704175; IOPS 3000 x 8.2936508 / 730 x $0.005 = $0.1704175
    expect(usdOf(r.perExport, "gp3 throughput")).toBeCloseTo(0.1704175, 6);
    expect(usdOf(r.perExport, "gp3 IOPS")).toBeCloseTo(0.1704175, 6);
    // + PUT 0.02329 + GET 0.0000012 + SFN 0.0015 + endpoint data 0.0005 = $1.0209838
    expect(r.perExport.total).toBeCloseTo(1.0209838, 6);
    expect(r.perExport.total).toBeGreaterThan(0.3);
    expect(LAZY_LOAD_MIBPS).toBe(3.5);
  });

  it("the direct read: the job's requests/s x 512 KiB, a blank scratch volume and a fee per block", () => {
    const r = costReport({ ...BASE, worker: { ...BASE.worker, read: { path: "direct", requestsPerSecond: 18 } } });
    // 18 x 512 KiB = 9 MiB/s: 102,400 / 9 = 11,377.78 s = 3.1604938 h; + 10 min = 3.3271605 h
    expect(r.exportHours).toBeCloseTo(3.3271605, 6);
    expect(usdOf(r.perExport, "blank gp3 scratch volume")).toBeCloseTo((100 * 3.3271605 * 0.08) / 730, 6);
    // 100 GiB / 512 KiB = 204,800 blocks x $0.003 / 1,000 = $0.6144; 21 pages of 10,000 x $0.0006 / 1,000
    expect(usdOf(r.perExport, "GetSnapshotBlock")).toBeCloseTo(0.6144, 9);
    expect(usdOf(r.perExport, "ListSnapshotBlocks")).toBeCloseTo(0.0000126, 9);
    // capped by the volume's throughput: 1,000 requests/s would be 500 MiB/s, the volume's 500
    const fast = costReport({ ...BASE, worker: { ...BASE.worker, read: { path: "direct", requestsPerSecond: 5000 } } });
    expect(fast.exportHours).toBeCloseTo(0.2235556, 6);
  });

  it("the direct read's lease: a PutItem and a Query per 5 s heartbeat while the job runs, one DeleteItem", () => {
    const r = costReport({ ...BASE, worker: { ...BASE.worker, read: { path: "direct", requestsPerSecond: 18 } } });
    // 3.3271605 h = 11,977.78 s: 2,396 heartbeats + the first; writes also the DeleteItem
    const writes = r.perExport.items.find((i) => i.name.startsWith("lease writes"))!;
    expect(writes).toMatchObject({ quantity: 2397 + 1, unit: "write request unit", unitPrice: 0.000000625 });
    expect(r.perExport.items.find((i) => i.name.startsWith("lease counts"))).toMatchObject({ quantity: 2397 });
  });

  it("prices a direct read at the budget over the exports at once (--concurrent-exports), never below the floor", () => {
    const config = loadConfig(DEFAULT_CONFIG_PATH);
    const direct = { ...config, worker: { ...config.worker, readPath: "direct" as const } };
    const args = { type: "ebs" as const, sizeBytes: GIB, usedFraction: 1, compressionRatio: 0.5, region: "us-east-1" };
    const rate = (concurrentExports?: number) =>
      (costInputsFromConfig(direct, { ...args, concurrentExports }).worker.read as { requestsPerSecond: number })
        .requestsPerSecond;
    // the default budget (600) alone, over 4, and over more than can run (the static share: 600 / 32 jobs)
    expect([rate(), rate(4), rate(100)]).toEqual([600, 150, 18]);
    expect(parseCostArgs(["--type", "ebs", "--size", "1TiB", "--concurrent-exports", "4"]).args.concurrentExports).toBe(
      4,
    );
    expect(() => parseCostArgs(["--type", "ebs", "--size", "1TiB", "--concurrent-exports", "0"])).toThrow(
      /--concurrent-exports/,
    );
  });

  it("memory per vCPU above 4 GiB needs r6i", () => {
    expect(spotPriceKey(2, 4096)).toBe("spotC6iVcpuHour");
    expect(spotPriceKey(2, 8193)).toBe("spotR6iVcpuHour");
  });

  it("RDS, Aurora and DynamoDB pay the export fee per GB of snapshot or table size", () => {
    // RDS/Aurora: 100 GB x $0.01 = $1.00; DynamoDB: 100 GB x $0.10 = $10.00
    expect(usdOf(costReport({ ...BASE, type: "rds" }).perExport, "RDS snapshot export")).toBeCloseTo(1, 9);
    expect(usdOf(costReport({ ...BASE, type: "aurora" }).perExport, "Aurora snapshot export")).toBeCloseTo(1, 9);
    const ddb = costReport({ ...BASE, type: "dynamodb" });
    expect(usdOf(ddb.perExport, "DynamoDB export")).toBeCloseTo(10, 9);
    // + manifest PUT $0.000005 + 3 GET $0.0000012 + $0.0015 transitions + $0.0005 endpoint data = $10.0020062
    expect(ddb.perExport.total).toBeCloseTo(10.0020062, 6);
    expect(ddb.exportHours).toBeUndefined();
  });

  it("monthly fixed cost of each egress mode", () => {
    // 8 endpoints x 1 AZ x 730 h x $0.01 = $58.40 — above the $50 target
    expect(monthlyFixed(BASE.network).total).toBeCloseTo(58.4, 9);
    // 8 x 2 x 730 x $0.01 = $116.80
    expect(monthlyFixed({ ...BASE.network, endpointAzCount: 2 }).total).toBeCloseTo(116.8, 9);
    // NAT: 730 x $0.045 = $32.85 + its public IPv4 730 x $0.005 = $3.65 → $36.50
    expect(monthlyFixed({ ...BASE.network, egress: "nat" }).total).toBeCloseTo(36.5, 9);
    expect(monthlyFixed({ ...BASE.network, egress: "public" })).toEqual({ total: 0, items: [] });
  });

  it("public egress pays the worker's public IPv4 per export and no endpoint data", () => {
    const r = costReport({ ...BASE, network: { ...BASE.network, egress: "public" } });
    // 0.2235556 h x $0.005 = $0.0011178
    expect(usdOf(r.perExport, "public IPv4")).toBeCloseTo(0.0011178, 6);
    expect(r.perExport.items.some((i) => /endpoint|NAT/.test(i.name))).toBe(false);
  });

  it("days in each S3 class under the lifecycle rules, with Glacier's minimum durations", () => {
    // defaults: Standard 0-30, Glacier Flexible Retrieval 30-120, Deep Archive 120-2555
    expect(s3ClassDays(2555, { glacier: 30, deepArchive: 120, expiration: 2555 })).toEqual({
      standard: 30,
      glacier: 90,
      deepArchive: 2435,
    });
    // 100 days: Deep Archive is never reached; Glacier from day 30 billed for its 90-day minimum, not 70
    expect(s3ClassDays(100, { glacier: 30, deepArchive: 120 })).toEqual({ standard: 30, glacier: 90, deepArchive: 0 });
    // expiration at 365 ends it early; Deep Archive 120-365 = 245 days
    expect(s3ClassDays(2555, { glacier: 30, deepArchive: 120, expiration: 365 })).toEqual({
      standard: 30,
      glacier: 90,
      deepArchive: 245,
    });
    // Deep Archive 150-200 = 50 days, billed for 180
    expect(s3ClassDays(200, { deepArchive: 150 })).toEqual({ standard: 150, glacier: 0, deepArchive: 180 });
    expect(s3ClassDays(400, {})).toEqual({ standard: 400, glacier: 0, deepArchive: 0 });
  });

  it("keeping the recovery point against keeping the archive for 2555 days", () => {
    const r = costReport(BASE);
    // months: 2555 / (730 / 24) = 84.0
    // EBS standard: 100 GB x 84 x $0.05 = $420; archive tier: 100 x 84 x $0.0125 = $105
    expect(r.retention.keepRecoveryPoint.standard.total).toBeCloseTo(420, 6);
    expect(r.retention.keepRecoveryPoint.archive!.total).toBeCloseTo(105, 6);
    // S3, 50 GB: Standard 50 x 30 / 30.41667 x $0.023 = $1.1342466; Glacier 50 x 90 / 30.41667 x $0.0036 = $0.5326027;
    // Deep Archive 50 x 2435 / 30.41667 x $0.00099 = $3.9627123; transitions 2 x $0.00003 + 2 x $0.00005 = $0.00016
    expect(usdOf(r.retention.keepS3Archive, "S3 Standard")).toBeCloseTo(1.1342466, 6);
    expect(usdOf(r.retention.keepS3Archive, "S3 Glacier Flexible")).toBeCloseTo(0.5326027, 6);
    expect(usdOf(r.retention.keepS3Archive, "S3 Glacier Deep")).toBeCloseTo(3.9627123, 6);
    expect(r.retention.keepS3Archive.total).toBeCloseTo(5.6297216, 6);
    // RDS 100 x 84 x $0.095 = $798 (no archive tier); Aurora x $0.021 = $176.40;
    // DynamoDB x $0.10 = $840, cold x $0.03 = $252
    const rds = costReport({ ...BASE, type: "rds" }).retention.keepRecoveryPoint;
    expect(rds.standard.total).toBeCloseTo(798, 6);
    expect(rds.archive).toBeUndefined();
    expect(rds.archiveNote).toBe("RDS and Aurora snapshots have no archive tier");
    expect(costReport({ ...BASE, type: "aurora" }).retention.keepRecoveryPoint.standard.total).toBeCloseTo(176.4, 6);
    const ddb = costReport({ ...BASE, type: "dynamodb" }).retention.keepRecoveryPoint;
    expect(ddb.standard.total).toBeCloseTo(840, 6);
    expect(ddb.archive!.total).toBeCloseTo(252, 6);
  });

  it("says when the lifecycle expiration deletes the archive before the retention ends", () => {
    const r = costReport({ ...BASE, lifecycle: { ...BASE.lifecycle, expiration: 365 } });
    expect(r.retention.notes).toContain(
      "lifecycleRules.expiration (365 days) deletes the archive before the retention ends",
    );
  });

  it("every item is quantity x unitPrice and every total the sum of its items", () => {
    const r = costReport({
      ...BASE,
      worker: { ...BASE.worker, volume: { ...BASE.worker.volume, initializationRateMiBps: 200 } },
    });
    const sections = [r.perExport, r.monthlyFixed, r.retention.keepRecoveryPoint.standard, r.retention.keepS3Archive];
    for (const s of sections) {
      for (const i of s.items) expect(i.usd).toBeCloseTo(i.quantity * i.unitPrice, 5);
      expect(s.total).toBeCloseTo(
        s.items.reduce((sum, i) => sum + i.usd, 0),
        9,
      );
    }
  });

  it("flags a region other than the table's", () => {
    expect(costReport(BASE).priceRegionNote).toBeUndefined();
    expect(costReport({ ...BASE, region: "eu-west-1" }).priceRegionNote).toBe(
      "us-east-1 prices: no price table for eu-west-1",
    );
  });

  it("prices the interface endpoints the config's network stack creates (core/interface-endpoints.ts)", () => {
    const config = loadConfig(DEFAULT_CONFIG_PATH);
    const args = { type: "ebs" as const, sizeBytes: GIB, usedFraction: 1, compressionRatio: 0.5, region: "us-east-1" };
    expect(costInputsFromConfig(config, args).network.interfaceEndpoints).toEqual(DEFAULT_ENDPOINTS);
    const direct = { ...config, worker: { ...config.worker, readPath: "direct" as const } };
    expect(costInputsFromConfig(direct, args).network.interfaceEndpoints).toEqual([...DEFAULT_ENDPOINTS, "ebs"]);
    const noDumps = { ...config, exports: { ...config.exports, rds: false as const, aurora: false as const } };
    expect(costInputsFromConfig(noDumps, args).network.interfaceEndpoints).toEqual(DEFAULT_ENDPOINTS.slice(0, 7));
  });

  it("reads worker, network and lifecycle from the config, an account's own network first", () => {
    const config = loadConfig(DEFAULT_CONFIG_PATH);
    const args = { type: "ebs" as const, sizeBytes: GIB, usedFraction: 1, compressionRatio: 0.5, region: "eu-west-1" };
    const withOverride = {
      ...config,
      accounts: [
        { id: "222222222222", regions: ["eu-west-1"], network: { ...config.network, egress: "nat" as const } },
      ],
    };
    expect(costInputsFromConfig(withOverride, args).network.egress).toBe("nat");
    expect(costInputsFromConfig(config, args).network.egress).toBe("endpoints");
    expect(costInputsFromConfig(config, args).retentionDays).toBe(2555);
    expect(costInputsFromConfig(config, { ...args, retentionDays: 90 }).retentionDays).toBe(90);
  });
});

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  const o = jest.spyOn(process.stdout, "write").mockImplementation((s) => (out.push(String(s)), true));
  const e = jest.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
  return { out, err, restore: () => (o.mockRestore(), e.mockRestore()) };
}

async function run(args: string[], env: Record<string, string | undefined> = {}) {
  const saved = process.env.BACKUP_ACTIONS_CONFIG;
  if ("BACKUP_ACTIONS_CONFIG" in env) process.env.BACKUP_ACTIONS_CONFIG = env.BACKUP_ACTIONS_CONFIG;
  else delete process.env.BACKUP_ACTIONS_CONFIG;
  const c = capture();
  try {
    const code = await main(["cost", ...args]);
    return { code, stdout: c.out.join(""), stderr: c.err.join("") };
  } finally {
    c.restore();
    if (saved === undefined) delete process.env.BACKUP_ACTIONS_CONFIG;
    else process.env.BACKUP_ACTIONS_CONFIG = saved;
  }
}

describe("backup-actions cost: arguments", () => {
  const firstLine = (s: string) => s.split("\n")[0];

  it.each([
    [["--size", "100GiB"], "--type is required (ebs, rds, aurora, dynamodb)"],
    [["--type", "efs", "--size", "100GiB"], '--type must be one of ebs, rds, aurora, dynamodb, got "efs"'],
    [["--type", "ebs"], "--size is required (e.g. 100GiB)"],
    [
      ["--type", "ebs", "--size", "100"],
      '--size must be a number with a unit GiB, GB, TiB or TB, like 100GiB, got "100"',
    ],
    [
      ["--type", "ebs", "--size", "100gb"],
      '--size must be a number with a unit GiB, GB, TiB or TB, like 100GiB, got "100gb"',
    ],
    [
      ["--type", "ebs", "--size", "100MiB"],
      '--size must be a number with a unit GiB, GB, TiB or TB, like 100GiB, got "100MiB"',
    ],
    [
      ["--type", "ebs", "--size=-5GiB"],
      '--size must be a number with a unit GiB, GB, TiB or TB, like 100GiB, got "-5GiB"',
    ],
    [["--type", "ebs", "--size", "0GiB"], '--size must be greater than 0, got "0GiB"'],
    [["--type", "ebs", "--size", "17TiB"], "--size 17TiB is larger than a gp3 volume can be (16TiB)"],
    [
      ["--type", "ebs", "--size", "1GiB", "--used", "60"],
      '--used must be a percentage above 0% and at most 100%, like 60%, got "60"',
    ],
    [
      ["--type", "ebs", "--size", "1GiB", "--used", "0%"],
      '--used must be a percentage above 0% and at most 100%, like 60%, got "0%"',
    ],
    [
      ["--type", "ebs", "--size", "1GiB", "--used", "100.5%"],
      '--used must be a percentage above 0% and at most 100%, like 60%, got "100.5%"',
    ],
    [
      ["--type", "rds", "--size", "1GiB", "--used", "60%"],
      "--used applies to --type ebs only (RDS, Aurora and DynamoDB are priced by snapshot or table size)",
    ],
    [
      ["--type", "ebs", "--size", "1GiB", "--region", "Mars"],
      '--region must be an AWS region name like us-east-1, got "Mars"',
    ],
    [
      ["--type", "ebs", "--size", "1GiB", "--retention-days", "0"],
      '--retention-days must be an integer from 1 to 36500, got "0"',
    ],
    [
      ["--type", "ebs", "--size", "1GiB", "--compression", "1.5"],
      '--compression must be a ratio above 0 and at most 1 (archive / used bytes), like 0.5, got "1.5"',
    ],
    [["--type", "ebs", "--size", "1GiB", "extra"], "unexpected argument extra"],
  ])("%j → exit 2: %s", async (args, message) => {
    const { code, stderr, stdout } = await run(args);
    expect(code).toBe(2);
    expect(firstLine(stderr)).toBe(`backup-actions cost: ${message}`);
    expect(stderr).toContain("usage: backup-actions cost --type ebs|rds|aurora|dynamodb --size 100GiB");
    expect(stdout).toBe("");
  });

  it.each([
    ["100GiB", 100 * 2 ** 30],
    ["100GB", 100e9],
    ["1.5TiB", 1.5 * 2 ** 40],
    ["2TB", 2e12],
  ])("--size %s is %d bytes", async (size, bytes) => {
    const { code, stdout } = await run(["--type", "rds", "--size", size, "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout).sizeGiB).toBeCloseTo(bytes / 2 ** 30, 5);
  });

  it("--used 60% reads 60 % of the volume", async () => {
    const { code, stdout } = await run(["--type", "ebs", "--size", "100GiB", "--used", "60%", "--json"]);
    expect(code).toBe(0);
    expect(JSON.parse(stdout)).toMatchObject({ sizeGiB: 100, usedGiB: 60, archiveGiB: 30 });
  });

  it("an unreadable config exits 1 naming the file", async () => {
    const { code, stderr } = await run(["--type", "ebs", "--size", "1GiB"], {
      BACKUP_ACTIONS_CONFIG: "/nonexistent/config.json",
    });
    expect(code).toBe(1);
    expect(stderr).toContain("Invalid configuration in /nonexistent/config.json");
  });

  it("is listed in the command usage", async () => {
    const c = capture();
    try {
      await main(["--help"]);
    } finally {
      c.restore();
    }
    expect(c.out.join("")).toContain("cost --type ebs|rds|aurora|dynamodb --size 100GiB [--used 60%]");
  });
});

describe("backup-actions cost --json", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "cost-"));
  const configFile = path.join(dir, "config.json");
  const defaults = JSON.parse(readFileSync(DEFAULT_CONFIG_PATH, "utf8"));
  writeFileSync(
    configFile,
    JSON.stringify({
      ...defaults,
      network: { ...defaults.network, egress: "nat" },
      worker: { ...defaults.worker, vcpus: 8, memoryMiB: 32768 },
      lifecycleRules: { glacier: 60, deepArchive: 240, expiration: 3650 },
    }),
  );

  it("prints perExport.total and monthlyFixed.total in USD with the items behind each, from the config", async () => {
    const { code, stdout, stderr } = await run(["--type", "ebs", "--size", "100GiB", "--json"], {
      BACKUP_ACTIONS_CONFIG: configFile,
    });
    expect(stderr).toBe("");
    expect(code).toBe(0);
    const r = JSON.parse(stdout);
    expect(Object.keys(r)).toEqual(expect.arrayContaining(["perExport", "monthlyFixed", "retention", "assumptions"]));
    for (const section of [r.perExport, r.monthlyFixed]) {
      expect(typeof section.total).toBe("number");
      expect(section.items.length).toBeGreaterThan(0);
      for (const i of section.items as CostItem[]) {
        expect(Object.keys(i).filter((k) => k !== "note")).toEqual([
          "name",
          "quantity",
          "unit",
          "unitPrice",
          "usd",
          "source",
        ]);
        expect(i.source).toMatch(/^https:\/\/(aws\.amazon\.com|docs\.aws\.amazon\.com)\//);
      }
      expect(section.total).toBeCloseTo(
        section.items.reduce((s: number, i: CostItem) => s + i.usd, 0),
        9,
      );
    }
    // the config's nat egress: $32.85 + $3.65
    expect(r.monthlyFixed.total).toBeCloseTo(36.5, 9);
    expect(r.perExport.items.map((i: CostItem) => i.name)).toContain("NAT gateway data processed");
    // 8 vCPU / 32 GiB → m6i
    expect(r.perExport.items[0]).toMatchObject({ name: "worker compute (8 vCPU, 32768 MiB, Spot)", unitPrice: 0.0192 });
    // retention from lifecycleRules.expiration, and its Glacier/Deep Archive days
    expect(r.retention.days).toBe(3650);
    expect(r.retention.keepS3Archive.items.map((i: CostItem) => i.name)).toEqual(
      expect.arrayContaining([
        "S3 Standard (60 days)",
        "S3 Glacier Flexible Retrieval (180 days)",
        "S3 Glacier Deep Archive (3410 days)",
      ]),
    );
  });

  it("the text report states the compression assumption and the price region", async () => {
    const { code, stdout } = await run(["--type", "ebs", "--size", "100GiB", "--region", "eu-west-1"], {
      BACKUP_ACTIONS_CONFIG: configFile,
    });
    expect(code).toBe(0);
    expect(stdout).toContain("archive 50 GiB at compression 0.5");
    expect(stdout).toContain("us-east-1 prices: no price table for eu-west-1");
    expect(stdout).toMatch(/per export: \$\d/);
    expect(stdout).toContain("monthly fixed (network): $36.50");
  });
});

describe("README Costs section", () => {
  const readme = readFileSync(path.join(__dirname, "..", "..", "README.md"), "utf8");

  it("is the block generated from the price table and the default config (run `npm run docs:costs`)", () => {
    expect(currentCostsBlock(readme)).toBe(costsReadmeBlock(loadConfig(DEFAULT_CONFIG_PATH)));
  });

  it("shows the original's figures beside ours and says whether the targets are met", () => {
    const block = costsReadmeBlock(loadConfig(DEFAULT_CONFIG_PATH));
    for (const figure of ["≈ $0.65", "≈ $1.05", "≈ $10.05", "≈ $151.00"]) expect(block).toContain(figure);
    expect(block).toContain("an EBS export of 100 GiB at most $0.30: **not met**, $1.02 (8.3 h;");
    expect(block).toContain("With `worker.volume.initializationRateMiBps: 300`: $0.21");
    expect(block).toContain("at most $50.00/month fixed in single-AZ `endpoints` mode: **not met**, $58.40");
  });

  it("replaceCostsBlock rewrites only between the markers, and refuses a README without them", () => {
    const text = "a\n<!-- costs:begin -->\nold\n<!-- costs:end -->\nb\n";
    expect(replaceCostsBlock(text, "new")).toBe("a\n<!-- costs:begin -->\nnew\n<!-- costs:end -->\nb\n");
    expect(() => replaceCostsBlock("no markers", "x")).toThrow(
      "README.md has no <!-- costs:begin --> … <!-- costs:end --> block",
    );
  });
});
