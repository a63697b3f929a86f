import {
  DeleteItemCommand,
  DynamoDBClient,
  PutItemCommand,
  QueryCommand,
  type QueryCommandOutput,
} from "@aws-sdk/client-dynamodb";
import { instrumented } from "../../core/aws-client-hook";
import {
  DIRECT_READ_LEASES as L,
  LEASE_HEARTBEAT_SECONDS,
  LEASE_TTL_SECONDS,
  leasedShare,
} from "../../core/direct-read";
import { log } from "./log";
import type { RateLimit } from "./snapshot-reader";

/**
 * The shared direct-read budget (ADR 0008). A job holds a lease item in the pipeline's lease table while it reads
 * snapshot blocks and renews it every heartbeat; on each renewal it counts the live leases (expiresAt in the future)
 * and sets its token bucket to floor(budget / live), never below its static share. So one job alone gets the whole
 * budget, N jobs a budget/N each, and the sum stays within the budget.
 *
 * - Joining: a new lease is written (and the live ones counted, for the log) first and the job keeps its static
 *   share for one heartbeat, so every other job has counted it (each re-reads within a heartbeat) before it takes
 *   more.
 * - Leaving: the lease is deleted (release(), on every path); a crashed job's lease stops counting at its expiresAt,
 *   LEASE_TTL_SECONDS after its last renewal (the table's TTL deletes it later; reads filter on expiresAt).
 * - The table unreachable, or a renewal that hangs until the lease is about to expire: the static share, with a
 *   warning. The static shares of
 *   every job that can run at once fit the budget, so falling back never exceeds it; the jobs still counting this
 *   one's lease leave it its share until the lease expires.
 */
export interface RateLeaseOptions {
  readonly table: string;
  /** This job's lease key (AWS_BATCH_JOB_ID). */
  readonly jobId: string;
  /** Requests per second all jobs share. */
  readonly budget: number;
  /** This job's guaranteed floor (directReadShare): the rate before the first count and whenever the table fails. */
  readonly staticShare: number;
  /** The token bucket whose rate the lease sets. */
  readonly rate: RateLimit;
  /** @default an instrumented DynamoDBClient of the SDK's default chain (AWS_ENDPOINT_URL_DYNAMODB is honoured) */
  readonly ddb?: DynamoDBClient;
  /** @default LEASE_HEARTBEAT_SECONDS × 1000 */
  readonly heartbeatMs?: number;
  /** @default LEASE_TTL_SECONDS */
  readonly ttlSeconds?: number;
}

/** One rate the lease applied: when, how many leases it counted (undefined: fell back to the static share). */
export interface AppliedRate {
  readonly at: number;
  readonly rate: number;
  readonly live?: number;
}

export class RateLease {
  private readonly ddb: DynamoDBClient;
  private readonly own: boolean;
  private readonly heartbeatMs: number;
  private readonly ttlSeconds: number;
  private timer: NodeJS.Timeout | undefined;
  private inFlight: Promise<void> | undefined;
  private writtenAt: number | undefined;
  /** When the last renewal that was written started: the lease counts until then + TTL. */
  private renewedAt = 0;
  private fellBack = false;
  private released = false;
  /** Every rate applied, in order (the log says the same). */
  readonly applied: AppliedRate[] = [];

  constructor(private readonly o: RateLeaseOptions) {
    this.heartbeatMs = o.heartbeatMs ?? LEASE_HEARTBEAT_SECONDS * 1000;
    this.ttlSeconds = o.ttlSeconds ?? LEASE_TTL_SECONDS;
    if (!(this.ttlSeconds * 1000 >= 3 * this.heartbeatMs))
      throw new RangeError(
        `lease TTL ${this.ttlSeconds} s must cover at least three heartbeats of ${this.heartbeatMs} ms`,
      );
    this.own = o.ddb === undefined;
    // A request that hangs must not hold the rate: it fails within a heartbeat and the job falls back.
    this.ddb =
      o.ddb ??
      instrumented(
        new DynamoDBClient({
          requestHandler: { connectionTimeout: this.heartbeatMs, requestTimeout: this.heartbeatMs },
        }),
      );
    this.set(o.staticShare);
  }

  /** Writes the lease and starts the heartbeat. Never throws: a table that fails leaves the static share. */
  async start(): Promise<void> {
    await this.beat();
    this.timer = setInterval(() => this.tick(), this.heartbeatMs);
    this.timer.unref();
  }

  /** Stops the heartbeat and deletes the lease. Never throws: a lease that cannot be deleted expires by itself. */
  async release(): Promise<void> {
    if (this.released) return;
    this.released = true;
    clearInterval(this.timer);
    await this.inFlight;
    try {
      await this.ddb.send(
        new DeleteItemCommand({
          TableName: this.o.table,
          Key: { [L.partitionKey]: { S: L.quota }, [L.sortKey]: { S: this.o.jobId } },
        }),
      );
      log.info(`direct-read budget: released the lease of ${this.o.jobId}`);
    } catch (e) {
      log.warn(
        `direct-read budget: could not delete the lease of ${this.o.jobId} in ${this.o.table} (${(e as Error).message}); ` +
          `it stops counting within ${this.ttlSeconds} s`,
      );
    } finally {
      if (this.own) this.ddb.destroy();
    }
  }

  private tick(): void {
    if (this.inFlight) {
      // a renewal still hangs: within a heartbeat the others may stop counting this job's lease (at its expiresAt)
      if (Date.now() - this.renewedAt > this.ttlSeconds * 1000 - 2 * this.heartbeatMs)
        this.fallBack("no renewal answered for most of the lease's TTL");
      return;
    }
    this.inFlight = this.beat().finally(() => (this.inFlight = undefined));
  }

  private async beat(): Promise<void> {
    if (this.released) return;
    const now = Date.now();
    try {
      await this.ddb.send(
        new PutItemCommand({
          TableName: this.o.table,
          Item: {
            [L.partitionKey]: { S: L.quota },
            [L.sortKey]: { S: this.o.jobId },
            [L.expiresAt]: { N: String(Math.ceil(now / 1000) + this.ttlSeconds) },
          },
        }),
      );
      const joining = this.writtenAt === undefined;
      this.writtenAt ??= now;
      this.renewedAt = now;
      const live = await this.countLive();
      // joining: every other job counts this lease within one heartbeat; until then the static share
      if (now - this.writtenAt < this.heartbeatMs) {
        if (joining)
          log.info(
            `direct-read budget: ${live} job(s) hold a lease of ${this.o.budget} requests/s; this job reads at its ` +
              `static share of ${this.o.staticShare} for one heartbeat, until the others count it`,
          );
        return;
      }
      this.fellBack = false;
      this.set(leasedShare(this.o.budget, live, this.o.staticShare), live);
    } catch (e) {
      this.fallBack(`${(e as Error).name}: ${(e as Error).message}`);
    }
  }

  /** Leases whose expiresAt is still ahead (strongly consistent; every page). */
  private async countLive(): Promise<number> {
    let count = 0;
    let start: QueryCommandOutput["LastEvaluatedKey"];
    do {
      const r = await this.ddb.send(
        new QueryCommand({
          TableName: this.o.table,
          KeyConditionExpression: "#q = :q",
          FilterExpression: "#e > :now",
          ExpressionAttributeNames: { "#q": L.partitionKey, "#e": L.expiresAt },
          ExpressionAttributeValues: { ":q": { S: L.quota }, ":now": { N: String(Math.floor(Date.now() / 1000)) } },
          Select: "COUNT",
          ConsistentRead: true,
          ExclusiveStartKey: start,
        }),
      );
      count += r.Count ?? 0;
      start = r.LastEvaluatedKey;
    } while (start);
    return count;
  }

  private fallBack(why: string): void {
    if (!this.fellBack)
      log.warn(
        `direct-read budget: lease table ${this.o.table} failed (${why}): this job keeps its static share of ` +
          `${this.o.staticShare} requests/s until it answers`,
      );
    this.fellBack = true;
    this.set(this.o.staticShare);
  }

  private set(rate: number, live?: number): void {
    const last = this.applied.at(-1);
    if (last && last.rate === rate && last.live === live) return;
    this.applied.push({ at: Date.now(), rate, live });
    if (this.o.rate.perSecond !== rate) {
      this.o.rate.setRate(rate);
      if (live !== undefined)
        log.info(`direct-read budget: ${live} job(s) share ${this.o.budget} requests/s: this job ${rate} requests/s`);
    }
  }
}
