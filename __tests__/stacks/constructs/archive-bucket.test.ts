import { Testing, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { checkBaseline } from "../../../stacks/aspects/security-baseline";
import { checkStacks } from "../../../stacks/app";
import { ArchiveBucket, archiveLifecycleRules } from "../../../stacks/constructs/archive-bucket";
import { compose, synth, testConfig } from "../../helpers/synth";

const KEY = "arn:aws:kms:us-east-1:111111111111:key/0b1d4a8e-5b0c-4e8e-9a57-1c2d3e4f5a6b";

function stackWith(props: Partial<ConstructorParameters<typeof ArchiveBucket>[2]> = {}) {
  const stack = new TerraformStack(Testing.app(), "test");
  new AwsProvider(stack, "aws", { region: "us-east-1" });
  new ArchiveBucket(stack, "archive", { bucketName: "acme-archive", kmsKeyArn: KEY, ...props });
  return stack;
}

describe("ArchiveBucket", () => {
  it("encrypts with the pipeline key and a bucket key, and passes the security baseline", () => {
    const stack = stackWith();
    const tf = JSON.parse(Testing.synth(stack));
    const sse = Object.values(tf.resource.aws_s3_bucket_server_side_encryption_configuration)[0] as any;
    expect(sse.rule).toEqual([
      {
        apply_server_side_encryption_by_default: { sse_algorithm: "aws:kms", kms_master_key_id: KEY },
        bucket_key_enabled: true,
      },
    ]);
    expect(checkBaseline(stack, { egress: "endpoints" })).toEqual([]);
  });

  it("turns the config's days into one lifecycle rule with transitions and expiration", () => {
    expect(archiveLifecycleRules({ glacier: 30, deepArchive: 120, expiration: 2555 })).toEqual([
      {
        id: "archive-storage-classes",
        status: "Enabled",
        filter: [{}],
        transition: [
          { days: 30, storageClass: "GLACIER" },
          { days: 120, storageClass: "DEEP_ARCHIVE" },
        ],
        expiration: [{ days: 2555 }],
      },
    ]);
    expect(archiveLifecycleRules({})).toEqual([]);
    expect(archiveLifecycleRules({ expiration: 400 })).toEqual([
      { id: "archive-storage-classes", status: "Enabled", filter: [{}], expiration: [{ days: 400 }] },
    ]);
  });

  it("aborts incomplete multipart uploads after 7 days and logs access when configured", () => {
    const tf = JSON.parse(
      Testing.synth(
        stackWith({ accessLogs: { bucket: "acme-logs", prefix: "archive/" }, lifecycle: { deepArchive: 1 } }),
      ),
    );
    const lifecycle = Object.values(tf.resource.aws_s3_bucket_lifecycle_configuration)[0] as any;
    expect(lifecycle.rule.map((r: any) => r.id)).toEqual([
      "abort-incomplete-multipart-uploads",
      "expire-noncurrent-versions",
      "archive-storage-classes",
    ]);
    expect(lifecycle.rule[0].abort_incomplete_multipart_upload).toEqual([{ days_after_initiation: 7 }]);
    expect(Object.values(tf.resource.aws_s3_bucket_logging)[0]).toMatchObject({
      target_bucket: "acme-logs",
      target_prefix: "archive/",
    });
  });

  it("keeps replaced and deleted versions 365 days by default, or the configured days", () => {
    const rule = (tf: any) =>
      (Object.values(tf.resource.aws_s3_bucket_lifecycle_configuration)[0] as any).rule.find(
        (r: any) => r.id === "expire-noncurrent-versions",
      );
    expect(rule(JSON.parse(Testing.synth(stackWith())))).toMatchObject({
      status: "Enabled",
      noncurrent_version_expiration: [{ noncurrent_days: 365 }],
    });
    expect(
      rule(JSON.parse(Testing.synth(stackWith({ noncurrentVersionDays: 730 })))).noncurrent_version_expiration,
    ).toEqual([{ noncurrent_days: 730 }]);
  });

  it("has no Object Lock unless configured", () => {
    const tf = JSON.parse(Testing.synth(stackWith()));
    expect(tf.resource.aws_s3_bucket_object_lock_configuration).toBeUndefined();
    expect(Object.values(tf.resource.aws_s3_bucket)[0]).not.toHaveProperty("object_lock_enabled");
  });

  it.each(["GOVERNANCE", "COMPLIANCE"] as const)(
    "enables Object Lock in %s mode with a default retention, after versioning, without replacing the bucket",
    (mode) => {
      const stack = stackWith({ objectLock: { mode, retentionDays: 90 } });
      const tf = JSON.parse(Testing.synth(stack));
      const [lockId, lock] = Object.entries(tf.resource.aws_s3_bucket_object_lock_configuration)[0] as [string, any];
      const [bucketId, bucket] = Object.entries(tf.resource.aws_s3_bucket)[0] as [string, any];
      const versioningId = Object.keys(tf.resource.aws_s3_bucket_versioning)[0];
      expect(lockId).toMatch(/^archive_this_object-lock_/);
      expect(lock).toEqual({
        bucket: `\${aws_s3_bucket.${bucketId}.id}`,
        object_lock_enabled: "Enabled",
        rule: { default_retention: { mode, days: 90 } },
        depends_on: [`aws_s3_bucket_versioning.${versioningId}`],
      });
      // object_lock_enabled on the bucket forces a new bucket: an existing archive would be replaced
      expect(bucket).not.toHaveProperty("object_lock_enabled");
      expect(checkBaseline(stack, { egress: "endpoints" })).toEqual([]);
    },
  );

  it("the pipeline stack takes both from config.archive, and passes the baseline", () => {
    const config = testConfig({
      archive: { objectLock: { mode: "COMPLIANCE", retentionDays: 30 }, noncurrentVersionRetentionDays: 400 },
    });
    const stacks = compose(config);
    expect(() => checkStacks(stacks)).not.toThrow();
    const out = synth(stacks.pipelines[0]!);
    expect(out.only("aws_s3_bucket_object_lock_configuration")).toMatchObject({
      object_lock_enabled: "Enabled",
      rule: { default_retention: { mode: "COMPLIANCE", days: 30 } },
    });
    const lifecycle = Object.values(out.resources("aws_s3_bucket_lifecycle_configuration"))
      .flatMap((l: any) => l.rule)
      .find((r: any) => r.id === "expire-noncurrent-versions");
    expect(lifecycle.noncurrent_version_expiration).toEqual([{ noncurrent_days: 400 }]);
  });
});
