import { log } from "./log";

export interface ProgressSnapshot {
  item: string;
  bytesRead: number;
  totalBytes: number;
  mibPerSecond: number;
  percent: number;
  etaSeconds: number | null;
}

export interface ProgressOptions {
  /** At most 10 s so a stalled export shows within one interval. */
  intervalMs?: number;
  /** Also print CloudWatch embedded-metric-format JSON lines (set in AWS). */
  emf?: boolean;
  dimensions?: Record<string, string>;
  sink?: (s: ProgressSnapshot, line: string) => void;
}

/** True when metrics should go out as CloudWatch EMF: inside AWS Batch or when asked explicitly. */
export function emfWanted(env = process.env): boolean {
  return env.BACKUP_ACTIONS_EMF === "1" || (Boolean(env.AWS_BATCH_JOB_ID) && env.BACKUP_ACTIONS_EMF !== "0");
}

export function formatSnapshot(s: ProgressSnapshot): string {
  const gib = (n: number) => (n / 2 ** 30).toFixed(2);
  const eta = s.etaSeconds === null ? "?" : `${Math.round(s.etaSeconds)}s`;
  return `progress ${s.item}: ${gib(s.bytesRead)}/${gib(s.totalBytes)} GiB read (${s.percent.toFixed(1)}% of used space), ${s.mibPerSecond.toFixed(1)} MiB/s, ETA ${eta}`;
}

export function emfLine(s: ProgressSnapshot, dimensions: Record<string, string>, now = Date.now()): string {
  const dims = Object.keys(dimensions);
  return JSON.stringify({
    _aws: {
      Timestamp: now,
      CloudWatchMetrics: [
        {
          Namespace: "BackupActions/Worker",
          Dimensions: [dims],
          Metrics: [
            { Name: "BytesRead", Unit: "Bytes" },
            { Name: "Throughput", Unit: "Megabytes/Second" },
            { Name: "PercentDone", Unit: "Percent" },
            { Name: "EtaSeconds", Unit: "Seconds" },
          ],
        },
      ],
    },
    ...dimensions,
    Item: s.item,
    BytesRead: s.bytesRead,
    Throughput: Number(s.mibPerSecond.toFixed(2)),
    PercentDone: Number(s.percent.toFixed(2)),
    EtaSeconds: s.etaSeconds === null ? -1 : Math.round(s.etaSeconds),
  });
}

/**
 * Tracks bytes read over the whole export. Items report finished bytes with `finishItem`; the
 * running item is sampled through a callback (tar's read counter from /proc, the raw reader's
 * count) so no byte passes through JavaScript just to be counted.
 */
export class Progress {
  private done = 0;
  private item = "";
  private sample: () => number = () => 0;
  private timer: NodeJS.Timeout | undefined;
  private readonly started = Date.now();

  constructor(
    private totalBytes: number,
    private readonly opts: ProgressOptions = {},
  ) {}

  /** The total becomes known once every filesystem is mounted and its used space read. */
  setTotal(bytes: number): void {
    this.totalBytes = bytes;
  }

  start(): void {
    const every = Math.min(this.opts.intervalMs ?? 10_000, 10_000);
    this.timer = setInterval(() => this.report(), every);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  beginItem(name: string, sample: () => number): void {
    this.item = name;
    this.sample = sample;
  }

  finishItem(bytes: number): void {
    this.done += bytes;
    this.sample = () => 0;
  }

  snapshot(now = Date.now()): ProgressSnapshot {
    const bytesRead = this.done + this.sample();
    const secs = Math.max((now - this.started) / 1000, 0.001);
    const rate = bytesRead / secs;
    const total = Math.max(this.totalBytes, bytesRead);
    return {
      item: this.item,
      bytesRead,
      totalBytes: total,
      mibPerSecond: rate / 2 ** 20,
      percent: total > 0 ? (100 * bytesRead) / total : 100,
      etaSeconds: rate > 0 ? (total - bytesRead) / rate : null,
    };
  }

  report(): void {
    const s = this.snapshot();
    const line = formatSnapshot(s);
    if (this.opts.sink) this.opts.sink(s, line);
    else log.info(line);
    if (this.opts.emf) log.raw(emfLine(s, this.opts.dimensions ?? {}));
  }
}
