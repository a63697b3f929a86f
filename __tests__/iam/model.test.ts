/** The IAM model and action map on their own (no moto): what they refuse, and the citations. */
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { INTEGRATIONS, SDK_OPERATIONS, iamRequestsOf } from "../../testing/iam/action-map";
import { judge } from "../../testing/iam/evaluate";
import { buildModel } from "../../testing/iam/model";
import { policyDocuments, rewritePolicyDocument } from "../../testing/policy-documents";
import { observed } from "../../core/aws-client-hook";
import { EbsApiError } from "../../batch-worker/src/ebs-direct";
import { clearRecorded, deploymentOf, recorded, runAs, type RecordedRequest } from "../../testing/iam/recorder";
import { compose, synth, testConfig } from "../helpers/synth";

const tf = synth(compose(testConfig({ securityTag: "backup-actions:managed" })).pipelines[0]!).tf;
const model = buildModel(tf, "111111111111", "us-east-1");
const record = (over: Partial<RecordedRequest>): RecordedRequest => ({
  role: "worker-job",
  deployment: "x",
  kind: "sdk",
  service: "s3",
  operation: "PutObject",
  region: "us-east-1",
  input: {},
  outcome: "ok",
  ...over,
});

describe("IAM model of the synthesized pipeline stack", () => {
  it("values the stack's interpolations: the verify role reads the archive bucket's objects by its real ARN", () => {
    const statement = model.roleFor("verify").policies[0]!.policy.Statement.find((s) => s.Sid === "ReadArchive");
    expect(statement?.Resource).toEqual(["arn:aws:s3:::backup-actions-archive-111111111111-us-east-1/*"]);
    expect(model.facts.kmsKeyOfBucket("backup-actions-archive-111111111111-us-east-1")).toMatch(
      /^arn:aws:kms:us-east-1:111111111111:key\/[0-9a-f-]{36}$/,
    );
  });

  it("refuses an interpolation it cannot value, naming it and where to teach it", () => {
    const broken = JSON.parse(JSON.stringify(tf));
    const [id] = Object.keys(policyDocuments(broken));
    rewritePolicyDocument(broken, id!, (doc) => {
      doc.Statement[0]!.Resource = ["${aws_glue_job.x.arn}"];
    });
    expect(() => buildModel(broken, "111111111111", "us-east-1")).toThrow(
      "the interpolation ${aws_glue_job.x.arn} names no resource of the stack",
    );
  });

  it("refuses a role it does not know (which service assumes it, and does our code call AWS with it?)", () => {
    const extra = JSON.parse(JSON.stringify(tf));
    extra.resource.aws_iam_role["mystery_role_12345678"] = { name: "mystery", assume_role_policy: "{}" };
    expect(() => buildModel(extra, "111111111111", "us-east-1")).toThrow(
      /role mystery_role_12345678 \(mystery\) is not in ROLES of testing\/iam\/model\.ts/,
    );
  });
});

describe("action map", () => {
  const header = readFileSync(path.join(__dirname, "../../testing/iam/action-map.ts"), "utf8").split("*/")[0]!;

  it("cites, for every entry, sources the file's header defines", () => {
    const sources = [...Object.values(SDK_OPERATIONS).map((e) => e.source), ...INTEGRATIONS.map((i) => i.source)];
    for (const source of sources) {
      const cited =
        source.match(/\b(SAR-[a-z0-9]+|S3-[A-Z0-9]+|EC2-TAG|EBS-KMS|SNS-KMS|SFN-[A-Z]+|BACKUP-ARN)\b/g) ?? [];
      expect({ source, cited: cited.length > 0 }).toEqual({ source, cited: true });
      for (const c of cited) if (!c.startsWith("SAR-")) expect(header).toContain(c);
    }
  });

  it("maps the operations whose IAM action is not their name", () => {
    const f = model.facts;
    const s3 = { Bucket: "backup-actions-archive-111111111111-us-east-1", Key: "ebs/a" };
    expect(iamRequestsOf(record({ operation: "UploadPart", input: s3 }), f).map((r) => r.action)).toEqual([
      "s3:PutObject",
    ]);
    expect(
      iamRequestsOf(record({ operation: "HeadObject", input: { ...s3, ChecksumMode: "ENABLED" } }), f).map(
        (r) => r.action,
      ),
    ).toEqual(["s3:GetObject", "kms:Decrypt"]);
    expect(
      iamRequestsOf(record({ operation: "DeleteObject", input: { ...s3, VersionId: "v1" } }), f).map((r) => r.action),
    ).toEqual(["s3:DeleteObjectVersion"]);
    expect(
      iamRequestsOf(record({ operation: "ListMultipartUploads", input: { Bucket: s3.Bucket } }), f)[0],
    ).toMatchObject({
      action: "s3:ListBucketMultipartUploads",
      resource: "arn:aws:s3:::backup-actions-archive-111111111111-us-east-1",
    });
    const kms = iamRequestsOf(record({ operation: "CreateMultipartUpload", input: s3 }), f)[1]!;
    expect(kms).toMatchObject({
      action: "kms:GenerateDataKey",
      context: expect.objectContaining({
        "kms:ViaService": "s3.us-east-1.amazonaws.com",
        "aws:SecureTransport": "true",
      }),
    });
  });

  it("judges a request the worker's role lacks as denied, naming the layer (identity)", async () => {
    const request = iamRequestsOf(
      record({
        operation: "PutObject",
        input: { Bucket: "backup-actions-archive-111111111111-us-east-1", Key: "dynamodb/not-the-workers" },
      }),
      model.facts,
    )[0]!;
    const verdict = await judge(model, model.roleFor("worker-job"), request, record({}));
    expect(verdict).toMatchObject({ result: "ImplicitlyDenied", detail: expect.stringMatching(/^blocked by /) });
  });
});

describe("the EBS direct read APIs (worker.readPath)", () => {
  const direct = buildModel(
    synth(compose(testConfig({ worker: { readPath: "direct" } })).pipelines[0]!).tf,
    "111111111111",
    "us-east-1",
  );
  const blocks = (operation: string, f = model.facts) =>
    iamRequestsOf(
      record({ service: "ebs", operation, input: { SnapshotId: "snap-0123456789abcdef0", BlockIndex: 3 } }),
      f,
    );

  it("maps ListSnapshotBlocks and GetSnapshotBlock to their actions on the snapshot (no account in its ARN)", () => {
    expect(blocks("GetSnapshotBlock")).toEqual([
      expect.objectContaining({
        action: "ebs:GetSnapshotBlock",
        resource: "arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0",
      }),
    ]);
    expect(blocks("ListSnapshotBlocks").map((r) => r.action)).toEqual(["ebs:ListSnapshotBlocks"]);
  });

  it("lets the worker read a snapshot's blocks only when readPath is direct", async () => {
    for (const operation of ["ListSnapshotBlocks", "GetSnapshotBlock"]) {
      const [request] = blocks(operation);
      const denied = await judge(model, model.roleFor("worker-job"), request!, record({}));
      expect(denied.result).toBe("ImplicitlyDenied");
      const [asDirect] = blocks(operation, direct.facts);
      const allowed = await judge(direct, direct.roleFor("worker-job"), asDirect!, record({}));
      expect({ operation, result: allowed.result }).toEqual({ operation, result: "Allowed" });
    }
  });

  it("lets it decrypt an encrypted snapshot's blocks only through EC2", async () => {
    // a key of the account whose key policy defers to IAM (the pipeline's own key stands in for AWS Backup's)
    const key = direct.facts.kmsKeyOfBucket("backup-actions-archive-111111111111-us-east-1")!;
    const decrypt = (via: string) => ({ action: "kms:Decrypt", resource: key, context: { "kms:ViaService": via } });
    const role = direct.roleFor("worker-job");
    const viaEc2 = await judge(direct, role, decrypt("ec2.us-east-1.amazonaws.com"), record({}));
    expect({ result: viaEc2.result, detail: viaEc2.detail }).toEqual({ result: "Allowed" });
    expect((await judge(direct, role, decrypt("lambda.us-east-1.amazonaws.com"), record({}))).result).toBe(
      "ImplicitlyDenied",
    );
  });
});

describe("the EBS child's blank scratch volume (worker.readPath direct)", () => {
  const direct = buildModel(
    synth(compose(testConfig({ securityTag: "backup-actions:managed", worker: { readPath: "direct" } })).pipelines[0]!)
      .tf,
    "111111111111",
    "us-east-1",
  );
  const key = direct.facts.kmsKeyOfBucket("backup-actions-archive-111111111111-us-east-1")!;
  const role = direct.roleFor("ebs-export");
  const tags = (extra: Array<{ Key: string; Value: string }> = []) => [
    {
      ResourceType: "volume",
      Tags: [
        { Key: "backup-actions:pipeline", Value: "backup-actions" },
        { Key: "backup-actions:managed", Value: "true" },
        ...extra,
      ],
    },
  ];
  const scratchTag = { Key: "backup-actions:scratch-of", Value: "snap-0123456789abcdef0" };
  const create = (input: Record<string, unknown>) =>
    record({ role: "ebs-export", service: "ec2", operation: "CreateVolume", input, output: { VolumeId: "vol-0abc" } });
  /** Each IAM request of the recorded call, with its verdict. */
  const verdicts = async (r: RecordedRequest, m = direct, asRole = role) =>
    Promise.all(iamRequestsOf(r, m.facts).map(async (q) => [q.action, (await judge(m, asRole, q, r)).result] as const));
  const blank = { Size: 8, VolumeType: "gp3", Encrypted: true, KmsKeyId: key, AvailabilityZone: "us-east-1a" };

  it("allows an encrypted gp3 scratch with the pipeline's key, tagged as a snapshot's scratch", async () => {
    expect(await verdicts(create({ ...blank, TagSpecifications: tags([scratchTag]) }))).toEqual([
      ["ec2:CreateVolume", "Allowed"],
      ["ec2:CreateTags", "Allowed"],
      ["kms:CreateGrant", "Allowed"],
      ["kms:GenerateDataKeyWithoutPlaintext", "Allowed"],
      ["kms:DescribeKey", "Allowed"],
    ]);
  });

  it("refuses an unencrypted scratch, one without the scratch tag, and a volume from a snapshot", async () => {
    const first = async (input: Record<string, unknown>) => (await verdicts(create(input)))[0];
    expect(await first({ ...blank, Encrypted: false, TagSpecifications: tags([scratchTag]) })).toEqual([
      "ec2:CreateVolume",
      "ImplicitlyDenied",
    ]);
    expect(await first({ ...blank, TagSpecifications: tags() })).toEqual(["ec2:CreateVolume", "ImplicitlyDenied"]);
    const fromSnapshot = await verdicts(
      create({ ...blank, SnapshotId: "snap-0123456789abcdef0", TagSpecifications: tags([scratchTag]) }),
    );
    expect(fromSnapshot[1]).toEqual(["ec2:CreateVolume", "ImplicitlyDenied"]);
  });

  it("deletes only the pipeline's scratch volumes", async () => {
    const del = (volumeTags: Record<string, string>) =>
      record({
        role: "ebs-export",
        service: "ec2",
        operation: "DeleteVolume",
        input: { VolumeId: "vol-0abc" },
        resourceTags: { "vol-0abc": volumeTags },
      });
    const own = { "backup-actions:pipeline": "backup-actions", "backup-actions:managed": "true" };
    expect(await verdicts(del({ ...own, "backup-actions:scratch-of": "snap-0123456789abcdef0" }))).toEqual([
      ["ec2:DeleteVolume", "Allowed"],
    ]);
    expect(await verdicts(del(own))).toEqual([["ec2:DeleteVolume", "ImplicitlyDenied"]]);
  });
});

describe("requests sent without an SDK client (core/aws-client-hook.ts observed)", () => {
  const tf = synth(compose(testConfig({ worker: { readPath: "direct" } })).pipelines[0]!).tf;
  const caller = { role: "worker-job" as const, deployment: deploymentOf(tf, "111111111111", "us-east-1") };
  const request = (operation: string) => ({
    service: "ebs",
    operation,
    region: "us-east-1",
    input: { SnapshotId: "snap-0123456789abcdef0" },
  });

  it("are recorded as the caller's, with the outcome, so the proof judges the EBS direct client", async () => {
    clearRecorded();
    await expect(runAs(caller, () => observed(request("ListSnapshotBlocks"), async () => "answer"))).resolves.toBe(
      "answer",
    );
    const failing = () => Promise.reject(new EbsApiError("GetSnapshotBlock", "ThrottlingException", 429, "slow down"));
    await expect(runAs(caller, () => observed(request("GetSnapshotBlock"), failing))).rejects.toThrow("slow down");
    await observed(request("GetSnapshotBlock"), async () => "outside any caller: set-up");
    expect(
      recorded().map((r) => [r.role, r.service, r.operation, r.outcome, r.httpStatus, r.input.SnapshotId]),
    ).toEqual([
      ["worker-job", "ebs", "ListSnapshotBlocks", "ok", undefined, "snap-0123456789abcdef0"],
      ["worker-job", "ebs", "GetSnapshotBlock", "ThrottlingException", 429, "snap-0123456789abcdef0"],
    ]);
  });
});
