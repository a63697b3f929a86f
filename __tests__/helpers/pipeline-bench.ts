/**
 * Runs the dispatcher and EBS state machines exactly as the pipeline stack synthesizes
 * them, against moto (EC2, DynamoDB, S3, SNS, SQS) and the AWS Backup fake. Terraform
 * interpolations in the definitions (`${aws_dynamodb_table.ledger….name}`) are replaced
 * by the names of resources this bench creates, as `terraform apply` would; an
 * interpolation it does not know fails the test instead of passing through.
 */
import {
  CreateSecurityGroupCommand,
  CreateSnapshotCommand,
  CreateSubnetCommand,
  CreateTagsCommand,
  CreateVpcCommand,
  CreateVolumeCommand,
  DescribeVolumesCommand,
  EC2Client,
} from "@aws-sdk/client-ec2";
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import { CreateDBSubnetGroupCommand, RDSClient } from "@aws-sdk/client-rds";
import { CreateBucketCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { EventBridgeClient, PutRuleCommand, PutTargetsCommand } from "@aws-sdk/client-eventbridge";
import { CreateTopicCommand, SNSClient, SubscribeCommand } from "@aws-sdk/client-sns";
import {
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SQSClient,
} from "@aws-sdk/client-sqs";
import { Logger } from "@aws-lambda-powertools/logger";
import { createHash, randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { analyzeEvent } from "../../core/events";
import { executionInputOf, ExecutionInput } from "../../core/execution-input";
import { OUTCOME_EVENT_SOURCE, type OutcomeDetail } from "../../core/outcome-events";
import { archiveBucketName } from "../../core/s3-layout";
import { handleVerify } from "../../lambdas/verify/logic";
import type { AslDefinition, BatchJob } from "../../testing/asl";
import { TaskResolver } from "../../testing/asl";
import type { SynthesizedRetryStrategy } from "../../testing/batch-retry";
import { buildModel } from "../../testing/iam/model";
import { deploymentOf, recording, type Caller, type Deployment, type RoleKey } from "../../testing/iam/recorder";
import { createLeaseTable, createLedgerTable } from "./ledger-table";
import { manifestOf } from "./manifest";
import { compose, synth, testConfig } from "./synth";

export const REGION = "us-east-1";
export const ACCOUNT = "111111111111";

export interface Bench {
  readonly dispatcher: AslDefinition;
  /** Publishes Export Timed Out / Export Aborted (stacks/workflows/backstop.ts). */
  readonly backstop: AslDefinition;
  readonly ebs: AslDefinition;
  readonly ebsArn: string;
  readonly verifyArn: string;
  readonly retryStrategy: SynthesizedRetryStrategy;
  /** The synthesized job definition: its command, parameter defaults and environment, as Batch runs the job. */
  readonly job: {
    readonly command: readonly string[];
    readonly parameters: Readonly<Record<string, string>>;
    readonly environment: Readonly<Record<string, string>>;
  };
  readonly ledgerTable: string;
  readonly archiveBucket: string;
  readonly topicArn: string;
  readonly queueUrl: string;
  /** Receives every backup-actions event on the default bus (a rule in moto's EventBridge). */
  readonly eventsQueueUrl: string;
  /** Events read from that queue so far (outcomeEvents() drains it into this). */
  readonly eventsSeen: OutcomeEventEnvelope[];
  readonly config: ReturnType<typeof testConfig>;
  readonly clients: { ec2: EC2Client; ddb: DynamoDBClient; s3: S3Client; sqs: SQSClient };
  /** The synthesized stack, for the IAM proof: requests made as one of its roles are judged by its policies. */
  readonly deployment: Deployment;
  as(role: RoleKey): Caller;
  /** Any synthesized state machine by name, interpolations resolved (e.g. the RDS child: __tests__/helpers/rds-bench.ts). */
  definitionOf(name: string): AslDefinition;
  /** The pipeline key's ARN as the IAM model values it. */
  readonly kmsKeyArn: string;
}

/** Synthesizes the pipeline stack of `overrides` and creates what its definitions name. */
export async function createBench(overrides: Record<string, unknown> = {}): Promise<Bench> {
  const config = testConfig({ securityTag: "backup-actions:managed", ...overrides });
  const tf = synth(compose(config).pipelines[0]!).tf;
  const suffix = randomBytes(3).toString("hex");
  const deployment = deploymentOf(tf, ACCOUNT, REGION);
  // Recorded only inside a role's context (testing/iam): the worker stand-ins and the verify Lambda use these.
  const ec2 = recording(new EC2Client({ region: REGION }));
  const ddb = new DynamoDBClient({ region: REGION });
  const s3 = recording(new S3Client({ region: REGION, forcePathStyle: true }));
  const sns = new SNSClient({ region: REGION });
  const sqs = new SQSClient({ region: REGION });

  // The names the stack gives them, so the IAM proof judges requests on the resources the policies name.
  const tables = Object.entries<any>(tf.resource.aws_dynamodb_table ?? {});
  const ledgerTable = only(
    { resource: { t: Object.fromEntries(tables.filter(([id]) => id.startsWith("ledger_"))) } },
    "t",
  ).name as string;
  // readPath "direct": the jobs' lease table (stacks/constructs/direct-read-lease-table.ts)
  for (const [, t] of tables.filter(([id]) => id.startsWith("direct-read-leases_")))
    await createLeaseTable(ddb, t.name as string).catch((e) => {
      if (e.name !== "ResourceInUseException") throw e;
    });
  const topicName = only(tf, "aws_sns_topic").name as string;
  // With the ledger construct's index: the restore drill queries it.
  await createLedgerTable(ddb, ledgerTable).catch((e) => {
    if (e.name !== "ResourceInUseException") throw e; // a second bench in the same file
  });
  const archiveBucket = archiveBucketName(config.name, ACCOUNT, REGION);
  await s3.send(new CreateBucketCommand({ Bucket: archiveBucket })).catch((e) => {
    if (e.name !== "BucketAlreadyOwnedByYou") throw e;
  });
  const topicArn = (await sns.send(new CreateTopicCommand({ Name: topicName }))).TopicArn!;
  // notifications() receives without deleting: a received message must not come back (after SQS's default
  // 30 s) into a later test's read, which a slow run reaches. 12 hours, SQS's longest.
  const queueUrl = (
    await sqs.send(
      new CreateQueueCommand({ QueueName: `notify-${suffix}`, Attributes: { VisibilityTimeout: "43200" } }),
    )
  ).QueueUrl!;
  const queueArn = (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: queueUrl, AttributeNames: ["QueueArn"] })))
    .Attributes!.QueueArn!;
  await sns.send(
    new SubscribeCommand({
      TopicArn: topicArn,
      Protocol: "sqs",
      Endpoint: queueArn,
      Attributes: { RawMessageDelivery: "true" },
    }),
  );

  // A subscriber of the outcome events, as docs/events.md shows one: a rule on the default bus → SQS.
  const events = new EventBridgeClient({ region: REGION });
  const eventsQueueUrl = (await sqs.send(new CreateQueueCommand({ QueueName: `events-${suffix}` }))).QueueUrl!;
  const eventsQueueArn = (
    await sqs.send(new GetQueueAttributesCommand({ QueueUrl: eventsQueueUrl, AttributeNames: ["QueueArn"] }))
  ).Attributes!.QueueArn!;
  await events.send(
    new PutRuleCommand({
      Name: `outcomes-${suffix}`,
      EventPattern: JSON.stringify({ source: [OUTCOME_EVENT_SOURCE] }),
    }),
  );
  await events.send(
    new PutTargetsCommand({ Rule: `outcomes-${suffix}`, Targets: [{ Id: "queue", Arn: eventsQueueArn }] }),
  );
  events.destroy();

  const jobDefinitionArn = `arn:aws:batch:${REGION}:${ACCOUNT}:job-definition/${config.name}-ebs-worker:1`;
  const verifyArn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${config.name}-verify`;
  const drillArn = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${config.name}-drill`;
  // The pipeline key as the IAM model values it, so requests naming it are judged against its policy.
  const kmsKeyArn = [...buildModel(tf, ACCOUNT, REGION).resourcePolicies.keys()].find((arn) => arn.includes(":kms:"))!;
  const dump = await dumpNetwork(tf, ec2, suffix);
  const values: Array<[RegExp, (m: RegExpExecArray) => string]> = [
    [/^aws_kms_key\.pipeline-key_\w+\.arn$/, () => kmsKeyArn],
    [/^aws_dynamodb_table\.ledger_this_\w+\.name$/, () => ledgerTable],
    [/^aws_lambda_function\.verify_function_\w+\.arn$/, () => verifyArn],
    [/^aws_lambda_function\.drill_function_\w+\.arn$/, () => drillArn],
    [/^aws_sns_topic\.notifications_topic_\w+\.arn$/, () => topicArn],
    [/^aws_batch_job_definition\.worker-job_this_\w+\.arn$/, () => jobDefinitionArn],
    [
      /^aws_batch_job_queue\.(batch_queue-\d+_\w+)\.arn$/,
      (m) => `arn:aws:batch:${REGION}:${ACCOUNT}:job-queue/${tf.resource.aws_batch_job_queue[m[1]!].name}`,
    ],
    [/^aws_db_subnet_group\.workflows_databases_dump-subnets_\w+\.name$/, () => dump!.subnetGroupName],
    [/^aws_security_group\.workflows_databases_dump-sg_\w+\.id$/, () => dump!.securityGroupId],
    [
      /^aws_lambda_function\.(workflows_databases_dump-password_function_\w+)\.arn$/,
      (m) => `arn:aws:lambda:${REGION}:${ACCOUNT}:function:${tf.resource.aws_lambda_function[m[1]!].function_name}`,
    ],
    [
      /^element\(data\.terraform_remote_state\.network\.outputs\.subnet_availability_zones, (\d+)\)$/,
      (m) => `${REGION}${"abcdef"[Number(m[1])]}`,
    ],
  ];
  const resolve = (definition: string): AslDefinition =>
    JSON.parse(
      definition.replace(/\$\{([^}]+)\}/g, (_all, expr: string) => {
        for (const [re, value] of values) {
          const m = re.exec(expr);
          if (m) return value(m);
        }
        throw new Error(`pipeline bench: no value for the interpolation \${${expr}} in a state machine definition`);
      }),
    );
  const machines = Object.values<any>(tf.resource.aws_sfn_state_machine);
  const definitionOf = (name: string) => resolve(machines.find((m) => m.name === name).definition);
  const jobDefinition = Object.values<any>(tf.resource.aws_batch_job_definition)[0];

  return {
    dispatcher: definitionOf(`${config.name}-dispatcher`),
    backstop: definitionOf(`${config.name}-backstop`),
    ebs: definitionOf(`${config.name}-ebs-export`),
    ebsArn: `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${config.name}-ebs-export`,
    verifyArn,
    retryStrategy: jobDefinition.retry_strategy,
    job: jobOf(jobDefinition),
    ledgerTable,
    archiveBucket,
    topicArn,
    queueUrl,
    eventsQueueUrl,
    eventsSeen: [],
    config,
    clients: { ec2, ddb, s3, sqs },
    deployment,
    as: (role) => ({ role, deployment }),
    definitionOf,
    kmsKeyArn,
  };
}

/**
 * With the native dump on: what `terraform apply` of the network and pipeline stacks would have made for
 * it, in moto: a VPC with two private subnets, the DB subnet group of the synthesized name, the dump
 * security group.
 */
async function dumpNetwork(
  tf: any,
  ec2: EC2Client,
  suffix: string,
): Promise<{ subnetGroupName: string; securityGroupId: string } | undefined> {
  const group = Object.values<any>(tf.resource.aws_db_subnet_group ?? {})[0];
  if (!group) return undefined;
  const vpcId = (await ec2.send(new CreateVpcCommand({ CidrBlock: "10.20.0.0/16" }))).Vpc!.VpcId!;
  const subnetIds = await Promise.all(
    ["a", "b"].map(
      async (az, i) =>
        (
          await ec2.send(
            new CreateSubnetCommand({ VpcId: vpcId, CidrBlock: `10.20.${i}.0/24`, AvailabilityZone: `${REGION}${az}` }),
          )
        ).Subnet!.SubnetId!,
    ),
  );
  const rds = new RDSClient({ region: REGION });
  await rds
    .send(
      new CreateDBSubnetGroupCommand({
        DBSubnetGroupName: group.name,
        DBSubnetGroupDescription: group.description,
        SubnetIds: subnetIds,
      }),
    )
    .catch((e) => {
      if (e.name !== "DBSubnetGroupAlreadyExistsFault") throw e; // a second bench in the same file
    });
  rds.destroy();
  const sg = Object.values<any>(tf.resource.aws_security_group ?? {})[0];
  const securityGroupId = (
    await ec2.send(
      new CreateSecurityGroupCommand({ GroupName: `${sg.name}-${suffix}`, Description: sg.description, VpcId: vpcId }),
    )
  ).GroupId!;
  return { subnetGroupName: group.name, securityGroupId };
}

function jobOf(jobDefinition: any): Bench["job"] {
  const container = JSON.parse(jobDefinition.container_properties);
  return {
    command: container.command,
    parameters: jobDefinition.parameters ?? {},
    environment: Object.fromEntries(
      (container.environment as Array<{ name: string; value: string }>).map((e) => [e.name, e.value]),
    ),
  };
}

/** The worker's argv as Batch builds it: each `Ref::<name>` of the command from the job, else the definition's default. */
export function batchArgv(bench: Bench, jobParameters: Readonly<Record<string, string | undefined>>): string[] {
  return bench.job.command.map((a) => {
    if (!a.startsWith("Ref::")) return a;
    const name = a.slice(5);
    const value = jobParameters[name] ?? bench.job.parameters[name];
    if (value === undefined) throw new Error(`pipeline bench: the job has no parameter ${name} and no default`);
    return value;
  });
}

function only(tf: any, type: string): any {
  const all = Object.values<any>(tf.resource[type] ?? {});
  if (all.length !== 1) throw new Error(`pipeline bench: expected one ${type}, found ${all.length}`);
  return all[0];
}

/**
 * A real snapshot in moto and the AWS Backup event that reports it, as the starter sees it; `existing`: a snapshot
 * made elsewhere (StartSnapshot/PutSnapshotBlock) and the volume it is of.
 */
export async function recoveryPoint(bench: Bench, existing?: { snapshotId: string; volumeId: string }) {
  const { ec2 } = bench.clients;
  const volume = existing
    ? { VolumeId: existing.volumeId }
    : await ec2.send(new CreateVolumeCommand({ AvailabilityZone: `${REGION}a`, Size: 1 }));
  const snapshotId =
    existing?.snapshotId ?? (await ec2.send(new CreateSnapshotCommand({ VolumeId: volume.VolumeId! }))).SnapshotId;
  const arn = `arn:aws:ec2:${REGION}::snapshot/${snapshotId}`;
  const event = JSON.parse(
    readFileSync(path.join(__dirname, "..", "fixtures", "events", "backup-job-ebs.json"), "utf8"),
  );
  event.resources = [arn];
  event.detail.resourceArn = `arn:aws:ec2:${REGION}:${ACCOUNT}:volume/${volume.VolumeId}`;
  const input: ExecutionInput = executionInputOf(analyzeEvent(event, bench.config), {
    archiveBucket: bench.archiveBucket,
    placementCount: 2,
  });
  return { arn, event, input, sourceVolumeId: volume.VolumeId! };
}

/**
 * Tags the EC2 snapshot that an EBS recovery point is: in AWS its tags live there (backup:ListTags
 * refuses the snapshot's ARN), so that is where the dispatcher reads the deletion tag.
 */
export async function tagSnapshot(bench: Bench, recoveryPointArn: string, tags: Record<string, string>): Promise<void> {
  const snapshotId = recoveryPointArn.split("/")[1]!;
  const list = Object.entries(tags).map(([Key, Value]) => ({ Key, Value }));
  if (list.length > 0) await bench.clients.ec2.send(new CreateTagsCommand({ Resources: [snapshotId], Tags: list }));
}

/** What the worker leaves in the archive: the object, then the manifest (last). */
export async function writeArchive(s3: S3Client, targetUrl: string): Promise<void> {
  const m = /^s3:\/\/([^/]+)\/(.*)$/.exec(targetUrl)!;
  const [bucket, prefix] = [m[1]!, m[2]!];
  const data = randomBytes(4096);
  await s3.send(new PutObjectCommand({ Bucket: bucket, Key: `${prefix}disk.tar.zst`, Body: data }));
  const now = new Date().toISOString();
  const manifest = manifestOf(
    [
      {
        name: "disk",
        kind: "tar",
        key: "disk.tar.zst",
        source: { path: "/dev/nvme1n1", fsType: "ext4", offsetBytes: 0, sizeBytes: 1 << 30 },
        compressedBytes: data.length,
        uncompressedBytes: 10240,
        sha256: createHash("sha256").update(data).digest("hex"),
      },
    ],
    { startedAt: now, finishedAt: now, seconds: 1, bytesPerSecond: 10240 },
  );

  await s3.send(
    new PutObjectCommand({ Bucket: bucket, Key: `${prefix}manifest.json`, Body: JSON.stringify(manifest) }),
  );
}

const verifyLogger = new Logger({ serviceName: "backup-actions-verify", logLevel: "CRITICAL" });

/** The resolver every run uses: the child machine, the verify Lambda's real logic, a worker. */
export function resolverFor(bench: Bench, worker: (job: BatchJob) => Promise<unknown> | unknown): TaskResolver {
  // Each part runs as the role it has in AWS, so the IAM proof judges what it calls (testing/iam).
  return new TaskResolver()
    .runsAs(bench.as("dispatcher"))
    .stateMachine(bench.ebsArn, bench.ebs, bench.as("ebs-export"))
    .lambda(
      bench.verifyArn,
      // The Lambda's logic as handler.ts calls it, on the execution's (virtual) clock.
      (payload, _context, task) =>
        handleVerify(payload, { s3: bench.clients.s3, logger: verifyLogger, now: () => task.now() }),
      bench.as("verify"),
    )
    .batchJob("*", worker as never, bench.as("worker-job"));
}

export async function ledgerItem(bench: Bench, recoveryPointArn: string) {
  const out = await bench.clients.ddb.send(
    new GetItemCommand({ TableName: bench.ledgerTable, Key: { recoveryPointArn: { S: recoveryPointArn } } }),
  );
  return Object.fromEntries(Object.entries(out.Item ?? {}).map(([k, v]) => [k, v.S ?? v.N ?? v.BOOL]));
}

export async function notifications(bench: Bench): Promise<Array<{ status: string; recoveryPointArn: string }>> {
  const out = await bench.clients.sqs.send(
    new ReceiveMessageCommand({ QueueUrl: bench.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
  );
  return (out.Messages ?? []).map((m) => JSON.parse(m.Body!));
}

/** Volumes the pipeline restored that still exist (must be none after every run). */
export async function leftoverVolumes(bench: Bench): Promise<string[]> {
  const out = await bench.clients.ec2.send(
    new DescribeVolumesCommand({ Filters: [{ Name: "tag:backup-actions:pipeline", Values: [bench.config.name] }] }),
  );
  return (out.Volumes ?? []).map((v) => v.VolumeId!);
}

/** An outcome event as a subscriber's queue receives it (the EventBridge envelope). */
export interface OutcomeEventEnvelope {
  readonly source: string;
  readonly "detail-type": string;
  readonly region: string;
  readonly time: string;
  readonly detail: OutcomeDetail;
}

/** The outcome events published for one recovery point, read from the bench's subscriber queue. */
export async function outcomeEvents(bench: Bench, recoveryPointArn: string): Promise<OutcomeEventEnvelope[]> {
  for (;;) {
    const out = await bench.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: bench.eventsQueueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }),
    );
    const messages = out.Messages ?? [];
    if (messages.length === 0) break;
    bench.eventsSeen.push(...messages.map((m) => JSON.parse(m.Body!) as OutcomeEventEnvelope));
    await bench.clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: bench.eventsQueueUrl,
        Entries: messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle! })),
      }),
    );
  }
  return bench.eventsSeen
    .filter((e) => e.detail.recoveryPointArn === recoveryPointArn)
    .sort((a, b) => a["detail-type"].localeCompare(b["detail-type"]));
}

/** Environment variables a synthesized Lambda function gets. */
export function lambdaEnvironment(bench: Bench, functionName: string): Record<string, string> {
  const tf = bench.deployment.tf as any;
  const fn = Object.values<any>(tf.resource.aws_lambda_function).find((f) => f.function_name === functionName);
  if (!fn) throw new Error(`no Lambda function ${functionName} in the stack`);
  return fn.environment?.variables ?? {};
}

/** Loads a Lambda handler module fresh, with its synthesized environment (as a cold start would). */
export function loadHandler<T>(modulePath: string, env: Record<string, string>): T {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  try {
    let mod: T | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- jest.isolateModules needs a synchronous load
      mod = require(modulePath);
    });
    return mod!;
  } finally {
    process.env = saved;
  }
}
