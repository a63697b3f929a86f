/** Creates a ledger table in moto with the key schema and index of stacks/constructs/ledger-table.ts. */
import { CreateTableCommand, type DynamoDBClient } from "@aws-sdk/client-dynamodb";
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
