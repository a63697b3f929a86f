/**
 * The central archive (config centralArchive, docs/adr/0009-central-archive.md): which stacks a config
 * with one makes and in what order, the archive stack's bucket, key and their policies, and member
 * pipelines that own no archive and write into the central one.
 */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { resolveDeployment } from "../../config/deployment";
import { parseConfig } from "../../config/load";
import { planStacks } from "../../config/stacks";
import { checkStacks } from "../../stacks/app";
import { buildModel } from "../../testing/iam/model";
import { policyDocuments } from "../../testing/policy-documents";
import { compose, synth } from "../helpers/synth";

const ROOT = path.resolve(__dirname, "..", "..");
const example = (file: string) =>
  JSON.parse(readFileSync(path.join(ROOT, "config/examples", file), "utf8")) as Record<string, any>;
const ARCHIVE = "999999999999";
const BUCKET = `backup-actions-archive-${ARCHIVE}-eu-west-1`;
const MEMBERS = ["111111111111", "222222222222", "333333333333"];

describe("central archive, mode write (config/examples/central-archive.json)", () => {
  const config = parseConfig(example("central-archive.json"));
  const stacks = compose(config, { warn: () => undefined });
  const archiveTf = synth(stacks.archive!);

  it("plans bootstrap, the archive, then the networks and the pipelines, each pipeline reading the archive", () => {
    const plan = planStacks(resolveDeployment(config));
    expect(plan.map((s) => [s.kind, s.name, s.accountId])).toEqual([
      ["bootstrap", "bootstrap", "111111111111"],
      ["archive", `archive-${ARCHIVE}-eu-west-1`, ARCHIVE],
      ...MEMBERS.map((a) => ["network", `network-${a}-eu-west-1`, a]),
      ...MEMBERS.map((a) => ["pipeline", `pipeline-${a}-eu-west-1`, a]),
    ]);
    expect(stacks.all.map((s) => s.node.id)).toEqual(plan.map((s) => s.name));
    const archive = plan[1]!;
    expect(archive).toMatchObject({
      readsFrom: [],
      dependsOn: ["bootstrap"],
      state: {
        type: "s3",
        bucket: "acme-backup-actions-tfstate",
        key: `backup-actions/archive-${ARCHIVE}-eu-west-1.tfstate`,
      },
    });
    expect(plan.at(-1)!.readsFrom).toEqual([`network-333333333333-eu-west-1`, `archive-${ARCHIVE}-eu-west-1`]);
  });

  it("pins the archive stack to the archive account through its deploy role", () => {
    expect(archiveTf.tf.provider.aws[0]).toMatchObject({
      region: "eu-west-1",
      allowed_account_ids: [ARCHIVE],
      assume_role: [{ role_arn: `arn:aws:iam::${ARCHIVE}:role/backup-actions-deploy` }],
    });
  });

  it("owns the bucket: the archive's protections, its key, and objects owned by the archive account", () => {
    expect(archiveTf.only("aws_s3_bucket")).toMatchObject({ bucket: BUCKET });
    expect(archiveTf.only("aws_s3_bucket_ownership_controls").rule).toEqual({
      object_ownership: "BucketOwnerEnforced",
    });
    expect(archiveTf.only("aws_s3_bucket_versioning").versioning_configuration).toEqual({ status: "Enabled" });
    expect(archiveTf.only("aws_s3_bucket_object_lock_configuration").rule).toEqual({
      default_retention: { mode: "COMPLIANCE", days: 365 },
    });
    expect(archiveTf.only("aws_s3_bucket_public_access_block")).toMatchObject({
      block_public_acls: true,
      block_public_policy: true,
      ignore_public_acls: true,
      restrict_public_buckets: true,
    });
    const sse = archiveTf.only("aws_s3_bucket_server_side_encryption_configuration").rule[0];
    expect(sse.apply_server_side_encryption_by_default).toEqual({
      sse_algorithm: "aws:kms",
      kms_master_key_id: expect.stringMatching(/^\$\{aws_kms_key\.key\.arn\}$/),
    });
    const rules = archiveTf.only("aws_s3_bucket_lifecycle_configuration").rule.map((r: any) => r.id);
    expect(rules).toEqual([
      "abort-incomplete-multipart-uploads",
      "expire-noncurrent-versions",
      "archive-storage-classes",
    ]);
    expect(archiveTf.only("aws_kms_key")).toMatchObject({ enable_key_rotation: true });
    expect(archiveTf.only("aws_kms_alias")).toMatchObject({ name: "alias/backup-actions-central-archive" });
    expect(Object.keys(archiveTf.tf.output)).toEqual(["archive_bucket_name", "archive_key_arn"]);
  });

  const model = buildModel(archiveTf.tf, ARCHIVE, "eu-west-1");
  const bucketPolicy = model.resourcePolicyFor(`arn:aws:s3:::${BUCKET}`)!;
  const keyArn = [...model.resourcePolicies.keys()].find((k) => k.startsWith("arn:aws:kms:"))!;
  const keyPolicy = model.resourcePolicies.get(keyArn)!;
  const sid = (policy: typeof bucketPolicy, id: string) => policy.Statement.find((s) => s.Sid === id)!;

  it("grants each member's writers and readers by role ARN, on that member's own prefixes, within the organization", () => {
    expect(sid(bucketPolicy, "DenyInsecureTransport")).toMatchObject({ Effect: "Deny" });
    expect(sid(bucketPolicy, "Writes222222222222euwest1")).toEqual({
      Sid: "Writes222222222222euwest1",
      Effect: "Allow",
      Principal: { AWS: ["arn:aws:iam::222222222222:root"] },
      Action: [
        "s3:AbortMultipartUpload",
        "s3:DeleteObject",
        "s3:DeleteObject*",
        "s3:DeleteObjectVersion",
        "s3:GetObject",
        "s3:GetObject*",
        "s3:ListMultipartUploadParts",
        "s3:PutObject",
        "s3:PutObject*",
        "s3:PutObjectAcl",
      ],
      Resource: [`arn:aws:s3:::${BUCKET}/*/222222222222/eu-west-1/*`],
      Condition: {
        ArnEquals: {
          "aws:PrincipalArn": [
            "arn:aws:iam::222222222222:role/backup-actions-worker-job-eu-west-1",
            "arn:aws:iam::222222222222:role/backup-actions-rds-s3-export-eu-west-1",
            "arn:aws:iam::222222222222:role/backup-actions-dynamodb-export-sfn-eu-west-1",
          ],
        },
        StringEquals: { "aws:PrincipalOrgID": ["o-a1b2c3d4e5"] },
      },
    });
    expect(sid(bucketPolicy, "Reads111111111111euwest1")).toMatchObject({
      Action: ["s3:GetObject"],
      Resource: [`arn:aws:s3:::${BUCKET}/*/111111111111/eu-west-1/*`],
      Condition: {
        ArnEquals: { "aws:PrincipalArn": ["arn:aws:iam::111111111111:role/backup-actions-verify-eu-west-1"] },
      },
    });
    expect(sid(bucketPolicy, "MembersFindTheArchive").Principal).toEqual({
      AWS: MEMBERS.map((a) => `arn:aws:iam::${a}:root`),
    });
  });

  it("lets the member roles use the key, and the RDS / Aurora children grant it to RDS only", () => {
    expect(sid(keyPolicy, "AccountAdministersAndDelegatesToIam").Principal).toEqual({
      AWS: [`arn:aws:iam::${ARCHIVE}:root`],
    });
    const use = sid(keyPolicy, "MembersUseTheKey");
    expect(use.Action).toEqual([
      "kms:Decrypt",
      "kms:DescribeKey",
      "kms:Encrypt",
      "kms:GenerateDataKey*",
      "kms:ReEncrypt*",
    ]);
    expect((use.Condition as any).ArnEquals["aws:PrincipalArn"]).toHaveLength(MEMBERS.length * 4);
    expect(sid(keyPolicy, "RdsExportCallersGrantToRds")).toMatchObject({
      Action: ["kms:CreateGrant"],
      Condition: {
        ArnEquals: {
          "aws:PrincipalArn": MEMBERS.flatMap((a) => [
            `arn:aws:iam::${a}:role/backup-actions-rds-export-sfn-eu-west-1`,
            `arn:aws:iam::${a}:role/backup-actions-aurora-export-sfn-eu-west-1`,
          ]),
        },
        Bool: { "kms:GrantIsForAWSResource": ["true"] },
        StringEquals: { "aws:PrincipalOrgID": ["o-a1b2c3d4e5"] },
      },
    });
    expect(sid(keyPolicy, "RdsExportCallersDescribe")).toMatchObject({ Action: ["kms:DescribeKey"] });
  });

  it("member pipelines own no bucket, and write into the central one with the key from the archive's state", () => {
    const member = synth(stacks.pipelines.find((p) => p.node.id === "pipeline-222222222222-eu-west-1")!);
    expect(member.resources("aws_s3_bucket")).toEqual({});
    expect(member.tf.data.terraform_remote_state.archive.config).toEqual({
      bucket: "acme-backup-actions-tfstate",
      key: `backup-actions/archive-${ARCHIVE}-eu-west-1.tfstate`,
      region: "eu-west-1",
    });
    expect(member.tf.output.archive_bucket_name.value).toBe(BUCKET);
    const keyRef = "${data.terraform_remote_state.archive.outputs.archive_key_arn}";
    const docs = policyDocuments(member.tf);
    const statement = (docId: RegExp, sidName: string) => {
      const found = Object.entries(docs)
        .filter(([id]) => docId.test(id))
        .flatMap(([, d]) => d.Statement)
        .find((s) => s.Sid === sidName);
      if (!found) throw new Error(`no statement ${sidName} in a policy document matching ${docId}`);
      return { resources: found.Resource };
    };
    expect(statement(/^worker-job_job-role-policy/, "WriteArchive").resources).toEqual([
      `arn:aws:s3:::${BUCKET}/ebs/*`,
    ]);
    expect(statement(/^worker-job_job-role-policy/, "EncryptArchive").resources).toEqual([keyRef]);
    expect(statement(/^verify_/, "ArchiveKey").resources).toEqual([keyRef]);
    expect(statement(/^workflows_databases_export-policy/, "EncryptWithTheArchiveKey").resources).toEqual([keyRef]);
    expect(statement(/^workflows_dynamodb_/, "WriteExports").resources).toEqual([`arn:aws:s3:::${BUCKET}/dynamodb/*`]);
    // The starter names the central bucket in every execution's input; DynamoDB exports name its owner.
    const starter = Object.values(member.resources("aws_lambda_function")).find((f: any) =>
      /starter/.test(f.function_name),
    ) as any;
    expect(JSON.parse(starter.environment.variables.BACKUP_ACTIONS_DISPATCHERS)).toMatchObject({
      account: "222222222222",
      archiveBucket: BUCKET,
    });
    const dynamodb = Object.values(member.resources("aws_sfn_state_machine")).find((m: any) =>
      /dynamodb-export/.test(m.name),
    ) as any;
    expect(dynamodb.definition).toContain(`"S3BucketOwner":"${ARCHIVE}"`);
    // Its own key still encrypts its queues and logs.
    expect(Object.keys(member.resources("aws_kms_key")).length).toBeGreaterThan(0);
  });

  it("passes the security baseline", () => {
    expect(() => checkStacks(stacks)).not.toThrow();
  });
});

describe("central archive, mode copy (config/examples/central-archive-copy.json)", () => {
  it("makes no archive stack: every account-region keeps its pipeline, the archive account's is the archive", () => {
    const config = parseConfig(example("central-archive-copy.json"));
    const plan = planStacks(resolveDeployment(config));
    const pairs = ["111111111111", "222222222222", ARCHIVE].flatMap((a) =>
      ["eu-west-1", "us-east-1"].map((r) => `${a}-${r}`),
    );
    expect(plan.map((s) => s.name)).toEqual([
      "bootstrap",
      ...pairs.map((p) => `network-${p}`),
      ...pairs.map((p) => `pipeline-${p}`),
    ]);
    const stacks = compose(config, { warn: () => undefined });
    expect(stacks.archive).toBeUndefined();
    expect(stacks.all.map((s) => s.node.id)).toEqual(plan.map((s) => s.name));
    const central = synth(stacks.pipelines.find((p) => p.node.id === `pipeline-${ARCHIVE}-eu-west-1`)!);
    expect(central.only("aws_s3_bucket")).toMatchObject({ bucket: BUCKET });
    expect(central.tf.data.terraform_remote_state.archive).toBeUndefined();
    expect(() => checkStacks(stacks)).not.toThrow();
  });
});
