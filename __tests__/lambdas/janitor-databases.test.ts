/**
 * The janitor's sweep of what the native dump leaked (lambdas/janitor/databases.ts) against moto: only
 * instances and clusters with the dump prefix AND the pipeline tag, only parameters under the pipeline's
 * dump path, only once older than the limit; everything else is kept, with the reason.
 */
import {
  CreateDBClusterCommand,
  CreateDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { DescribeParametersCommand, PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { sweepDatabases } from "../../lambdas/janitor/databases";
import { dumpParameterPath } from "../../core/rds-identifier";
import { motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";
import { withCapturedLogs } from "../helpers/logs";

const TAG = { key: "backup-actions:pipeline", value: "janitor-db-test" };
const PATH = dumpParameterPath("janitor-db-test");
const RP = "arn:aws:rds:us-east-1:111111111111:snapshot:awsbackup:job-0b1c2d3e-0000-4000-8000-000000000001";

describeWithPrereqs("janitor: leaked temporary databases and password parameters in moto", motoMissing(), () => {
  const rds = new RDSClient({ region: "us-east-1" });
  const ssm = new SSMClient({ region: "us-east-1" });
  afterAll(() => {
    rds.destroy();
    ssm.destroy();
  });
  const tags = (value = TAG.value) => [
    { Key: TAG.key, Value: value },
    { Key: "backup-actions:recovery-point", Value: RP },
  ];
  const instance = (id: string, t: { Key: string; Value: string }[], cluster?: string) =>
    rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: id,
        DBInstanceClass: cluster ? "db.r6g.large" : "db.t4g.medium",
        Engine: cluster ? "aurora-postgresql" : "postgres",
        ...(cluster
          ? { DBClusterIdentifier: cluster }
          : { AllocatedStorage: 20, MasterUsername: "admin", MasterUserPassword: "not-a-secret-1" }),
        Tags: t,
      }),
    );
  const instances = async () =>
    ((await rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? []).map((i) => i.DBInstanceIdentifier);
  const clusters = async () =>
    ((await rds.send(new DescribeDBClustersCommand({}))).DBClusters ?? []).map((c) => c.DBClusterIdentifier);
  const parameters = async () =>
    ((await ssm.send(new DescribeParametersCommand({}))).Parameters ?? []).map((p) => p.Name);
  const sweep = (now: Date) =>
    withCapturedLogs((logger) =>
      sweepDatabases({ rds, ssm, now: () => now, logger }, { pipelineTag: TAG, maxAgeHours: 30, parameterPath: PATH }),
    );

  beforeAll(async () => {
    await instance("dump-0123456789abcdef0123456789abcdef", tags());
    await instance("dump-ffffffffffffffffffffffffffffffff", tags("another-install"));
    await instance("orders-db", tags());
    await rds.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: "dump-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
        Engine: "aurora-postgresql",
        MasterUsername: "admin",
        MasterUserPassword: "not-a-secret-1",
        Tags: tags(),
      }),
    );
    await instance("dump-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", tags(), "dump-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    for (const name of [`${PATH}dump-0123456789abcdef0123456789abcdef`, "/backup-actions/other/dump/dump-1"])
      await ssm.send(new PutParameterCommand({ Name: name, Value: "x", Type: "SecureString" }));
  });

  it("keeps everything younger than the limit", async () => {
    const { result } = await sweep(new Date());
    expect(result.deleted).toEqual([]);
    expect(result.kept).toEqual(
      expect.arrayContaining([
        { resource: "db:dump-0123456789abcdef0123456789abcdef", reason: "younger than 30 h" },
        { resource: "cluster:dump-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", reason: "younger than 30 h" },
        { resource: `parameter:${PATH}dump-0123456789abcdef0123456789abcdef`, reason: "younger than 30 h" },
      ]),
    );
  });

  it("deletes the pipeline's leaked instance, Aurora instance and cluster, and parameter once older", async () => {
    const { result, lines } = await sweep(new Date(Date.now() + 31 * 3600_000));
    expect(result.deleted).toEqual([
      "db:dump-0123456789abcdef0123456789abcdef",
      "db:dump-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      "cluster:dump-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
      `parameter:${PATH}dump-0123456789abcdef0123456789abcdef`,
    ]);
    expect(result.kept).toEqual([{ resource: "db:dump-ffffffffffffffffffffffffffffffff", reason: "no pipeline tag" }]);
    expect(result.failed).toEqual([]);
    expect(await instances()).toEqual(expect.arrayContaining(["dump-ffffffffffffffffffffffffffffffff", "orders-db"]));
    expect(await instances()).not.toContain("dump-0123456789abcdef0123456789abcdef");
    expect(await clusters()).not.toContain("dump-aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa");
    expect(await parameters()).toEqual(["/backup-actions/other/dump/dump-1"]);
    // Each line about a resource names it and the recovery point it was restored from.
    expect(lines).toContainEqual(
      expect.objectContaining({
        message: "deleted leaked temporary database resource",
        resource: "db:dump-0123456789abcdef0123456789abcdef",
        recoveryPointArn: RP,
      }),
    );
  });
});
