/**
 * The scenarios the IAM proof runs itself (so `npx jest __tests__/iam` proves the grants on its own):
 * every path of product code that calls AWS, each as the role it has in AWS, against moto, the AWS
 * Backup fake and a real loop device. Requests are recorded by testing/iam/recorder.ts.
 */
import { Logger } from "@aws-lambda-powertools/logger";
import {
  CreateVolumeCommand,
  DescribeImagesCommand,
  DescribeVolumesCommand,
  EC2Client,
  RunInstancesCommand,
} from "@aws-sdk/client-ec2";
import {
  CopyObjectCommand,
  CreateMultipartUploadCommand,
  GetObjectCommand,
  ListObjectsV2Command,
  PutBucketVersioningCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { instrumented } from "../../core/aws-client-hook";
import { defaultDeps, runBatchJob } from "../../batch-worker/src/batch-entrypoint";
import { exportVolume } from "../../batch-worker/src/export-volume";
import { makeS3Client, S3Store } from "../../batch-worker/src/store";
import { runJanitor } from "../../lambdas/janitor/logic";
import { sweepTables } from "../../lambdas/janitor/tables";
import { CreateTableCommand, DynamoDBClient, PutItemCommand } from "@aws-sdk/client-dynamodb";
import { executeStateMachine, TaskResolver } from "../../testing/asl";
import type { BatchJob } from "../../testing/asl";
import { seedRecoveryPoints, seedVaults } from "../../testing/backup-fake/control";
import { CreateStateMachineCommand, SFNClient } from "@aws-sdk/client-sfn";
import { RECONCILER_ENV } from "../../core/reconciler-contract";
import type { DiskFixture } from "../../testing/fixtures/disks";
import { RdsExportFake } from "../../testing/rds-export-fake";
import {
  Bench,
  lambdaEnvironment,
  ledgerItem,
  loadHandler,
  REGION,
  recoveryPoint,
  resolverFor,
  tagSnapshot,
} from "../helpers/pipeline-bench";
import { asRdsBench, databaseRecoveryPoint, databaseResolver, dumpJobStandIn } from "../helpers/rds-bench";
import { CreateDBClusterCommand, CreateDBInstanceCommand, RDSClient } from "@aws-sdk/client-rds";
import { PutParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { sweepDatabases } from "../../lambdas/janitor/databases";
import { dynamodbChild, dynamodbRecoveryPoint, dynamodbResolver } from "../helpers/dynamodb-bench";
import { verifyJobMain } from "../../batch-worker/src/verify-job";
import { parseDrillEnv, parseDrillRequest } from "../../core/drill";
import { NO_METRICS } from "../../core/lambda-metrics";
import { handleDrill } from "../../lambdas/drill/logic";
import { recording, runAs } from "../../testing/iam/recorder";
import { completeRestores } from "../../testing/moto/s3-restores";

/** An EC2 instance in moto, in the volume's AZ, standing for the Batch host the job runs on. */
async function hostFor(volumeId: string): Promise<{ instanceId: string; availabilityZone: string }> {
  const ec2 = new EC2Client({ region: REGION }); // set-up: not recorded
  try {
    const volume = (await ec2.send(new DescribeVolumesCommand({ VolumeIds: [volumeId] }))).Volumes![0]!;
    const image = (await ec2.send(new DescribeImagesCommand({}))).Images![0]!.ImageId!;
    const run = await ec2.send(
      new RunInstancesCommand({
        ImageId: image,
        MinCount: 1,
        MaxCount: 1,
        InstanceType: "m6i.large",
        Placement: { AvailabilityZone: volume.AvailabilityZone },
      }),
    );
    return { instanceId: run.Instances![0]!.InstanceId!, availabilityZone: volume.AvailabilityZone! };
  } finally {
    ec2.destroy();
  }
}

async function staleUpload(targetUrl: string): Promise<void> {
  const [, bucket, prefix] = /^s3:\/\/([^/]+)\/(.*)$/.exec(targetUrl)!;
  const s3 = new S3Client({ region: REGION, forcePathStyle: true }); // set-up: not recorded
  await s3.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: `${prefix}disk.img.zst` }));
  s3.destroy();
}

/**
 * The whole EBS path: dispatcher → EBS child → the real Batch entrypoint and worker (attach, export
 * of a real loop device to moto's S3, detach) → the real verify handler → ledger, tag read, recovery
 * point deletion, notification.
 */
export async function pipelineRun(bench: Bench, fixture: DiskFixture): Promise<string> {
  const rp = await recoveryPoint(bench);
  await seedRecoveryPoints([
    {
      RecoveryPointArn: rp.arn,
      BackupVaultName: "Default",
      ResourceArn: rp.event.detail.resourceArn,
      ResourceType: "EBS",
      Status: "COMPLETED",
    },
  ]);
  // An EBS recovery point is an EC2 snapshot: its deletion tag lives on the snapshot (set-up, not recorded).
  await runAs(undefined, () => tagSnapshot(bench, rp.arn, { "backup-actions:delete": "true" }));
  const verify = loadHandler<typeof import("../../lambdas/verify/handler")>(
    "../../lambdas/verify/handler",
    lambdaEnvironment(bench, `${bench.config.name}-verify`),
  );
  const worker = async (job: BatchJob) => {
    const host = await runAs(undefined, () => hostFor(job.parameters.volumeId!));
    // An earlier, interrupted attempt's upload under the target: the worker finds and aborts it.
    await runAs(undefined, () => staleUpload(job.parameters.targetUrl!));
    await runBatchJob(
      {
        volumeId: job.parameters.volumeId!,
        target: job.parameters.targetUrl!,
        compressionLevel: 1,
        concurrency: 2,
        attachTimeoutSeconds: 60,
        readPath: "volume",
        attempt: 1,
      },
      {
        ...defaultDeps(),
        identity: async () => host,
        findDevice: async () => fixture.device,
        runExport: exportVolume,
        pollMs: 20,
      },
    );
  };
  const tasks = resolverFor(bench, worker).lambda(
    bench.verifyArn,
    (event) => verify.handler(event as never),
    bench.as("verify"),
  );
  const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
    tasks,
    executionName: rp.input.plan.executionName!,
  });
  if (result.status !== "SUCCEEDED")
    throw new Error(`the pipeline run ended ${result.status}: ${result.error} ${result.cause}`);
  return rp.input.archive.url;
}

/** The verify Lambda on a prefix with no manifest: S3's 404 is what it reports as "did not finish". */
export async function verifyMissingManifest(bench: Bench): Promise<string> {
  const verify = loadHandler<typeof import("../../lambdas/verify/handler")>(
    "../../lambdas/verify/handler",
    lambdaEnvironment(bench, `${bench.config.name}-verify`),
  );
  const result = await runAs(bench.as("verify"), () =>
    verify.handler({ archiveUrl: `s3://${bench.archiveBucket}/ebs/never-exported/` }),
  );
  return result.reason;
}

/**
 * The worker's "delete exactly the version I wrote": S3 answers CompleteMultipartUpload with another
 * checksum than the parts make (an injected fault: moto 5.2 answers none), in a versioned bucket.
 */
export async function workerDeletesItsVersion(bench: Bench): Promise<string> {
  await bench.clients.s3.send(
    new PutBucketVersioningCommand({ Bucket: bench.archiveBucket, VersioningConfiguration: { Status: "Enabled" } }),
  );
  const client = makeS3Client();
  client.middlewareStack.add(
    (next: any, context: any) => async (args: any) => {
      const out = await next(args);
      if (context.commandName === "CompleteMultipartUploadCommand")
        out.output.ChecksumSHA256 = "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=-1";
      return out;
    },
    { step: "initialize", name: "injectWrongCompositeChecksum", priority: "low" },
  );
  const store = new S3Store(
    client,
    bench.archiveBucket,
    "ebs/111111111111/us-east-1/vol-0fault/2026/01/01/snap-0fault/",
  );
  const part = Buffer.alloc(1024, 7);
  const sha = createHash("sha256").update(part).digest("base64");
  try {
    return await runAs(bench.as("worker-job"), async () => {
      const writer = await store.createMultipart("p1.img.zst");
      await writer.uploadPart(1, part, sha, 0);
      const composite = `${createHash("sha256").update(Buffer.from(sha, "base64")).digest("base64")}-1`;
      return writer.complete(composite).then(
        () => "completed",
        (e: Error) => e.message,
      );
    });
  } finally {
    client.destroy();
  }
}

/** The backstop, as the abnormal-end rule starts it, for a dispatcher execution that timed out. */
export async function backstopRun(bench: Bench): Promise<string> {
  const rp = await recoveryPoint(bench);
  const executionArn = `arn:aws:states:${REGION}:111111111111:execution:${bench.config.name}-dispatcher:${rp.input.plan.executionName}`;
  const event = {
    "detail-type": "Step Functions Execution Status Change",
    source: "aws.states",
    detail: { executionArn, status: "TIMED_OUT", input: JSON.stringify(rp.input) },
  };
  const result = await executeStateMachine(bench.backstop, event as never, {
    tasks: new TaskResolver().runsAs(bench.as("backstop")),
  });
  if (result.status !== "SUCCEEDED") throw new Error(`the backstop run ended ${result.status}: ${result.cause}`);
  return result.status;
}

/** The starter, as its synthesized environment configures it, for one AWS Backup event. */
export async function starterRun(bench: Bench): Promise<unknown> {
  const rp = await recoveryPoint(bench);
  const starter = loadHandler<typeof import("../../lambdas/starter/handler")>(
    "../../lambdas/starter/handler",
    lambdaEnvironment(bench, `${bench.config.name}-starter`),
  );
  const write = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
  try {
    return await runAs(bench.as("starter"), () =>
      starter.handler({ Records: [{ messageId: "m-1", body: JSON.stringify(rp.event) }] }),
    );
  } finally {
    write.mockRestore();
  }
}

/**
 * The reconciler, as its synthesized environment configures it (the ledger's name resolved as `terraform apply`
 * would), finding one recovery point of the watched vault whose event was lost and starting the dispatcher for it.
 */
export async function reconcilerRun(bench: Bench): Promise<unknown> {
  const rp = await recoveryPoint(bench);
  const env = lambdaEnvironment(bench, `${bench.config.name}-reconciler`);
  const settings = JSON.parse(env[RECONCILER_ENV]!);
  // The dispatcher as moto holds it (in moto's account, which the proof judges as the deployment's).
  const sfn = new SFNClient({ region: REGION });
  const { stateMachineArn } = await sfn.send(
    new CreateStateMachineCommand({
      name: `${bench.config.name}-dispatcher`,
      roleArn: "arn:aws:iam::111111111111:role/dispatcher",
      definition: JSON.stringify({ StartAt: "Hold", States: { Hold: { Type: "Wait", Seconds: 3600, End: true } } }),
    }),
  );
  sfn.destroy();
  // A vault of the deployment's account: the fake's Default vault holds the other scenarios' recovery points
  // in moto's account, which the reconciler skips (another account) after listing them.
  const vault = bench.config.backupVaults.find((v) => v !== "Default");
  if (!vault) throw new Error("reconcilerRun: the bench's config watches no vault besides Default");
  await seedVaults([{ BackupVaultName: vault, AccountId: "111111111111", Region: REGION }]);
  await seedRecoveryPoints([
    {
      RecoveryPointArn: rp.arn,
      BackupVaultName: vault,
      ResourceArn: rp.event.detail.resourceArn,
      ResourceType: "EBS",
      CreationDate: new Date(Date.now() - 3 * 3600_000).toISOString(),
    },
  ]);
  const reconciler = loadHandler<typeof import("../../lambdas/reconciler/handler")>(
    "../../lambdas/reconciler/handler",
    {
      ...env,
      [RECONCILER_ENV]: JSON.stringify({ ...settings, ledgerTable: bench.ledgerTable, dispatcherArn: stateMachineArn }),
    },
  );
  const write = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
  try {
    return await runAs(bench.as("reconciler"), () => reconciler.handler());
  } finally {
    write.mockRestore();
  }
}

/** The janitor, with its synthesized settings, finding one leaked volume of the pipeline. */
export async function janitorRun(bench: Bench): Promise<string[]> {
  const env = lambdaEnvironment(bench, `${bench.config.name}-janitor`);
  const setup = new EC2Client({ region: REGION });
  await setup.send(
    new CreateVolumeCommand({
      AvailabilityZone: `${REGION}a`,
      Size: 1,
      TagSpecifications: [
        {
          ResourceType: "volume",
          Tags: [
            { Key: env.PIPELINE_TAG_KEY!, Value: env.PIPELINE_TAG_VALUE! },
            { Key: "backup-actions:managed", Value: "true" },
          ],
        },
      ],
    }),
  );
  setup.destroy();
  const ec2 = instrumented(new EC2Client({}));
  const report = await runAs(bench.as("janitor"), () =>
    runJanitor(
      {
        ec2,
        now: () => new Date(Date.now() + 1000 * 3600_000),
        logger: new Logger({ serviceName: "iam-proof", logLevel: "SILENT" }),
      },
      {
        pipelineTag: { key: env.PIPELINE_TAG_KEY!, value: env.PIPELINE_TAG_VALUE! },
        maxAgeHours: Number(env.MAX_AGE_HOURS),
      },
    ),
  );
  // A temporary table the DynamoDB child leaked: the janitor's second sweep (lambdas/janitor/tables.ts).
  const setupDdb = new DynamoDBClient({ region: REGION });
  const leaked = `${env.TEMP_TABLE_PREFIX}leaked-by-a-stopped-execution`;
  await setupDdb.send(
    new CreateTableCommand({
      TableName: leaked,
      KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }],
      AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }],
      BillingMode: "PAY_PER_REQUEST",
      Tags: [{ Key: env.PIPELINE_TAG_KEY!, Value: env.PIPELINE_TAG_VALUE! }],
    }),
  );
  setupDdb.destroy();
  const ddb = instrumented(new DynamoDBClient({}));
  const tables = await runAs(bench.as("janitor"), () =>
    sweepTables(
      {
        ddb,
        now: () => new Date(Date.now() + 1000 * 3600_000),
        logger: new Logger({ serviceName: "iam-proof", logLevel: "SILENT" }),
      },
      {
        tablePrefix: env.TEMP_TABLE_PREFIX!,
        pipelineTag: { key: env.PIPELINE_TAG_KEY!, value: env.PIPELINE_TAG_VALUE! },
        maxAgeHours: Number(env.MAX_AGE_HOURS),
      },
    ),
  );
  ddb.destroy();
  const databases = env.DUMP_PARAMETER_PATH ? await janitorDatabaseSweep(bench, env) : [];
  return [...report.deleted, ...tables.deleted, ...databases];
}

/** What the native dump leaked (an instance, an Aurora cluster and its instance, a password): the third sweep. */
async function janitorDatabaseSweep(bench: Bench, env: Record<string, string>): Promise<string[]> {
  const tags = [{ Key: env.PIPELINE_TAG_KEY!, Value: env.PIPELINE_TAG_VALUE! }];
  const setupRds = new RDSClient({ region: REGION });
  const setupSsm = new SSMClient({ region: REGION });
  const [instance, cluster] = ["dump-11111111111111111111111111111111", "dump-22222222222222222222222222222222"];
  const admin = { MasterUsername: "admin", MasterUserPassword: "not-a-secret-1" };
  await setupRds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: instance,
      DBInstanceClass: "db.t4g.medium",
      Engine: "postgres",
      AllocatedStorage: 20,
      ...admin,
      Tags: tags,
    }),
  );
  await setupRds.send(
    new CreateDBClusterCommand({ DBClusterIdentifier: cluster, Engine: "aurora-postgresql", ...admin, Tags: tags }),
  );
  await setupRds.send(
    new CreateDBInstanceCommand({
      DBInstanceIdentifier: cluster,
      DBClusterIdentifier: cluster,
      DBInstanceClass: "db.r6g.large",
      Engine: "aurora-postgresql",
      Tags: tags,
    }),
  );
  await setupSsm.send(
    new PutParameterCommand({ Name: `${env.DUMP_PARAMETER_PATH}${instance}`, Value: "x", Type: "SecureString" }),
  );
  setupRds.destroy();
  setupSsm.destroy();
  const rds = instrumented(new RDSClient({}));
  const ssm = instrumented(new SSMClient({}));
  const report = await runAs(bench.as("janitor"), () =>
    sweepDatabases(
      {
        rds,
        ssm,
        now: () => new Date(Date.now() + 1000 * 3600_000),
        logger: new Logger({ serviceName: "iam-proof", logLevel: "SILENT" }),
      },
      {
        pipelineTag: { key: env.PIPELINE_TAG_KEY!, value: env.PIPELINE_TAG_VALUE! },
        maxAgeHours: Number(env.MAX_AGE_HOURS),
        parameterPath: env.DUMP_PARAMETER_PATH!,
      },
    ),
  );
  rds.destroy();
  ssm.destroy();
  return report.deleted;
}

/**
 * The DynamoDB child on both of its paths, run by the dispatcher, verified by the verify Lambda's
 * handler: PITR covers the backup (export at its time), and PITR off (a temporary table restored,
 * tagged, PITR on, exported, deleted). Returns each run's ledger-facing outcome.
 */
export async function dynamodbRuns(bench: Bench): Promise<string[]> {
  const child = dynamodbChild(bench);
  const verify = loadHandler<typeof import("../../lambdas/verify/handler")>(
    "../../lambdas/verify/handler",
    lambdaEnvironment(bench, `${bench.config.name}-verify`),
  );
  const outcomes: string[] = [];
  for (const pitr of ["before", "off"] as const) {
    // The source table, its items and its backup are set-up, not recorded.
    const rp = await runAs(undefined, () => dynamodbRecoveryPoint(bench, { pitr }));
    const tasks = dynamodbResolver(bench, child).lambda(
      bench.verifyArn,
      (event) => verify.handler(event as never),
      bench.as("verify"),
    );
    const result = await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks,
      executionName: rp.executionName,
    });
    if (result.status !== "SUCCEEDED")
      throw new Error(`the DynamoDB run (PITR ${pitr}) ended ${result.status}: ${result.error} ${result.cause}`);
    outcomes.push(`${pitr}: ${tasks.calls.some((c) => c.stateName === "RestoreTempTable") ? "restored" : "pitr"}`);
  }
  return outcomes;
}

/**
 * Both database children through the dispatcher, Parquet format: each reads its snapshot, starts the
 * export (iam:PassRole of the export role, the key's grant), follows it; the export role writes the files
 * (testing/rds-export-fake.ts); the verify Lambda reads them. Answers the ledger statuses.
 */
export async function databaseRuns(bench: Bench): Promise<string[]> {
  const rdsBench = asRdsBench(bench);
  const statuses: string[] = [];
  for (const [kind, engine] of [
    ["rds", "postgres"],
    ["aurora", "aurora-postgresql"],
  ] as const) {
    const rp = await databaseRecoveryPoint(rdsBench, { kind, engine });
    const fake = new RdsExportFake(bench.clients.s3, bench.as("rds-s3-export"));
    await executeStateMachine(bench.dispatcher, rp.input as never, {
      tasks: databaseResolver(rdsBench, fake, dumpJobStandIn(bench)),
      executionName: rp.input.plan.executionName!,
    });
    statuses.push(String((await ledgerItem(bench, rp.arn)).status));
  }
  return statuses;
}

/**
 * A copy of the archive pipelineRun left, every object moved to Glacier Flexible Retrieval, with the
 * ledger record the dispatcher would have left for it (set-up: not recorded). Answers its URL.
 */
async function glacierCopy(bench: Bench, archiveUrl: string): Promise<string> {
  const [, bucket, prefix] = /^s3:\/\/([^/]+)\/(.*)$/.exec(archiveUrl)!;
  const copy = prefix!.replace(/\/$/, "-glacier/");
  const s3 = new S3Client({ region: REGION, forcePathStyle: true });
  try {
    const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix }));
    for (const o of list.Contents ?? [])
      await s3.send(
        new CopyObjectCommand({
          Bucket: bucket,
          Key: copy + o.Key!.slice(prefix!.length),
          CopySource: `${bucket}/${o.Key}`,
          StorageClass: "GLACIER",
        }),
      );
    const manifest = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: `${prefix}manifest.json` }));
    const sha256 = createHash("sha256")
      .update(Buffer.from(await manifest.Body!.transformToByteArray()))
      .digest("hex");
    await bench.clients.ddb.send(
      new PutItemCommand({
        TableName: bench.ledgerTable,
        Item: {
          recoveryPointArn: { S: `arn:aws:ec2:${REGION}::snapshot/snap-0iamdrillglacier` },
          status: { S: "SUCCEEDED" },
          workflow: { S: "ebs" },
          resourceArn: { S: `arn:aws:ec2:${REGION}:111111111111:volume/vol-0iamdrillglacier` },
          startedAt: { S: "2020-01-01T00:00:00.000Z" },
          archiveUrl: { S: `s3://${bucket}/${copy}` },
          sha256: { S: sha256 },
        },
      }),
    );
  } finally {
    s3.destroy();
  }
  return `s3://${bucket}/${copy}`;
}

/**
 * The restore drill (config drills.enabled, glacier "restore") on the archive pipelineRun left and on a
 * copy of it in Glacier: its function's logic as the drill role (the ledger's index, ListObjectsV2 of the
 * archives, HeadObject and RestoreObject Tier Bulk of the archived objects, their restore status), the
 * machine as its role (Batch .sync, the ledger writes), and the worker's real `verify` as the job role
 * re-reading every object, the restored copies included.
 */
export async function drillRun(bench: Bench, archiveUrl: string): Promise<unknown> {
  const glacierUrl = await runAs(undefined, () => glacierCopy(bench, archiveUrl));
  const env = lambdaEnvironment(bench, `${bench.config.name}-drill`);
  const settings = parseDrillEnv({ ...env, LEDGER_TABLE: bench.ledgerTable });
  const deps = {
    ddb: recording(new DynamoDBClient({ region: REGION })),
    s3: bench.clients.s3,
    logger: { info: () => undefined, warn: () => undefined },
    metrics: NO_METRICS,
  };
  const [, bucket, prefix] = /^s3:\/\/([^/]+)\/(.*)$/.exec(glacierUrl)!;
  let restored = false;
  const drill = async (payload: unknown) => {
    const request = parseDrillRequest(payload);
    // the hours of the Bulk restore pass before the drill's first check (set-up, not recorded)
    if (request.action === "restore-status" && !restored) {
      restored = (await runAs(undefined, () => completeRestores(bucket!, prefix!))).length > 0;
    }
    return handleDrill(request, deps, settings);
  };
  const tasks = new TaskResolver()
    .runsAs(bench.as("drill-machine"))
    .lambda(`arn:aws:lambda:${REGION}:111111111111:function:${bench.config.name}-drill`, drill, bench.as("drill"))
    .batchJob(
      "*",
      async (job: BatchJob) => {
        const command = (job.request.ContainerOverrides as { Command: string[] }).Command;
        const code = await verifyJobMain(command.slice(1));
        if (code !== 0) throw new Error(`verify exited ${code}`);
      },
      bench.as("worker-job"),
    );
  const result = await executeStateMachine(
    bench.definitionOf(`${bench.config.name}-restore-drill`),
    {},
    {
      tasks,
      executionName: "iam-drill",
      stateMachineName: `${bench.config.name}-restore-drill`,
    },
  );
  return result.status === "SUCCEEDED" ? result.output : `${result.status}: ${result.error} ${result.cause}`;
}
