/**
 * What reading a 1 TiB EBS snapshot would take on AWS in each read path (a script, not a test): `npm run bench:read-paths`.
 *
 * Nothing is measured against AWS here (there is no account on this machine): every AWS rate is a documented or
 * reported figure (issue 14, ADR 0008), and the per-job rates are what core/direct-read.ts gives the default config
 * (the budget shared by the live leases, the static share as the floor).
 * Beside them, the figures measured on this machine (2 vCPUs, moto on the same cores), from the README and
 * batch-worker/README.md. One table in code; the README's "Choosing a read path" table (between
 * <!-- read-paths:begin --> and <!-- read-paths:end -->) is this script's output, checked by
 * __tests__/bench/read-paths.test.ts.
 */
import {
  DEFAULT_DIRECT_READ_REQUESTS_PER_SECOND,
  directReadShare,
  leasedShare,
  maxConcurrentJobs,
} from "../core/direct-read";
import { EBS_BLOCK_SIZE } from "../batch-worker/src/snapshot-reader";

const MiB = 2 ** 20;
const TiB = 2 ** 40;

/** The default config's Batch capacity (config/default.json: 64 vCPUs of 4 per job, one environment per AZ, 2 AZs). */
const DEFAULT_CAPACITY = { maxVcpus: 64, jobVcpus: 4, computeEnvironments: 2 };
const perJobRps = directReadShare(DEFAULT_DIRECT_READ_REQUESTS_PER_SECOND, DEFAULT_CAPACITY);
const rpsToMiBps = (rps: number) => (rps * EBS_BLOCK_SIZE) / MiB;

interface Row {
  path: string;
  how: string;
  /** MiB/s of reading the snapshot's data. */
  mibps: number;
  source: string;
}

export const ROWS: readonly Row[] = [
  {
    path: "volume",
    how: "lazy load of a cold restored volume",
    mibps: 3.5,
    source: "a peer's measurement (300 GiB in about 24 h), issue 14",
  },
  {
    path: "volume",
    how: "provisioned initialization, lowest rate",
    mibps: 100,
    source: "EBS volume initialization rate 100-300 MiB/s",
  },
  {
    path: "volume",
    how: "provisioned initialization, highest rate",
    mibps: 300,
    source: "EBS volume initialization rate 100-300 MiB/s",
  },
  {
    path: "direct",
    how: "GetSnapshotBlock at the API's limit (1,000 req/s x 512 KiB)",
    mibps: rpsToMiBps(1000),
    source: "EBS direct APIs quota per snapshot",
  },
  {
    path: "direct",
    how: `one job alone: the whole default budget (${leasedShare(DEFAULT_DIRECT_READ_REQUESTS_PER_SECOND, 1, perJobRps)} req/s, one lease)`,
    mibps: rpsToMiBps(leasedShare(DEFAULT_DIRECT_READ_REQUESTS_PER_SECOND, 1, perJobRps)),
    source: "core/direct-read.ts leasedShare, default config",
  },
  {
    path: "direct",
    how: `each of 4 jobs at once (${leasedShare(DEFAULT_DIRECT_READ_REQUESTS_PER_SECOND, 4, perJobRps)} req/s: ${DEFAULT_DIRECT_READ_REQUESTS_PER_SECOND} / 4 leases)`,
    mibps: rpsToMiBps(leasedShare(DEFAULT_DIRECT_READ_REQUESTS_PER_SECOND, 4, perJobRps)),
    source: "core/direct-read.ts leasedShare, default config",
  },
  {
    path: "direct",
    how: `each job when all can run, and every job's floor if the lease table fails (${perJobRps} req/s: ${DEFAULT_DIRECT_READ_REQUESTS_PER_SECOND} / ${maxConcurrentJobs(DEFAULT_CAPACITY)} jobs)`,
    mibps: rpsToMiBps(perJobRps),
    source: "core/direct-read.ts directReadShare, default config",
  },
  {
    path: "local",
    how: "direct read against moto (hydration)",
    mibps: 54,
    source: "npm run bench:direct-read, this machine (ADR 0008; 27-54 MiB/s across runs)",
  },
  {
    path: "local",
    how: "the same image from a loop device, cold page cache",
    mibps: 227,
    source: "npm run bench:direct-read, this machine",
  },
  {
    path: "local",
    how: "the worker's export to file:// (tar and zstd, 2 vCPUs)",
    mibps: (2.13 * 1024) / 45,
    source: "npm run bench:worker, this machine (2.13 GiB in 45 s)",
  },
];

export const READ_PATHS_BEGIN = "<!-- read-paths:begin -->";
export const READ_PATHS_END = "<!-- read-paths:end -->";

function duration(seconds: number): string {
  if (seconds < 3600) return `${Math.round(seconds / 60)} min`;
  return `${(seconds / 3600).toFixed(1)} h`;
}

export function table(rows: readonly Row[] = ROWS, bytes = TiB): string {
  const lines = [
    "| read path | how | MiB/s | 1 TiB takes | figure from |",
    "|---|---|---:|---:|---|",
    ...rows.map(
      (r) =>
        `| ${r.path} | ${r.how} | ${r.mibps.toFixed(r.mibps < 10 ? 1 : 0)} | ${duration(bytes / MiB / r.mibps)} | ${r.source} |`,
    ),
  ];
  return lines.join("\n");
}

if (require.main === module) {
  process.stdout.write(
    "Reading a 1 TiB snapshot whose blocks are all written (a direct read fetches written blocks only; a lazy\n" +
      "volume read touches the used ones; initialization hydrates the whole volume):\n\n" +
      `${READ_PATHS_BEGIN}\n${table()}\n${READ_PATHS_END}\n`,
  );
}
