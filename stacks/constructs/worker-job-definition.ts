/**
 * The Batch job definition of the EBS worker, its roles and its encrypted log group.
 *
 * Contract with the worker (`batch-worker/`, ENTRYPOINT `node /app/worker.js`):
 * the EBS state machine submits a job with the parameters in WORKER_JOB_PARAMETERS; they
 * reach the worker as command-line flags. Settings that are the same for every job are
 * environment variables (WORKER_ENVIRONMENT). Both live in core/worker-job.ts.
 */
import { PIPELINE_ENV } from "../../core/metrics";
import { pipelineStackName } from "../../core/stack-names";
import { BatchJobDefinition } from "@cdktf/provider-aws/lib/batch-job-definition";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { ITerraformDependable } from "cdktf";
import { Construct } from "constructs";
import type { PipelineContext } from "./context";
import { WORKER_COMMAND, WORKER_ENVIRONMENT } from "../../core/worker-job";
import { workerJobRoleName } from "../../core/role-names";
import { partBufferBudgetMiB } from "../../core/worker-limits";
import { movedFrom } from "../moved";
import { EncryptedLogGroup } from "./encrypted-log-group";
import { PolicyDocument, PolicyStatement } from "./policy-document";

// The contract with the worker (names of parameters, flags and variables) lives in core.
export { WORKER_COMMAND, WORKER_ENVIRONMENT, WORKER_JOB_PARAMETERS } from "../../core/worker-job";

/** Batch's reason when Spot takes the host back: `Host EC2 (instance i-…) terminated.` */
export const SPOT_RECLAIM_STATUS_REASON = "Host EC2*";

export interface WorkerJobDefinitionProps {
  /** Name, account, region, partition and key of the pipeline. */
  readonly context: PipelineContext;
  /** The worker image (`<repository url>:<tag>` or a prebuilt URI). */
  readonly imageUri: string;
  /** ECR repository the execution role may pull from. @default none (a public image) */
  readonly imageRepositoryArn?: string;
  /** Resources to create before the job definition (the image build). @default none */
  readonly dependsOn?: ITerraformDependable[];
  readonly vcpus: number;
  readonly memoryMiB: number;
  /** Batch attempt timeout, hours. */
  readonly timeoutHours: number;
  /** Attempts when Spot reclaims the host (1-10); any other failure ends the job. */
  readonly spotRetries: number;
  /** zstd level: the default of the compressionLevel parameter and BACKUP_ACTIONS_COMPRESSION_LEVEL. */
  readonly compressionLevel: number;
  /** Passed as BACKUP_ACTIONS_CONCURRENCY. @default 4 */
  readonly uploadConcurrency?: number;
  /** ARN of the archive bucket (built by the archive construct). */
  readonly archiveBucketArn: string;
  /** Key prefix the worker writes under. @default "ebs/" */
  readonly archiveKeyPrefix?: string;
  /** KMS key of the archive bucket (SSE-KMS): the worker encrypts with it. @default none (no KMS permissions) */
  readonly archiveKmsKeyArn?: string;
  /**
   * The pipeline's tag (the EBS child puts it on every volume it restores): the worker
   * attaches and detaches only volumes carrying it.
   */
  readonly pipelineTag: { readonly key: string; readonly value: string };
  /** Tag key volumes must also carry, with the value `true`, for the worker to attach and detach them. @default none */
  readonly securityTag?: string;
  /**
   * The worker reads snapshots through the EBS direct APIs (worker.readPath "direct", ADR 0008): its role may
   * list and read the blocks of the region's snapshots and decrypt them through EC2; each job gets its static share
   * of the account's budget as its floor (BACKUP_ACTIONS_DIRECT_READ_RPS, directReadShare()) and _PARALLELISM; with
   * `lease`, the whole budget (_BUDGET) shared through the lease table (_LEASE_TABLE), which the role may renew,
   * count and delete leases in. @default none
   */
  readonly directRead?: {
    readonly requestsPerSecond: number;
    readonly parallelism: number;
    readonly lease?: { readonly budget: number; readonly tableName: string; readonly tableArn: string };
  };
  /** Days the job logs are kept. @default 90 */
  readonly logRetentionDays?: number;
  /** KMS key of the log group; its policy must let CloudWatch Logs use it (logsKeyPolicyStatements). @default a key made for this log group (EncryptedLogGroup) */
  readonly logKmsKeyArn?: string;
}

/**
 * What the worker does with the archive bucket: its role grants these, and the S3 gateway
 * endpoint's policy (S3EndpointPolicy) lets exactly these through, so the two cannot drift.
 */
export const WORKER_ARCHIVE_ACTIONS = {
  // s3:DeleteObjectVersion: an upload whose completed checksum is not what was sent is deleted by the
  // version just written (store.ts), so an earlier export's version becomes current again. It can
  // delete any version under the prefix; the archive bucket's Object Lock retention is what bounds it.
  objects: [
    "s3:PutObject",
    "s3:AbortMultipartUpload",
    "s3:ListMultipartUploadParts",
    "s3:GetObject",
    "s3:DeleteObject",
    "s3:DeleteObjectVersion",
  ],
  bucket: ["s3:ListBucketMultipartUploads"],
} as const;

export class WorkerJobDefinition extends Construct {
  public readonly jobDefinition: BatchJobDefinition;
  /** ARN with revision (an output for operators). */
  public readonly jobDefinitionArn: string;
  /**
   * Name without revision: the state machine submits to it, so Batch runs the latest ACTIVE
   * revision and a new revision does not rewrite the state machine's definition.
   */
  public readonly jobDefinitionName: string;
  public readonly jobRole: IamRole;
  public readonly executionRole: IamRole;
  public readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: WorkerJobDefinitionProps) {
    super(scope, id);
    const uploadConcurrency = props.uploadConcurrency ?? 4;
    const archiveKeyPrefix = props.archiveKeyPrefix ?? "ebs/";
    const logRetentionDays = props.logRetentionDays ?? 90;
    if (!Number.isInteger(props.spotRetries) || props.spotRetries < 1 || props.spotRetries > 10) {
      throw new Error(
        `WorkerJobDefinition ${this.node.path}: spotRetries must be from 1 to 10, Batch's range of attempts (got ${props.spotRetries})`,
      );
    }
    const partMemoryMiB = partBufferBudgetMiB(props.memoryMiB, props.vcpus);
    if (partMemoryMiB < 16) {
      throw new Error(
        `WorkerJobDefinition ${this.node.path}: memoryMiB ${props.memoryMiB} leaves ${partMemoryMiB} MiB for upload parts after the worker's reserve; give the job more memory`,
      );
    }
    if (archiveKeyPrefix.startsWith("/"))
      throw new Error(
        `WorkerJobDefinition ${this.node.path}: archiveKeyPrefix must not start with '/' (got "${archiveKeyPrefix}")`,
      );

    const logGroupName = `/${props.context.name}/batch-worker`;
    const logs = new EncryptedLogGroup(this, "log-group", {
      name: logGroupName,
      kmsKeyArn: props.logKmsKeyArn,
      accountId: props.context.accountId,
      region: props.context.region,
      keyDescription: `${props.context.name} Batch worker logs`,
      retentionInDays: logRetentionDays,
    });
    this.logGroup = logs.logGroup;
    // Before EncryptedLogGroup made them, the log group and its key were this construct's
    // own "log-group" and "log-key": move them in state, keeping the logs and the key.
    movedFrom(logs.logGroup, this, "log-group");
    if (logs.key) movedFrom(logs.key, this, "log-key");

    this.executionRole = this.role(
      "execution-role",
      `${props.context.name}-worker-execution-${props.context.region}`,
      "Batch pulls the worker image and ships its logs",
      props,
      [
        ...(props.imageRepositoryArn
          ? [
              { sid: "EcrLogin", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] }, // no resource-level permissions
              {
                sid: "PullWorkerImage",
                actions: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
                resources: [props.imageRepositoryArn],
              },
            ]
          : []),
        {
          sid: "WriteLogs",
          actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
          resources: [`${this.logGroup.arn}:log-stream:*`],
        },
      ],
    );

    this.jobRole = this.role(
      "job-role",
      workerJobRoleName(props.context.name, props.context.region),
      "The EBS worker: attaches the restored volume, uploads the archive",
      props,
      [
        ...this.volumeStatements(props),
        ...(props.directRead ? this.directReadStatements(props) : []),
        {
          // Put + multipart; Get/Head to read back what it wrote; Delete to replace its own
          // earlier partial work on a retry (a delete marker: the bucket is versioned).
          sid: "WriteArchive",
          actions: [...WORKER_ARCHIVE_ACTIONS.objects],
          resources: [`${props.archiveBucketArn}/${archiveKeyPrefix}*`],
        },
        {
          // A retried job finds and replaces its own earlier partial uploads.
          sid: "FindOwnPartialUploads",
          actions: [...WORKER_ARCHIVE_ACTIONS.bucket],
          resources: [props.archiveBucketArn],
        },
        ...(props.archiveKmsKeyArn
          ? [
              {
                // Multipart uploads to SSE-KMS need Decrypt too (S3 decrypts parts to assemble them).
                sid: "EncryptArchive",
                actions: ["kms:GenerateDataKey", "kms:Decrypt"],
                resources: [props.archiveKmsKeyArn],
                condition: [
                  {
                    test: "StringEquals",
                    variable: "kms:ViaService",
                    values: [`s3.${props.context.region}.amazonaws.com`],
                  },
                ],
              },
            ]
          : []),
        // No cloudwatch:PutMetricData: progress metrics leave as EMF log lines (BACKUP_ACTIONS_EMF=1 in the
        // image), which CloudWatch Logs turns into metrics; the worker never calls the metrics API.
      ],
    );

    this.jobDefinitionName = `${props.context.name}-ebs-worker`;
    this.jobDefinition = new BatchJobDefinition(this, "this", {
      name: this.jobDefinitionName,
      type: "container",
      platformCapabilities: ["EC2"],
      propagateTags: true,
      // Documents the parameters; a submission without them fails in the worker's argument check.
      parameters: {
        volumeId: "",
        targetUrl: "",
        compressionLevel: String(props.compressionLevel),
        snapshotId: "",
        readPath: "volume",
      },
      timeout: { attemptDurationSeconds: props.timeoutHours * 3600 },
      retryStrategy: {
        attempts: props.spotRetries,
        evaluateOnExit: [
          { onStatusReason: SPOT_RECLAIM_STATUS_REASON, action: "RETRY" },
          { onReason: "*", action: "EXIT" },
        ],
      },
      containerProperties: JSON.stringify({
        image: props.imageUri,
        command: WORKER_COMMAND,
        jobRoleArn: this.jobRole.arn,
        executionRoleArn: this.executionRole.arn,
        resourceRequirements: [
          { type: "VCPU", value: String(props.vcpus) },
          { type: "MEMORY", value: String(props.memoryMiB) },
        ],
        // Block devices: the worker attaches the volume, reads partitions, activates LVM, mounts.
        privileged: true,
        // The host's /dev, so a volume attached after the container started shows up in it
        // (a privileged container's own /dev is a copy taken at start).
        volumes: [{ name: "host-dev", host: { sourcePath: "/dev" } }],
        mountPoints: [{ sourceVolume: "host-dev", containerPath: "/dev", readOnly: false }],
        // Sorted by name, as Batch answers it: otherwise a plan after any change shows every entry moved.
        environment: [
          { name: WORKER_ENVIRONMENT.compressionLevel, value: String(props.compressionLevel) },
          { name: WORKER_ENVIRONMENT.uploadConcurrency, value: String(uploadConcurrency) },
          { name: WORKER_ENVIRONMENT.vcpus, value: String(props.vcpus) },
          { name: WORKER_ENVIRONMENT.partMemoryMiB, value: String(partMemoryMiB) },
          { name: "AWS_REGION", value: props.context.region },
          ...(props.directRead
            ? [
                {
                  name: WORKER_ENVIRONMENT.directReadRequestsPerSecond,
                  value: String(props.directRead.requestsPerSecond),
                },
                { name: WORKER_ENVIRONMENT.directReadParallelism, value: String(props.directRead.parallelism) },
                ...(props.directRead.lease
                  ? [
                      { name: WORKER_ENVIRONMENT.directReadBudget, value: String(props.directRead.lease.budget) },
                      { name: WORKER_ENVIRONMENT.directReadLeaseTable, value: props.directRead.lease.tableName },
                    ]
                  : []),
              ]
            : []),
          // The metrics' Pipeline dimension (core/metrics.ts, batch-worker/src/metrics.ts).
          { name: PIPELINE_ENV, value: pipelineStackName(props.context.accountId, props.context.region) },
        ].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0)),
        logConfiguration: {
          logDriver: "awslogs",
          options: {
            "awslogs-group": logGroupName,
            "awslogs-region": props.context.region,
            "awslogs-stream-prefix": "ebs",
          },
        },
      }),
      dependsOn: [this.logGroup, ...(props.dependsOn ?? [])],
    });
    this.jobDefinitionArn = this.jobDefinition.arn;
  }

  /**
   * The EBS direct read APIs the worker calls (ListSnapshotBlocks, GetSnapshotBlock: EBS User Guide, "Control
   * access to EBS direct APIs using IAM") on the region's snapshots; an encrypted snapshot's blocks are
   * decrypted with its key, which is whatever AWS Backup used, so only kms:Decrypt and only through the EBS
   * services: which endpoint names the request's kms:ViaService for GetSnapshotBlock (EC2's, as for volumes,
   * or the direct APIs' own `ebs.<region>`) is not documented, so both are allowed (not proven here: moto's
   * snapshots are not encrypted).
   */
  private directReadStatements(props: WorkerJobDefinitionProps): PolicyStatement[] {
    const { partition, region, accountId } = props.context;
    return [
      {
        sid: "ReadSnapshotBlocks",
        actions: ["ebs:ListSnapshotBlocks", "ebs:GetSnapshotBlock"],
        resources: [`arn:${partition}:ec2:${region}::snapshot/*`],
      },
      {
        sid: "DecryptSnapshotBlocks",
        actions: ["kms:Decrypt"],
        resources: [`arn:${partition}:kms:${region}:${accountId}:key/*`],
        condition: [
          {
            test: "StringEquals",
            variable: "kms:ViaService",
            values: [`ec2.${region}.amazonaws.com`, `ebs.${region}.amazonaws.com`],
          },
        ],
      },
      ...(props.directRead?.lease
        ? [
            {
              // batch-worker/src/rate-lease.ts: PutItem (write and renew its lease), Query (count the live ones),
              // DeleteItem (release it). The table holds nothing else; its AWS owned key needs no KMS grant.
              sid: "ShareDirectReadBudget",
              actions: ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"],
              resources: [props.directRead.lease.tableArn],
            },
          ]
        : []),
    ];
  }

  /**
   * Attach and detach need permission on the instance and on the volume; the volume side
   * carries the tag conditions (the same tags the EBS child's cleanup requires), so the worker
   * can only touch the pipeline's volumes. AttachVolume and DetachVolume take aws:ResourceTag
   * on the volume resource (Service Authorization Reference, Amazon EC2).
   */
  private volumeStatements(props: WorkerJobDefinitionProps): PolicyStatement[] {
    const ec2 = `arn:${props.context.partition}:ec2:${props.context.region}:${props.context.accountId}`;
    const tagged = [
      { test: "StringEquals", variable: `aws:ResourceTag/${props.pipelineTag.key}`, values: [props.pipelineTag.value] },
      ...(props.securityTag
        ? [{ test: "StringEquals", variable: `aws:ResourceTag/${props.securityTag}`, values: ["true"] }]
        : []),
    ];
    return [
      { sid: "DescribeVolumes", actions: ["ec2:DescribeVolumes"], resources: ["*"] }, // Describe* has no resource-level permissions
      // The device names already used on its own instance, before AttachVolume picks a free one (batch-entrypoint.ts).
      { sid: "DescribeInstances", actions: ["ec2:DescribeInstances"], resources: ["*"] },
      {
        sid: "AttachToOwnInstance",
        actions: ["ec2:AttachVolume", "ec2:DetachVolume"],
        resources: [`${ec2}:instance/*`],
      },
      {
        sid: "AttachPipelineVolumes",
        actions: ["ec2:AttachVolume", "ec2:DetachVolume"],
        resources: [`${ec2}:volume/*`],
        condition: tagged,
      },
    ];
  }

  private role(
    id: string,
    name: string,
    description: string,
    props: WorkerJobDefinitionProps,
    statements: PolicyStatement[],
  ): IamRole {
    const assume = new PolicyDocument(this, `${id}-assume`, {
      statement: [
        {
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
          condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [props.context.accountId] }],
        },
      ],
    });
    const role = new IamRole(this, id, { name, description, assumeRolePolicy: assume.json });
    const policy = new PolicyDocument(this, `${id}-policy`, { statement: statements });
    new IamRolePolicy(this, `${id}-inline`, { role: role.id, name: "least-privilege", policy: policy.json });
    return role;
  }
}
