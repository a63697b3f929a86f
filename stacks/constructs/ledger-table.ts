/**
 * The ledger table: one item per recovery point (see `LedgerRecord` in core/ledger.ts),
 * on-demand, point-in-time recovery on, deletion protection on — it is the record of
 * what was archived and what may be deleted, so it must outlive a careless `destroy`.
 */
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { Construct } from "constructs";
import { LEDGER_PARTITION_KEY, LEDGER_RECENT_INDEX } from "../../core/ledger";

export interface LedgerTableProps {
  /** Table name, e.g. `<name>-ledger`. */
  readonly tableName: string;
  /**
   * KMS key for server-side encryption (the pipeline key).
   * @default none: encrypted with the AWS owned key (no key policy to get wrong, no KMS cost)
   */
  readonly kmsKeyArn?: string;
  /** Refuse `DeleteTable` until this is turned off. @default true */
  readonly deletionProtection?: boolean;
}

export class LedgerTable extends Construct {
  public readonly table: DynamodbTable;
  public readonly tableName: string;
  public readonly tableArn: string;
  /** Name of the `status` + `startedAt` index for "recent exports". */
  public readonly recentIndexName: string = LEDGER_RECENT_INDEX.name;

  constructor(scope: Construct, id: string, props: LedgerTableProps) {
    super(scope, id);
    const deletionProtection = props.deletionProtection ?? true;

    this.table = new DynamodbTable(this, "this", {
      name: props.tableName,
      billingMode: "PAY_PER_REQUEST",
      hashKey: LEDGER_PARTITION_KEY,
      // Only key attributes are declared; the rest of LedgerRecord is schemaless.
      attribute: [
        { name: LEDGER_PARTITION_KEY, type: "S" },
        { name: LEDGER_RECENT_INDEX.partitionKey, type: "S" },
        { name: LEDGER_RECENT_INDEX.sortKey, type: "S" },
      ],
      globalSecondaryIndex: [
        {
          name: LEDGER_RECENT_INDEX.name,
          hashKey: LEDGER_RECENT_INDEX.partitionKey,
          rangeKey: LEDGER_RECENT_INDEX.sortKey,
          projectionType: "ALL", // the CLI lists whole records; items are small
        },
      ],
      pointInTimeRecovery: { enabled: true },
      // Without a key the block is left out: DynamoDB then uses its AWS owned key.
      serverSideEncryption: props.kmsKeyArn ? { enabled: true, kmsKeyArn: props.kmsKeyArn } : undefined,
      deletionProtectionEnabled: deletionProtection,
    });
    this.tableName = this.table.name;
    this.tableArn = this.table.arn;
  }
}
