/**
 * The archive bucket: where every export lands. A SecureBucket (SSE-KMS with a bucket
 * key, versioning, public access blocked, TLS-only, incomplete multipart uploads
 * aborted after 7 days) plus the configured storage-class lifecycle, noncurrent-version
 * retention, optional Object Lock and optional server access logs.
 *
 * Under Object Lock the worker's own clean-ups still work where they do not remove a version:
 * replacing an earlier attempt's manifest (DeleteObject without a version id) adds a delete
 * marker, and aborting an unfinished multipart upload removes no object. Deleting the exact
 * version it just wrote when S3's checksum disagrees (store.ts) is refused in both modes (the
 * worker has no s3:BypassGovernanceRetention, on purpose): the export fails naming that version,
 * which stays until its retention ends and is superseded by the retried export's upload.
 */
import { S3BucketLifecycleConfigurationRule } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import type { PolicyStatement } from "./policy-document";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { Construct } from "constructs";
import type { ArchiveConfig, LifecycleRules } from "../../config/schema";
import { SecureBucket } from "./secure-bucket";

export interface ArchiveBucketProps {
  /** Globally unique bucket name. */
  readonly bucketName: string;
  /** KMS key that encrypts every archive object. */
  readonly kmsKeyArn: string;
  /** Storage-class transitions and expiration, in days. @default {} (stays in S3 Standard, kept forever) */
  readonly lifecycle?: LifecycleRules;
  /** Server access logs. @default none */
  readonly accessLogs?: { readonly bucket: string; readonly prefix: string };
  /** Days a replaced or deleted object version is kept. @default 365 (config `archive.noncurrentVersionRetentionDays`) */
  readonly noncurrentVersionDays?: number;
  /** Object Lock default retention (config `archive.objectLock`). @default none */
  readonly objectLock?: ArchiveConfig["objectLock"];
  /** Bucket policy statements after the TLS-only deny (a central archive's grants to other accounts). @default [] */
  readonly policyStatements?: readonly PolicyStatement[];
  /**
   * Object Ownership `BucketOwnerEnforced`: ACLs off, every object belongs to the bucket's account, also
   * those other accounts write (a central archive). @default false (S3's own default for new buckets is the same)
   */
  readonly bucketOwnerEnforced?: boolean;
}

/** Lifecycle rules for the archive from the config's days (validated there). */
export function archiveLifecycleRules(lifecycle: LifecycleRules): S3BucketLifecycleConfigurationRule[] {
  const transitions = [
    ...(lifecycle.glacier ? [{ days: lifecycle.glacier, storageClass: "GLACIER" }] : []),
    ...(lifecycle.deepArchive ? [{ days: lifecycle.deepArchive, storageClass: "DEEP_ARCHIVE" }] : []),
  ];
  if (transitions.length === 0 && !lifecycle.expiration) return [];
  return [
    {
      id: "archive-storage-classes",
      status: "Enabled",
      filter: [{}],
      ...(transitions.length > 0 ? { transition: transitions } : {}),
      ...(lifecycle.expiration ? { expiration: [{ days: lifecycle.expiration }] } : {}),
    },
  ];
}

export class ArchiveBucket extends Construct {
  public readonly bucket: S3Bucket;

  constructor(scope: Construct, id: string, props: ArchiveBucketProps) {
    super(scope, id);
    const secure = new SecureBucket(this, "this", {
      bucketName: props.bucketName,
      kmsKeyArn: props.kmsKeyArn,
      noncurrentVersionExpirationDays: props.noncurrentVersionDays ?? 365,
      objectLock: props.objectLock,
      lifecycleRules: archiveLifecycleRules(props.lifecycle ?? {}),
      accessLogs: props.accessLogs,
      policyStatements: props.policyStatements,
    });
    this.bucket = secure.bucket;
    if (props.bucketOwnerEnforced ?? false) {
      new S3BucketOwnershipControls(this, "ownership", {
        bucket: this.bucket.id,
        rule: { objectOwnership: "BucketOwnerEnforced" },
      });
    }
  }
}
