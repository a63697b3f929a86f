/**
 * `backup-actions ledger [--table NAME] [--status S]... [--limit N] [--json]`: the most
 * recent exports of a pipeline, newest first. The table defaults to the config's
 * `<name>-ledger` (BACKUP_ACTIONS_CONFIG); region and credentials are the SDK's usual ones.
 * The AWS SDK and the config loader are imported in `run` only (cli/main.ts: `--help` loads neither).
 */
import { LEDGER_STATUSES, LedgerStatus } from "../core/ledger";
import { intOption, parse, UsageError } from "./args";
import type { Command } from "./main";

export const ledgerCommand: Command = {
  summary: "list recent exports from the ledger (newest first)",
  usage: `ledger [--table NAME] [--status ${LEDGER_STATUSES.join("|")}]... [--limit N] [--json]`,
  async run(args) {
    const { values } = parse(
      args,
      {
        table: { type: "string" },
        status: { type: "string", multiple: true },
        limit: { type: "string" },
        json: { type: "boolean" },
      },
      { min: 0, max: 0 },
    );
    const statuses = (values.status ?? []).map((s) => {
      const upper = s.toUpperCase();
      if (!(LEDGER_STATUSES as readonly string[]).includes(upper))
        throw new UsageError(`--status must be one of ${LEDGER_STATUSES.join(", ")}, got "${s}"`);
      return upper as LedgerStatus;
    });
    const limit = intOption(values.limit, "limit", 1, 1000) ?? 20;
    const [{ DynamoDBClient }, { loadConfig }, { formatLedger, recentExports }] = await Promise.all([
      import("@aws-sdk/client-dynamodb"),
      import("../config/load"),
      import("../core/ledger-query"),
    ]);
    const table = values.table ?? `${loadConfig().name}-ledger`;
    const records = await recentExports(new DynamoDBClient({}), {
      table,
      statuses: statuses.length > 0 ? statuses : undefined,
      limit,
    });
    process.stdout.write(values.json ? `${JSON.stringify(records, null, 2)}\n` : formatLedger(records));
    return 0;
  },
};
