/**
 * The native dump end to end with a real database: the dispatcher runs the RDS child (format "dump") against
 * moto, and the Batch job is the worker's own `dump-database` — its flag parser, its SSM password read as the
 * job's role, and its real pg_dump into the archive on moto's S3 — against PostgreSQL 15 on loopback standing
 * for the restored instance (testing/databases.ts). RDS applies the master password the password function
 * set: here the job stand-in sets the server's admin password to the parameter's value before the dump, so
 * the dump connects only if the password it read from SSM is the one the function stored. The verify Lambda
 * then checks the real manifest; the instance and the parameter are gone afterwards.
 */
import { DescribeDBInstancesCommand } from "@aws-sdk/client-rds";
import { DescribeParametersCommand, GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { dumpDatabases } from "../../batch-worker/src/dump-database";
import { parseDumpJob, ssmParameterReader, withPassword } from "../../batch-worker/src/dump-job";
import { TEMPORARY_DB_PREFIX } from "../../core/rds-identifier";
import { executeStateMachine, type BatchJob } from "../../testing/asl";
import { databasePrerequisites, POSTGRES_BIN, startPostgres, type TestServer } from "../../testing/databases";
import { recording } from "../../testing/iam/recorder";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";
import { RdsExportFake } from "../../testing/rds-export-fake";
import { ledgerItem, REGION } from "../helpers/pipeline-bench";
import { createRdsBench, databaseRecoveryPoint, databaseResolver, type RdsBench } from "../helpers/rds-bench";

const missing = [...motoMissing(), ...backupFakeMissing(), ...databasePrerequisites()];

describeWithPrereqs("RDS native dump of a real PostgreSQL server, executed", missing, () => {
  jest.setTimeout(120_000);
  let bench: RdsBench;
  let server: TestServer;
  const ssm = new SSMClient({ region: REGION });
  const savedBin = process.env.BACKUP_ACTIONS_POSTGRES_BIN;

  beforeAll(async () => {
    process.env.BACKUP_ACTIONS_POSTGRES_BIN = POSTGRES_BIN;
    server = await startPostgres();
    server.sql("CREATE DATABASE shop");
    server.sql(
      "CREATE TABLE orders (id int PRIMARY KEY, item text); INSERT INTO orders VALUES (1, 'tea'), (2, 'cake');",
      "shop",
    );
    bench = await createRdsBench("dump");
  });
  afterAll(async () => {
    await server?.stop();
    if (savedBin === undefined) delete process.env.BACKUP_ACTIONS_POSTGRES_BIN;
    else process.env.BACKUP_ACTIONS_POSTGRES_BIN = savedBin;
  });

  it("dumps the restored instance with the password from SSM into the archive, verifies it and deletes instance and parameter", async () => {
    const rp = await databaseRecoveryPoint(bench, { kind: "rds", engine: "postgres" });
    const seen: string[] = [];
    const job = async (j: BatchJob) => {
      const command = (j.request.ContainerOverrides as { Command: string[] }).Command;
      const parsed = parseDumpJob(command.slice(1), {});
      // RDS applied the master password the function set: the server gets the parameter's value (set-up, not the job).
      const stored = (
        await ssm.send(new GetParameterCommand({ Name: parsed.passwordParameter!, WithDecryption: true }))
      ).Parameter!.Value!;
      server.sql(`ALTER ROLE ${server.user} PASSWORD '${stored.replace(/'/g, "''")}'`);
      const options = await withPassword(parsed, () =>
        ssmParameterReader(recording(new SSMClient({ region: REGION }))),
      );
      seen.push(options.connection.host);
      // The restored instance's endpoint is moto's name: the job reaches the loopback server in its place.
      await dumpDatabases({ ...options, connection: { ...options.connection, host: server.host, port: server.port } });
    };

    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks: databaseResolver(bench, new RdsExportFake(bench.clients.s3), job),
      executionName: rp.input.plan.executionName!,
    });

    expect(result.status).toBe("SUCCEEDED");
    expect(seen).toEqual([expect.stringMatching(/^dump-[0-9a-f]{32}\./)]);
    const ledger = await ledgerItem(bench, rp.arn);
    expect(ledger).toMatchObject({ status: "SUCCEEDED", workflow: "rds", archiveUrl: rp.input.archive.url });
    const keys = (
      await bench.clients.s3.send(
        new ListObjectsV2Command({ Bucket: bench.archiveBucket, Prefix: rp.input.archive.prefix }),
      )
    ).Contents!.map((o) => o.Key!.slice(rp.input.archive.prefix.length));
    expect(keys).toEqual(expect.arrayContaining(["manifest.json", expect.stringMatching(/shop\.pgdump\.zst$/)]));
    const instances = (await bench.rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? [];
    expect(instances.filter((i) => i.DBInstanceIdentifier!.startsWith(TEMPORARY_DB_PREFIX))).toEqual([]);
    const parameters = await ssm.send(
      new DescribeParametersCommand({
        ParameterFilters: [{ Key: "Name", Option: "BeginsWith", Values: [bench.dumpParameterPath] }],
      }),
    );
    expect(parameters.Parameters).toEqual([]);
  });
});
