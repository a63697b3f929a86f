/**
 * The RDS and Aurora children (stacks/workflows/rds-export.ts), each with a role that allows exactly
 * what its Tasks call, and the export role StartExportTask hands to RDS.
 *
 * Permissions, from the AWS pages they follow:
 * - export role: trusted by export.rds.amazonaws.com (aws:SourceAccount against confused deputies);
 *   s3:PutObject*, s3:GetObject*, s3:ListBucket, s3:DeleteObject*, s3:GetBucketLocation on the bucket
 *   and its objects, exactly the list of the StartExportTask API reference (IamRoleArn) and the RDS user
 *   guide "Providing access to an Amazon S3 bucket using an IAM role" (objects narrowed to the
 *   workflows' own prefixes); kms:Encrypt, Decrypt, GenerateDataKey*, ReEncrypt* and DescribeKey on the
 *   archive key, which the ExportTask reference says the export role must be able to use.
 * - child role: rds:DescribeDBSnapshots / rds:DescribeDBClusterSnapshots / rds:StartExportTask on
 *   snapshots and cluster snapshots, rds:DescribeExportTasks (Service Authorization Reference for RDS);
 *   iam:PassRole of the export role only, with iam:PassedToService export.rds.amazonaws.com;
 *   kms:CreateGrant (for AWS resources only) and kms:DescribeKey on the archive key, which the
 *   StartExportTask reference (KmsKeyId) requires of the caller.
 * The archive key's policy lets the account's IAM decide (pipeline-key.ts) and the archive bucket's
 * policy only denies plain HTTP, so neither needs a statement for the export role.
 */
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Construct } from "constructs";
import type { DatabaseExportFormat, DatabaseWorkflow } from "../../core/workflows";
import { hasParquet } from "../../core/workflows";
import { childStateMachineName, rdsExportRoleName } from "../../core/role-names";
import { rdsExportDefinition } from "../workflows/rds-export";
import type { PipelineContext } from "./context";
import { StateMachine } from "./state-machine";

export interface DatabaseExportsProps {
  readonly context: PipelineContext;
  /** The children to deploy, by workflow, and how each exports. */
  readonly formats: Readonly<Partial<Record<DatabaseWorkflow, DatabaseExportFormat>>>;
  /** The archive bucket (StartExportTask's S3BucketName; the export role may write only there). */
  readonly archiveBucketName: string;
  /** The archive's key: the exports are encrypted with it (a central archive's). @default context.kmsKeyArn */
  readonly archiveKmsKeyArn?: string;
  /** Longest a child may run (the dispatcher's child timeout): the polls and queue waits fit in it. */
  readonly timeoutSeconds: number;
}

/** Name of the role StartExportTask hands to RDS. */
export const exportRoleName = rdsExportRoleName;

const POLL_SECONDS = 300;
const MAX_QUEUE_SECONDS = 900;

export class DatabaseExports extends Construct {
  public readonly children: Readonly<Partial<Record<DatabaseWorkflow, StateMachine>>>;
  public readonly exportRole?: IamRole;

  constructor(scope: Construct, id: string, props: DatabaseExportsProps) {
    super(scope, id);
    const { name, region, accountId, partition } = props.context;
    // The child's own log group stays on the pipeline key; the exports use the archive's.
    const kmsKeyArn = props.archiveKmsKeyArn ?? props.context.kmsKeyArn;
    const workflows = Object.keys(props.formats) as DatabaseWorkflow[];
    if (workflows.length === 0) throw new Error("DatabaseExports: formats must name rds, aurora or both");
    const bucketArn = `arn:${partition}:s3:::${props.archiveBucketName}`;
    const exportRoleArn = `arn:${partition}:iam::${accountId}:role/${exportRoleName(name)}`;
    const parquet = workflows.filter((w) => hasParquet(props.formats[w]!));

    if (parquet.length > 0) {
      const assume = new DataAwsIamPolicyDocument(this, "export-assume", {
        statement: [
          {
            actions: ["sts:AssumeRole"],
            principals: [{ type: "Service", identifiers: ["export.rds.amazonaws.com"] }],
            condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] }],
          },
        ],
      });
      this.exportRole = new IamRole(this, "export-role", {
        name: exportRoleName(name),
        description: "RDS snapshot export (StartExportTask) writes Parquet into the archive",
        assumeRolePolicy: assume.json,
      });
      const policy = new DataAwsIamPolicyDocument(this, "export-policy", {
        statement: [
          {
            sid: "WriteExportsIntoTheArchive",
            actions: ["s3:PutObject*", "s3:GetObject*", "s3:DeleteObject*"],
            resources: parquet.map((w) => `${bucketArn}/${w}/*`),
          },
          { sid: "FindTheArchive", actions: ["s3:ListBucket", "s3:GetBucketLocation"], resources: [bucketArn] },
          {
            sid: "EncryptWithTheArchiveKey",
            actions: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*", "kms:DescribeKey"],
            resources: [kmsKeyArn],
          },
        ],
      });
      new IamRolePolicy(this, "export-inline", {
        role: this.exportRole.id,
        name: "least-privilege",
        policy: policy.json,
      });
    }

    // Each child reads and exports only its own kind: RDS DB snapshots, Aurora cluster snapshots.
    const snapshotsOf = (w: DatabaseWorkflow) => [
      `arn:${partition}:rds:${region}:${accountId}:${w === "rds" ? "snapshot" : "cluster-snapshot"}:*`,
    ];
    const children: Partial<Record<DatabaseWorkflow, StateMachine>> = {};
    for (const workflow of workflows) {
      const format = props.formats[workflow]!;
      const machineName = childStateMachineName(name, workflow);
      const snapshots = snapshotsOf(workflow);
      children[workflow] = new StateMachine(this, workflow, {
        name: machineName,
        accountId,
        region,
        kmsKeyArn: props.context.kmsKeyArn,
        statements: [
          {
            sid: "ReadSnapshots",
            actions: [workflow === "rds" ? "rds:DescribeDBSnapshots" : "rds:DescribeDBClusterSnapshots"],
            resources: snapshots,
          },
          ...(hasParquet(format)
            ? [
                { sid: "ExportSnapshots", actions: ["rds:StartExportTask"], resources: snapshots },
                // DescribeExportTasks supports no resource-level permission.
                { sid: "FollowExports", actions: ["rds:DescribeExportTasks"], resources: ["*"] },
                {
                  sid: "HandTheExportRoleToRds",
                  actions: ["iam:PassRole"],
                  resources: [exportRoleArn],
                  condition: [
                    { test: "StringEquals", variable: "iam:PassedToService", values: ["export.rds.amazonaws.com"] },
                  ],
                },
                {
                  sid: "ExportKeyGrant",
                  actions: ["kms:CreateGrant"],
                  resources: [kmsKeyArn],
                  condition: [{ test: "Bool", variable: "kms:GrantIsForAWSResource", values: ["true"] }],
                },
                { sid: "ExportKey", actions: ["kms:DescribeKey"], resources: [kmsKeyArn] },
              ]
            : []),
        ],
        definition: rdsExportDefinition({
          partition,
          workflow,
          format,
          exportRoleArn,
          kmsKeyArn,
          pollSeconds: POLL_SECONDS,
          // Half the child's time for the export itself, four tenths for waiting for a free slot.
          maxPolls: Math.max(1, Math.floor((props.timeoutSeconds * 0.5) / POLL_SECONDS)),
          maxQueueSeconds: MAX_QUEUE_SECONDS,
          maxQueueWaits: Math.max(1, Math.floor((props.timeoutSeconds * 0.4) / MAX_QUEUE_SECONDS)),
        }),
      });
    }
    this.children = children;
  }
}
