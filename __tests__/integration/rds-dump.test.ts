/**
 * The native-dump branch (stacks/workflows/rds-dump.ts) of the RDS and Aurora children, as the pipeline
 * stack synthesizes them (format "dump"), run by the dispatcher against moto: real restores, waits, the
 * password function's real logic (SSM SecureString, ModifyDBInstance / ModifyDBCluster), deletes. The
 * Batch job is the worker's own `dump-database` flag parser and password reader (--password-parameter,
 * SSM GetParameter as the worker's job role) in place of the container; it then writes an archive as the
 * dump would (the real dump against a real server is __tests__/batch-worker/database-dump.test.ts).
 * After every run: no temporary instance, cluster or password parameter is left in moto.
 */
import {
  DeleteDBClusterCommand,
  DeleteDBInstanceCommand,
  DescribeDBClustersCommand,
  DescribeDBInstancesCommand,
} from "@aws-sdk/client-rds";
import { DeleteParameterCommand, DescribeParametersCommand, SSMClient } from "@aws-sdk/client-ssm";
import { PASSWORD_ALPHABET } from "../../core/dump-password";
import { TEMPORARY_DB_PREFIX } from "../../core/rds-identifier";
import { executeStateMachine, type BatchJob, type TaskResolver } from "../../testing/asl";
import { backupFakeMissing, motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";
import { RdsExportFake } from "../../testing/rds-export-fake";
import { ledgerItem, notifications, REGION } from "../helpers/pipeline-bench";
import {
  createRdsBench,
  databaseRecoveryPoint,
  databaseResolver,
  dumpJobStandIn,
  type DumpJobSeen,
  type RdsBench,
} from "../helpers/rds-bench";

const missing = [...motoMissing(), ...backupFakeMissing()];

describeWithPrereqs("RDS and Aurora exports as native dumps, executed", missing, () => {
  let bench: RdsBench;
  const ssm = new SSMClient({ region: REGION });
  beforeAll(async () => {
    bench = await createRdsBench("dump");
  });

  const temporaryInstances = async () =>
    ((await bench.rds.send(new DescribeDBInstancesCommand({}))).DBInstances ?? []).filter((i) =>
      i.DBInstanceIdentifier!.startsWith(TEMPORARY_DB_PREFIX),
    );
  const temporaryClusters = async () =>
    ((await bench.rds.send(new DescribeDBClustersCommand({}))).DBClusters ?? []).filter((c) =>
      c.DBClusterIdentifier!.startsWith(TEMPORARY_DB_PREFIX),
    );
  const passwordParameters = async () =>
    (
      (
        await ssm.send(
          new DescribeParametersCommand({
            ParameterFilters: [{ Key: "Name", Option: "BeginsWith", Values: [bench.dumpParameterPath] }],
          }),
        )
      ).Parameters ?? []
    ).map((p) => p.Name!);
  const leftovers = async () => ({
    instances: (await temporaryInstances()).map((i) => i.DBInstanceIdentifier),
    clusters: (await temporaryClusters()).map((c) => c.DBClusterIdentifier),
    parameters: await passwordParameters(),
  });
  const nothingLeft = { instances: [], clusters: [], parameters: [] };

  // A test that leaks fails on its own assertion; the next one starts clean.
  afterEach(async () => {
    for (const i of await temporaryInstances())
      await bench.rds.send(
        new DeleteDBInstanceCommand({ DBInstanceIdentifier: i.DBInstanceIdentifier!, SkipFinalSnapshot: true }),
      );
    for (const c of await temporaryClusters())
      await bench.rds.send(
        new DeleteDBClusterCommand({ DBClusterIdentifier: c.DBClusterIdentifier!, SkipFinalSnapshot: true }),
      );
    for (const name of await passwordParameters()) await ssm.send(new DeleteParameterCommand({ Name: name }));
  });

  type Seen = DumpJobSeen;
  const dumpJob = (seen: Seen[], fail?: string) => dumpJobStandIn(bench, seen, fail);

  const run = async (
    kind: "rds" | "aurora",
    engine: string,
    worker: (job: BatchJob) => Promise<unknown>,
    prepare: (tasks: TaskResolver) => void = () => undefined,
  ) => {
    const rp = await databaseRecoveryPoint(bench, { kind, engine });
    const fake = new RdsExportFake(bench.clients.s3, bench.as("rds-s3-export"));
    const tasks = databaseResolver(bench, fake, worker);
    prepare(tasks);
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.input.plan.executionName!,
    });
    return { rp, tasks, result, ledger: await ledgerItem(bench, rp.arn), notified: await notifications(bench) };
  };

  const restoreCall = (tasks: TaskResolver) => tasks.calls.find((c) => c.stateName === "DumpRestore");

  it("restores an RDS PostgreSQL snapshot to a temporary instance, dumps it with a password from SSM, deletes both", async () => {
    const seen: Seen[] = [];
    const { rp, tasks, result, ledger, notified } = await run("rds", "postgres", dumpJob(seen));

    expect(result.status).toBe("SUCCEEDED");
    expect(ledger).toMatchObject({ status: "SUCCEEDED", workflow: "rds", archiveUrl: rp.input.archive.url });
    expect(notified).toEqual([expect.objectContaining({ status: "SUCCEEDED", recoveryPointArn: rp.arn })]);
    const restore = restoreCall(tasks)!.parameters as Record<string, unknown>;
    const id = restore.DBInstanceIdentifier as string;
    expect(id).toMatch(/^dump-[0-9a-f]{32}$/);
    expect(restore).toMatchObject({
      DBSnapshotIdentifier: rp.snapshotId,
      DBInstanceClass: "db.t4g.medium",
      DBSubnetGroupName: `${bench.config.name}-dump`,
      PubliclyAccessible: false,
      DeletionProtection: false,
    });
    // What the job was given, and the instance it ran against.
    expect(seen).toHaveLength(1);
    const [job] = seen;
    expect(job!.command).toEqual(expect.arrayContaining(["--password-parameter", `${bench.dumpParameterPath}${id}`]));
    expect(job!.connection).toMatchObject({ engine: "postgres", port: 5432, user: "admin" });
    expect(job!.connection.host).toMatch(new RegExp(`^${id}\\.`));
    expect(job!.connection.password).toHaveLength(32);
    expect([...job!.connection.password].every((c) => PASSWORD_ALPHABET.includes(c))).toBe(true);
    expect(job!.target).toBe(rp.input.archive.url);
    expect(job!.instance).toMatchObject({
      DBInstanceIdentifier: id,
      DBInstanceStatus: "available",
      DBSubnetGroup: expect.objectContaining({ DBSubnetGroupName: `${bench.config.name}-dump` }),
      TagList: expect.arrayContaining([
        { Key: "backup-actions:pipeline", Value: bench.config.name },
        { Key: "backup-actions:recovery-point", Value: rp.arn },
      ]),
    });
    // The password never passes through the state machine: not in any state's input or output.
    expect(JSON.stringify(result.history)).not.toContain(job!.connection.password);
    expect(JSON.stringify(result.childExecutions ?? [])).not.toContain(job!.connection.password);
    expect(await leftovers()).toEqual(nothingLeft);
  });

  it("restores an Aurora PostgreSQL cluster snapshot to a cluster and an instance, dumps it, deletes all of it", async () => {
    const seen: Seen[] = [];
    const { rp, tasks, result, ledger } = await run("aurora", "aurora-postgresql", dumpJob(seen));

    expect(result.status).toBe("SUCCEEDED");
    expect(ledger).toMatchObject({ status: "SUCCEEDED", workflow: "aurora" });
    const id = (restoreCall(tasks)!.parameters as Record<string, string>).DBClusterIdentifier!;
    expect(tasks.calls.find((c) => c.stateName === "DumpCreateInstance")!.parameters).toMatchObject({
      DBInstanceIdentifier: id,
      DBClusterIdentifier: id,
      DBInstanceClass: "db.r6g.large",
      PubliclyAccessible: false,
    });
    expect(seen[0]!.connection).toMatchObject({ engine: "postgres", user: "admin" });
    expect(seen[0]!.target).toBe(rp.input.archive.url);
    // The order of the cleanup: the instance, then (once it is gone) the cluster, then the parameter.
    const cleanup = tasks.calls
      .map((c) => c.stateName)
      .filter((s) => ["DumpDeleteClusterInstance", "DumpDeleteCluster", "DumpDeleteParameter"].includes(s));
    expect(cleanup).toEqual(["DumpDeleteClusterInstance", "DumpDeleteCluster", "DumpDeleteParameter"]);
    expect(await leftovers()).toEqual(nothingLeft);
  });

  it("fails the export with RDS's error when the restore is refused, and leaves nothing", async () => {
    const { result, ledger, tasks } = await run(
      "rds",
      "mysql",
      () => Promise.reject(new Error("no job may run")),
      (t) =>
        t.injectFault({
          resource: "arn:aws:states:::aws-sdk:rds:restoreDBInstanceFromDBSnapshot",
          error: "Rds.InsufficientDbInstanceCapacityException",
          cause: "Cannot create a db.t4g.medium instance in the requested Availability Zone",
        }),
    );

    expect(result.status).toBe("FAILED");
    expect(ledger).toMatchObject({ status: "FAILED", workflow: "rds" });
    expect(ledger.failureReason).toContain("InsufficientDbInstanceCapacity");
    expect(tasks.calls.some((c) => c.stateName === "DumpSetPassword")).toBe(false);
    expect(await leftovers()).toEqual(nothingLeft);
  });

  it("gives up on an instance that does not become available within the polls, and deletes it", async () => {
    const { result, ledger, tasks } = await run(
      "rds",
      "postgres",
      () => Promise.reject(new Error("no job may run")),
      (t) => {
        // RDS keeps the restored instance "creating" (moto answers "available" at once).
        const moto = t.resolve("arn:aws:states:::aws-sdk:rds:describeDBInstances");
        t.on("arn:*:states:::aws-sdk:rds:describeDBInstances", async (call) =>
          call.stateName === "DumpDescribeRestored"
            ? { DBInstances: [{ DBInstanceIdentifier: "x", DBInstanceStatus: "creating" }] }
            : moto(call),
        );
      },
    );

    expect(result.status).toBe("FAILED");
    // The dispatcher records the child's failure (States.TaskFailed) with the child's error and cause in it.
    expect(ledger.failureReason).toContain('"Error":"DumpInstanceTimedOut"');
    expect(ledger.failureReason).toMatch(
      /temporary instance dump-[0-9a-f]{32} of \S+ is still creating after \d+ polls of 60 s/,
    );
    expect(tasks.calls.filter((c) => c.stateName === "DumpDescribeRestored").length).toBeGreaterThan(1);
    expect(tasks.calls.some((c) => c.stateName === "DumpDeleteInstance")).toBe(true);
    expect(await leftovers()).toEqual(nothingLeft);
  });

  it("fails the export with the job's failure when the dump fails, and deletes instance and parameter", async () => {
    const seen: Seen[] = [];
    const { result, ledger } = await run("rds", "postgres", dumpJob(seen, "pg_dump: error: connection refused"));

    expect(seen).toHaveLength(1);
    expect(result.status).toBe("FAILED");
    expect(ledger).toMatchObject({ status: "FAILED", workflow: "rds" });
    expect(ledger.failureReason).toContain("pg_dump: error: connection refused");
    expect(await leftovers()).toEqual(nothingLeft);
  });

  it("keeps cleaning up when a delete fails: the parameter goes, the error is the export's", async () => {
    const { result, ledger, tasks } = await run("rds", "postgres", dumpJob([], "pg_dump: error: out of memory"), (t) =>
      t.injectFault({
        resource: "arn:aws:states:::aws-sdk:rds:deleteDBInstance",
        error: "Rds.RdsException",
        cause: "Throttling: Rate exceeded",
      }),
    );

    expect(result.status).toBe("FAILED");
    expect(ledger.failureReason).toContain("pg_dump: error: out of memory");
    // Retried (throttling), then caught: the next cleanup step still ran.
    expect(tasks.calls.filter((c) => c.stateName === "DumpDeleteInstance").length).toBeGreaterThan(1);
    expect(await leftovers()).toEqual({
      instances: [expect.stringMatching(/^dump-/)],
      clusters: [],
      parameters: [],
    });
  });

  it("records an engine the dump cannot take as UNSUPPORTED, naming it, and creates nothing", async () => {
    const { rp, result, ledger, tasks } = await run("rds", "sqlserver-ex", () =>
      Promise.reject(new Error("no job may run")),
    );

    expect(result.status).toBe("SUCCEEDED");
    expect(ledger).toMatchObject({ status: "UNSUPPORTED", workflow: "rds" });
    expect(ledger.failureReason).toContain(`engine sqlserver-ex`);
    expect(ledger.failureReason).toContain(
      `of snapshot ${rp.arn}: the native dump exports only postgres, mysql, mariadb`,
    );
    expect(tasks.calls.filter((c) => c.stateName.startsWith("Dump")).map((c) => c.stateName)).toEqual([]);
    expect(await leftovers()).toEqual(nothingLeft);
  });
});
