import { Testing } from "cdktf";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SecureBucket } from "../../../stacks/constructs/secure-bucket";
import { checkBaseline } from "../../../stacks/aspects/security-baseline";
import { newStack } from "../aspects/helpers";
import { policyDocuments } from "../../../testing/policy-documents";

type Json = Record<string, any>;

/** The single resource of `type` in the synthesized stack (fails the test when there is not exactly one). */
function only(synthesized: Json, type: string): Json {
  const resources = Object.values(synthesized.resource?.[type] ?? {}) as Json[];
  expect(resources).toHaveLength(1);
  return resources[0];
}

describe("SecureBucket", () => {
  it("builds a KMS-encrypted bucket that passes the baseline in every egress mode", () => {
    // GIVEN
    const stack = newStack();
    const key = new KmsKey(stack, "key", { enableKeyRotation: true });
    // WHEN
    new SecureBucket(stack, "archive", { bucketPrefix: "archive-", kmsKeyArn: key.arn });
    // THEN
    for (const egress of ["endpoints", "nat", "public"] as const) expect(checkBaseline(stack, { egress })).toEqual([]);
    const tf = JSON.parse(Testing.synth(stack)) as Json;
    expect(only(tf, "aws_s3_bucket")).toEqual({ bucket_prefix: "archive-", force_destroy: false });
    expect(only(tf, "aws_s3_bucket_server_side_encryption_configuration").rule).toEqual([
      {
        apply_server_side_encryption_by_default: {
          sse_algorithm: "aws:kms",
          kms_master_key_id: "${aws_kms_key.key.arn}",
        },
        bucket_key_enabled: true,
      },
    ]);
    expect(only(tf, "aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    expect(only(tf, "aws_s3_bucket_versioning").versioning_configuration).toEqual({ status: "Enabled" });
    expect(only(tf, "aws_s3_bucket_lifecycle_configuration").rule).toEqual([
      {
        id: "abort-incomplete-multipart-uploads",
        status: "Enabled",
        filter: [{}],
        abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
      },
    ]);
    expect(only(tf, "aws_s3_bucket_policy")).toMatchObject({
      policy: expect.stringMatching(/^\$\{local\.archive_policy-document_[0-9A-F]{8}\}$/),
      depends_on: [
        expect.stringMatching(/^aws_s3_bucket_public_access_block\.archive_public-access-block_[0-9A-F]{8}$/),
      ],
    });
    expect(tf.resource.aws_s3_bucket_logging).toBeUndefined();
  });

  it("uses SSE-S3 for a log bucket and marks it, so the baseline accepts it", () => {
    const stack = newStack();
    new SecureBucket(stack, "logs", { bucketName: "access-logs", sseS3: true, sseS3Reason: "S3 access log target" });
    expect(checkBaseline(stack, { egress: "endpoints" })).toEqual([]);
    const tf = JSON.parse(Testing.synth(stack)) as Json;
    expect(only(tf, "aws_s3_bucket").bucket).toBe("access-logs");
    expect(only(tf, "aws_s3_bucket_server_side_encryption_configuration").rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: "AES256" }, bucket_key_enabled: false },
    ]);
  });

  it("adds noncurrent-version expiry, extra rules, policy statements and access logging when asked", () => {
    const stack = newStack();
    const archive = new SecureBucket(stack, "archive", {
      kmsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/abc",
      abortIncompleteMultipartUploadDays: 2,
      noncurrentVersionExpirationDays: 30,
      lifecycleRules: [
        {
          id: "glacier",
          status: "Enabled",
          filter: [{ prefix: "ebs/" }],
          transition: [{ days: 30, storageClass: "GLACIER" }],
        },
      ],
      policyStatements: [
        {
          sid: "ExportRole",
          actions: ["s3:PutObject"],
          principals: [{ type: "AWS", identifiers: ["arn:aws:iam::111111111111:role/export"] }],
          resources: ["*"],
        },
      ],
      accessLogs: { bucket: "access-logs", prefix: "archive/" },
    });
    expect(checkBaseline(stack, { egress: "endpoints" })).toEqual([]);
    const tf = JSON.parse(Testing.synth(stack)) as Json;
    expect(only(tf, "aws_s3_bucket_lifecycle_configuration").rule).toEqual([
      {
        id: "abort-incomplete-multipart-uploads",
        status: "Enabled",
        filter: [{}],
        abort_incomplete_multipart_upload: [{ days_after_initiation: 2 }],
      },
      {
        id: "expire-noncurrent-versions",
        status: "Enabled",
        filter: [{}],
        noncurrent_version_expiration: [{ noncurrent_days: 30 }],
        expiration: [{ expired_object_delete_marker: true }],
      },
      {
        id: "glacier",
        status: "Enabled",
        filter: [{ prefix: "ebs/" }],
        transition: [{ days: 30, storage_class: "GLACIER" }],
      },
    ]);
    expect(only(tf, "aws_s3_bucket_logging")).toMatchObject({
      target_bucket: "access-logs",
      target_prefix: "archive/",
    });
    const statements = Object.values(policyDocuments(tf))[0]!.Statement;
    expect(statements.map((s) => s.Sid)).toEqual(["DenyInsecureTransport", "ExportRole"]);
    expect(archive.bucket.terraformResourceType).toBe("aws_s3_bucket");
  });

  it.each([
    [{}, "give exactly one of kmsKeyArn (SSE-KMS) and sseS3: true (state and log buckets)"],
    [
      { kmsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/abc", sseS3: true },
      "give exactly one of kmsKeyArn (SSE-KMS) and sseS3: true (state and log buckets)",
    ],
    [
      { sseS3: true, abortIncompleteMultipartUploadDays: 0 },
      "abortIncompleteMultipartUploadDays must be a positive integer (got 0)",
    ],
    [
      { sseS3: true, noncurrentVersionExpirationDays: 1.5 },
      "noncurrentVersionExpirationDays must be a positive integer (got 1.5)",
    ],
    [
      { sseS3: true, objectLock: { mode: "GOVERNANCE" as const, retentionDays: 0 } },
      "objectLock.retentionDays must be a positive integer (got 0)",
    ],
    [
      { sseS3: true, forceDestroy: true, objectLock: { mode: "COMPLIANCE" as const, retentionDays: 1 } },
      "forceDestroy cannot empty a bucket under Object Lock; leave it false",
    ],
  ])("rejects props %j", (props, message) => {
    const stack = newStack();
    expect(() => new SecureBucket(stack, "bad", props)).toThrow(`SecureBucket test/bad: ${message}`);
  });
});
