import { Fn, TerraformStack } from "cdktf";
import {
  DataAwsIamPolicyDocument,
  DataAwsIamPolicyDocumentStatement,
} from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import {
  S3BucketLifecycleConfiguration,
  S3BucketLifecycleConfigurationRule,
} from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { allowSseS3 } from "../../../../stacks/aspects/security-baseline";
import { PolicyDocument } from "../../../../stacks/constructs/policy-document";
import { newStack, violationsOf } from "../helpers";

type Part = "pab" | "sse" | "versioning" | "policy" | "lifecycle";

/**
 * A bucket `b` with every companion the baseline wants, except those in `skip`, referencing the
 * bucket through `ref` (its `id` or `bucket` attribute) and with a policy document data source.
 */
function bucketWith(stack: TerraformStack, skip: Part[] = [], ref: "id" | "bucket" = "id"): S3Bucket {
  const bucket = new S3Bucket(stack, "b", { bucketPrefix: "test" });
  const target = ref === "id" ? bucket.id : bucket.bucket;
  if (!skip.includes("pab")) {
    new S3BucketPublicAccessBlock(stack, "pab", {
      bucket: target,
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
  }
  if (!skip.includes("sse")) {
    new S3BucketServerSideEncryptionConfigurationA(stack, "sse", {
      bucket: target,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" } }],
    });
  }
  if (!skip.includes("versioning")) {
    new S3BucketVersioningA(stack, "versioning", { bucket: target, versioningConfiguration: { status: "Enabled" } });
  }
  if (!skip.includes("policy")) {
    const document = new PolicyDocument(stack, "doc", { statement: [tlsOnly(bucket)] });
    new S3BucketPolicy(stack, "policy", { bucket: target, policy: document.json });
  }
  if (!skip.includes("lifecycle")) {
    new S3BucketLifecycleConfiguration(stack, "lifecycle", { bucket: target, rule: [abortRule()] });
  }
  return bucket;
}

function tlsOnly(bucket: S3Bucket, resources = [bucket.arn, `${bucket.arn}/*`]): DataAwsIamPolicyDocumentStatement {
  return {
    effect: "Deny",
    principals: [{ type: "*", identifiers: ["*"] }],
    actions: ["s3:*"],
    resources,
    condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
  };
}

function abortRule(overrides: Partial<S3BucketLifecycleConfigurationRule> = {}): S3BucketLifecycleConfigurationRule {
  return {
    id: "abort",
    status: "Enabled",
    filter: [{}],
    abortIncompleteMultipartUpload: [{ daysAfterInitiation: 7 }],
    ...overrides,
  };
}

const tlsJson = (bucketArn: string, objectsArn: string) =>
  JSON.stringify({
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [bucketArn, objectsArn],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ],
  });

describe("S3 bucket rules", () => {
  it("passes a bucket whose companions reference bucket.id and whose policy is a policy document", () => {
    const stack = newStack();
    bucketWith(stack);
    expect(violationsOf(stack)).toEqual([]);
  });

  it("passes a bucket whose companions reference bucket.bucket and whose policy is a JSON string", () => {
    // GIVEN companions referencing the `bucket` attribute and a JSON.stringify policy with tokens inside
    const stack = newStack();
    const bucket = bucketWith(stack, ["policy"], "bucket");
    new S3BucketPolicy(stack, "policy", { bucket: bucket.bucket, policy: tlsJson(bucket.arn, `${bucket.arn}/*`) });
    // THEN
    expect(violationsOf(stack)).toEqual([]);
  });

  it("matches companions and policy ARNs by a literal bucket name", () => {
    const stack = newStack();
    new S3Bucket(stack, "b", { bucket: "literal-bucket" });
    new S3BucketPublicAccessBlock(stack, "pab", {
      bucket: "literal-bucket",
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    new S3BucketServerSideEncryptionConfigurationA(stack, "sse", {
      bucket: "literal-bucket",
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms:dsse" } }],
    });
    new S3BucketVersioningA(stack, "versioning", {
      bucket: "literal-bucket",
      versioningConfiguration: { status: "Enabled" },
    });
    new S3BucketPolicy(stack, "policy", {
      bucket: "literal-bucket",
      policy: tlsJson("arn:aws:s3:::literal-bucket", "arn:aws:s3:::literal-bucket/*"),
    });
    new S3BucketLifecycleConfiguration(stack, "lifecycle", { bucket: "literal-bucket", rule: [abortRule()] });
    expect(violationsOf(stack)).toEqual([]);
  });

  it.each([
    ["pab", "s3-public-access-block", "no aws_s3_bucket_public_access_block references this bucket"],
    ["sse", "s3-encryption", "no aws_s3_bucket_server_side_encryption_configuration references this bucket"],
    ["versioning", "s3-versioning", "no aws_s3_bucket_versioning references this bucket"],
    ["policy", "s3-tls-only", "no aws_s3_bucket_policy references this bucket"],
    ["lifecycle", "s3-abort-multipart", "no aws_s3_bucket_lifecycle_configuration references this bucket"],
  ] as const)("fails a bucket without its %s companion", (part, rule, message) => {
    const stack = newStack();
    bucketWith(stack, [part]);
    expect(violationsOf(stack)).toEqual([{ rule, path: "test/b", message }]);
  });

  it("does not count companions of another bucket", () => {
    // GIVEN a compliant bucket b and a second bucket with no companions at all
    const stack = newStack();
    bucketWith(stack);
    new S3Bucket(stack, "other", { bucketPrefix: "other" });
    // THEN only the second bucket is reported, once per rule
    expect(violationsOf(stack).map((v) => `${v.path} ${v.rule}`)).toEqual([
      "test/other s3-abort-multipart",
      "test/other s3-encryption",
      "test/other s3-public-access-block",
      "test/other s3-tls-only",
      "test/other s3-versioning",
    ]);
  });

  it("fails a public access block that leaves flags unset or false", () => {
    const stack = newStack();
    const bucket = bucketWith(stack, ["pab"]);
    new S3BucketPublicAccessBlock(stack, "pab", { bucket: bucket.id, blockPublicAcls: true, blockPublicPolicy: false });
    expect(violationsOf(stack)).toEqual([
      {
        rule: "s3-public-access-block",
        path: "test/b",
        message:
          "public access block test/pab must set all four flags to true; not true: block_public_policy, ignore_public_acls, restrict_public_buckets",
      },
    ]);
  });

  describe("encryption", () => {
    function withAlgorithm(sseAlgorithm: string): TerraformStack {
      const stack = newStack();
      const bucket = bucketWith(stack, ["sse"]);
      new S3BucketServerSideEncryptionConfigurationA(stack, "sse", {
        bucket: bucket.id,
        rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm } }],
      });
      return stack;
    }

    it("fails SSE-S3 (AES256) on a bucket that is not marked as a state or log bucket", () => {
      expect(violationsOf(withAlgorithm("AES256"))).toEqual([
        {
          rule: "s3-encryption",
          path: "test/b",
          message:
            "server-side encryption test/sse uses AES256 (SSE-S3); use aws:kms or aws:kms:dsse, or mark a state or log bucket with allowSseS3()",
        },
      ]);
    });

    it("passes SSE-S3 on a bucket marked with allowSseS3", () => {
      const stack = withAlgorithm("AES256");
      allowSseS3(stack.node.findChild("b"), "S3 access logs cannot be delivered to SSE-KMS buckets");
      expect(violationsOf(stack)).toEqual([]);
    });

    it("fails an unknown algorithm", () => {
      expect(violationsOf(withAlgorithm("none"))).toEqual([
        {
          rule: "s3-encryption",
          path: "test/b",
          message: 'server-side encryption test/sse has sse_algorithm "none"; use aws:kms or aws:kms:dsse',
        },
      ]);
    });

    it("fails a configuration without a default encryption block", () => {
      const stack = newStack();
      const bucket = bucketWith(stack, ["sse"]);
      new S3BucketServerSideEncryptionConfigurationA(stack, "sse", {
        bucket: bucket.id,
        rule: [{ bucketKeyEnabled: true }],
      });
      expect(violationsOf(stack)).toEqual([
        {
          rule: "s3-encryption",
          path: "test/b",
          message: "server-side encryption test/sse sets no apply_server_side_encryption_by_default",
        },
      ]);
    });
  });

  it("fails versioning that is suspended", () => {
    const stack = newStack();
    const bucket = bucketWith(stack, ["versioning"]);
    new S3BucketVersioningA(stack, "versioning", {
      bucket: bucket.id,
      versioningConfiguration: { status: "Suspended" },
    });
    expect(violationsOf(stack)).toEqual([
      {
        rule: "s3-versioning",
        path: "test/b",
        message: 'versioning test/versioning has status "Suspended"; it must be "Enabled"',
      },
    ]);
  });

  describe("TLS-only policy", () => {
    const noTls =
      "has no statement denying s3:* to every principal on the bucket and its objects when aws:SecureTransport is false";

    it("fails a JSON policy without the deny statement", () => {
      const stack = newStack();
      const bucket = bucketWith(stack, ["policy"]);
      const allowOnly = JSON.stringify({
        Statement: [
          {
            Effect: "Allow",
            Principal: { AWS: "arn:aws:iam::111111111111:root" },
            Action: "s3:GetObject",
            Resource: `${bucket.arn}/*`,
          },
        ],
      });
      new S3BucketPolicy(stack, "policy", { bucket: bucket.id, policy: allowOnly });
      expect(violationsOf(stack)).toEqual([
        { rule: "s3-tls-only", path: "test/b", message: `bucket policy test/policy ${noTls}` },
      ]);
    });

    it("fails a policy document whose deny covers the objects but not the bucket, naming the document", () => {
      const stack = newStack();
      const bucket = bucketWith(stack, ["policy"]);
      const document = new PolicyDocument(stack, "doc", {
        statement: [tlsOnly(bucket, [`${bucket.arn}/*`])],
      });
      new S3BucketPolicy(stack, "policy", { bucket: bucket.id, policy: document.json });
      expect(violationsOf(stack)).toEqual([
        { rule: "s3-tls-only", path: "test/b", message: `bucket policy test/policy (document test/doc) ${noTls}` },
      ]);
    });

    it("fails a deny on aws:SecureTransport that only covers some actions", () => {
      const stack = newStack();
      const bucket = bucketWith(stack, ["policy"]);
      const document = new DataAwsIamPolicyDocument(stack, "doc", {
        statement: [{ ...tlsOnly(bucket), actions: ["s3:GetObject"] }],
      });
      new S3BucketPolicy(stack, "policy", { bucket: bucket.id, policy: document.json });
      expect(violationsOf(stack)).toEqual([
        { rule: "s3-tls-only", path: "test/b", message: `bucket policy test/policy (document test/doc) ${noTls}` },
      ]);
    });

    it("finds the deny statement in a document merged through source_policy_documents", () => {
      const stack = newStack();
      const bucket = bucketWith(stack, ["policy"]);
      const base = new DataAwsIamPolicyDocument(stack, "base", { statement: [tlsOnly(bucket)] });
      const merged = new DataAwsIamPolicyDocument(stack, "merged", {
        sourcePolicyDocuments: [base.json],
        statement: [
          {
            effect: "Allow",
            principals: [{ type: "Service", identifiers: ["logging.s3.amazonaws.com"] }],
            actions: ["s3:PutObject"],
            resources: [`${bucket.arn}/*`],
          },
        ],
      });
      new S3BucketPolicy(stack, "policy", { bucket: bucket.id, policy: merged.json });
      expect(violationsOf(stack)).toEqual([]);
    });

    it("reports a policy built with jsonencode as not checkable", () => {
      const stack = newStack();
      const bucket = bucketWith(stack, ["policy"]);
      new S3BucketPolicy(stack, "policy", { bucket: bucket.id, policy: Fn.jsonencode({ Statement: [] }) });
      expect(violationsOf(stack)).toEqual([
        {
          rule: "s3-tls-only",
          path: "test/b",
          message:
            'bucket policy test/policy cannot be checked: the policy is the Terraform expression ${jsonencode({"Statement" = []})}; build it from a PolicyDocument or a JSON string',
        },
      ]);
    });
  });

  describe("abort incomplete multipart uploads", () => {
    const message =
      "lifecycle configuration test/lifecycle has no enabled rule for the whole bucket with abort_incomplete_multipart_upload.days_after_initiation";

    it.each([
      ["disabled", abortRule({ status: "Disabled" })],
      ["limited to a prefix", abortRule({ filter: [{ prefix: "logs/" }] })],
      [
        "without the abort action",
        abortRule({ abortIncompleteMultipartUpload: undefined, expiration: [{ days: 30 }] }),
      ],
    ])("fails a lifecycle rule that is %s", (_, rule) => {
      const stack = newStack();
      const bucket = bucketWith(stack, ["lifecycle"]);
      new S3BucketLifecycleConfiguration(stack, "lifecycle", { bucket: bucket.id, rule: [rule] });
      expect(violationsOf(stack)).toEqual([{ rule: "s3-abort-multipart", path: "test/b", message }]);
    });

    it("passes when any one enabled whole-bucket rule aborts uploads", () => {
      const stack = newStack();
      const bucket = bucketWith(stack, ["lifecycle"]);
      new S3BucketLifecycleConfiguration(stack, "lifecycle", {
        bucket: bucket.id,
        rule: [
          {
            id: "glacier",
            status: "Enabled",
            filter: [{ prefix: "ebs/" }],
            transition: [{ days: 30, storageClass: "GLACIER" }],
          },
          abortRule({ filter: [{ prefix: "" }] }),
        ],
      });
      expect(violationsOf(stack)).toEqual([]);
    });
  });
});
