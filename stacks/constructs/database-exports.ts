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
 * - native dump (format "dump" or "both", stacks/workflows/rds-dump.ts): the DB subnet group of the private
 *   subnets and a security group taking the engine ports (5432, 3306) from the workers' group only (and
 *   the workers' egress to it); the password Lambda (lambdas/dump-password); the child's grants of
 *   docs "Actions, resources, and condition keys for Amazon RDS" (SAR-rds): RestoreDBInstanceFromDBSnapshot
 *   on the snapshot, the new db, the subnet group and the default option and parameter groups it takes;
 *   RestoreDBClusterFromSnapshot on the cluster snapshot, the new cluster, the subnet group and the default
 *   cluster parameter and option groups; CreateDBInstance (Aurora) on the db, its cluster, the subnet group
 *   and the default groups; rds:AddTagsToResource, which tagging at creation needs (RDS User Guide "Tagging
 *   Amazon RDS resources"); DescribeDBInstances, DeleteDBInstance, DeleteDBCluster on the temporary ones
 *   only (dump-*); an encrypted snapshot's key (whatever AWS Backup used): kms:CreateGrant (for AWS
 *   resources) and kms:DescribeKey through RDS (RDS User Guide "Encrypting Amazon RDS resources": restoring
 *   needs both on the snapshot's key); ssm:DeleteParameter of the branch's parameters; the Batch job as the
 *   EBS child runs its own. The password Lambda: ssm:PutParameter under the path, kms:Encrypt through SSM
 *   (a standard SecureString is encrypted with Encrypt), rds:ModifyDBInstance / rds:ModifyDBCluster on
 *   dump-*. The worker's job role: ssm:GetParameter under the path, kms:Decrypt through SSM, and the
 *   archive's `<workflow>/` prefixes it writes the dump under.
 * The archive key's policy lets the account's IAM decide (pipeline-key.ts) and the archive bucket's
 * policy only denies plain HTTP, so neither needs a statement for the export role.
 */
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Construct } from "constructs";
import { DUMP_PASSWORD_ENV } from "../../core/dump-password";
import { dumpParameterPath, TEMPORARY_DB_PREFIX } from "../../core/rds-identifier";
import type { DatabaseExportFormat, DatabaseWorkflow } from "../../core/workflows";
import { hasDump, hasParquet } from "../../core/workflows";
import { childStateMachineName, rdsExportRoleName } from "../../core/role-names";
import { rdsExportDefinition } from "../workflows/rds-export";
import type { PipelineContext } from "./context";
import { WORKER_ARCHIVE_ACTIONS } from "./worker-job-definition";
import { LambdaFunction } from "./lambda-function";
import { StateMachine } from "./state-machine";
import { PolicyDocument, type PolicyStatement } from "./policy-document";

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
  /** What the native dump needs; required when a format has a dump. @default no dump */
  readonly dump?: DatabaseDumpProps;
}

export interface DatabaseDumpProps {
  readonly vpcId: string;
  /** The private subnets (network stack): the DB subnet group's. */
  readonly subnetIds: string[];
  /** The workers' security group: the only source the temporary databases accept. */
  readonly workerSecurityGroupId: string;
  /** The worker's job role: it reads the password parameter and writes the dump. */
  readonly workerJobRoleName: string;
  readonly jobQueueArn: string;
  readonly jobDefinitionName: string;
  readonly pipelineTag: { readonly key: string; readonly value: string };
  /** @default none */
  readonly securityTag?: string;
  readonly compressionLevel: number;
  /** @default "db.t4g.medium" */
  readonly instanceClass?: string;
  /** @default "db.r6g.large" */
  readonly clusterInstanceClass?: string;
}

/** The engines' ports the temporary databases listen on (PostgreSQL; MySQL and MariaDB). */
export const DUMP_PORTS = [5432, 3306] as const;

/** Name of the role StartExportTask hands to RDS. */
export const exportRoleName = rdsExportRoleName;

const POLL_SECONDS = 300;
const MAX_QUEUE_SECONDS = 900;
const DUMP_POLL_SECONDS = 60;

export class DatabaseExports extends Construct {
  public readonly children: Readonly<Partial<Record<DatabaseWorkflow, StateMachine>>>;
  public readonly exportRole?: IamRole;
  public readonly dumpPassword?: LambdaFunction;
  public readonly dumpSubnetGroup?: DbSubnetGroup;
  public readonly dumpSecurityGroup?: SecurityGroup;

  constructor(scope: Construct, id: string, props: DatabaseExportsProps) {
    super(scope, id);
    const { name, region, accountId, partition } = props.context;
    // The child's own log group stays on the pipeline key; the exports use the archive's.
    const kmsKeyArn = props.archiveKmsKeyArn ?? props.context.kmsKeyArn;
    const workflows = Object.keys(props.formats) as DatabaseWorkflow[];
    if (workflows.length === 0) throw new Error("DatabaseExports: formats must name rds, aurora or both");
    const bucketArn = `arn:${partition}:s3:::${props.archiveBucketName}`;
    const exportRoleArn = `arn:${partition}:iam::${accountId}:role/${exportRoleName(name, region)}`;
    const parquet = workflows.filter((w) => hasParquet(props.formats[w]!));
    const dumps = workflows.filter((w) => hasDump(props.formats[w]!));
    if (dumps.length > 0 && !props.dump) throw new Error("DatabaseExports: a dump format needs the dump props");
    const rdsArn = (type: string, id: string) => `arn:${partition}:rds:${region}:${accountId}:${type}:${id}`;
    const temporary = `${TEMPORARY_DB_PREFIX}*`;
    const parameterPath = dumpParameterPath(name);
    const parameterArn = `arn:${partition}:ssm:${region}:${accountId}:parameter${parameterPath}*`;
    const viaService = (service: string) => ({
      test: "StringEquals",
      variable: "kms:ViaService",
      values: [`${service}.${region}.amazonaws.com`],
    });
    let dumpSettings: { passwordFunctionArn: string; subnetGroupName: string; securityGroupId: string } | undefined;
    if (dumps.length > 0 && props.dump) {
      const d = props.dump;
      this.dumpSubnetGroup = new DbSubnetGroup(this, "dump-subnets", {
        name: `${name}-dump`,
        description: "Temporary databases the native dump restores (private subnets)",
        subnetIds: d.subnetIds,
      });
      this.dumpSecurityGroup = new SecurityGroup(this, "dump-sg", {
        name: `${name}-dump`,
        description: "Temporary databases of backup-actions dumps: engine ports from the workers only",
        vpcId: d.vpcId,
        tags: { Name: `${name}-dump` },
      });
      for (const port of DUMP_PORTS) {
        new VpcSecurityGroupIngressRule(this, `dump-from-workers-${port}`, {
          securityGroupId: this.dumpSecurityGroup.id,
          description: `Port ${port} from the workers`,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          referencedSecurityGroupId: d.workerSecurityGroupId,
        });
        new VpcSecurityGroupEgressRule(this, `workers-to-dump-${port}`, {
          securityGroupId: d.workerSecurityGroupId,
          description: `Port ${port} to the temporary databases`,
          ipProtocol: "tcp",
          fromPort: port,
          toPort: port,
          referencedSecurityGroupId: this.dumpSecurityGroup.id,
        });
      }
      this.dumpPassword = new LambdaFunction(this, "dump-password", {
        entry: "dump-password",
        functionName: `${name}-dump-password`,
        description: "Sets a random master password on a temporary database, kept in SSM (SecureString)",
        accountId,
        region,
        kmsKeyArn,
        timeout: 60,
        environment: { [DUMP_PASSWORD_ENV.keyArn]: kmsKeyArn, [DUMP_PASSWORD_ENV.parameterPath]: parameterPath },
        statements: [
          { sid: "KeepPassword", actions: ["ssm:PutParameter"], resources: [parameterArn] },
          {
            sid: "EncryptPassword",
            actions: ["kms:Encrypt"],
            resources: [kmsKeyArn],
            condition: [viaService("ssm")],
          },
          {
            sid: "SetMasterPassword",
            actions: ["rds:ModifyDBInstance", "rds:ModifyDBCluster"],
            resources: [rdsArn("db", temporary), rdsArn("cluster", temporary)],
          },
        ],
      });
      const worker = new PolicyDocument(this, "dump-worker-policy", {
        statement: [
          { sid: "ReadDumpPassword", actions: ["ssm:GetParameter"], resources: [parameterArn] },
          {
            sid: "DecryptDumpPassword",
            actions: ["kms:Decrypt"],
            resources: [kmsKeyArn],
            condition: [viaService("ssm")],
          },
          {
            sid: "WriteDumps",
            actions: [...WORKER_ARCHIVE_ACTIONS.objects],
            resources: dumps.map((w) => `${bucketArn}/${w}/*`),
          },
        ],
      });
      new IamRolePolicy(this, "dump-worker", {
        role: d.workerJobRoleName,
        name: "database-dumps",
        policy: worker.json,
      });
      dumpSettings = {
        passwordFunctionArn: this.dumpPassword.function.arn,
        subnetGroupName: this.dumpSubnetGroup.name,
        securityGroupId: this.dumpSecurityGroup.id,
      };
    }

    if (parquet.length > 0) {
      const assume = new PolicyDocument(this, "export-assume", {
        statement: [
          {
            actions: ["sts:AssumeRole"],
            principals: [{ type: "Service", identifiers: ["export.rds.amazonaws.com"] }],
            condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] }],
          },
        ],
      });
      this.exportRole = new IamRole(this, "export-role", {
        name: exportRoleName(name, region),
        description: "RDS snapshot export (StartExportTask) writes Parquet into the archive",
        assumeRolePolicy: assume.json,
      });
      const policy = new PolicyDocument(this, "export-policy", {
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
          ...(hasDump(format) && props.dump && dumpSettings
            ? dumpStatements(workflow, props.context, props.dump, {
                rdsArn,
                temporary,
                parameterArn,
                passwordFunctionArn: dumpSettings.passwordFunctionArn,
                subnetGroupName: `${name}-dump`,
              })
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
          ...(hasDump(format) && props.dump && dumpSettings
            ? {
                dump: {
                  ...dumpSettings,
                  parameterPath,
                  jobQueueArn: props.dump.jobQueueArn,
                  jobDefinitionName: props.dump.jobDefinitionName,
                  pipelineTag: props.dump.pipelineTag,
                  securityTag: props.dump.securityTag,
                  compressionLevel: props.dump.compressionLevel,
                  instanceClass: props.dump.instanceClass,
                  clusterInstanceClass: props.dump.clusterInstanceClass,
                  // A restore (or the reset of the password) may take up to a tenth of the child's time.
                  maxPolls: Math.max(1, Math.floor((props.timeoutSeconds * 0.1) / DUMP_POLL_SECONDS)),
                  pollSeconds: DUMP_POLL_SECONDS,
                },
              }
            : {}),
        }),
      });
    }
    this.children = children;
  }
}

/** The dump branch's grants for one child (see the header for the pages they follow). */
function dumpStatements(
  workflow: DatabaseWorkflow,
  context: PipelineContext,
  dump: DatabaseDumpProps,
  n: {
    rdsArn: (type: string, id: string) => string;
    temporary: string;
    parameterArn: string;
    passwordFunctionArn: string;
    subnetGroupName: string;
  },
): PolicyStatement[] {
  const { partition, region, accountId, name } = context;
  const { rdsArn, temporary } = n;
  const subnetGroup = rdsArn("subgrp", n.subnetGroupName);
  // Neither restore names an option or parameter group: RDS takes the engine's defaults, and authorizes them.
  const defaults = [rdsArn("og", "default:*"), rdsArn("pg", "default.*")];
  const keys = `arn:${partition}:kms:${region}:${accountId}:key/*`;
  const viaRds = { test: "StringEquals", variable: "kms:ViaService", values: [`rds.${region}.amazonaws.com`] };
  const restore: PolicyStatement[] =
    workflow === "rds"
      ? [
          {
            sid: "RestoreTemporaryInstance",
            actions: ["rds:RestoreDBInstanceFromDBSnapshot"],
            resources: [rdsArn("snapshot", "*"), rdsArn("db", temporary), subnetGroup, ...defaults],
          },
        ]
      : [
          {
            sid: "RestoreTemporaryCluster",
            actions: ["rds:RestoreDBClusterFromSnapshot"],
            resources: [
              rdsArn("cluster-snapshot", "*"),
              rdsArn("cluster", temporary),
              subnetGroup,
              rdsArn("cluster-pg", "default.*"),
              rdsArn("og", "default:*"),
            ],
          },
          {
            sid: "CreateTemporaryClusterInstance",
            actions: ["rds:CreateDBInstance"],
            resources: [rdsArn("db", temporary), rdsArn("cluster", temporary), subnetGroup, ...defaults],
          },
          {
            sid: "DeleteTemporaryCluster",
            actions: ["rds:DeleteDBCluster"],
            resources: [rdsArn("cluster", temporary)],
          },
        ];
  return [
    ...restore,
    {
      sid: "TagTemporaryDatabases",
      actions: ["rds:AddTagsToResource"],
      resources: [rdsArn("db", temporary), rdsArn("cluster", temporary)],
      condition: [
        { test: "StringEquals", variable: `aws:RequestTag/${dump.pipelineTag.key}`, values: [dump.pipelineTag.value] },
      ],
    },
    {
      sid: "WatchAndDeleteTemporaryInstances",
      actions: ["rds:DescribeDBInstances", "rds:DeleteDBInstance"],
      resources: [rdsArn("db", temporary)],
    },
    {
      sid: "EncryptedSnapshotKeyGrant",
      actions: ["kms:CreateGrant"],
      resources: [keys],
      condition: [{ test: "Bool", variable: "kms:GrantIsForAWSResource", values: ["true"] }, viaRds],
    },
    { sid: "EncryptedSnapshotKey", actions: ["kms:DescribeKey"], resources: [keys], condition: [viaRds] },
    { sid: "SetPassword", actions: ["lambda:InvokeFunction"], resources: [n.passwordFunctionArn] },
    { sid: "DeletePassword", actions: ["ssm:DeleteParameter"], resources: [n.parameterArn] },
    {
      sid: "RunDump",
      actions: ["batch:SubmitJob"],
      resources: [
        `arn:${partition}:batch:${region}:${accountId}:job-queue/${name}-*`,
        // Submitted by name: Batch runs, and authorizes, the latest ACTIVE revision (<name>:<revision>).
        `arn:${partition}:batch:${region}:${accountId}:job-definition/${dump.jobDefinitionName}:*`,
        `arn:${partition}:batch:${region}:${accountId}:job/*`,
      ],
    },
    { sid: "FollowDump", actions: ["batch:DescribeJobs", "batch:TerminateJob"], resources: ["*"] },
    {
      sid: "SyncIntegrationRule",
      actions: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
      resources: [`arn:${partition}:events:${region}:${accountId}:rule/StepFunctionsGetEventsForBatchJobsRule`],
    },
  ];
}
