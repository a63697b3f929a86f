/**
 * `pipeline-<account>-<region>`: the action pipeline. It reads the network through
 * the network stack's remote state (never an in-process reference), so each stack
 * plans and applies from its own state. Later features fill it.
 */
import { TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import type { Config, NetworkConfig } from "../config/schema";
import { DispatcherRoutes, DispatcherRoutesEnv, expandDispatcherRoutes } from "../core/dispatcher-routes";
import { intakeConfigOf } from "../core/intake-config";
import { partitionOf } from "../core/partition";
import { ArchiveBucket } from "./constructs/archive-bucket";
import { remoteStateOf } from "./backends";
import { BatchSpot } from "./constructs/batch-spot";
import { EventIntake } from "./constructs/event-intake";
import { ExportWorkflows } from "./constructs/export-workflows";
import { Janitor } from "./constructs/janitor";
import { LambdaFunction } from "./constructs/lambda-function";
import { Notifications } from "./constructs/notifications";
import { LedgerTable } from "./constructs/ledger-table";
import { PipelineKey } from "./constructs/pipeline-key";
import { S3EndpointPolicy } from "./constructs/s3-endpoint-policy";
import { WorkerImage } from "./constructs/worker-image";
import { WorkerJobDefinition } from "./constructs/worker-job-definition";
import { dispatcherStateMachineName } from "./names";
import { NETWORK_OUTPUTS } from "./network-stack";
import { awsProvider } from "./provider";

export interface PipelineStackProps {
  readonly config: Config;
  readonly accountId: string;
  readonly region: string;
  readonly assumeRoleArn?: string;
  /** Name of the network stack whose outputs this pipeline uses. */
  readonly networkStackName: string;
}

/** Typed accessors over the network stack's outputs. */
export interface NetworkRef {
  readonly vpcId: string;
  readonly subnetIds: string[];
  readonly subnetAzs: string[];
  readonly workerSecurityGroupId: string;
  readonly s3EndpointId: string;
  readonly egressMode: string;
}

/** Tag on every volume the pipeline restores (value: the config's name); the janitor keys on it. */
export const PIPELINE_TAG_KEY = "backup-actions:pipeline";

/** AZs with a subnet — one Batch placement (compute environment + queue) each. */
export function placementCountOf(network: NetworkConfig): number {
  return "vpcId" in network ? network.subnetIds.length : network.azCount;
}

/**
 * The routes the starter of `accountId`/`region` gets in its environment: the placement
 * count of each region the config deploys for that account (ADR 0006). The dispatchers'
 * ARNs and archive buckets follow from `config.name` (core/dispatcher-routes.ts).
 */
export function dispatcherRoutesEnvOf(config: Config, accountId: string, region: string): DispatcherRoutesEnv {
  const account = config.accounts.find((a) => a.id === accountId);
  if (!account || !account.regions.includes(region)) throw new Error(`dispatcher routes: ${accountId}/${region} is not deployed by the config`);
  const placementCount = placementCountOf(account.network ?? config.network);
  return { account: accountId, region, name: config.name, placements: Object.fromEntries(account.regions.map((r) => [r, placementCount])) };
}

/**
 * The dispatchers the starter of `accountId`/`region` may start, as it reads them: one per
 * region the config deploys for that account, named as each region's pipeline stack names its
 * own. (The starter's logic tests take their routes from here.)
 */
export function dispatcherRoutesOf(config: Config, accountId: string, region: string): DispatcherRoutes {
  return expandDispatcherRoutes(dispatcherRoutesEnvOf(config, accountId, region));
}

export class PipelineStack extends TerraformStack {
  public readonly network: NetworkRef;
  public readonly archive: ArchiveBucket;
  /** KMS key of the pipeline: config.kmsKeyArn, or the key this stack creates. */
  public readonly kmsKeyArn: string;
  public readonly ledger: LedgerTable;
  public readonly workerImage: WorkerImage;
  public readonly workerJob: WorkerJobDefinition;
  public readonly batch: BatchSpot;
  public readonly notifications: Notifications;
  public readonly workflows: ExportWorkflows;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id);
    const { config } = props;
    awsProvider(this, { region: props.region, accountId: props.accountId, assumeRoleArn: props.assumeRoleArn, tags: config.tags });

    const remote = remoteStateOf(this, "network", config.stateBackend, props.networkStackName);
    this.network = {
      vpcId: remote.getString(NETWORK_OUTPUTS.vpcId),
      subnetIds: remote.getList(NETWORK_OUTPUTS.subnetIds),
      subnetAzs: remote.getList(NETWORK_OUTPUTS.subnetAzs),
      workerSecurityGroupId: remote.getString(NETWORK_OUTPUTS.workerSecurityGroupId),
      s3EndpointId: remote.getString(NETWORK_OUTPUTS.s3EndpointId),
      egressMode: remote.getString(NETWORK_OUTPUTS.egressMode),
    };

    new TerraformOutput(this, "network_vpc_id", { value: this.network.vpcId, description: "VPC this pipeline runs in (from the network stack)." });

    this.kmsKeyArn = config.kmsKeyArn
      ? keyArnInRegion(config.kmsKeyArn, props.region)
      : new PipelineKey(this, "pipeline-key", { name: config.name, accountId: props.accountId, region: props.region }).arn;

    const account = config.accounts.find((a) => a.id === props.accountId);
    // This pipeline's dispatcher and those of the account's other regions (copy jobs, ADR 0006).
    const routes = dispatcherRoutesEnvOf(config, props.accountId, props.region);
    // This region's own entry: its dispatcher ARN, archive bucket name and placement count.
    const own = expandDispatcherRoutes(routes).dispatchers[props.region]!;
    const placementCount = own.placementCount;

    this.archive = new ArchiveBucket(this, "archive", {
      bucketName: own.archiveBucket,
      kmsKeyArn: this.kmsKeyArn,
      lifecycle: config.lifecycleRules,
      noncurrentVersionDays: config.archive.noncurrentVersionRetentionDays,
      objectLock: config.archive.objectLock,
      accessLogs: config.accessLogs,
    });
    new TerraformOutput(this, "archive_bucket_name", { value: this.archive.bucket.bucket, description: "Bucket the exports are written to." });
    // The network stack's S3 gateway endpoint lets through only this archive and ECR's layers.
    new S3EndpointPolicy(this, "s3-endpoint-policy", {
      vpcEndpointId: this.network.s3EndpointId,
      region: props.region,
      archiveBucketArn: this.archive.bucket.arn,
    });

    // ── Event intake (issue 5): Backup events → rules → queue → starter → dispatcher ──
    // The dispatchers' ARNs are built from their names, so the starter's IAM grant is exact
    // before (and independent of) the state machine resources, here and in other regions.
    const intake = new EventIntake(this, "event-intake", {
      name: config.name,
      accountId: props.accountId,
      region: props.region,
      config: intakeConfigOf(config),
      kmsKeyArn: this.kmsKeyArn,
      routes,
    });
    new TerraformOutput(this, "intake_queue_url", { value: intake.queue.url, description: "Queue of AWS Backup events waiting for the starter." });
    new TerraformOutput(this, "intake_dlq_url", { value: intake.deadLetterQueue.url, description: "Events that could not be delivered or started; inspect and redrive." });

    // ── EBS worker: image, job definition, Batch on Spot per AZ; the ledger ──────────
    // The AZ count and egress mode come from config, not remote state: they change the
    // synthesized shape (how many queues, whether instances get public IPs).
    const net = account?.network ?? config.network;
    const { worker } = config;
    const archiveBucketArn = `arn:${partitionOf(props.region)}:s3:::${own.archiveBucket}`;
    this.ledger = new LedgerTable(this, "ledger", { tableName: `${config.name}-ledger`, kmsKeyArn: this.kmsKeyArn });
    this.workerImage = new WorkerImage(this, "worker-image", {
      repositoryName: `${config.name}-worker`,
      region: props.region,
      imageUri: worker.imageUri,
      assumeRoleArn: props.assumeRoleArn,
      kmsKeyArn: this.kmsKeyArn,
    });
    this.workerJob = new WorkerJobDefinition(this, "worker-job", {
      name: config.name,
      accountId: props.accountId,
      region: props.region,
      imageUri: this.workerImage.imageUri,
      imageRepositoryArn: this.workerImage.repositoryArn,
      dependsOn: this.workerImage.build ? [this.workerImage.build] : [],
      vcpus: worker.vcpus,
      memoryMiB: worker.memoryMiB,
      timeoutHours: worker.timeoutHours,
      spotRetries: worker.spotRetries,
      compressionLevel: config.exports.compressionLevel,
      archiveBucketArn,
      archiveKmsKeyArn: this.kmsKeyArn,
      logKmsKeyArn: this.kmsKeyArn,
      securityTag: config.securityTag,
    });
    this.batch = new BatchSpot(this, "batch", {
      name: config.name,
      accountId: props.accountId,
      region: props.region,
      azCount: placementCount,
      subnetIds: this.network.subnetIds,
      subnetAzs: this.network.subnetAzs,
      securityGroupId: this.network.workerSecurityGroupId,
      publicIp: net.egress === "public",
      instanceFamilies: worker.instanceFamilies,
      maxVcpus: worker.maxVcpus,
      onDemandFallback: worker.onDemandFallback,
      logGroupArns: [this.workerJob.logGroup.arn],
    });
    new TerraformOutput(this, "worker_job_queue_arns", { value: this.batch.jobQueueArns, description: "EBS worker job queues, one per AZ." });
    new TerraformOutput(this, "worker_job_queue_azs", { value: this.batch.jobQueueAzs, description: "AZ of each queue in worker_job_queue_arns: create the volume there." });
    new TerraformOutput(this, "worker_job_definition_arn", { value: this.workerJob.jobDefinitionArn, description: "EBS worker job definition." });
    new TerraformOutput(this, "ledger_table_name", { value: this.ledger.tableName, description: "Ledger of exports (backup-actions ledger reads it)." });

    // ── Orchestration: verify, notify, the EBS child and the dispatcher, the janitor ──
    const dispatcherName = dispatcherStateMachineName(config.name);
    const dispatcherArn = own.stateMachineArn;
    const pipelineTag = { key: PIPELINE_TAG_KEY, value: config.name };
    // Every Spot attempt may run to the job timeout; one more hour for restore and cleanup.
    const childTimeoutSeconds = (worker.timeoutHours * worker.spotRetries + 1) * 3600;

    this.notifications = new Notifications(this, "notifications", {
      name: config.name,
      accountId: props.accountId,
      region: props.region,
      kmsKeyArn: this.kmsKeyArn,
      email: config.notificationEmail,
      dispatcherStateMachineArn: dispatcherArn,
    });
    const verify = new LambdaFunction(this, "verify", {
      entry: "verify",
      functionName: `${config.name}-verify`,
      description: "Checks an export: manifest present, every object with the manifest's size and checksum",
      accountId: props.accountId,
      region: props.region,
      kmsKeyArn: this.kmsKeyArn,
      timeout: 300,
      statements: [
        // HeadObject (sizes, checksums) and GetObject (the manifest) both need s3:GetObject, and nothing more
        { sid: "ReadArchive", actions: ["s3:GetObject"], resources: [`${this.archive.bucket.arn}/*`] },
        { sid: "ArchiveKey", actions: ["kms:Decrypt"], resources: [this.kmsKeyArn] },
      ],
    });
    this.workflows = new ExportWorkflows(this, "workflows", {
      name: config.name,
      accountId: props.accountId,
      region: props.region,
      kmsKeyArn: this.kmsKeyArn,
      dispatcherName,
      ebs: config.exports.ebs,
      placements: Array.from({ length: placementCount }, (_, i) => ({
        availabilityZone: this.batch.jobQueueAzs[i]!,
        jobQueueArn: this.batch.jobQueueArns[i]!,
      })),
      jobDefinitionArn: this.workerJob.jobDefinitionArn,
      volume: worker.volume,
      compressionLevel: config.exports.compressionLevel,
      pipelineTag,
      securityTag: config.securityTag,
      ledgerTableArn: this.ledger.tableArn,
      ledgerTableName: this.ledger.tableName,
      verifyFunctionArn: verify.function.arn,
      notificationTopicArn: this.notifications.topic.arn,
      deleteRecoveryPoint: config.deleteRecoveryPoint,
      childTimeoutSeconds,
    });
    new Janitor(this, "janitor", {
      name: config.name,
      accountId: props.accountId,
      region: props.region,
      kmsKeyArn: this.kmsKeyArn,
      pipelineTag,
      securityTag: config.securityTag,
      // A volume can live as long as the longest export; six hours of margin.
      maxAgeHours: childTimeoutSeconds / 3600 + 6,
    });
    new TerraformOutput(this, "dispatcher_state_machine_arn", { value: this.workflows.dispatcher.stateMachine.arn, description: "Dispatcher state machine (one execution per recovery point)." });
    new TerraformOutput(this, "notification_topic_arn", { value: this.notifications.topic.arn, description: "Export outcomes (SUCCEEDED, SKIPPED, FAILED) and abnormal dispatcher ends." });
  }
}

/**
 * The configured key as this region sees it: a multi-Region key (`key/mrk-…`) by its replica here
 * (same key id, this region); a single-Region key as it is (the config allows one only when it is in
 * the one region deployed, see keyProblems in config/rules.ts).
 */
export function keyArnInRegion(keyArn: string, region: string): string {
  return /:key\/mrk-/.test(keyArn) ? keyArn.replace(/^(arn:[^:]+:kms:)[^:]+:/, `$1${region}:`) : keyArn;
}
