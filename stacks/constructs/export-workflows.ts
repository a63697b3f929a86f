/**
 * The state machines of a pipeline: the EBS child and the dispatcher, each with a role
 * that allows exactly what its Tasks call.
 */
import { childStateMachineName } from "../../core/role-names";
import { Construct } from "constructs";
import type { PipelineContext } from "./context";
import { dispatcherDefinition } from "../workflows/dispatcher";
import { ebsExportDefinition, Placement } from "../workflows/ebs-export";
import { dynamodbExportDefinition } from "../workflows/dynamodb-export";
import { dynamodbExportStatements, dynamodbTempTablePrefix } from "./dynamodb-export-grants";
import { publishOutcomeEvents } from "./outcome-events-grant";
import type { DynamoDbExportFormat } from "../../core/dynamodb-export";
import type { DatabaseExportFormat, DatabaseWorkflow } from "../../core/workflows";
import { DatabaseExports } from "./database-exports";
import { StateMachine } from "./state-machine";
import type { PolicyCondition, PolicyStatement } from "./policy-document";
import { SCRATCH_TAG_KEY } from "../../core/tags";
import type { ReadPath } from "../../core/worker-job";

export interface ExportWorkflowsProps {
  /** Name, account, region, partition and key of the pipeline. */
  readonly context: PipelineContext;
  /** Name of the dispatcher (the starter's grant is built from it). */
  readonly dispatcherName: string;
  readonly placements: readonly Placement[];
  /** Name (no revision) of the EBS worker's job definition: the EBS workflow submits to its latest revision. */
  readonly jobDefinitionName: string;
  readonly volume: {
    readonly throughputMiBps: number;
    readonly iops: number;
    readonly initializationRateMiBps?: number;
  };
  /** How the EBS child gives the worker the snapshot (worker.readPath, ADR 0008). @default "volume" */
  readonly readPath?: ReadPath;
  readonly compressionLevel: number;
  readonly pipelineTag: { readonly key: string; readonly value: string };
  /** @default none */
  readonly securityTag?: string;
  readonly ledgerTableArn: string;
  readonly ledgerTableName: string;
  readonly verifyFunctionArn: string;
  readonly notificationTopicArn: string;
  readonly deleteRecoveryPoint: { readonly enabled: boolean; readonly requiredTag: string };
  /** Longest an EBS export may take, all Spot attempts included. */
  readonly childTimeoutSeconds: number;
  /** Whether the EBS workflow is deployed (exports.ebs). */
  readonly ebs: boolean;
  /** The DynamoDB workflow (exports.dynamodb), with the archive it writes to. @default not deployed */
  readonly dynamodb?: { readonly format: DynamoDbExportFormat; readonly archiveBucketArn: string };
  /** The RDS / Aurora children to deploy and their formats (exports.rds, exports.aurora). @default none */
  readonly databases?: Readonly<Partial<Record<DatabaseWorkflow, DatabaseExportFormat>>>;
  /** The archive bucket the database exports write to (RDS writes it through the export role). */
  readonly archiveBucketName: string;
  /** Where the native dump's temporary databases live and who may reach them. @default required with a dump format */
  readonly databaseDump?: {
    readonly vpcId: string;
    readonly subnetIds: string[];
    readonly workerSecurityGroupId: string;
    readonly workerJobRoleName: string;
    /** @default "db.t4g.medium" */
    readonly instanceClass?: string;
    /** @default "db.r6g.large" */
    readonly clusterInstanceClass?: string;
  };
  /** The archive's KMS key (a central archive's, docs/adr/0009). @default context.kmsKeyArn */
  readonly archiveKmsKeyArn?: string;
  /** The archive bucket's account when it is not this one (a central archive): ExportTableToPointInTime's S3BucketOwner. @default this account */
  readonly archiveBucketOwner?: string;
}

export class ExportWorkflows extends Construct {
  public readonly dispatcher: StateMachine;
  public readonly ebs?: StateMachine;
  public readonly dynamodb?: StateMachine;
  /** The RDS and Aurora children and their export role, when any is on. */
  public readonly databases?: DatabaseExports;

  constructor(scope: Construct, id: string, props: ExportWorkflowsProps) {
    super(scope, id);
    const { region, accountId, partition } = props.context;
    const volumeArn = `arn:${partition}:ec2:${region}:${accountId}:volume/*`;
    const onOwnVolumes = [
      { test: "StringEquals", variable: `aws:ResourceTag/${props.pipelineTag.key}`, values: [props.pipelineTag.value] },
      ...(props.securityTag
        ? [{ test: "StringEquals", variable: `aws:ResourceTag/${props.securityTag}`, values: ["true"] }]
        : []),
    ];

    if (props.ebs) {
      const ebsName = `${props.context.name}-ebs-export`;
      const direct = props.readPath === "direct";
      const statements: PolicyStatement[] = [
        ...(direct
          ? this.scratchStatements(props, volumeArn, onOwnVolumes)
          : this.restoreStatements(props, volumeArn, onOwnVolumes)),
        {
          sid: "RunWorker",
          actions: ["batch:SubmitJob"],
          // The Service Authorization Reference lists the job itself (job/<id>, not known before it
          // exists) as a required resource of SubmitJob, besides the queue and the definition.
          resources: [
            `arn:${partition}:batch:${region}:${accountId}:job-queue/${props.context.name}-*`,
            // Submitted by name: Batch runs, and authorizes, the latest ACTIVE revision (<name>:<revision>).
            `arn:${partition}:batch:${region}:${accountId}:job-definition/${props.jobDefinitionName}:*`,
            `arn:${partition}:batch:${region}:${accountId}:job/*`,
          ],
        },
        { sid: "FollowWorker", actions: ["batch:DescribeJobs", "batch:TerminateJob"], resources: ["*"] },
        {
          sid: "SyncIntegrationRule",
          actions: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
          resources: [`arn:${partition}:events:${region}:${accountId}:rule/StepFunctionsGetEventsForBatchJobsRule`],
        },
      ];
      this.ebs = new StateMachine(this, "ebs", {
        name: ebsName,
        accountId,
        region,
        kmsKeyArn: props.context.kmsKeyArn,
        statements,
        definition: ebsExportDefinition({
          partition,
          placements: props.placements,
          jobDefinitionName: props.jobDefinitionName,
          volume: props.volume,
          readPath: props.readPath,
          ...(direct ? { scratchKmsKeyArn: props.context.kmsKeyArn } : {}),
          pipelineTag: props.pipelineTag,
          securityTag: props.securityTag,
          compressionLevel: props.compressionLevel,
        }),
      });
    }

    if (props.databases && Object.keys(props.databases).length > 0) {
      this.databases = new DatabaseExports(this, "databases", {
        context: props.context,
        formats: props.databases,
        archiveBucketName: props.archiveBucketName,
        archiveKmsKeyArn: props.archiveKmsKeyArn,
        timeoutSeconds: props.childTimeoutSeconds,
        ...(props.databaseDump
          ? {
              dump: {
                ...props.databaseDump,
                // The database is reachable from every AZ of the VPC: the first queue runs the dump.
                jobQueueArn: props.placements[0]!.jobQueueArn,
                jobDefinitionName: props.jobDefinitionName,
                pipelineTag: props.pipelineTag,
                securityTag: props.securityTag,
                compressionLevel: props.compressionLevel,
              },
            }
          : {}),
      });
    }
    if (props.dynamodb) {
      const tablePrefix = dynamodbTempTablePrefix(props.context.name);
      this.dynamodb = new StateMachine(this, "dynamodb", {
        name: childStateMachineName(props.context.name, "dynamodb"),
        accountId,
        region,
        kmsKeyArn: props.context.kmsKeyArn,
        statements: dynamodbExportStatements({
          context: props.context,
          tablePrefix,
          archiveBucketArn: props.dynamodb.archiveBucketArn,
          archiveKmsKeyArn: props.archiveKmsKeyArn,
          pipelineTag: props.pipelineTag,
        }),
        definition: dynamodbExportDefinition({
          partition,
          format: props.dynamodb.format,
          kmsKeyArn: props.archiveKmsKeyArn ?? props.context.kmsKeyArn,
          bucketOwner: props.archiveBucketOwner,
          pipelineTag: props.pipelineTag,
          securityTag: props.securityTag,
          tablePrefix,
        }),
      });
    }

    const children: Record<string, string> = {
      ...(this.ebs ? { ebs: this.ebs.arn } : {}),
      ...Object.fromEntries(Object.entries(this.databases?.children ?? {}).map(([w, m]) => [w, m.arn])),
      ...(this.dynamodb ? { dynamodb: this.dynamodb.arn } : {}),
    };
    const childNames = Object.keys(children).map((w) => `${props.context.name}-${w}-export`);
    /** Recovery point ARNs by the resource that holds them (an EBS one is an EC2 snapshot, …). */
    const recoveryPoint = {
      ebs: `arn:${partition}:ec2:${region}::snapshot/*`,
      dbSnapshots: [
        `arn:${partition}:rds:${region}:${accountId}:snapshot:awsbackup:*`,
        `arn:${partition}:rds:${region}:${accountId}:cluster-snapshot:awsbackup:*`,
      ],
      dynamoDbBackup: `arn:${partition}:dynamodb:${region}:${accountId}:table/*/backup/*`,
      backup: `arn:${partition}:backup:${region}:${accountId}:recovery-point:*`,
    };
    const recoveryPointArns = [
      recoveryPoint.ebs,
      ...recoveryPoint.dbSnapshots,
      recoveryPoint.dynamoDbBackup,
      recoveryPoint.backup,
    ];
    const statements: PolicyStatement[] = [
      { sid: "Ledger", actions: ["dynamodb:PutItem", "dynamodb:UpdateItem"], resources: [props.ledgerTableArn] },
      {
        sid: "LedgerAndTopicKey",
        actions: ["kms:Decrypt", "kms:GenerateDataKey", "kms:Encrypt"],
        resources: [props.context.kmsKeyArn],
      },
      {
        sid: "Verify",
        actions: ["lambda:InvokeFunction"],
        resources: [props.verifyFunctionArn, `${props.verifyFunctionArn}:*`],
      },
      { sid: "Notify", actions: ["sns:Publish"], resources: [props.notificationTopicArn] },
      publishOutcomeEvents("PublishOutcomeEvents", { partition, region, accountId }),
      ...(childNames.length > 0
        ? [
            { sid: "RunChildren", actions: ["states:StartExecution"], resources: Object.values(children) },
            {
              sid: "FollowChildren",
              actions: ["states:DescribeExecution", "states:StopExecution"],
              resources: childNames.map((n) => `arn:${partition}:states:${region}:${accountId}:execution:${n}:*`),
            },
            {
              sid: "SyncIntegrationRule",
              actions: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
              resources: [
                `arn:${partition}:events:${region}:${accountId}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`,
              ],
            },
          ]
        : []),
      ...(props.deleteRecoveryPoint.enabled
        ? [
            // The deletion tag, read where it lives (stacks/workflows/dispatcher.ts).
            // ec2:DescribeTags has no resource-level permissions: "*" is the only resource it takes.
            { sid: "ReadSnapshotTags", actions: ["ec2:DescribeTags"], resources: ["*"] },
            { sid: "ReadDbSnapshotTags", actions: ["rds:ListTagsForResource"], resources: recoveryPoint.dbSnapshots },
            {
              sid: "ReadDynamoDbBackupTags",
              actions: ["dynamodb:ListTagsOfResource"],
              resources: [recoveryPoint.dynamoDbBackup],
            },
            { sid: "ReadRecoveryPointTags", actions: ["backup:ListTags"], resources: [recoveryPoint.backup] },
            {
              sid: "DeleteVerifiedRecoveryPoints",
              actions: ["backup:DeleteRecoveryPoint", "backup:DescribeRecoveryPoint"],
              resources: recoveryPointArns,
            },
          ]
        : []),
    ];
    this.dispatcher = new StateMachine(this, "dispatcher", {
      name: props.dispatcherName,
      accountId,
      region,
      kmsKeyArn: props.context.kmsKeyArn,
      statements,
      definition: dispatcherDefinition({
        partition,
        ledgerTableName: props.ledgerTableName,
        children,
        verifyFunctionArn: props.verifyFunctionArn,
        notificationTopicArn: props.notificationTopicArn,
        pipelineName: props.context.name,
        deleteRecoveryPoint: props.deleteRecoveryPoint,
        childTimeoutSeconds: props.childTimeoutSeconds,
      }),
    });
  }
  /** readPath `volume`: a tagged volume from any snapshot of the region, its key used through EC2. */
  private restoreStatements(
    props: ExportWorkflowsProps,
    volumeArn: string,
    onOwnVolumes: PolicyCondition[],
  ): PolicyStatement[] {
    const { region, accountId, partition } = props.context;
    return [
      {
        sid: "RestoreSnapshotAsTaggedVolume",
        actions: ["ec2:CreateVolume"],
        resources: [volumeArn],
        condition: [
          {
            test: "StringEquals",
            variable: `aws:RequestTag/${props.pipelineTag.key}`,
            values: [props.pipelineTag.value],
          },
        ],
      },
      {
        sid: "FromAnySnapshotOfTheRegion",
        actions: ["ec2:CreateVolume"],
        resources: [`arn:${partition}:ec2:${region}::snapshot/*`],
      },
      {
        sid: "TagOnlyAtCreation",
        actions: ["ec2:CreateTags"],
        resources: [volumeArn],
        condition: [{ test: "StringEquals", variable: "ec2:CreateAction", values: ["CreateVolume"] }],
      },
      // DescribeVolumes supports no resource-level permission.
      { sid: "WatchVolumes", actions: ["ec2:DescribeVolumes"], resources: ["*"] },
      {
        sid: "CleanUpOwnVolumes",
        actions: ["ec2:DetachVolume", "ec2:DeleteVolume"],
        resources: [volumeArn],
        condition: onOwnVolumes,
      },
      {
        sid: "DetachFromAnyInstance",
        actions: ["ec2:DetachVolume"],
        resources: [`arn:${partition}:ec2:${region}:${accountId}:instance/*`],
      },
      {
        sid: "EncryptedSnapshots",
        // The snapshot's key is whatever AWS Backup used: only through EC2, only for AWS resources.
        actions: ["kms:CreateGrant"],
        resources: [`arn:${partition}:kms:${region}:${accountId}:key/*`],
        condition: [
          { test: "Bool", variable: "kms:GrantIsForAWSResource", values: ["true"] },
          { test: "StringEquals", variable: "kms:ViaService", values: [`ec2.${region}.amazonaws.com`] },
        ],
      },
      {
        sid: "EncryptedSnapshotsUse",
        actions: [
          "kms:Decrypt",
          "kms:DescribeKey",
          "kms:GenerateDataKeyWithoutPlaintext",
          "kms:ReEncryptFrom",
          "kms:ReEncryptTo",
        ],
        resources: [`arn:${partition}:kms:${region}:${accountId}:key/*`],
        condition: [{ test: "StringEquals", variable: "kms:ViaService", values: [`ec2.${region}.amazonaws.com`] }],
      },
    ];
  }

  /**
   * readPath `direct`: a blank scratch volume (CreateVolume without SnapshotId needs the volume resource only:
   * Service Authorization Reference, Amazon EC2), only encrypted, only tagged as the pipeline's scratch of a
   * snapshot; the snapshot's size from DescribeSnapshots (no resource-level permissions); the pipeline's own key
   * for the encryption (EBS User Guide, "Amazon EBS encryption": CreateGrant, GenerateDataKeyWithoutPlaintext,
   * Decrypt, DescribeKey, through EC2). Detach and delete only volumes tagged as scratch of a snapshot.
   */
  private scratchStatements(
    props: ExportWorkflowsProps,
    volumeArn: string,
    onOwnVolumes: PolicyCondition[],
  ): PolicyStatement[] {
    const { region, accountId, partition } = props.context;
    const viaEc2 = {
      test: "StringEquals",
      variable: "kms:ViaService",
      values: [`ec2.${props.context.region}.amazonaws.com`],
    };
    return [
      {
        sid: "CreateBlankScratchVolume",
        actions: ["ec2:CreateVolume"],
        resources: [volumeArn],
        condition: [
          {
            test: "StringEquals",
            variable: `aws:RequestTag/${props.pipelineTag.key}`,
            values: [props.pipelineTag.value],
          },
          { test: "StringLike", variable: `aws:RequestTag/${SCRATCH_TAG_KEY}`, values: ["snap-*"] },
          { test: "Bool", variable: "ec2:Encrypted", values: ["true"] },
          { test: "StringEquals", variable: "ec2:VolumeType", values: ["gp3"] },
        ],
      },
      {
        sid: "TagOnlyAtCreation",
        actions: ["ec2:CreateTags"],
        resources: [volumeArn],
        condition: [{ test: "StringEquals", variable: "ec2:CreateAction", values: ["CreateVolume"] }],
      },
      // DescribeSnapshots and DescribeVolumes support no resource-level permission.
      { sid: "SnapshotSize", actions: ["ec2:DescribeSnapshots"], resources: ["*"] },
      { sid: "WatchVolumes", actions: ["ec2:DescribeVolumes"], resources: ["*"] },
      {
        sid: "CleanUpOwnScratchVolumes",
        actions: ["ec2:DetachVolume", "ec2:DeleteVolume"],
        resources: [volumeArn],
        condition: [
          ...onOwnVolumes,
          { test: "StringLike", variable: `aws:ResourceTag/${SCRATCH_TAG_KEY}`, values: ["snap-*"] },
        ],
      },
      {
        sid: "DetachFromAnyInstance",
        actions: ["ec2:DetachVolume"],
        resources: [`arn:${partition}:ec2:${region}:${accountId}:instance/*`],
      },
      {
        sid: "EncryptScratchGrant",
        actions: ["kms:CreateGrant"],
        resources: [props.context.kmsKeyArn],
        condition: [{ test: "Bool", variable: "kms:GrantIsForAWSResource", values: ["true"] }, viaEc2],
      },
      {
        sid: "EncryptScratch",
        actions: ["kms:GenerateDataKeyWithoutPlaintext", "kms:Decrypt", "kms:DescribeKey"],
        resources: [props.context.kmsKeyArn],
        condition: [viaEc2],
      },
    ];
  }
}
