import { compose, synth, testConfig } from "../helpers/synth";
import { policyDocuments } from "../../testing/policy-documents";

describe("bootstrap stack", () => {
  const { bootstrap } = compose(testConfig());
  const out = synth(bootstrap!);

  it("keeps its own state locally, in the project root", () => {
    expect(out.tf.terraform.backend).toEqual({ local: { path: "../../../terraform.bootstrap.tfstate" } });
  });

  it("creates the configured state bucket and protects it from destroy", () => {
    expect(out.only("aws_s3_bucket")).toMatchObject({
      bucket: "state-bucket-111",
      lifecycle: { prevent_destroy: true },
    });
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
    const [doc, ...others] = Object.values(policyDocuments(out.tf));
    expect(others).toEqual([]);
    expect(doc!.Statement).toEqual([
      expect.objectContaining({
        Effect: "Deny",
        Principal: "*",
        Action: ["s3:*"],
        Condition: { Bool: { "aws:SecureTransport": ["false"] } },
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

  it("pins the state bucket's account: the first account deployed with the caller's own credentials", () => {
    expect(out.tf.provider.aws).toEqual([
      expect.objectContaining({ region: "us-east-1", allowed_account_ids: ["111111111111"] }),
    ]);
    const twoAccounts = testConfig({
      accounts: [
        { id: "222222222222", regions: ["us-west-2"], assumeRoleArn: "arn:aws:iam::222222222222:role/deploy" },
        { id: "333333333333", regions: ["us-west-2"] },
      ],
    });
    expect(synth(compose(twoAccounts).bootstrap!).tf.provider.aws[0].allowed_account_ids).toEqual(["333333333333"]);
  });

  it("pins stateBackend.accountId when it is set, and assumes no role", () => {
    const config = testConfig({
      accounts: [
        { id: "222222222222", regions: ["us-west-2"], assumeRoleArn: "arn:aws:iam::222222222222:role/deploy" },
      ],
      stateBackend: { type: "s3", bucket: "state-bucket-111", region: "us-east-1", accountId: "999999999999" },
    });
    const provider = synth(compose(config).bootstrap!).tf.provider.aws[0];
    expect(provider.allowed_account_ids).toEqual(["999999999999"]);
    expect(provider.assume_role).toBeUndefined();
  });
});
