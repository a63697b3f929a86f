/**
 * `bootstrap`: the S3 bucket that holds every other stack's state. It keeps its own
 * state locally (it cannot live in the bucket it creates); keep that file safe or
 * migrate it into the bucket afterwards with `terraform init -migrate-state`.
 */
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { LocalBackend, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import type { S3BackendConfig } from "../config/schema";
import { BOOTSTRAP_STATE_FILE } from "../config/stacks";
import { allowSseS3 } from "./aspects/security-baseline";
import { awsProvider } from "./provider";
import { PolicyDocument } from "./constructs/policy-document";

export interface BootstrapStackProps {
  readonly stateBackend: S3BackendConfig;
  /** Account of the state bucket; Terraform refuses credentials of any other (allowed_account_ids). */
  readonly accountId: string;
  readonly tags: Record<string, string>;
  /** Days a superseded state version is kept. @default 90 */
  readonly noncurrentVersionDays?: number;
}

export class BootstrapStack extends TerraformStack {
  public readonly stateBucket: S3Bucket;

  constructor(scope: Construct, id: string, props: BootstrapStackProps) {
    super(scope, id);
    const noncurrentVersionDays = props.noncurrentVersionDays ?? 90;

    // Relative to cdktf.out/stacks/bootstrap: the state file sits in the project root.
    new LocalBackend(this, { path: `../../../${BOOTSTRAP_STATE_FILE}` });
    awsProvider(this, { region: props.stateBackend.region, accountId: props.accountId, tags: props.tags });

    const bucket = new S3Bucket(this, "state", {
      bucket: props.stateBackend.bucket,
      lifecycle: { preventDestroy: true },
    });
    this.stateBucket = bucket;
    allowSseS3(
      bucket,
      "Terraform state bucket: read by deploying principals across accounts, created before any pipeline KMS key",
    );

    new S3BucketOwnershipControls(this, "state-ownership", {
      bucket: bucket.id,
      rule: { objectOwnership: "BucketOwnerEnforced" },
    });
    new S3BucketPublicAccessBlock(this, "state-public-access", {
      bucket: bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketVersioningA(this, "state-versioning", {
      bucket: bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });
    // SSE-S3: state is read by every deploying principal across accounts; a KMS key
    // would need a cross-account key policy for each of them.
    new S3BucketServerSideEncryptionConfigurationA(this, "state-encryption", {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
    });
    new S3BucketLifecycleConfiguration(this, "state-lifecycle", {
      bucket: bucket.id,
      rule: [
        {
          id: "expire-old-state-versions",
          status: "Enabled",
          filter: [{ prefix: "" }],
          noncurrentVersionExpiration: [{ noncurrentDays: noncurrentVersionDays }],
          abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
        },
      ],
    });
    const tlsOnly = new PolicyDocument(this, "state-tls-only", {
      statement: [
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          principals: [{ type: "*", identifiers: ["*"] }],
          actions: ["s3:*"],
          resources: [bucket.arn, `${bucket.arn}/*`],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
      ],
    });
    new S3BucketPolicy(this, "state-policy", { bucket: bucket.id, policy: tlsOnly.json });

    new TerraformOutput(this, "state_bucket_name", {
      value: bucket.bucket,
      description: "Bucket that holds the other stacks' Terraform state.",
    });
    new TerraformOutput(this, "state_bucket_arn", {
      value: bucket.arn,
      description: "ARN of the Terraform state bucket.",
    });
  }
}
