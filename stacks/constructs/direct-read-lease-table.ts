/**
 * The direct read's lease table (ADR 0008, batch-worker/src/rate-lease.ts): one item per running direct-read job,
 * renewed every few seconds, so the jobs share the account's GetSnapshotBlock budget by the number that run.
 * Made only with worker.readPath "direct". Its items are Batch job ids and expiry times, nothing else: no point-in-time
 * recovery, no deletion protection (losing it costs at most one lease TTL of static shares), and the AWS owned key
 * (nothing secret to guard with the pipeline key, and no KMS permission or request per call for the worker).
 */
import { DynamodbTable } from "@cdktf/provider-aws/lib/dynamodb-table";
import { Construct } from "constructs";
import { DIRECT_READ_LEASES } from "../../core/direct-read";

export interface DirectReadLeaseTableProps {
  /** Table name: directReadLeaseTableName(<pipeline name>). */
  readonly tableName: string;
}

export class DirectReadLeaseTable extends Construct {
  public readonly table: DynamodbTable;
  public readonly tableName: string;
  public readonly tableArn: string;

  constructor(scope: Construct, id: string, props: DirectReadLeaseTableProps) {
    super(scope, id);
    this.table = new DynamodbTable(this, "this", {
      name: props.tableName,
      billingMode: "PAY_PER_REQUEST",
      hashKey: DIRECT_READ_LEASES.partitionKey,
      rangeKey: DIRECT_READ_LEASES.sortKey,
      attribute: [
        { name: DIRECT_READ_LEASES.partitionKey, type: "S" },
        { name: DIRECT_READ_LEASES.sortKey, type: "S" },
      ],
      // Cleanup only: TTL deletes expired items within days, so readers filter on expiresAt themselves.
      ttl: { attributeName: DIRECT_READ_LEASES.expiresAt, enabled: true },
    });
    this.tableName = props.tableName;
    this.tableArn = this.table.arn;
  }
}
