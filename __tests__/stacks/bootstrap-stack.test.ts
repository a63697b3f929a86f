import { compose, synth, testConfig } from "../helpers/synth";

describe("bootstrap stack", () => {
  const { bootstrap } = compose(testConfig());
  const out = synth(bootstrap!);

  it("keeps its own state locally, in the project root", () => {
    expect(out.tf.terraform.backend).toEqual({ local: { path: "../../../terraform.bootstrap.tfstate" } });
  });

  it("creates the configured state bucket and protects it from destroy", () => {
    expect(out.only("aws_s3_bucket")).toMatchObject({ bucket: "state-bucket-111", lifecycle: { prevent_destroy: true } });
  });

  it("versions, encrypts and blocks public access", () => {
    expect(out.only("aws_s3_bucket_versioning").versioning_configuration).toEqual({ status: "Enabled" });
    expect(out.only("aws_s3_bucket_server_side_encryption_configuration").rule).toEqual([
      { apply_server_side_encryption_by_default: { sse_algorithm: "AES256" } },
    ]);
    expect(out.only("aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
  });

  it("denies every request without TLS", () => {
    const doc = Object.values(out.tf.data.aws_iam_policy_document)[0] as any;
    expect(doc.statement).toEqual([
      expect.objectContaining({
        effect: "Deny",
        actions: ["s3:*"],
        condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
      }),
    ]);
  });

  it("expires superseded state versions and aborts stale multipart uploads", () => {
    expect(out.only("aws_s3_bucket_lifecycle_configuration").rule[0]).toMatchObject({
      status: "Enabled",
      noncurrent_version_expiration: [{ noncurrent_days: 90 }],
      abort_incomplete_multipart_upload: [{ days_after_initiation: 7 }],
    });
  });
});
