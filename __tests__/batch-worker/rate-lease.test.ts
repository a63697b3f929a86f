/**
 * The shared direct-read budget (ADR 0008, batch-worker/src/rate-lease.ts) against moto's DynamoDB and EBS direct
 * APIs: concurrent hydrations of real snapshots (StartSnapshot/PutSnapshotBlock of random data) each hold a lease in
 * one lease table (created as stacks/constructs/direct-read-lease-table.ts declares it) and set their token buckets
 * from the live count. What is asserted is what the buckets were set to and how many requests each job sent while a
 * rate held, never how long anything took. Heartbeats are shortened (200 ms, TTL 2 s) so a test runs in seconds.
 */
import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DynamoDBClient, PutItemCommand, QueryCommand } from "@aws-sdk/client-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";
import { BlockData, EbsBlockSource, EbsDirectClient } from "../../batch-worker/src/ebs-direct";
import { exportSnapshot } from "../../batch-worker/src/export-snapshot";
import { log } from "../../batch-worker/src/log";
import { RateLease } from "../../batch-worker/src/rate-lease";
import { fillTarget, RateLimit } from "../../batch-worker/src/snapshot-reader";
import { makeS3Client, S3Store } from "../../batch-worker/src/store";
import { DIRECT_READ_LEASES as L } from "../../core/direct-read";
import { recording } from "../../testing/iam/recorder";
import { createLeaseTable } from "../helpers/ledger-table";
import { snapshotOf } from "../helpers/ebs-snapshot";
import { describeWithPrereqs, motoMissing, newBucket } from "./helpers";

const BUDGET = 60;
const STATIC_SHARE = 6; // 60 over the ten jobs that could run at once
const HEARTBEAT_MS = 200;
const TTL_SECONDS = 2;
const BLOCKS = 48;

/** Counts GetSnapshotBlock calls with the time each was sent (the requests per interval a job really made). */
class CountingSource implements EbsBlockSource {
  readonly sent: number[] = [];
  constructor(private readonly inner: EbsBlockSource) {}
  listSnapshotBlocks(id: string, token?: string) {
    return this.inner.listSnapshotBlocks(id, token);
  }
  getSnapshotBlock(id: string, index: number, token: string): Promise<BlockData> {
    this.sent.push(Date.now());
    return this.inner.getSnapshotBlock(id, index, token);
  }
}

describeWithPrereqs("the shared direct-read budget (leases in DynamoDB on moto)", motoMissing(), () => {
  jest.setTimeout(120_000);
  let ddb: DynamoDBClient;
  let ebs: EbsDirectClient;
  let work: string;
  let table: string;
  const snapshots: string[] = [];
  let warnings: string[];
  let warn: jest.SpyInstance;

  beforeAll(async () => {
    ddb = recording(new DynamoDBClient({}));
    ebs = new EbsDirectClient();
    work = await fs.mkdtemp(path.join(os.tmpdir(), "rate-lease-"));
    for (let i = 0; i < 3; i++) {
      const image = path.join(work, `image-${i}.img`);
      await fs.writeFile(image, randomBytes(BLOCKS * 524288));
      snapshots.push((await snapshotOf(ebs, image)).id);
    }
  });
  beforeEach(async () => {
    table = `leases-${randomBytes(4).toString("hex")}`;
    await createLeaseTable(new DynamoDBClient({}), table);
    warnings = [];
    warn = jest.spyOn(log, "warn").mockImplementation((m: string) => void warnings.push(m));
  });
  afterEach(() => warn.mockRestore());
  afterAll(async () => {
    ebs?.destroy();
    ddb?.destroy();
    if (work) await fs.rm(work, { recursive: true, force: true });
  });

  const leaseFor = (jobId: string, rate: RateLimit, o: { ddb?: DynamoDBClient; table?: string } = {}) =>
    new RateLease({
      table: o.table ?? table,
      jobId,
      budget: BUDGET,
      staticShare: STATIC_SHARE,
      rate,
      ddb: o.ddb ?? ddb,
      heartbeatMs: HEARTBEAT_MS,
      ttlSeconds: TTL_SECONDS,
    });

  /** The leases the table holds now, expired ones included (a consistent read, not recorded as the worker). */
  async function leaseItems(): Promise<string[]> {
    const r = await new DynamoDBClient({}).send(
      new QueryCommand({
        TableName: table,
        KeyConditionExpression: "#q = :q",
        ExpressionAttributeNames: { "#q": L.partitionKey },
        ExpressionAttributeValues: { ":q": { S: L.quota } },
        ConsistentRead: true,
      }),
    );
    return (r.Items ?? []).map((i) => i[L.sortKey]!.S!).sort();
  }

  /** Requests a job sent in any window of one second, at most. */
  const busiestSecond = (sent: number[]) =>
    Math.max(0, ...sent.map((t) => sent.filter((u) => u >= t && u < t + 1000).length));

  it("three concurrent hydrations each get a third of the budget, the last one alone all of it", async () => {
    // GIVEN three jobs that start together, each with its own token bucket at the static share; the third reads
    // twice as many blocks (its snapshot twice), so it runs alone at the end
    const jobs = snapshots.map((snapshotId, i) => {
      const rate = new RateLimit(STATIC_SHARE);
      const source = new CountingSource(ebs);
      return { snapshotId, rate, source, lease: leaseFor(`job-${i}`, rate), passes: i === 2 ? 2 : 1, releasedAt: 0 };
    });
    await Promise.all(jobs.map((j) => j.lease.start()));
    // WHEN they hydrate at once, each releasing its lease when done
    await Promise.all(
      jobs.map(async (j, i) => {
        try {
          for (let pass = 0; pass < j.passes; pass++)
            await fillTarget({
              source: j.source,
              snapshotId: j.snapshotId,
              rate: j.rate,
              concurrency: 8,
              target: path.join(work, `target-${i}.img`),
              isFile: true,
            });
        } finally {
          await j.lease.release();
          j.releasedAt = Date.now();
        }
      }),
    );
    for (const j of jobs) {
      const leased = j.lease.applied.filter((a) => a.live !== undefined);
      // THEN each counted all three leases and set its bucket to floor(60 / 3) first
      expect(leased[0]).toMatchObject({ live: 3, rate: 20 });
      // every rate it took is the budget over the leases it counted
      for (const a of leased) expect(a.rate).toBe(Math.floor(BUDGET / a.live!));
      // it sent no more than its bucket let through: within any second, its highest rate plus one second's burst
      const highest = Math.max(...j.lease.applied.map((a) => a.rate));
      expect(busiestSecond(j.source.sent)).toBeLessThanOrEqual(2 * highest);
      expect(j.source.sent).toHaveLength(BLOCKS * j.passes);
    }
    // the third, alone once the others were done, took the whole budget
    expect(jobs[2]!.lease.applied.at(-1)).toMatchObject({ live: 1, rate: BUDGET });
    // at every change of any bucket, the rates of the jobs still holding a lease summed to the budget at most
    const rateAt = (j: (typeof jobs)[number], t: number) =>
      t >= j.releasedAt ? 0 : [...j.lease.applied].reverse().find((a) => a.at <= t)!.rate;
    for (const t of jobs.flatMap((j) => j.lease.applied.map((a) => a.at)))
      expect(jobs.reduce((sum, j) => sum + rateAt(j, t), 0)).toBeLessThanOrEqual(BUDGET);
    // every lease is gone
    expect(await leaseItems()).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("a crashed job's lease (never deleted) counts until its expiresAt, then the survivor gets the whole budget", async () => {
    // GIVEN the lease of a job that died just now: renewed once, never released
    await new DynamoDBClient({}).send(
      new PutItemCommand({
        TableName: table,
        Item: {
          [L.partitionKey]: { S: L.quota },
          [L.sortKey]: { S: "crashed-job" },
          [L.expiresAt]: { N: String(Math.ceil(Date.now() / 1000) + TTL_SECONDS) },
        },
      }),
    );
    // WHEN a job holds its lease for a few TTLs
    const rate = new RateLimit(STATIC_SHARE);
    const lease = leaseFor("survivor", rate);
    await lease.start();
    await new Promise((r) => setTimeout(r, 4 * TTL_SECONDS * 1000));
    await lease.release();
    // THEN it shared with the crashed lease first, and took the whole budget once that expired
    const leased = lease.applied.filter((a) => a.live !== undefined).map((a) => [a.live, a.rate]);
    expect(leased).toEqual([
      [2, 30],
      [1, 60],
    ]);
    // the expired item is still in the table (TTL deletes it later): only the filter stopped it counting
    expect(await leaseItems()).toEqual(["crashed-job"]);
  });

  it("export-snapshot deletes its lease after a success and after a failure", async () => {
    const s3: S3Client = makeS3Client();
    const bucket = await newBucket(s3);
    const lease = { table, budget: BUDGET, ddb, heartbeatMs: HEARTBEAT_MS, ttlSeconds: TTL_SECONDS };
    // GIVEN a snapshot of random data (nothing mounts: its image is streamed, no scratch)
    const seen: string[][] = [];
    const source = new CountingSource(ebs);
    const watching: EbsBlockSource = {
      listSnapshotBlocks: async (id, token) => {
        seen.push(await leaseItems()); // while the export runs, its lease is in the table
        return source.listSnapshotBlocks(id, token);
      },
      getSnapshotBlock: (id, i, t) => source.getSnapshotBlock(id, i, t),
    };
    // WHEN it exports
    const manifest = await exportSnapshot({
      snapshotId: snapshots[0]!,
      store: new S3Store(s3, bucket, "ok/"),
      source: watching,
      rate: STATIC_SHARE,
      lease: { ...lease, jobId: "job-ok" },
    });
    // THEN it held the lease while it read and deleted it at the end
    expect(manifest.items.length).toBeGreaterThan(0);
    expect(seen[0]).toEqual(["job-ok"]);
    expect(await leaseItems()).toEqual([]);
    // WHEN an export fails (the snapshot is gone), THEN its lease is deleted too
    await expect(
      exportSnapshot({
        snapshotId: "snap-0123456789abcdef0",
        store: new S3Store(s3, bucket, "gone/"),
        rate: STATIC_SHARE,
        lease: { ...lease, jobId: "job-failed" },
      }),
    ).rejects.toThrow(/snap-0123456789abcdef0/);
    expect(await leaseItems()).toEqual([]);
    s3.destroy();
  });

  it("with the table unreachable a job keeps its static share and says so", async () => {
    // GIVEN a lease table that does not exist, and a DynamoDB endpoint nothing listens on
    for (const o of [
      { table: "no-such-leases" },
      { ddb: new DynamoDBClient({ endpoint: "http://127.0.0.1:9", maxAttempts: 1 }) },
    ]) {
      warnings.length = 0;
      const rate = new RateLimit(STATIC_SHARE);
      const source = new CountingSource(ebs);
      const lease = leaseFor("cut-off", rate, o);
      // WHEN it hydrates
      await lease.start();
      try {
        await fillTarget({
          source,
          snapshotId: snapshots[1]!,
          rate,
          concurrency: 8,
          target: path.join(work, "cut-off.img"),
          isFile: true,
        });
      } finally {
        await lease.release();
      }
      // THEN its bucket never left the static share, and the log says why
      expect(lease.applied.map((a) => a.rate)).toEqual([STATIC_SHARE]);
      expect(rate.perSecond).toBe(STATIC_SHARE);
      expect(busiestSecond(source.sent)).toBeLessThanOrEqual(2 * STATIC_SHARE);
      expect(warnings[0]).toMatch(
        /^direct-read budget: lease table .+ failed \(.+\): this job keeps its static share of 6 requests\/s until it answers$/,
      );
      // one warning for the outage, one for the lease it could not delete
      expect(warnings).toHaveLength(2);
      expect(warnings[1]).toMatch(/could not delete the lease of cut-off/);
    }
  });
});
