/**
 * `pipeline-<account>-<region>`: the action pipeline. It reads the network through
 * the network stack's remote state (never an in-process reference), so each stack
 * plans and applies from its own state. Later features fill it.
 */
import { TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import type { RegionDeployment } from "../config/deployment";
import { PIPELINE_TAG_KEY } from "../core/tags";
import { ArchiveBucket } from "./constructs/archive-bucket";
import { ARCHIVE_OUTPUTS } from "./archive-stack";
import { verifyFunctionName } from "../core/role-names";
import { remoteStateOf } from "./backends";
import { BatchSpot } from "./constructs/batch-spot";
import { EventIntake } from "./constructs/event-intake";
import { directReadLeaseTableName, workerDirectReadShare } from "../core/direct-read";
import { DirectReadLeaseTable } from "./constructs/direct-read-lease-table";
import { ExportWorkflows } from "./constructs/export-workflows";
import { dynamodbExportEnabled, dynamodbExportFormat } from "../core/dynamodb-export";
import { dynamodbTempTablePrefix } from "./constructs/dynamodb-export-grants";
import { databaseFormatsOf } from "../config/database-exports";
import { dumpParameterPath } from "../core/rds-identifier";
import { hasDump } from "../core/workflows";
import { Alarms } from "./constructs/alarms";
import { Dashboard } from "./constructs/dashboard";
import { Janitor } from "./constructs/janitor";
import { Reconciler } from "./constructs/reconciler";
import { RestoreDrill } from "./constructs/restore-drill";
import { drillableWorkflows } from "../core/drill";
import type { MonitoredPipeline } from "./constructs/monitored";
import { LambdaFunction } from "./constructs/lambda-function";
import { Notifications } from "./constructs/notifications";
import { LedgerTable } from "./constructs/ledger-table";
import { PipelineKey } from "./constructs/pipeline-key";
import { S3EndpointPolicy } from "./constructs/s3-endpoint-policy";
import { WorkerImage } from "./constructs/worker-image";
import { WorkerJobDefinition } from "./constructs/worker-job-definition";
import { NETWORK_OUTPUTS } from "./network-stack";
import { awsProvider } from "./provider";
import type { PipelineContext } from "./constructs/context";

export interface PipelineStackProps {
  /** This account and region, resolved from the config (config/deployment.ts). */
  readonly deployment: RegionDeployment;
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

// Tag on every volume the pipeline restores (value: the config's name); the janitor keys on it.
export { PIPELINE_TAG_KEY } from "../core/tags";

// Pure helpers that lived here moved to config/deployment.ts (a Lambda test need not import a stack).
export { dispatcherRoutesEnvOf, dispatcherRoutesOf, keyArnInRegion, placementCountOf } from "../config/deployment";

export class PipelineStack extends TerraformStack {
  public readonly network: NetworkRef;
  /** Its own archive bucket; none with a central archive (mode "write"), which the archive stack owns. */
  public readonly archive?: ArchiveBucket;
  /** The bucket the exports are written to: its own archive's, or the central archive's. */
  public readonly archiveBucketArn: string;
  /** The key of that bucket: the pipeline's, or the central archive's (read from the archive stack's state). */
  public readonly archiveKmsKeyArn: string;
  /** KMS key of the pipeline: config.kmsKeyArn, or the key this stack creates. */
  public readonly kmsKeyArn: string;
  public readonly ledger: LedgerTable;
  public readonly workerImage: WorkerImage;
  public readonly workerJob: WorkerJobDefinition;
  public readonly batch: BatchSpot;
  public readonly notifications: Notifications;
  public readonly workflows: ExportWorkflows;
  /** What the dashboard and alarms watch (README "Dashboard and alarms" is rendered from it). */
  public readonly monitored: MonitoredPipeline;
  /** With worker.readPath "direct": the leases the jobs share the EBS direct read budget by (ADR 0008). */
  public directReadLeaseTable?: DirectReadLeaseTable;

  constructor(scope: Construct, id: string, props: PipelineStackProps) {
    super(scope, id);
    const d = props.deployment;
    const { settings } = d;
    awsProvider(this, { region: d.region, accountId: d.accountId, assumeRoleArn: d.assumeRoleArn, tags: d.tags });

    const remote = remoteStateOf(this, "network", d.backend, d.stackNames.network);
    this.network = {
      vpcId: remote.getString(NETWORK_OUTPUTS.vpcId),
      subnetIds: remote.getList(NETWORK_OUTPUTS.subnetIds),
      subnetAzs: remote.getList(NETWORK_OUTPUTS.subnetAzs),
      workerSecurityGroupId: remote.getString(NETWORK_OUTPUTS.workerSecurityGroupId),
      s3EndpointId: remote.getString(NETWORK_OUTPUTS.s3EndpointId),
      egressMode: remote.getString(NETWORK_OUTPUTS.egressMode),
    };

    new TerraformOutput(this, "network_vpc_id", {
      value: this.network.vpcId,
      description: "VPC this pipeline runs in (from the network stack).",
    });

    this.kmsKeyArn =
      d.kmsKeyArn ??
      new PipelineKey(this, "pipeline-key", { name: d.name, accountId: d.accountId, region: d.region }).arn;

    new TerraformOutput(this, "pipeline_kms_key_arn", {
      value: this.kmsKeyArn,
      description:
        "KMS key of the pipeline's queues, log groups, ledger and archive (config.kmsKeyArn, or the key this stack created).",
    });

    // What every construct of this pipeline shares: its name, account, region, partition and key.
    const context: PipelineContext = {
      name: d.name,
      accountId: d.accountId,
      region: d.region,
      partition: d.partition,
      kmsKeyArn: this.kmsKeyArn,
    };

    // This region's own dispatcher: its ARN, archive bucket name and placement count.
    const own = d.dispatcher;
    const placementCount = d.placementCount;

    // With a central archive (docs/adr/0009) the bucket is the archive stack's, in the archive account:
    // its name follows from the config (own.archiveBucket, the routes name it), its key comes from that
    // stack's state. Otherwise the pipeline owns its archive.
    const central = d.centralArchive;
    if (central) {
      const archiveState = remoteStateOf(this, "archive", d.backend, central.stackName);
      this.archiveBucketArn = `arn:${d.partition}:s3:::${central.bucketName}`;
      this.archiveKmsKeyArn = archiveState.getString(ARCHIVE_OUTPUTS.keyArn);
    } else {
      this.archive = new ArchiveBucket(this, "archive", {
        bucketName: own.archiveBucket,
        kmsKeyArn: this.kmsKeyArn,
        lifecycle: settings.lifecycleRules,
        noncurrentVersionDays: settings.archive.noncurrentVersionRetentionDays,
        objectLock: settings.archive.objectLock,
        accessLogs: settings.accessLogs,
      });
      this.archiveBucketArn = this.archive.bucket.arn;
      this.archiveKmsKeyArn = this.kmsKeyArn;
    }
    new TerraformOutput(this, "archive_bucket_name", {
      value: this.archive ? this.archive.bucket.bucket : own.archiveBucket,
      description: central
        ? `Bucket the exports are written to: the central archive of ${central.accountId} (${central.stackName}).`
        : "Bucket the exports are written to.",
    });
    // The network stack's S3 gateway endpoint lets through only this archive and ECR's layers.
    new S3EndpointPolicy(this, "s3-endpoint-policy", {
      vpcEndpointId: this.network.s3EndpointId,
      region: d.region,
      archiveBucketArn: this.archiveBucketArn,
    });

    // ── Event intake (issue 5): Backup events → rules → queue → starter → dispatcher ──
    // The dispatchers' ARNs are built from their names, so the starter's IAM grant is exact
    // before (and independent of) the state machine resources, here and in other regions.
    const intake = new EventIntake(this, "event-intake", {
      context,
      config: d.intake,
      // This pipeline's dispatcher and those of the account's other regions (copy jobs, ADR 0006).
      routes: d.routes,
    });
    new TerraformOutput(this, "intake_queue_url", {
      value: intake.queue.url,
      description: "Queue of AWS Backup events waiting for the starter.",
    });
    new TerraformOutput(this, "intake_dlq_url", {
      value: intake.deadLetterQueue.url,
      description: "Events that could not be delivered or started; inspect and redrive.",
    });

    // ── EBS worker: image, job definition, Batch on Spot per AZ; the ledger ──────────
    // The AZ count and egress mode come from config, not remote state: they change the
    // synthesized shape (how many queues, whether instances get public IPs).
    const { worker } = settings;
    const archiveBucketArn = `arn:${d.partition}:s3:::${own.archiveBucket}`;
    this.ledger = new LedgerTable(this, "ledger", { tableName: `${d.name}-ledger`, kmsKeyArn: this.kmsKeyArn });
    this.workerImage = new WorkerImage(this, "worker-image", {
      repositoryName: `${d.name}-worker`,
      region: d.region,
      imageUri: worker.imageUri,
      assumeRoleArn: d.assumeRoleArn,
      kmsKeyArn: this.kmsKeyArn,
    });
    new TerraformOutput(this, "worker_image_uri", {
      value: this.workerImage.imageUri,
      description:
        "Image the EBS worker's jobs run: <repository url>:src-<hash of the worker's inputs>, or worker.imageUri.",
    });
    if (this.workerImage.repository) {
      new TerraformOutput(this, "worker_repository_url", {
        value: this.workerImage.repository.repositoryUrl,
        description: "ECR repository the deploy builds and pushes the worker image to (none with worker.imageUri).",
      });
      new TerraformOutput(this, "worker_repository_arn", {
        value: this.workerImage.repository.arn,
        description: "ARN of that ECR repository.",
      });
    }
    this.workerJob = new WorkerJobDefinition(this, "worker-job", {
      context,
      imageUri: this.workerImage.imageUri,
      imageRepositoryArn: this.workerImage.repositoryArn,
      dependsOn: this.workerImage.build ? [this.workerImage.build] : [],
      vcpus: worker.vcpus,
      memoryMiB: worker.memoryMiB,
      timeoutHours: worker.timeoutHours,
      spotRetries: worker.spotRetries,
      compressionLevel: settings.exports.compressionLevel,
      archiveBucketArn,
      archiveKmsKeyArn: this.archiveKmsKeyArn,
      logKmsKeyArn: this.kmsKeyArn,
      pipelineTag: { key: PIPELINE_TAG_KEY, value: d.name },
      securityTag: settings.securityTag,
      ...(worker.readPath === "direct"
        ? {
            directRead: {
              requestsPerSecond: workerDirectReadShare(worker, placementCount),
              parallelism: worker.directRead.parallelism,
              lease: this.directReadLeases(d.name, worker.directRead.requestsPerSecond),
            },
          }
        : {}),
    });
    this.batch = new BatchSpot(this, "batch", {
      context,
      azCount: placementCount,
      subnetIds: this.network.subnetIds,
      subnetAzs: this.network.subnetAzs,
      zoneNames: d.zoneNames,
      securityGroupId: this.network.workerSecurityGroupId,
      publicIp: d.egress === "public",
      instanceFamilies: worker.instanceFamilies,
      maxVcpus: worker.maxVcpus,
      onDemandFallback: worker.onDemandFallback,
      logGroupArns: [this.workerJob.logGroup.arn],
    });
    new TerraformOutput(this, "worker_job_queue_arns", {
      value: this.batch.jobQueueArns,
      description: "EBS worker job queues, one per AZ.",
    });
    new TerraformOutput(this, "worker_job_queue_azs", {
      value: this.batch.jobQueueAzs,
      description: "AZ of each queue in worker_job_queue_arns: create the volume there.",
    });
    new TerraformOutput(this, "worker_job_definition_arn", {
      value: this.workerJob.jobDefinitionArn,
      description: "EBS worker job definition.",
    });
    new TerraformOutput(this, "ledger_table_name", {
      value: this.ledger.tableName,
      description: "Ledger of exports (backup-actions ledger reads it).",
    });

    // ── Orchestration: verify, notify, the EBS child and the dispatcher, the janitor ──
    const dispatcherName = own.stateMachineName;
    const dispatcherArn = own.stateMachineArn;
    const pipelineTag = { key: PIPELINE_TAG_KEY, value: d.name };
    // Every Spot attempt may run to the job timeout; one more hour for restore and cleanup.
    const childTimeoutSeconds = (worker.timeoutHours * worker.spotRetries + 1) * 3600;

    this.notifications = new Notifications(this, "notifications", {
      context,
      email: settings.notificationEmail,
      dispatcherStateMachineArn: dispatcherArn,
    });
    const verify = new LambdaFunction(this, "verify", {
      entry: "verify",
      functionName: verifyFunctionName(d.name),
      description: "Checks an export: manifest present, every object with the manifest's size and checksum",
      accountId: d.accountId,
      region: d.region,
      kmsKeyArn: this.kmsKeyArn,
      timeout: 300,
      statements: [
        // HeadObject (sizes, checksums) and GetObject (the manifest) both need s3:GetObject
        { sid: "ReadArchive", actions: ["s3:GetObject"], resources: [`${this.archiveBucketArn}/*`] },
        // Without s3:ListBucket S3 answers a missing key with 403, not 404: the verify Lambda would throw
        // (retried, then failed as an error) instead of reporting the missing manifest or object.
        { sid: "MissingIsNotFound", actions: ["s3:ListBucket"], resources: [this.archiveBucketArn] },
        { sid: "ArchiveKey", actions: ["kms:Decrypt"], resources: [this.archiveKmsKeyArn] },
      ],
    });
    this.workflows = new ExportWorkflows(this, "workflows", {
      context,
      dispatcherName,
      ebs: settings.exports.ebs,
      ...(dynamodbExportEnabled(settings.exports.dynamodb)
        ? {
            dynamodb: {
              format: dynamodbExportFormat(settings.exports.dynamodb),
              archiveBucketArn: this.archiveBucketArn,
            },
          }
        : {}),
      databases: databaseFormatsOf(settings.exports),
      archiveBucketName: own.archiveBucket,
      databaseDump: {
        vpcId: this.network.vpcId,
        subnetIds: this.network.subnetIds,
        workerSecurityGroupId: this.network.workerSecurityGroupId,
        workerJobRoleName: this.workerJob.jobRole.name,
        ...(settings.exports.rds ? { instanceClass: settings.exports.rds.instanceClass } : {}),
        ...(settings.exports.aurora ? { clusterInstanceClass: settings.exports.aurora.instanceClass } : {}),
      },
      ...(central ? { archiveKmsKeyArn: this.archiveKmsKeyArn, archiveBucketOwner: central.accountId } : {}),
      placements: Array.from({ length: placementCount }, (_, i) => ({
        availabilityZone: this.batch.jobQueueAzs[i]!,
        jobQueueArn: this.batch.jobQueueArns[i]!,
      })),
      jobDefinitionName: this.workerJob.jobDefinitionName,
      volume: worker.volume,
      readPath: worker.readPath,
      compressionLevel: settings.exports.compressionLevel,
      pipelineTag,
      securityTag: settings.securityTag,
      ledgerTableArn: this.ledger.tableArn,
      ledgerTableName: this.ledger.tableName,
      verifyFunctionArn: verify.function.arn,
      notificationTopicArn: this.notifications.topic.arn,
      deleteRecoveryPoint: settings.deleteRecoveryPoint,
      childTimeoutSeconds,
    });
    const janitor = new Janitor(this, "janitor", {
      context,
      pipelineTag,
      securityTag: settings.securityTag,
      // A volume can live as long as the longest export; six hours of margin.
      maxAgeHours: childTimeoutSeconds / 3600 + 6,
      ...(dynamodbExportEnabled(settings.exports.dynamodb) ? { tablePrefix: dynamodbTempTablePrefix(d.name) } : {}),
      ...(Object.values(databaseFormatsOf(settings.exports)).some((f) => f && hasDump(f))
        ? { dumpParameterPath: dumpParameterPath(d.name) }
        : {}),
    });

    // ── Reconciler: starts what a lost AWS Backup event never started (README "Reconciling lost events") ──
    const reconciler = settings.reconciler.enabled
      ? new Reconciler(this, "reconciler", {
          context,
          config: d.intake,
          dispatcher: {
            stateMachineArn: dispatcherArn,
            archiveBucket: own.archiveBucket,
            placementCount,
          },
          ledgerTableName: this.ledger.tableName,
          ledgerTableArn: this.ledger.tableArn,
          ledgerKmsKeyArn: this.kmsKeyArn,
          intervalHours: settings.reconciler.intervalHours,
          lookBackDays: settings.reconciler.lookBackDays,
          // One uninterrupted worker attempt and the hour of restore and cleanup: a recovery point
          // AWS Backup deletes sooner could not be archived in time, so it is reported, not started.
          minRetentionHours: worker.timeoutHours + 1,
        })
      : undefined;
    // ── Restore drill (README "Restore drills"): opt-in, config `drills` ─────────────
    let drill: RestoreDrill | undefined;
    if (settings.drills.enabled) {
      drill = new RestoreDrill(this, "drill", {
        context,
        schedule: settings.drills.schedule,
        sampleSize: settings.drills.sampleSize,
        glacier: settings.drills.glacier,
        restoreDumps: settings.drills.restoreDumps,
        workflows: drillableWorkflows(settings.exports),
        ledgerTableArn: this.ledger.tableArn,
        ledgerTableName: this.ledger.tableName,
        archiveBucketArn: this.archiveBucketArn,
        jobDefinitionName: this.workerJob.jobDefinitionName,
        jobQueueArn: this.batch.jobQueueArns[0]!,
        pipelineTag,
      });
    }

    // ── Dashboard and alarms (README "Dashboard and alarms") ─────────────────────────
    const wf = this.workflows;
    const monitored: MonitoredPipeline = (this.monitored = {
      pipeline: d.stackNames.pipeline,
      region: d.region,
      name: d.name,
      dispatcherArn: wf.dispatcher.stateMachine.arn,
      childArns: {
        ...(wf.ebs ? { ebs: wf.ebs.stateMachine.arn } : {}),
        ...Object.fromEntries(Object.entries(wf.databases?.children ?? {}).map(([w, m]) => [w, m.stateMachine.arn])),
        ...(wf.dynamodb ? { dynamodb: wf.dynamodb.stateMachine.arn } : {}),
      },
      deadLetterQueueName: intake.deadLetterQueue.name,
      functionNames: {
        starter: intake.starter.function.functionName,
        verify: verify.function.functionName,
        janitor: janitor.lambda.function.functionName,
        ...(reconciler ? { reconciler: reconciler.lambda.function.functionName } : {}),
        ...(wf.databases?.dumpPassword ? { "dump-password": wf.databases.dumpPassword.function.functionName } : {}),
        ...(drill ? { drill: drill.lambda.function.functionName } : {}),
      },
      janitorTypes: [
        "ebs",
        ...(dynamodbExportEnabled(settings.exports.dynamodb) ? (["dynamodb"] as const) : []),
        ...(Object.values(databaseFormatsOf(settings.exports)).some((f) => f && hasDump(f)) ? (["rds"] as const) : []),
      ],
      reconciler: reconciler !== undefined,
    });
    new Dashboard(this, "dashboard", { monitored });
    new Alarms(this, "alarms", { monitored, topicArn: this.notifications.topic.arn });
    new TerraformOutput(this, "dispatcher_state_machine_arn", {
      value: this.workflows.dispatcher.stateMachine.arn,
      description: "Dispatcher state machine (one execution per recovery point).",
    });
    new TerraformOutput(this, "notification_topic_arn", {
      value: this.notifications.topic.arn,
      description:
        "Export outcomes (SUCCEEDED, SKIPPED, UNSUPPORTED, FAILED) and abnormal dispatcher ends (also EventBridge events, docs/events.md).",
    });
  }

  /** The lease table and what the job definition needs of it: the whole budget, the table's name and ARN. */
  private directReadLeases(name: string, budget: number) {
    this.directReadLeaseTable = new DirectReadLeaseTable(this, "direct-read-leases", {
      tableName: directReadLeaseTableName(name),
    });
    return { budget, tableName: this.directReadLeaseTable.tableName, tableArn: this.directReadLeaseTable.tableArn };
  }
}
