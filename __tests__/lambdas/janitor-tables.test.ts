/**
 * The janitor's sweep of leaked temporary DynamoDB tables (lambdas/janitor/tables.ts) against
 * moto: only tables with the child's name prefix AND the pipeline tag, only once older than the
 * limit; everything else is kept, with the reason.
 */
import { CreateTableCommand, DynamoDBClient, ListTablesCommand } from "@aws-sdk/client-dynamodb";
import { sweepTables } from "../../lambdas/janitor/tables";
import { motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";
import { withCapturedLogs } from "../helpers/logs";

const TAG = { key: "backup-actions:pipeline", value: "janitor-test" };
const PREFIX = "janitor-test-restore-";

describeWithPrereqs("janitor: leaked temporary DynamoDB tables in moto", motoMissing(), () => {
  const ddb = new DynamoDBClient({ region: "us-east-1" });
  afterAll(() => ddb.destroy());
  const create = (name: string, tags: Array<{ Key: string; Value: string }>) =>
    ddb.send(
      new CreateTableCommand({
        TableName: name,
        KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
        AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
        BillingMode: "PAY_PER_REQUEST",
        ...(tags.length > 0 ? { Tags: tags } : {}),
      }),
    );
  const tables = async () => (await ddb.send(new ListTablesCommand({}))).TableNames ?? [];
  const sweep = (now: Date) =>
    withCapturedLogs((logger) =>
      sweepTables({ ddb, now: () => now, logger }, { tablePrefix: PREFIX, pipelineTag: TAG, maxAgeHours: 30 }),
    );

  beforeAll(async () => {
    await create(`${PREFIX}leaked`, [
      { Key: TAG.key, Value: TAG.value },
      {
        Key: "backup-actions:recovery-point",
        Value: "arn:aws:dynamodb:us-east-1:1:table/t/backup/01700000000000-abcd1234",
      },
    ]);
    await create(`${PREFIX}untagged`, []);
    await create(`${PREFIX}other-pipeline`, [{ Key: TAG.key, Value: "another-install" }]);
    await create("orders", [{ Key: TAG.key, Value: TAG.value }]);
  });

  it("keeps every table younger than the limit", async () => {
    const { result } = await sweep(new Date());
    expect(result.deleted).toEqual([]);
    expect(result.kept).toContainEqual({ table: `${PREFIX}leaked`, reason: "younger than 30 h" });
  });

  it("deletes the prefixed, tagged table once older, and keeps the others with their reason", async () => {
    const { result, lines } = await sweep(new Date(Date.now() + 31 * 3600_000));
    expect(result.deleted).toEqual([`${PREFIX}leaked`]);
    expect(result.kept).toEqual(
      expect.arrayContaining([
        { table: `${PREFIX}untagged`, reason: "no pipeline tag" },
        { table: `${PREFIX}other-pipeline`, reason: "no pipeline tag" },
      ]),
    );
    expect(await tables()).toEqual(expect.arrayContaining(["orders", `${PREFIX}untagged`, `${PREFIX}other-pipeline`]));
    expect(await tables()).not.toContain(`${PREFIX}leaked`);
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: "deleted leaked temporary table",
        recoveryPointId: expect.any(String),
        table: `${PREFIX}leaked`,
      }),
    );
  });
});
