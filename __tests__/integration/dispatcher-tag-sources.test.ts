/**
 * The dispatcher's auto-delete reads the deletion tag where each kind of recovery point keeps it,
 * executed against the real services' emulators: an RDS DB snapshot and an Aurora cluster snapshot
 * (rds:ListTagsForResource in moto), a classic DynamoDB backup (dynamodb:ListTagsOfResource in moto)
 * and a recovery point under full AWS Backup management (backup:ListTags in the Backup fake). No
 * exporter for those types ships in this version, so the child for each workflow is a stand-in that
 * succeeds and the verify Lambda is a stand-in that passes: what is under test is the deletion branch.
 */
import { CreateBackupCommand, CreateTableCommand } from "@aws-sdk/client-dynamodb";
import {
  CreateDBClusterCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { seedRecoveryPoints, storedRecoveryPoints } from "../../testing/backup-fake/control";
import { AslDefinition, executeStateMachine, TaskResolver } from "../../testing/asl";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";
import { dispatcherDefinition } from "../../stacks/workflows/dispatcher";
import { Bench, createBench, ledgerItem, notifications, REGION } from "../helpers/pipeline-bench";

const TAG = "backup-actions:delete";
const CHILD = (workflow: string) => `arn:aws:states:${REGION}:111111111111:stateMachine:stand-in-${workflow}`;
const WORKFLOWS = ["rds", "aurora", "dynamodb"] as const;

describeWithPrereqs(
  "dispatcher auto-delete: the tag of each kind of recovery point, read with its own API",
  [...motoMissing(), ...backupFakeMissing()],
  () => {
    let bench: Bench;
    let dispatcher: AslDefinition;
    const rds = new RDSClient({ region: REGION });
    afterAll(() => rds.destroy());

    beforeAll(async () => {
      bench = await createBench();
      dispatcher = dispatcherDefinition({
        partition: "aws",
        ledgerTableName: bench.ledgerTable,
        children: Object.fromEntries(WORKFLOWS.map((w) => [w, CHILD(w)])),
        verifyFunctionArn: bench.verifyArn,
        notificationTopicArn: bench.topicArn,
        pipelineName: "ba",
        deleteRecoveryPoint: { enabled: true, requiredTag: TAG },
        childTimeoutSeconds: 3600,
      }) as unknown as AslDefinition;
    });

    async function run(workflow: string, arn: string, name: string) {
      await seedRecoveryPoints([
        { RecoveryPointArn: arn, BackupVaultName: "Default", ResourceArn: `${arn}-source`, ResourceType: workflow },
      ]);
      const tasks = new TaskResolver().lambda(bench.verifyArn, () => ({
        verified: true,
        bytes: 1,
        sha256: "0".repeat(64),
        reason: "",
        durationSeconds: null,
      }));
      for (const w of WORKFLOWS)
        tasks.stateMachine(CHILD(w), {
          StartAt: "Done",
          States: { Done: { Type: "Pass", Result: {}, End: true } },
        } as never);
      const input = {
        plan: { workflow },
        recoveryPoint: { arn, vault: "Default", resourceArn: `${arn}-source`, resourceType: workflow },
        archive: { url: `s3://${bench.archiveBucket}/${workflow}/${name}/` },
        placementIndex: 0,
      };
      const result = await executeStateMachine(dispatcher, input as never, { tasks, executionName: name });
      expect(result.status).toBe("SUCCEEDED");
      await notifications(bench);
      return {
        tasks,
        item: await ledgerItem(bench, arn),
        stored: (await storedRecoveryPoints()).some((p) => p.RecoveryPointArn === arn),
      };
    }

    const dbInstance = async (id: string) =>
      rds.send(
        new CreateDBInstanceCommand({
          DBInstanceIdentifier: id,
          Engine: "postgres",
          DBInstanceClass: "db.t3.micro",
          AllocatedStorage: 20,
          MasterUsername: "u",
          MasterUserPassword: "password1",
        }),
      );

    it.each([
      ["true", true],
      ["false", false],
    ])("RDS DB snapshot tagged %s: rds:ListTagsForResource decides (deleted: %s)", async (value, deleted) => {
      await dbInstance(`db-${value}`);
      const snapshot = await rds.send(
        new CreateDBSnapshotCommand({
          DBInstanceIdentifier: `db-${value}`,
          DBSnapshotIdentifier: `snap-${value}`,
          Tags: [{ Key: TAG, Value: value }],
        }),
      );
      const { tasks, item, stored } = await run("rds", snapshot.DBSnapshot!.DBSnapshotArn!, `rds-${value}`);
      expect(tasks.calls.filter((c) => c.stateName === "ReadDbSnapshotTag").map((c) => c.resource)).toEqual([
        "arn:aws:states:::aws-sdk:rds:listTagsForResource",
      ]);
      expect(item.recoveryPointDeleted).toBe(deleted ? true : undefined);
      expect(stored).toBe(!deleted);
    });

    it("Aurora cluster snapshot tagged true: deleted after rds:ListTagsForResource", async () => {
      await rds.send(
        new CreateDBClusterCommand({
          DBClusterIdentifier: "cluster-1",
          Engine: "aurora-postgresql",
          MasterUsername: "u",
          MasterUserPassword: "password1",
        }),
      );
      const snapshot = await rds.send(
        new CreateDBClusterSnapshotCommand({
          DBClusterIdentifier: "cluster-1",
          DBClusterSnapshotIdentifier: "cluster-snap-1",
          Tags: [{ Key: TAG, Value: "true" }],
        }),
      );
      const arn = snapshot.DBClusterSnapshot!.DBClusterSnapshotArn!;
      expect(arn).toMatch(/:cluster-snapshot:/);
      const { tasks, item, stored } = await run("aurora", arn, "aurora-true");
      expect(tasks.calls.some((c) => c.stateName === "ReadDbSnapshotTag")).toBe(true);
      expect([item.recoveryPointDeleted, stored]).toEqual([true, false]);
    });

    it("classic DynamoDB backup: read with dynamodb:ListTagsOfResource; kept, with the reason, when that API refuses it", async () => {
      await bench.clients.ddb.send(
        new CreateTableCommand({
          TableName: "orders",
          KeySchema: [{ AttributeName: "id", KeyType: "HASH" }],
          AttributeDefinitions: [{ AttributeName: "id", AttributeType: "S" }],
          BillingMode: "PAY_PER_REQUEST",
          Tags: [{ Key: TAG, Value: "true" }],
        }),
      );
      const backup = await bench.clients.ddb.send(new CreateBackupCommand({ TableName: "orders", BackupName: "b1" }));
      const arn = backup.BackupDetails!.BackupArn!;
      expect(arn).toMatch(/:table\/orders\/backup\//);
      const { tasks, item, stored } = await run("dynamodb", arn, "dynamodb-classic");
      expect(tasks.calls.filter((c) => c.stateName === "ReadDynamoDbBackupTag").map((c) => c.resource)).toEqual([
        "arn:aws:states:::aws-sdk:dynamodb:listTagsOfResource",
      ]);
      // moto 5.2.1 answers ListTagsOfResource only for tables (ResourceNotFoundException for a backup's
      // ARN), which is what DynamoDB's API reference documents for it: never consent, the reason is kept.
      expect(item.recoveryPointDeleted).toBeUndefined();
      expect(item.recoveryPointNotDeletedReason).toMatch(/^DynamoDb\.ResourceNotFoundException: /);
      expect(stored).toBe(true);
    });

    it("recovery point under full AWS Backup management: backup:ListTags decides", async () => {
      const arn = "arn:aws:backup:us-east-1:111111111111:recovery-point:0f2b8c1e-advanced-ddb";
      await seedRecoveryPoints([
        {
          RecoveryPointArn: arn,
          BackupVaultName: "Default",
          ResourceArn: "arn:aws:dynamodb:us-east-1:111111111111:table/orders",
          ResourceType: "DynamoDB",
          Tags: { [TAG]: "true" },
        },
      ]);
      const { tasks, item, stored } = await run("dynamodb", arn, "dynamodb-advanced");
      expect(tasks.calls.filter((c) => c.stateName === "ReadBackupRecoveryPointTag").map((c) => c.resource)).toEqual([
        "arn:aws:states:::aws-sdk:backup:listTags",
      ]);
      expect([item.recoveryPointDeleted, stored]).toEqual([true, false]);
    });

    it("a recovery point ARN no API reads tags of is kept, with the reason", async () => {
      const arn = "arn:aws:elasticfilesystem:us-east-1:111111111111:file-system/fs-0123";
      const { item, stored } = await run("rds", arn, "unknown-kind");
      expect(item.recoveryPointNotDeletedReason).toBe(`no API reads the tags of recovery point ${arn}`);
      expect(stored).toBe(true);
    });
  },
);
