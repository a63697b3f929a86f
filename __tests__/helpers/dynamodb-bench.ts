/**
 * The DynamoDB child on the pipeline bench (__tests__/helpers/pipeline-bench.ts): a source table
 * with items in moto, a backup of it (the recovery point), its record in the AWS Backup fake, and
 * the dispatcher's input for it; the resolver that runs the synthesized child as its role.
 */
import {
  CreateBackupCommand,
  CreateTableCommand,
  DeleteTableCommand,
  ListTablesCommand,
  PutItemCommand,
  TagResourceCommand,
  UpdateContinuousBackupsCommand,
} from "@aws-sdk/client-dynamodb";
import { seedRecoveryPoints } from "../../testing/backup-fake/control";
import type { AslDefinition } from "../../testing/asl";
import { TaskResolver } from "../../testing/asl";
import { dynamodbTempTablePrefix } from "../../stacks/constructs/dynamodb-export-grants";
import { ACCOUNT, Bench, REGION, resolverFor } from "./pipeline-bench";

export interface DynamoDbChild {
  readonly definition: AslDefinition;
  readonly arn: string;
}

export function dynamodbChild(bench: Bench): DynamoDbChild {
  const name = `${bench.config.name}-dynamodb-export`;
  return { definition: bench.definitionOf(name), arn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}` };
}

/** The dispatcher, the DynamoDB child (as its role) and the verify Lambda; Waits take no real time. */
export function dynamodbResolver(bench: Bench, child: DynamoDbChild): TaskResolver {
  return resolverFor(bench, () => ({})).stateMachine(child.arn, child.definition, bench.as("dynamodb-export"));
}

export interface SourceOptions {
  /** PITR switched on before the backup (window covers it), after it (window starts later), or never. */
  readonly pitr: "before" | "after" | "off";
  /** Delete the source table after the backup. */
  readonly deleteSource?: boolean;
  readonly items?: number;
  /** Tags of the source table (e.g. the moto patch's export-failure injection). */
  readonly tags?: Record<string, string>;
}

let tables = 0;

/** A table with `items` items, backed up; the backup seeded in the Backup fake; the dispatcher's input. */
export async function dynamodbRecoveryPoint(bench: Bench, options: SourceOptions) {
  const { ddb } = bench.clients;
  const table = `orders-${process.pid}-${++tables}`;
  await ddb.send(
    new CreateTableCommand({
      TableName: table,
      KeySchema: [
        { AttributeName: "pk", KeyType: "HASH" },
        { AttributeName: "sk", KeyType: "RANGE" },
      ],
      AttributeDefinitions: [
        { AttributeName: "pk", AttributeType: "S" },
        { AttributeName: "sk", AttributeType: "N" },
        { AttributeName: "status", AttributeType: "S" },
      ],
      GlobalSecondaryIndexes: [
        {
          IndexName: "by-status",
          KeySchema: [{ AttributeName: "status", KeyType: "HASH" }],
          Projection: { ProjectionType: "ALL" },
        },
      ],
      BillingMode: "PAY_PER_REQUEST",
    }),
  );
  const count = options.items ?? 5;
  for (let i = 0; i < count; i++) {
    await ddb.send(
      new PutItemCommand({
        TableName: table,
        Item: {
          pk: { S: `customer-${i % 2}` },
          sk: { N: String(i) },
          status: { S: i % 2 ? "open" : "shipped" },
          note: { S: `Bestellung ${i} · ü` },
          tags: { SS: ["a", `t${i}`] },
          blob: { B: Buffer.from([i, 255, 0]) },
        },
      }),
    );
  }
  const sourceArn = `arn:aws:dynamodb:${REGION}:123456789012:table/${table}`;
  if (options.tags)
    await ddb.send(
      new TagResourceCommand({
        ResourceArn: sourceArn,
        Tags: Object.entries(options.tags).map(([Key, Value]) => ({ Key, Value })),
      }),
    );
  const enablePitr = () =>
    ddb.send(
      new UpdateContinuousBackupsCommand({
        TableName: table,
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      }),
    );
  if (options.pitr === "before") await enablePitr();
  const backup = await ddb.send(new CreateBackupCommand({ TableName: table, BackupName: `${table}-backup` }));
  const arn = backup.BackupDetails!.BackupArn!;
  if (options.pitr === "after") {
    await new Promise((r) => setTimeout(r, 20)); // the window starts after the backup
    await enablePitr();
  }
  if (options.deleteSource) await ddb.send(new DeleteTableCommand({ TableName: table }));
  await seedRecoveryPoints([
    {
      RecoveryPointArn: arn,
      BackupVaultName: "Default",
      ResourceArn: sourceArn,
      ResourceType: "DynamoDB",
      Status: "COMPLETED",
    },
  ]);
  const backupId = arn.split("/").pop()!;
  const prefix = `dynamodb/${ACCOUNT}/${REGION}/${table}/2026/12/02/${backupId}/`;
  const input = {
    plan: { workflow: "dynamodb" },
    recoveryPoint: { arn, vault: "Default", resourceArn: sourceArn, resourceType: "DynamoDB" },
    archive: { bucket: bench.archiveBucket, prefix, url: `s3://${bench.archiveBucket}/${prefix}` },
    placementIndex: 0,
  };
  return { table, arn, prefix, input, items: count, executionName: `dynamodb-${table}` };
}

/** Temporary tables of the pipeline still in moto (must be none after every run). */
export async function leftoverTables(bench: Bench): Promise<string[]> {
  const out = await bench.clients.ddb.send(new ListTablesCommand({}));
  return (out.TableNames ?? []).filter((t) => t.startsWith(dynamodbTempTablePrefix(bench.config.name)));
}
