/** Creates a ledger table in moto with the key schema and index of stacks/constructs/ledger-table.ts. */
import { CreateTableCommand, type DynamoDBClient, UpdateTimeToLiveCommand } from "@aws-sdk/client-dynamodb";
import { DIRECT_READ_LEASES } from "../../core/direct-read";
import { LEDGER_PARTITION_KEY, LEDGER_RECENT_INDEX } from "../../core/ledger";

export async function createLedgerTable(ddb: DynamoDBClient, tableName: string): Promise<void> {
  await ddb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [{ AttributeName: LEDGER_PARTITION_KEY, KeyType: "HASH" }],
      AttributeDefinitions: [
        { AttributeName: LEDGER_PARTITION_KEY, AttributeType: "S" },
        { AttributeName: LEDGER_RECENT_INDEX.partitionKey, AttributeType: "S" },
        { AttributeName: LEDGER_RECENT_INDEX.sortKey, AttributeType: "S" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: LEDGER_RECENT_INDEX.name,
          KeySchema: [
            { AttributeName: LEDGER_RECENT_INDEX.partitionKey, KeyType: "HASH" },
            { AttributeName: LEDGER_RECENT_INDEX.sortKey, KeyType: "RANGE" },
          ],
          Projection: { ProjectionType: "ALL" },
        },
      ],
    }),
  );
}

/** Creates a direct-read lease table in moto as stacks/constructs/direct-read-lease-table.ts declares it. */
export async function createLeaseTable(ddb: DynamoDBClient, tableName: string): Promise<void> {
  await ddb.send(
    new CreateTableCommand({
      TableName: tableName,
      BillingMode: "PAY_PER_REQUEST",
      KeySchema: [
        { AttributeName: DIRECT_READ_LEASES.partitionKey, KeyType: "HASH" },
        { AttributeName: DIRECT_READ_LEASES.sortKey, KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: DIRECT_READ_LEASES.partitionKey, AttributeType: "S" },
        { AttributeName: DIRECT_READ_LEASES.sortKey, AttributeType: "S" },
      ],
    }),
  );
  await ddb.send(
    new UpdateTimeToLiveCommand({
      TableName: tableName,
      TimeToLiveSpecification: { AttributeName: DIRECT_READ_LEASES.expiresAt, Enabled: true },
    }),
  );
}
