/**
 * The grants of a central archive (docs/adr/0009-central-archive.md) to the member pipelines of other
 * accounts: its bucket policy and its key policy. A cross-account request needs both the caller's IAM
 * policy and the resource's policy to allow it, so these statements name exactly the member roles that
 * read or write the archive (config/deployment.ts archiveMemberOf, named by core/role-names.ts).
 *
 * The roles are named by `aws:PrincipalArn` with the member accounts as principals, not as principals
 * themselves: S3 and KMS refuse a policy whose principal is a role that does not exist yet (the
 * archive stack deploys before the pipelines), while a condition on the caller's role ARN needs none
 * to exist and still admits only those roles. With an organization id, `aws:PrincipalOrgID` must match
 * as well.
 *
 * Each member writes and reads only under its own account and region (core/s3-layout.ts:
 * `<workflow>/<account>/<region>/…`), so one member cannot overwrite another's archives.
 */
import type { PolicyStatement } from "./policy-document";
import type { ArchiveMember } from "../../config/deployment";
import type { Partition } from "../../core/partition";
import { WORKER_ARCHIVE_ACTIONS } from "./worker-job-definition";

/** What member roles do with archive objects: the worker's, the RDS export role's and the DynamoDB export's. */
export const MEMBER_OBJECT_WRITE_ACTIONS = [
  ...new Set([
    ...WORKER_ARCHIVE_ACTIONS.objects,
    // StartExportTask's role (stacks/constructs/database-exports.ts) and ExportTableToPointInTime's caller.
    "s3:PutObject*",
    "s3:GetObject*",
    "s3:DeleteObject*",
    "s3:PutObjectAcl",
  ]),
].sort();

/** On the bucket itself: the worker's partial uploads, the RDS export's ListBucket/GetBucketLocation, verify's ListBucket. */
export const MEMBER_BUCKET_ACTIONS = [
  ...new Set([...WORKER_ARCHIVE_ACTIONS.bucket, "s3:ListBucket", "s3:GetBucketLocation"]),
].sort();

/** The archive key through S3 and for StartExportTask's role (stacks/constructs/database-exports.ts). */
export const MEMBER_KEY_ACTIONS = [
  "kms:Decrypt",
  "kms:DescribeKey",
  "kms:Encrypt",
  "kms:GenerateDataKey*",
  "kms:ReEncrypt*",
];

export interface CentralArchivePolicyProps {
  readonly partition: Partition;
  readonly members: readonly ArchiveMember[];
  /** aws:PrincipalOrgID every caller must have. @default none */
  readonly organizationId?: string;
}

const accountRoots = (partition: string, accounts: readonly string[]) => [
  ...new Set(accounts.map((a) => `arn:${partition}:iam::${a}:root`)),
];

function callers(
  props: CentralArchivePolicyProps,
  roleArns: readonly string[],
  extra: { test: string; variable: string; values: string[] }[] = [],
): Pick<PolicyStatement, "principals" | "condition"> {
  const accounts = roleArns.map((arn) => /^arn:[^:]+:iam::(\d{12}):role\//.exec(arn)![1]!);
  return {
    principals: [{ type: "AWS", identifiers: accountRoots(props.partition, accounts) }],
    condition: [
      { test: "ArnEquals", variable: "aws:PrincipalArn", values: [...roleArns] },
      ...(props.organizationId
        ? [{ test: "StringEquals", variable: "aws:PrincipalOrgID", values: [props.organizationId] }]
        : []),
      ...extra,
    ],
  };
}

/** Sids are alphanumeric: the member's account and region without the hyphens. */
const sidOf = (prefix: string, m: ArchiveMember) => `${prefix}${m.accountId}${m.region.replace(/-/g, "")}`;

export function centralBucketStatements(
  props: CentralArchivePolicyProps & { readonly bucketArn: string },
): PolicyStatement[] {
  const everyRole = props.members.flatMap((m) => [...m.writerRoleArns, ...m.readerRoleArns]);
  if (everyRole.length === 0) return [];
  return [
    ...props.members.flatMap((m): PolicyStatement[] => {
      const own = `${props.bucketArn}/*/${m.accountId}/${m.region}/*`;
      return [
        ...(m.writerRoleArns.length > 0
          ? [
              {
                sid: sidOf("Writes", m),
                actions: MEMBER_OBJECT_WRITE_ACTIONS,
                resources: [own],
                ...callers(props, m.writerRoleArns),
              },
            ]
          : []),
        ...(m.readerRoleArns.length > 0
          ? [
              {
                sid: sidOf("Reads", m),
                actions: ["s3:GetObject"],
                resources: [own],
                ...callers(props, m.readerRoleArns),
              },
            ]
          : []),
      ];
    }),
    {
      sid: "MembersFindTheArchive",
      actions: MEMBER_BUCKET_ACTIONS,
      resources: [props.bucketArn],
      ...callers(props, everyRole),
    },
  ];
}

export function centralKeyStatements(props: CentralArchivePolicyProps): PolicyStatement[] {
  const users = props.members.flatMap((m) => [...m.writerRoleArns, ...m.readerRoleArns]);
  const exportCallers = props.members.flatMap((m) => m.exportCallerRoleArns);
  return [
    ...(users.length > 0
      ? [{ sid: "MembersUseTheKey", actions: MEMBER_KEY_ACTIONS, resources: ["*"], ...callers(props, users) }]
      : []),
    ...(exportCallers.length > 0
      ? [
          {
            // StartExportTask's caller (the RDS / Aurora child) hands RDS a grant on the key (KmsKeyId).
            sid: "RdsExportCallersGrantToRds",
            actions: ["kms:CreateGrant"],
            resources: ["*"],
            ...callers(props, exportCallers, [
              { test: "Bool", variable: "kms:GrantIsForAWSResource", values: ["true"] },
            ]),
          },
          {
            // …and must be able to describe it (the StartExportTask reference, KmsKeyId).
            sid: "RdsExportCallersDescribe",
            actions: ["kms:DescribeKey"],
            resources: ["*"],
            ...callers(props, exportCallers),
          },
        ]
      : []),
  ];
}
