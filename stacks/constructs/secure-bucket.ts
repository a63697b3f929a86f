import { Construct } from "constructs";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import {
  S3BucketLifecycleConfiguration,
  S3BucketLifecycleConfigurationRule,
} from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketLoggingA } from "@cdktf/provider-aws/lib/s3-bucket-logging";
import { S3BucketObjectLockConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-object-lock-configuration";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { allowSseS3 } from "../aspects/exceptions";
import { PolicyDocument, PolicyStatement } from "./policy-document";

export interface SecureBucketProps {
  /** Exact bucket name. @default none: Terraform generates one from `bucketPrefix` */
  readonly bucketName?: string;
  /** Prefix for a generated name; ignored when `bucketName` is set. @default none (Terraform's `terraform-` prefix) */
  readonly bucketPrefix?: string;
  /** ARN of the KMS key for SSE-KMS. Exactly one of `kmsKeyArn` and `sseS3` must be given. @default none */
  readonly kmsKeyArn?: string;
  /**
   * SSE-S3 (`AES256`) instead of SSE-KMS, for state and access-log buckets only (S3 server access
   * logs cannot be delivered to an SSE-KMS bucket). Marks the bucket with `allowSseS3`.
   * @default false
   */
  readonly sseS3?: boolean;
  /** Why this bucket uses SSE-S3; recorded by `allowSseS3`. @default "state or log bucket" */
  readonly sseS3Reason?: string;
  /** Days after which incomplete multipart uploads are aborted and their parts deleted. @default 7 */
  readonly abortIncompleteMultipartUploadDays?: number;
  /** Days a noncurrent object version is kept before it expires. @default none: kept forever */
  readonly noncurrentVersionExpirationDays?: number;
  /** Further lifecycle rules (transitions, expiration), added after the built-in ones. @default [] */
  readonly lifecycleRules?: readonly S3BucketLifecycleConfigurationRule[];
  /** Statements added to the bucket policy after the TLS-only deny (grants for services, roles). @default [] */
  readonly policyStatements?: readonly PolicyStatement[];
  /** Where S3 server access logs of this bucket go. @default none: no access logging */
  readonly accessLogs?: { readonly bucket: string; readonly prefix: string };
  /**
   * S3 Object Lock with a default retention for every new object version. Enabled through
   * PutObjectLockConfiguration, which S3 accepts on new and on existing versioned buckets, so
   * adding it later never replaces the bucket (`object_lock_enabled` on aws_s3_bucket would:
   * that argument forces a new bucket). Once enabled, Object Lock cannot be turned off.
   * @default none: no Object Lock
   */
  readonly objectLock?: { readonly mode: "GOVERNANCE" | "COMPLIANCE"; readonly retentionDays: number };
  /** Let `terraform destroy` delete a non-empty bucket. @default false */
  readonly forceDestroy?: boolean;
  /** Tags on the bucket, in addition to the provider's default tags. @default none */
  readonly tags?: Record<string, string>;
}

/**
 * An S3 bucket with everything the security baseline requires: public access blocked, SSE-KMS
 * (or SSE-S3 for state and log buckets), versioning, a TLS-only bucket policy, and a lifecycle
 * rule that aborts incomplete multipart uploads. Extend the policy with `policyStatements`:
 * a bucket has a single policy, so a second `aws_s3_bucket_policy` would replace this one.
 */
export class SecureBucket extends Construct {
  public readonly bucket: S3Bucket;
  /** The bucket policy document; its `json` is attached as the bucket policy. */
  public readonly policyDocument: PolicyDocument;

  constructor(scope: Construct, id: string, props: SecureBucketProps) {
    super(scope, id);
    // Check props.
    const sseS3 = props.sseS3 ?? false;
    if ((props.kmsKeyArn === undefined) === !sseS3) {
      throw new Error(
        `SecureBucket ${this.node.path}: give exactly one of kmsKeyArn (SSE-KMS) and sseS3: true (state and log buckets)`,
      );
    }
    const abortDays = props.abortIncompleteMultipartUploadDays ?? 7;
    requirePositiveInteger(this, "abortIncompleteMultipartUploadDays", abortDays);
    if (props.noncurrentVersionExpirationDays !== undefined) {
      requirePositiveInteger(this, "noncurrentVersionExpirationDays", props.noncurrentVersionExpirationDays);
    }
    if (props.objectLock) requirePositiveInteger(this, "objectLock.retentionDays", props.objectLock.retentionDays);
    if (props.objectLock && (props.forceDestroy ?? false)) {
      throw new Error(
        `SecureBucket ${this.node.path}: forceDestroy cannot empty a bucket under Object Lock; leave it false`,
      );
    }

    // Build.
    this.bucket = new S3Bucket(this, "this", {
      bucket: props.bucketName,
      bucketPrefix: props.bucketName === undefined ? props.bucketPrefix : undefined,
      forceDestroy: props.forceDestroy ?? false,
      tags: props.tags,
    });
    if (sseS3) allowSseS3(this.bucket, props.sseS3Reason ?? "state or log bucket");

    const publicAccessBlock = new S3BucketPublicAccessBlock(this, "public-access-block", {
      bucket: this.bucket.id,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketServerSideEncryptionConfigurationA(this, "encryption", {
      bucket: this.bucket.id,
      rule: [
        {
          applyServerSideEncryptionByDefault: sseS3
            ? { sseAlgorithm: "AES256" }
            : { sseAlgorithm: "aws:kms", kmsMasterKeyId: props.kmsKeyArn },
          // S3 Bucket Keys cut KMS requests (and their cost) by orders of magnitude.
          bucketKeyEnabled: !sseS3,
        },
      ],
    });
    const versioning = new S3BucketVersioningA(this, "versioning", {
      bucket: this.bucket.id,
      versioningConfiguration: { status: "Enabled" },
    });

    if (props.objectLock) {
      new S3BucketObjectLockConfigurationA(this, "object-lock", {
        bucket: this.bucket.id,
        objectLockEnabled: "Enabled",
        rule: { defaultRetention: { mode: props.objectLock.mode, days: props.objectLock.retentionDays } },
        // S3 enables Object Lock on an existing bucket only once versioning is on.
        dependsOn: [versioning],
      });
    }

    this.policyDocument = new PolicyDocument(this, "policy-document", {
      statement: [
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          principals: [{ type: "*", identifiers: ["*"] }],
          actions: ["s3:*"],
          resources: [this.bucket.arn, `${this.bucket.arn}/*`],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
        ...(props.policyStatements ?? []),
      ],
    });

    const rules: S3BucketLifecycleConfigurationRule[] = [
      {
        id: "abort-incomplete-multipart-uploads",
        status: "Enabled",
        filter: [{}],
        abortIncompleteMultipartUpload: [{ daysAfterInitiation: abortDays }],
      },
    ];
    if (props.noncurrentVersionExpirationDays !== undefined) {
      rules.push({
        id: "expire-noncurrent-versions",
        status: "Enabled",
        filter: [{}],
        noncurrentVersionExpiration: [{ noncurrentDays: props.noncurrentVersionExpirationDays }],
        // Once the last noncurrent version is gone, the delete marker left behind is removed too.
        expiration: [{ expiredObjectDeleteMarker: true }],
      });
    }
    rules.push(...(props.lifecycleRules ?? []));

    // Wire.
    new S3BucketPolicy(this, "policy", {
      bucket: this.bucket.id,
      policy: this.policyDocument.json,
      // Creating the policy while the public access block is being applied fails with
      // OperationAborted ("conflicting conditional operation"); order them.
      dependsOn: [publicAccessBlock],
    });
    new S3BucketLifecycleConfiguration(this, "lifecycle", {
      bucket: this.bucket.id,
      rule: rules,
      // Noncurrent-version rules need versioning in place first (AWS provider documentation).
      dependsOn: [versioning],
    });
    if (props.accessLogs) {
      new S3BucketLoggingA(this, "logging", {
        bucket: this.bucket.id,
        targetBucket: props.accessLogs.bucket,
        targetPrefix: props.accessLogs.prefix,
      });
    }
  }
}

function requirePositiveInteger(construct: Construct, prop: string, value: number): void {
  if (!Number.isInteger(value) || value < 1) {
    throw new Error(`SecureBucket ${construct.node.path}: ${prop} must be a positive integer (got ${value})`);
  }
}
