/**
 * The RDS and Aurora children as the pipeline stack synthesizes them, run by the dispatcher against
 * moto (RDS snapshots, S3, DynamoDB ledger, SNS→SQS) with testing/rds-export-fake.ts in front of
 * StartExportTask and DescribeExportTasks (AWS's refusals, life cycle and files).
 */
import {
  CreateDBClusterCommand,
  CreateDBClusterSnapshotCommand,
  CreateDBInstanceCommand,
  CreateDBSnapshotCommand,
  RDSClient,
} from "@aws-sdk/client-rds";
import { randomUUID } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { analyzeEvent } from "../../core/events";
import { executionInputOf, type ExecutionInput } from "../../core/execution-input";
import type { AslDefinition } from "../../testing/asl";
import { RdsExportFake } from "../../testing/rds-export-fake";
import type { BatchJob } from "../../testing/asl";
import { recording } from "../../testing/iam/recorder";
import { SSMClient } from "@aws-sdk/client-ssm";
import { parseDumpPasswordRequest } from "../../core/dump-password";
import { dumpParameterPath } from "../../core/rds-identifier";
import { setDumpPassword } from "../../lambdas/dump-password/logic";
import { parseDumpJob, ssmParameterReader, withPassword } from "../../batch-worker/src/dump-job";
import type { Connection } from "../../batch-worker/src/db-engine";
import { DescribeDBInstancesCommand } from "@aws-sdk/client-rds";
import { ACCOUNT, type Bench, createBench, REGION, resolverFor, writeArchive } from "./pipeline-bench";

export interface RdsBench extends Bench {
  readonly rds: RDSClient;
  readonly rdsChild: AslDefinition;
  readonly auroraChild: AslDefinition;
  readonly rdsArn: string;
  readonly auroraArn: string;
  /** The native dump's password function (lambdas/dump-password) and the SSM path it writes under. */
  readonly dumpPasswordArn: string;
  readonly dumpParameterPath: string;
}

export async function createRdsBench(format: "parquet" | "dump" | "both" = "parquet"): Promise<RdsBench> {
  return asRdsBench(await createBench({ exports: { rds: { format }, aurora: { format } } }));
}

/** A bench whose config has both database children on (e.g. the IAM proof's). */
export function asRdsBench(bench: Bench): RdsBench {
  const name = bench.config.name;
  return {
    ...bench,
    rds: new RDSClient({ region: REGION }),
    rdsChild: bench.definitionOf(`${name}-rds-export`),
    auroraChild: bench.definitionOf(`${name}-aurora-export`),
    rdsArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}-rds-export`,
    auroraArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${name}-aurora-export`,
    dumpPasswordArn: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${name}-dump-password`,
    dumpParameterPath: dumpParameterPath(name),
  };
}

export interface DatabaseRecoveryPoint {
  readonly arn: string;
  readonly snapshotId: string;
  readonly input: ExecutionInput;
}

/**
 * A real snapshot in moto named as AWS Backup names it (`awsbackup:job-<uuid>`) and the event that
 * reports it: an RDS instance snapshot, or an Aurora cluster snapshot.
 */
export async function databaseRecoveryPoint(
  bench: RdsBench,
  options: { kind: "rds" | "aurora"; engine: string; engineVersion?: string; storageType?: string },
): Promise<DatabaseRecoveryPoint> {
  const source = `db-${randomUUID().slice(0, 8)}`;
  const snapshotId = `awsbackup:job-${randomUUID()}`;
  if (options.kind === "rds") {
    await bench.rds.send(
      new CreateDBInstanceCommand({
        DBInstanceIdentifier: source,
        Engine: options.engine,
        EngineVersion: options.engineVersion,
        DBInstanceClass: "db.t3.micro",
        AllocatedStorage: 20,
        StorageType: options.storageType,
        MasterUsername: "admin",
        MasterUserPassword: "not-a-secret-1",
      }),
    );
    await bench.rds.send(
      new CreateDBSnapshotCommand({ DBInstanceIdentifier: source, DBSnapshotIdentifier: snapshotId }),
    );
  } else {
    await bench.rds.send(
      new CreateDBClusterCommand({
        DBClusterIdentifier: source,
        Engine: options.engine,
        EngineVersion: options.engineVersion,
        MasterUsername: "admin",
        MasterUserPassword: "not-a-secret-1",
      }),
    );
    await bench.rds.send(
      new CreateDBClusterSnapshotCommand({ DBClusterIdentifier: source, DBClusterSnapshotIdentifier: snapshotId }),
    );
  }
  const type = options.kind === "rds" ? "snapshot" : "cluster-snapshot";
  const arn = `arn:aws:rds:${REGION}:${ACCOUNT}:${type}:${snapshotId}`;
  const fixture = options.kind === "rds" ? "backup-job-rds.json" : "backup-job-aurora.json";
  const event = JSON.parse(readFileSync(path.join(__dirname, "..", "fixtures", "events", fixture), "utf8"));
  event.resources = [arn];
  event.detail.resourceArn = `arn:aws:rds:${REGION}:${ACCOUNT}:${options.kind === "rds" ? "db" : "cluster"}:${source}`;
  const input = executionInputOf(analyzeEvent(event, bench.config), {
    archiveBucket: bench.archiveBucket,
    placementCount: 2,
  });
  return { arn, snapshotId, input };
}

/**
 * The dispatcher's resolver with both database children (each as its own role), the export fake, the
 * dump's password function (its real logic, as its role) and `worker` for the dump's Batch job.
 */
export function databaseResolver(
  bench: RdsBench,
  fake: RdsExportFake,
  worker: (job: BatchJob) => Promise<unknown> | unknown = () => {
    throw new Error("no Batch job runs in a Parquet export");
  },
) {
  const settings = { keyArn: bench.kmsKeyArn, parameterPath: bench.dumpParameterPath };
  const deps = { ssm: recording(new SSMClient({ region: REGION })), rds: recording(new RDSClient({ region: REGION })) };
  const tasks = resolverFor(bench, worker)
    .stateMachine(bench.rdsArn, bench.rdsChild, bench.as("rds-export"))
    .stateMachine(bench.auroraArn, bench.auroraChild, bench.as("aurora-export"))
    .lambda(
      bench.dumpPasswordArn,
      (payload) => setDumpPassword(deps, settings, parseDumpPasswordRequest(payload, settings)) as never,
      bench.as("dump-password"),
    );
  fake.install(tasks);
  return tasks;
}

/** What the dump job stand-in was given: its command, the connection it made of it, the instance it found. */
export interface DumpJobSeen {
  readonly command: string[];
  readonly connection: Connection;
  readonly target: string;
  readonly instance: Record<string, unknown>;
}

/**
 * The native dump's Batch job, in place of the container: the worker's own flag parser and SSM password
 * reader (--password-parameter, GetParameter as the job's role), the instance the host names, then an
 * archive as the dump would write it — or `fail`, as a failed dump.
 */
export function dumpJobStandIn(bench: Bench, seen: DumpJobSeen[] = [], fail?: string) {
  return async (job: BatchJob) => {
    const command = (job.request.ContainerOverrides as { Command: string[] }).Command;
    if (command[0] !== "dump-database") throw new Error(`not a dump job: ${command.join(" ")}`);
    const options = await withPassword(parseDumpJob(command.slice(1), {}), () =>
      ssmParameterReader(recording(new SSMClient({ region: REGION }))),
    );
    const rds = new RDSClient({ region: REGION }); // what the test looks at: not recorded
    const instance = (
      await rds.send(new DescribeDBInstancesCommand({ DBInstanceIdentifier: options.connection.host.split(".")[0] }))
    ).DBInstances![0]!;
    rds.destroy();
    seen.push({ command, connection: options.connection, target: options.store.url, instance: instance as never });
    if (fail) throw new Error(fail);
    await writeArchive(bench.clients.s3, options.store.url);
  };
}
