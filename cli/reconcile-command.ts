/**
 * `backup-actions reconcile [--dry-run] [--json] [--days N] [--grace-minutes N] [--min-retention-hours N]
 * [--account ID] [--table NAME]`: finds the recovery points of the watched vaults whose AWS Backup event
 * never reached the pipeline (core/reconcile.ts) and starts the dispatcher for each, under the starter's
 * execution name. The deployment is the config's (BACKUP_ACTIONS_CONFIG): its vaults, its `<name>-ledger`
 * table and the dispatcher of the SDK's region in `--account` (default: the config's only account), named
 * as the pipeline stack names it. Region and credentials are the SDK's usual ones. The AWS SDK and the
 * config loader are imported in `run` only (cli/main.ts: `--help` loads neither).
 */
import { intOption, parse, UsageError } from "./args";
import type { Command } from "./main";
import type { ReconciliationPlan, StartResult } from "../core/reconcile";

const USAGE =
  "reconcile [--dry-run] [--json] [--days N] [--grace-minutes N] [--min-retention-hours N] [--account ID] [--table NAME]";

export const reconcileCommand: Command = {
  summary: "find recovery points whose AWS Backup event was lost and start their export",
  usage: USAGE,
  help:
    `usage: backup-actions ${USAGE}\n\n` +
    "Lists the COMPLETED recovery points of the config's backupVaults created in the last --days (default 7),\n" +
    "classifies each as the starter would, and looks it up in the ledger. Buckets: missing (started, unless\n" +
    "--dry-run), alreadyExported, running, failedBefore (not restarted), retentionTooShort (AWS Backup deletes it\n" +
    "within --min-retention-hours, default 24: reported only), tooYoung (created within --grace-minutes, default\n" +
    "60: its event may still come), skipped (the starter would not export it either). --json prints the plan.\n" +
    "Exit code 0 unless an AWS call fails.\n",
  async run(args) {
    const { values } = parse(
      args,
      {
        "dry-run": { type: "boolean" },
        json: { type: "boolean" },
        days: { type: "string" },
        "grace-minutes": { type: "string" },
        "min-retention-hours": { type: "string" },
        account: { type: "string" },
        table: { type: "string" },
      },
      { min: 0, max: 0 },
    );
    const lookBackDays = intOption(values.days, "days", 1, 365) ?? 7;
    const graceMinutes = intOption(values["grace-minutes"], "grace-minutes", 0, 10_080) ?? 60;
    const minRetentionHours = intOption(values["min-retention-hours"], "min-retention-hours", 0, 8_760) ?? 24;
    const [{ BackupClient }, { DynamoDBClient }, { SFNClient }, { loadConfig }, { dispatcherRoutesOf }, core, query] =
      await Promise.all([
        import("@aws-sdk/client-backup"),
        import("@aws-sdk/client-dynamodb"),
        import("@aws-sdk/client-sfn"),
        import("../config/load"),
        import("../config/deployment"),
        import("../core/reconcile"),
        import("../core/ledger-query"),
      ]);
    const config = loadConfig();
    const account = values.account ?? soleAccount(config.accounts.map((a) => a.id));
    const backup = new BackupClient({});
    const region = await backup.config.region();
    const deployed = config.accounts.find((a) => a.id === account);
    if (!deployed?.regions.includes(region))
      throw new UsageError(
        `the config deploys no pipeline in ${account}/${region} (accounts: ${config.accounts.map((a) => `${a.id}: ${a.regions.join(", ")}`).join("; ")})`,
      );
    const dispatcher = dispatcherRoutesOf(config, account, region).dispatchers[region]!;
    const plan = await core.planReconciliation({
      backup,
      ledger: query.ledgerStatusLookup(new DynamoDBClient({ region }), values.table ?? `${config.name}-ledger`),
      vaults: config.backupVaults,
      config,
      destination: dispatcher,
      lookBackDays,
      graceMinutes,
      minRetentionHours,
      now: new Date(),
    });
    const started = values["dry-run"]
      ? undefined
      : await core.startMissing(plan, new SFNClient({ region }), dispatcher.stateMachineArn);
    process.stdout.write(
      values.json
        ? `${JSON.stringify({ ...plan, ...(started ? { started } : {}), dryRun: values["dry-run"] === true }, null, 2)}\n`
        : formatPlan(plan, started, core.BUCKETS),
    );
    return 0;
  },
};

function soleAccount(ids: string[]): string {
  if (ids.length === 1) return ids[0]!;
  throw new UsageError(`the config deploys ${ids.length} accounts (${ids.join(", ")}): name one with --account`);
}

/** One section per bucket: its count, then one line per recovery point (ARN, type, vault, why). */
export function formatPlan(
  plan: ReconciliationPlan,
  started: readonly StartResult[] | undefined,
  buckets: readonly (keyof ReconciliationPlan & string)[],
): string {
  const lines = [`recovery points created after ${plan.createdAfter} in ${plan.vaults.join(", ")}:`];
  for (const bucket of buckets) {
    const points = plan[bucket] as ReconciliationPlan["skipped"];
    lines.push(`${bucket}: ${points.length}`);
    for (const p of points) lines.push(`  ${p.recoveryPointArn}  ${p.resourceType}  ${p.vault}  ${p.why}`);
  }
  if (started === undefined) lines.push(`dry run: started nothing (${plan.missing.length} missing)`);
  else {
    const count = (o: string) => started.filter((s) => s.outcome === o).length;
    lines.push(`started ${count("started")}, already running ${count("already-running")}`);
  }
  return `${lines.join("\n")}\n`;
}
