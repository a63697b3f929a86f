/**
 * Granted actions that no request of the IAM proof uses, each with the reason it is granted anyway.
 * __tests__/iam/proof.test.ts compares this list with what the proof computes, both ways: a grant
 * that becomes unused, or a listed one that becomes used, fails until this file says so.
 * Keys: role (testing/iam/model.ts ROLES) → statement sid → actions.
 */
interface Unused {
  readonly actions: readonly string[];
  readonly reason: string;
}

const LAMBDA_RUNTIME = {
  WriteOwnLogs: {
    actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
    reason: "the Lambda service writes the function's logs with its role; our code never calls CloudWatch Logs",
  },
  WriteTraces: {
    actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"],
    reason: "the Lambda runtime sends active-tracing segments with the function's role (tracing_config Active)",
  },
};

/** The native-dump branch of the RDS and Aurora children (stacks/workflows/rds-dump.ts). */
const DUMP_BRANCH = {
  EncryptedSnapshotKeyGrant: {
    actions: ["kms:CreateGrant"],
    reason:
      "a restore from an encrypted snapshot only: RDS creates a grant on the snapshot's key (moto's snapshots are unencrypted)",
  },
  EncryptedSnapshotKey: {
    actions: ["kms:DescribeKey"],
    reason: "a restore from an encrypted snapshot only: RDS describes the snapshot's key through kms:ViaService rds",
  },
  FollowDump: {
    actions: ["batch:TerminateJob"],
    reason:
      "Step Functions terminates the dump's Batch job when the .sync Task is cancelled or times out; no test stops a run",
  },
};

const STEP_FUNCTIONS_SERVICE = {
  LogDelivery: {
    actions: [
      "logs:CreateLogDelivery",
      "logs:GetLogDelivery",
      "logs:UpdateLogDelivery",
      "logs:DeleteLogDelivery",
      "logs:ListLogDeliveries",
      "logs:PutResourcePolicy",
      "logs:DescribeResourcePolicies",
      "logs:DescribeLogGroups",
    ],
    reason:
      "Step Functions sets up the machine's logging_configuration with its role (Developer Guide, 'IAM policies for logging to CloudWatch Logs')",
  },
  XRay: {
    actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords", "xray:GetSamplingRules", "xray:GetSamplingTargets"],
    reason:
      "Step Functions sends the machine's traces with its role when tracing is enabled (Developer Guide, 'X-Ray tracing')",
  },
};

export const UNUSED_GRANTS: Readonly<Record<string, Readonly<Record<string, Unused>>>> = {
  starter: {
    ...LAMBDA_RUNTIME,
    ConsumeIntakeQueue: {
      actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
      reason:
        "the Lambda event source mapping polls and deletes the intake queue's messages with the function's role, not our code",
    },
    DecryptIntakeMessages: {
      actions: ["kms:Decrypt"],
      reason: "the event source mapping reads the SSE-KMS intake queue, which needs kms:Decrypt on its key",
    },
  },
  verify: { ...LAMBDA_RUNTIME },
  backstop: { ...STEP_FUNCTIONS_SERVICE },
  "backstop-rule": {
    StartBackstop: {
      actions: ["states:StartExecution"],
      reason:
        "EventBridge starts the backstop machine with this role when the abnormal-end rule matches; our code never assumes it",
    },
  },
  janitor: { ...LAMBDA_RUNTIME },
  reconciler: {
    ...LAMBDA_RUNTIME,
    LedgerKeyThroughDynamoDb: {
      actions: ["kms:Decrypt"],
      reason:
        "GetItem on the ledger, which is encrypted with the pipeline key: DynamoDB decrypts the table key with the caller's " +
        "permission (kms:ViaService dynamodb), which the proof does not model (moto's tables are not encrypted)",
    },
  },
  dispatcher: {
    ...STEP_FUNCTIONS_SERVICE,
    LedgerAndTopicKey: {
      actions: ["kms:Encrypt"],
      reason:
        "no request needs it (SNS needs GenerateDataKey and Decrypt; DynamoDB uses the table key through its own grant, which the proof " +
        "does not model): kept until an AWS account confirms it can go",
    },
    ReadRecoveryPointTags: {
      actions: ["backup:ListTags"],
      reason:
        "auto-delete of recovery points under full AWS Backup management: dispatcher-tag-sources.test.ts only, on a hand-built dispatcher",
    },
    FollowChildren: {
      actions: ["states:StopExecution"],
      reason:
        "Step Functions stops the EBS child when the dispatcher's .sync:2 Task is cancelled or times out; no test stops a run",
    },
  },
  "dynamodb-export": { ...STEP_FUNCTIONS_SERVICE },
  "rds-s3-export": {
    EncryptWithTheArchiveKey: {
      actions: ["kms:Encrypt", "kms:Decrypt", "kms:ReEncrypt*", "kms:DescribeKey"],
      reason:
        "RDS's own use of the archive key while it exports (the ExportTask reference: the export role must be able to " +
        "encrypt and decrypt with it); the bench's stand-in for RDS only uploads, which needs GenerateDataKey",
    },
    FindTheArchive: {
      actions: ["s3:ListBucket", "s3:GetBucketLocation"],
      reason:
        "in the export role's documented S3 list (StartExportTask IamRoleArn); RDS checks the bucket with them, the " +
        "bench's stand-in for RDS (testing/rds-export-fake.ts) only writes the files",
    },
    WriteExportsIntoTheArchive: {
      actions: ["s3:GetObject*", "s3:DeleteObject*"],
      reason:
        "the rest of the documented list (s3:PutObject*, s3:GetObject*, s3:DeleteObject*): RDS reads back and replaces " +
        "its own partial files; the stand-in only puts them",
    },
  },
  "rds-export": { ...STEP_FUNCTIONS_SERVICE, ...DUMP_BRANCH },
  "aurora-export": { ...STEP_FUNCTIONS_SERVICE, ...DUMP_BRANCH },
  "dump-password": { ...LAMBDA_RUNTIME },
  "ebs-export": {
    ...STEP_FUNCTIONS_SERVICE,
    CleanUpOwnVolumes: {
      actions: ["ec2:DetachVolume"],
      reason:
        "the cleanup detaches only a volume a dead worker left attached (ebs-export.exec.test.ts runs that path without roles)",
    },
    DetachFromAnyInstance: {
      actions: ["ec2:DetachVolume"],
      reason: "the instance side of the same forced detach of a volume a dead worker left attached",
    },
    EncryptedSnapshots: {
      actions: ["kms:CreateGrant"],
      reason:
        "CreateVolume from an encrypted snapshot only: EC2 creates a grant on the snapshot's key (moto's snapshots are unencrypted)",
    },
    EncryptedSnapshotsUse: {
      actions: [
        "kms:Decrypt",
        "kms:DescribeKey",
        "kms:GenerateDataKeyWithoutPlaintext",
        "kms:ReEncryptFrom",
        "kms:ReEncryptTo",
      ],
      reason: "CreateVolume from an encrypted snapshot only: EC2 uses the snapshot's key through kms:ViaService ec2",
    },
    FollowWorker: {
      actions: ["batch:TerminateJob"],
      reason:
        "Step Functions terminates the Batch job when the .sync Task is cancelled or times out; no test stops a run",
    },
  },
  "worker-job": {
    WriteDumps: {
      actions: [
        "s3:AbortMultipartUpload",
        "s3:ListMultipartUploadParts",
        "s3:GetObject",
        "s3:DeleteObject",
        "s3:DeleteObjectVersion",
      ],
      reason:
        "the dump writes through the worker's own multipart store (the EBS export's WriteArchive actions, exercised under " +
        "ebs/); the proof's dump job stand-in only puts its archive",
    },
    WriteArchive: {
      actions: ["s3:ListMultipartUploadParts"],
      reason:
        "no worker path lists parts (it keeps its parts' ETags); a candidate for removal (s3:GetObject is the restore drill's re-read)",
    },
  },
  drill: {
    ...LAMBDA_RUNTIME,
  },
  "drill-machine": {
    ...STEP_FUNCTIONS_SERVICE,
    FollowVerify: {
      actions: ["batch:TerminateJob"],
      reason:
        "Step Functions terminates the verify job when the .sync Task is cancelled or times out; no test stops a run",
    },
    PublishDrillFailed: {
      actions: ["events:PutEvents"],
      reason: "a failed drill only (restore-drill.test.ts runs it); the proof's archives verify",
    },
  },
  "drill-schedule": {
    StartDrill: {
      actions: ["states:StartExecution"],
      reason: "EventBridge starts the drill machine with this role on its schedule; our code never assumes it",
    },
  },
  "worker-execution": {
    EcrLogin: {
      actions: ["ecr:GetAuthorizationToken"],
      reason: "ECS logs in to ECR with the execution role to pull the worker image",
    },
    PullWorkerImage: {
      actions: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
      reason: "ECS pulls the worker image with the execution role",
    },
    WriteLogs: {
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      reason: "the awslogs driver ships the container's output with the execution role",
    },
  },
  "batch-instance": {
    DiscoverPollEndpoint: {
      actions: ["ecs:DiscoverPollEndpoint"],
      reason: "the ECS agent on the Batch instance finds its endpoint (no resource-level permissions)",
    },
    JoinBatchClusters: {
      actions: [
        "ecs:DeregisterContainerInstance",
        "ecs:Poll",
        "ecs:RegisterContainerInstance",
        "ecs:StartTelemetrySession",
        "ecs:SubmitAttachmentStateChanges",
        "ecs:SubmitContainerStateChange",
        "ecs:SubmitTaskStateChange",
        "ecs:UpdateContainerInstancesState",
      ],
      reason: "the ECS agent registers the instance with the Batch-managed cluster and runs its tasks",
    },
    WriteJobLogs: {
      actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
      reason: "the instance's Docker awslogs driver writes the job's log stream",
    },
  },
};
