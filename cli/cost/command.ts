/**
 * `backup-actions cost --type ebs|rds|aurora|dynamodb --size 100GiB [--used 60%] [--region R]
 * [--retention-days N] [--compression 0.5] [--concurrent-exports N] [--json]`: what one export costs (an EBS
 * direct read at the budget over N exports at once), the network's
 * monthly fixed cost, and keeping the recovery point against keeping the archive in S3.
 * Worker, network and lifecycle values come from the config (BACKUP_ACTIONS_CONFIG, default
 * config/default.json), read by config/load.ts as synthesis reads it; config/load.ts (zod) is imported in `run`
 * only (cli/main.ts: `--help` loads no heavy module).
 */
import type { Config } from "../../config/schema";
import { leasedShare, workerDirectReadShare } from "../../core/direct-read";
import { interfaceEndpointKeysOf } from "../../core/interface-endpoints";
import { placementCountOf } from "../../core/placements";
import { PRICES_READ_ON, PRICES_REGION } from "../../core/prices";
import { intOption, parse, UsageError } from "../args";
import type { Command } from "../main";
import {
  COST_TYPES,
  CostInputs,
  CostReport,
  CostSection,
  CostType,
  costReport,
  DEFAULT_COMPRESSION_RATIO,
  formatUsd,
  LAZY_LOAD_MIBPS,
} from "./model";

const UNITS: Record<string, number> = { GB: 1e9, GiB: 2 ** 30, TB: 1e12, TiB: 2 ** 40 };
/** gp3's largest volume. */
const MAX_EBS_BYTES = 16 * 2 ** 40;
const REGION = /^[a-z]{2}(-gov|-iso[a-z]?)?-[a-z]+-\d$/;
export const DEFAULT_RETENTION_DAYS = 2555;

/** `100GiB`, `500GB`, `1.5TiB`, `2TB` → bytes. */
export function parseSize(value: string): number {
  const m = /^(\d+(?:\.\d+)?)(GiB|GB|TiB|TB)$/.exec(value.trim());
  if (!m) throw new UsageError(`--size must be a number with a unit GiB, GB, TiB or TB, like 100GiB, got "${value}"`);
  const bytes = Number(m[1]) * UNITS[m[2]!]!;
  if (!(bytes > 0)) throw new UsageError(`--size must be greater than 0, got "${value}"`);
  return bytes;
}

/** `60%` → 0.6; more than 0 and at most 100 percent. */
export function parseUsed(value: string): number {
  const m = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
  const pct = m ? Number(m[1]) : Number.NaN;
  if (!(pct > 0 && pct <= 100))
    throw new UsageError(`--used must be a percentage above 0% and at most 100%, like 60%, got "${value}"`);
  return pct / 100;
}

function parseRatio(value: string | undefined): number {
  if (value === undefined) return DEFAULT_COMPRESSION_RATIO;
  const r = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!(r > 0 && r <= 1))
    throw new UsageError(
      `--compression must be a ratio above 0 and at most 1 (archive / used bytes), like 0.5, got "${value}"`,
    );
  return r;
}

/** The worker, network and lifecycle values of `config` for `region` (an account's own network wins). */
export function costInputsFromConfig(config: Config, args: CostArgs): CostInputs {
  const account = config.accounts.find((a) => a.regions.includes(args.region));
  const network = account?.network ?? config.network;
  return {
    ...args,
    retentionDays: args.retentionDays ?? config.lifecycleRules.expiration ?? DEFAULT_RETENTION_DAYS,
    worker: {
      vcpus: config.worker.vcpus,
      memoryMiB: config.worker.memoryMiB,
      volume: config.worker.volume,
      read:
        config.worker.readPath === "direct"
          ? {
              path: "direct",
              requestsPerSecond: leasedShare(
                config.worker.directRead.requestsPerSecond,
                args.concurrentExports ?? 1,
                workerDirectReadShare(config.worker, placementCountOf(network)),
              ),
            }
          : { path: "volume", lazyLoadMiBps: LAZY_LOAD_MIBPS },
    },
    network: {
      egress: network.egress,
      endpointAzCount: network.endpointAzCount,
      interfaceEndpoints: interfaceEndpointKeysOf(config),
    },
    lifecycle: config.lifecycleRules,
  };
}

export const COST_USAGE =
  "cost --type ebs|rds|aurora|dynamodb --size 100GiB [--used 60%] [--region us-east-1] [--retention-days 2555]" +
  " [--compression 0.5] [--concurrent-exports 1] [--json]";

export interface CostArgs {
  readonly type: CostType;
  readonly sizeBytes: number;
  readonly usedFraction: number;
  readonly compressionRatio: number;
  readonly region: string;
  readonly retentionDays?: number;
  /** EBS direct reads running at once, sharing the budget (--concurrent-exports). @default 1 */
  readonly concurrentExports?: number;
}

/** The command line; every problem is a UsageError naming the flag. */
export function parseCostArgs(args: string[]): { args: CostArgs; json: boolean } {
  const { values } = parse(
    args,
    {
      type: { type: "string" },
      size: { type: "string" },
      used: { type: "string" },
      region: { type: "string" },
      "retention-days": { type: "string" },
      compression: { type: "string" },
      "concurrent-exports": { type: "string" },
      json: { type: "boolean" },
    },
    { min: 0, max: 0 },
  );
  if (values.type === undefined) throw new UsageError(`--type is required (${COST_TYPES.join(", ")})`);
  if (!(COST_TYPES as readonly string[]).includes(values.type)) {
    throw new UsageError(`--type must be one of ${COST_TYPES.join(", ")}, got "${values.type}"`);
  }
  const type = values.type as CostType;
  if (values.size === undefined) throw new UsageError("--size is required (e.g. 100GiB)");
  const sizeBytes = parseSize(values.size);
  if (type === "ebs" && sizeBytes > MAX_EBS_BYTES)
    throw new UsageError(`--size ${values.size} is larger than a gp3 volume can be (16TiB)`);
  if (values.used !== undefined && type !== "ebs") {
    throw new UsageError(
      "--used applies to --type ebs only (RDS, Aurora and DynamoDB are priced by snapshot or table size)",
    );
  }
  const region = values.region ?? PRICES_REGION;
  if (!REGION.test(region)) throw new UsageError(`--region must be an AWS region name like us-east-1, got "${region}"`);
  const parsed: CostArgs = {
    type,
    sizeBytes,
    usedFraction: values.used === undefined ? 1 : parseUsed(values.used),
    compressionRatio: parseRatio(values.compression),
    region,
    retentionDays: intOption(values["retention-days"], "retention-days", 1, 36500),
    concurrentExports: intOption(values["concurrent-exports"], "concurrent-exports", 1, 10_000),
  };
  return { args: parsed, json: values.json ?? false };
}

const usd = formatUsd;

function lines(title: string, s: CostSection): string[] {
  const out = [`${title}: ${usd(s.total)}`];
  for (const i of s.items)
    out.push(
      `  ${usd(i.usd).padStart(9)}  ${i.name}: ${Number(i.quantity.toPrecision(6))} ${i.unit} x $${i.unitPrice}`,
    );
  if (s.items.length === 0) out.push("  (nothing)");
  return out;
}

export function formatCostReport(r: CostReport): string {
  const head = [
    `${r.type} export of ${r.sizeGiB} GiB (used ${r.usedGiB} GiB,` +
      ` archive ${r.archiveGiB} GiB at compression ${r.compressionRatio})` +
      `${r.exportHours !== undefined ? `, ${r.exportHours.toFixed(3)} h` : ""}, ${r.region}`,
    `prices: ${PRICES_REGION}, read ${PRICES_READ_ON} (core/prices.ts)${
      r.priceRegionNote ? ` — ${r.priceRegionNote}` : ""
    }`,
    "",
  ];
  const keep = r.retention.keepRecoveryPoint;
  return [
    ...head,
    ...lines("per export", r.perExport),
    "",
    ...lines("monthly fixed (network)", r.monthlyFixed),
    "",
    `over ${r.retention.days} days of retention:`,
    ...lines("  keep the recovery point, standard tier", keep.standard),
    ...(keep.archive
      ? lines("  keep the recovery point, archive tier", keep.archive)
      : [`  archive tier: ${keep.archiveNote}`]),
    ...lines("  keep the S3 archive (lifecycle rules)", r.retention.keepS3Archive),
    ...r.retention.notes.map((n) => `  note: ${n}`),
    "",
    "assumptions:",
    ...r.assumptions.map((a) => `  - ${a}`),
    "",
  ].join("\n");
}

export const costCommand: Command = {
  summary: "what one export costs, the network's monthly fixed cost, and keeping snapshots vs the S3 archive",
  usage: COST_USAGE,
  async run(args) {
    // Usage errors first: a bad flag is reported even when the config cannot be read.
    const parsed = parseCostArgs(args);
    const { configPath, loadConfig } = await import("../../config/load");
    const report = costReport(costInputsFromConfig(loadConfig(configPath(process.env)), parsed.args));
    const json = parsed.json;
    process.stdout.write(json ? `${JSON.stringify(report, null, 2)}\n` : formatCostReport(report));
    return 0;
  },
};
