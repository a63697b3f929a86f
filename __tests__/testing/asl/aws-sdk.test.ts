/**
 * aws-sdk:* and optimized integrations in local mode go through the real SDK v3 clients to moto
 * (AWS_ENDPOINT_URL), so the state machine's calls create and read real moto resources.
 */
import { CreateTableCommand, DeleteTableCommand, DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DescribeVolumesCommand, EC2Client } from "@aws-sdk/client-ec2";
import { randomUUID } from "node:crypto";
import { AslDefinition, executeStateMachine } from "../../../testing/asl";
import { describeWithMoto } from "./moto-prerequisite";

describeWithMoto("aws-sdk tasks forwarded to moto (local mode)", () => {
  test("ec2:createVolume then ec2:describeVolumes create and read a real volume", async () => {
    const definition: AslDefinition = {
      StartAt: "Create",
      States: {
        Create: {
          Type: "Task",
          Resource: "arn:aws:states:::aws-sdk:ec2:createVolume",
          Parameters: {
            AvailabilityZone: "us-east-1a",
            VolumeType: "gp3",
            Size: 2,
            TagSpecifications: [
              { ResourceType: "volume", Tags: [{ Key: "backup-actions:execution", "Value.$": "$$.Execution.Name" }] },
            ],
          },
          ResultSelector: { "volumeId.$": "$.VolumeId" },
          ResultPath: "$.created",
          Next: "Describe",
        },
        Describe: {
          Type: "Task",
          Resource: "arn:aws:states:::aws-sdk:ec2:describeVolumes",
          Parameters: { "VolumeIds.$": "States.Array($.created.volumeId)" },
          ResultSelector: { "volume.$": "$.Volumes[0]" },
          End: true,
        },
      },
    };
    const ec2 = new EC2Client({});
    const executionName = `exec-${randomUUID()}`;

    const result = await executeStateMachine(definition, {}, { executionName });

    try {
      expect(result.status).toBe("SUCCEEDED");
      const volume = (
        result.output as {
          volume: { VolumeId: string; Size: number; VolumeType: string; CreateTime: string; Tags: unknown[] };
        }
      ).volume;
      expect(volume).toMatchObject({
        Size: 2,
        VolumeType: "gp3",
        Tags: [{ Key: "backup-actions:execution", Value: executionName }],
      });
      expect(volume.CreateTime).toMatch(/^\d{4}-\d\d-\d\dT/);
      // The volume really exists in moto.
      const seen = await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volume.VolumeId] }));
      expect(seen.Volumes?.[0]?.VolumeId).toBe(volume.VolumeId);
    } finally {
      ec2.destroy();
    }
  });

  test("modeled errors are named <Service>.<Name>Exception as Step Functions names them", async () => {
    const definition: AslDefinition = {
      StartAt: "Snap",
      States: {
        Snap: {
          Type: "Task",
          Resource: "arn:aws:states:::aws-sdk:rds:describeDBSnapshots",
          Parameters: { DBSnapshotIdentifier: "nope" },
          End: true,
        },
      },
    };
    const result = await executeStateMachine(definition, {});
    expect(result.error).toBe("Rds.DbSnapshotNotFoundException");
    expect(result.cause).toContain("Error Code: DBSnapshotNotFoundFault");
  });

  describe("DynamoDB condition failures", () => {
    const dynamodb = new DynamoDBClient({});
    const table = `asl-ledger-${randomUUID()}`;
    beforeAll(async () => {
      await dynamodb.send(
        new CreateTableCommand({
          TableName: table,
          BillingMode: "PAY_PER_REQUEST",
          AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
          KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        }),
      );
    });
    afterAll(async () => {
      await dynamodb.send(new DeleteTableCommand({ TableName: table }));
      dynamodb.destroy();
    });

    const putTwice = (resource: string): AslDefinition => ({
      StartAt: "First",
      States: {
        First: {
          Type: "Task",
          Resource: resource,
          Parameters: {
            TableName: table,
            Item: { pk: { "S.$": "$.id" } },
            ConditionExpression: "attribute_not_exists(pk)",
          },
          ResultPath: null,
          Next: "Second",
        },
        Second: {
          Type: "Task",
          Resource: resource,
          Parameters: {
            TableName: table,
            Item: { pk: { "S.$": "$.id" } },
            ConditionExpression: "attribute_not_exists(pk)",
          },
          End: true,
        },
      },
    });

    test("aws-sdk:dynamodb:putItem → DynamoDb.ConditionalCheckFailedException", async () => {
      const result = await executeStateMachine(putTwice("arn:aws:states:::aws-sdk:dynamodb:putItem"), { id: "a" });
      expect(result).toMatchObject({ status: "FAILED", error: "DynamoDb.ConditionalCheckFailedException" });
    });

    test("optimized dynamodb:putItem → DynamoDB.ConditionalCheckFailedException", async () => {
      const result = await executeStateMachine(putTwice("arn:aws:states:::dynamodb:putItem"), { id: "b" });
      expect(result).toMatchObject({ status: "FAILED", error: "DynamoDB.ConditionalCheckFailedException" });
      expect(result.history.filter((e) => e.type === "TaskSucceeded")).toHaveLength(1);
    });
  });
});
