/**
 * `archive-<account>-<region>`: the central archive (config centralArchive, mode "write";
 * docs/adr/0009-central-archive.md). In the archive account it owns the one archive bucket (the
 * ArchiveBucket every pipeline would otherwise have: SSE-KMS, versioning, TLS only, lifecycle,
 * Object Lock when configured, access logs) and its KMS key, both granting exactly the member
 * pipelines' roles (central-archive-policies.ts). Object Ownership is BucketOwnerEnforced, so the
 * objects other accounts write belong to the archive account. The member pipelines read the key's
 * ARN from this stack's state (output `archive_key_arn`); the bucket's name follows from the config.
 */
import { PolicyDocument } from "./constructs/policy-document";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import type { ArchiveDeployment } from "../config/deployment";
import { ArchiveBucket } from "./constructs/archive-bucket";
import { centralBucketStatements, centralKeyStatements } from "./constructs/central-archive-policies";
import { awsProvider } from "./provider";

export interface ArchiveStackProps {
  readonly archive: ArchiveDeployment;
}

/** Outputs the pipeline stacks read (remoteStateOf "archive"). */
export const ARCHIVE_OUTPUTS = { bucketName: "archive_bucket_name", keyArn: "archive_key_arn" } as const;

/** The alias of the central archive's key. */
export const centralArchiveKeyAlias = (name: string): string => `alias/${name}-central-archive`;

export class ArchiveStack extends TerraformStack {
  public readonly archive: ArchiveBucket;
  public readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: ArchiveStackProps) {
    super(scope, id);
    const a = props.archive;
    awsProvider(this, { region: a.region, accountId: a.accountId, assumeRoleArn: a.assumeRoleArn, tags: a.tags });
    const policyProps = { partition: a.partition, members: a.members, organizationId: a.organizationId };

    const keyPolicy = new PolicyDocument(this, "key-policy", {
      statement: [
        {
          // The archive account administers the key; its own principals are decided by IAM.
          sid: "AccountAdministersAndDelegatesToIam",
          principals: [{ type: "AWS", identifiers: [`arn:${a.partition}:iam::${a.accountId}:root`] }],
          actions: ["kms:*"],
          resources: ["*"],
        },
        ...centralKeyStatements(policyProps),
      ],
    });
    this.key = new KmsKey(this, "key", {
      description: `${a.name} central archive: the exports of every member pipeline`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: keyPolicy.json,
    });
    new KmsAlias(this, "alias", { name: centralArchiveKeyAlias(a.name), targetKeyId: this.key.keyId });

    const bucketArn = `arn:${a.partition}:s3:::${a.bucketName}`;
    this.archive = new ArchiveBucket(this, "archive", {
      bucketName: a.bucketName,
      kmsKeyArn: this.key.arn,
      lifecycle: a.settings.lifecycleRules,
      noncurrentVersionDays: a.settings.archive.noncurrentVersionRetentionDays,
      objectLock: a.settings.archive.objectLock,
      accessLogs: a.settings.accessLogs,
      policyStatements: centralBucketStatements({ ...policyProps, bucketArn }),
      bucketOwnerEnforced: true,
    });

    new TerraformOutput(this, ARCHIVE_OUTPUTS.bucketName, {
      value: this.archive.bucket.bucket,
      description: "The central archive bucket every member pipeline writes to.",
    });
    new TerraformOutput(this, ARCHIVE_OUTPUTS.keyArn, {
      value: this.key.arn,
      description: "KMS key of the central archive; the member pipelines read it from this state.",
    });
  }
}
