/**
 * Reading the ledger: the most recent exports, newest first, through the
 * `by-status-started` index (one Query per status, merged), never a table Scan.
 */
import { DynamoDBClient, GetItemCommand, QueryCommand, AttributeValue } from "@aws-sdk/client-dynamodb";
import { LEDGER_PARTITION_KEY, LEDGER_RECENT_INDEX, LEDGER_STATUSES, LedgerRecord, LedgerStatus } from "./ledger";

export interface RecentQuery {
  readonly table: string;
  /** @default every status */
  readonly statuses?: readonly LedgerStatus[];
  /** @default 20 */
  readonly limit?: number;
}

function plain(item: Record<string, AttributeValue>): LedgerRecord {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(item)) out[k] = v.S ?? (v.N !== undefined ? Number(v.N) : v.BOOL);
  return out as unknown as LedgerRecord;
}

export async function recentExports(ddb: DynamoDBClient, q: RecentQuery): Promise<LedgerRecord[]> {
  const limit = q.limit ?? 20;
  if (!Number.isInteger(limit) || limit < 1) throw new Error(`limit must be a positive integer (got ${limit})`);
  const statuses = q.statuses ?? LEDGER_STATUSES;
  const pages = await Promise.all(
    statuses.map(async (status) => {
      const out = await ddb.send(
        new QueryCommand({
          TableName: q.table,
          IndexName: LEDGER_RECENT_INDEX.name,
          KeyConditionExpression: "#s = :s",
          ExpressionAttributeNames: { "#s": LEDGER_RECENT_INDEX.partitionKey },
          ExpressionAttributeValues: { ":s": { S: status } },
          ScanIndexForward: false,
          Limit: limit,
        }),
      );
      return (out.Items ?? []).map(plain);
    }),
  );
  return pages
    .flat()
    .sort((a, b) => (a.startedAt < b.startedAt ? 1 : a.startedAt > b.startedAt ? -1 : 0))
    .slice(0, limit);
}

/** A fixed-width table for terminals: status, start, size, recovery point, reason or archive. */
export function formatLedger(records: readonly LedgerRecord[]): string {
  if (records.length === 0) return "no exports recorded\n";
  const size = (b?: number) =>
    b === undefined ? "-" : b >= 1 << 30 ? `${(b / (1 << 30)).toFixed(1)} GiB` : `${(b / (1 << 20)).toFixed(1)} MiB`;
  const rows = records.map((r) => [
    r.status,
    r.startedAt,
    size(r.bytes),
    r.recoveryPointArn,
    r.failureReason ?? r.archiveUrl ?? "",
  ]);
  const header = ["STATUS", "STARTED", "SIZE", "RECOVERY POINT", "ARCHIVE / REASON"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.slice().map((r) => (i < 4 ? r[i]!.length : 0))));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i < 4 ? c.padEnd(widths[i]!) : c))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n") + "\n";
}

/**
 * The ledger status of one recovery point (null: no record), read with a consistent GetItem
 * on the table's key: what the reconciler checks before it starts an export.
 */
export function ledgerStatusLookup(ddb: DynamoDBClient, table: string) {
  return async (recoveryPointArn: string): Promise<LedgerStatus | null> => {
    const out = await ddb.send(
      new GetItemCommand({
        TableName: table,
        Key: { [LEDGER_PARTITION_KEY]: { S: recoveryPointArn } },
        ProjectionExpression: "#s",
        ExpressionAttributeNames: { "#s": "status" },
        ConsistentRead: true,
      }),
    );
    const status = out.Item?.status?.S;
    if (status === undefined) return null;
    if (!(LEDGER_STATUSES as readonly string[]).includes(status))
      throw new Error(
        `ledger ${table}: ${recoveryPointArn} has status ${JSON.stringify(status)}, not one of ${LEDGER_STATUSES.join(", ")}`,
      );
    return status as LedgerStatus;
  };
}

/** Every SUCCEEDED record, newest first, page by page through the `by-status-started` index (the restore drill's pool). */
export async function succeededExports(ddb: DynamoDBClient, table: string): Promise<LedgerRecord[]> {
  const out: LedgerRecord[] = [];
  let start: Record<string, AttributeValue> | undefined;
  do {
    const page = await ddb.send(
      new QueryCommand({
        TableName: table,
        IndexName: LEDGER_RECENT_INDEX.name,
        KeyConditionExpression: "#s = :s",
        ExpressionAttributeNames: { "#s": LEDGER_RECENT_INDEX.partitionKey },
        ExpressionAttributeValues: { ":s": { S: "SUCCEEDED" } },
        ScanIndexForward: false,
        ExclusiveStartKey: start,
      }),
    );
    out.push(...(page.Items ?? []).map(plain));
    start = page.LastEvaluatedKey;
  } while (start);
  return out;
}
