/**
 * IAM proof of the central archive (docs/adr/0009-central-archive.md): the member pipelines' roles
 * reach the archive of another account only when BOTH their own synthesized policies and the archive
 * stack's bucket and key policies allow it (cross-account evaluation, @cloud-copilot/iam-simulate,
 * docs/adr/0007). Each member role's archive requests are judged (the actions its code sends: the
 * worker's upload, the RDS export role's Parquet files, the DynamoDB export, verify's reads, the RDS
 * child's grant), and so are requests the policies must refuse: another account's role of the same
 * name, a member writing under another member's prefix, a caller outside the organization, and a
 * member the archive's policies were built without.
 */
import { runSimulation, type Simulation } from "@cloud-copilot/iam-simulate";
import { readFileSync } from "node:fs";
import * as path from "node:path";
import { Testing } from "cdktf";
import { resolveDeployment } from "../../config/deployment";
import { parseConfig } from "../../config/load";
import { ArchiveStack } from "../../stacks/archive-stack";
import { buildModel, type IamModel, type ModelRole, type Policy } from "../../testing/iam/model";
import { compose, synth } from "../helpers/synth";

const ROOT = path.resolve(__dirname, "..", "..");
const REGION = "eu-west-1";
const ARCHIVE = "999999999999";
const ORG = "o-a1b2c3d4e5";
const BUCKET = `backup-actions-archive-${ARCHIVE}-${REGION}`;
const MEMBERS = ["111111111111", "222222222222", "333333333333"];
const KEY_REF = "${data.terraform_remote_state.archive.outputs.archive_key_arn}";

const config = parseConfig(JSON.parse(readFileSync(path.join(ROOT, "config/examples/central-archive.json"), "utf8")));
const stacks = compose(config, { warn: () => undefined });

/** The archive stack's policies, valued as AWS would leave them in the archive account. */
function archiveModelOf(tf: unknown): { model: IamModel; keyArn: string; bucketPolicy: Policy; keyPolicy: Policy } {
  const model = buildModel(tf, ARCHIVE, REGION);
  const keyArn = [...model.resourcePolicies.keys()].find((k) => k.startsWith("arn:aws:kms:"))!;
  return {
    model,
    keyArn,
    bucketPolicy: model.resourcePolicyFor(`arn:aws:s3:::${BUCKET}`)!,
    keyPolicy: model.resourcePolicies.get(keyArn)!,
  };
}
const archive = archiveModelOf(synth(stacks.archive!).tf);

/** A member's roles; the key ARN its stack reads from the archive's state is the archive key's. */
const memberModels = new Map(
  MEMBERS.map((account) => {
    const stack = stacks.pipelines.find((p) => p.node.id === `pipeline-${account}-${REGION}`)!;
    const json = Testing.synth(stack).split(KEY_REF).join(archive.keyArn);
    return [account, buildModel(JSON.parse(json), account, REGION)] as const;
  }),
);

interface Ask {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string>;
}

/**
 * One request of `role` (its identity policies as synthesized), made from `callerAccount` with the
 * organization `orgId`, against the archive account's resource: the result AWS would reach.
 */
async function decide(
  role: ModelRole,
  member: IamModel,
  ask: Ask,
  opts: { callerAccount?: string; orgId?: string; policies?: { bucket: Policy; key: Policy } } = {},
): Promise<string> {
  const callerAccount = opts.callerAccount ?? member.account;
  const roleArn = `arn:aws:iam::${callerAccount}:role/${role.name}`;
  const isS3 = ask.action.startsWith("s3:");
  const policies = opts.policies ?? { bucket: archive.bucketPolicy, key: archive.keyPolicy };
  const simulation: Simulation = {
    request: {
      principal: `arn:aws:sts::${callerAccount}:assumed-role/${role.name}/backup-actions-test`,
      action: ask.action,
      resource: { resource: ask.resource, accountId: ARCHIVE },
      contextVariables: {
        "aws:PrincipalArn": roleArn,
        "aws:PrincipalAccount": callerAccount,
        "aws:PrincipalType": "AssumedRole",
        "aws:PrincipalOrgID": opts.orgId ?? ORG,
        "aws:SecureTransport": "true",
        ...ask.context,
      },
    },
    identityPolicies: role.policies.map((p) => ({ name: p.name, policy: p.policy })),
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy: isS3 ? policies.bucket : policies.key,
    vpcEndpointPolicies:
      role.inVpc && isS3 ? member.vpcEndpointPolicies.map((p) => ({ name: p.name, policy: p.policy })) : undefined,
  };
  const out = await runSimulation(simulation, {});
  if (out.resultType === "error") throw new Error(`simulation error: ${JSON.stringify(out.errors)}`);
  return out.overallResult;
}

const viaS3 = { "kms:ViaService": `s3.${REGION}.amazonaws.com` };
const prefix = (workflow: string, account: string) =>
  `arn:aws:s3:::${BUCKET}/${workflow}/${account}/${REGION}/res-1/2026/12/03/rp-1/`;

/** What each archive role of a member asks of the archive (its code's requests, action-map.ts's IAM actions). */
function asksOf(account: string, keyArn: string): Record<string, Ask[]> {
  return {
    "worker-job": [
      { action: "s3:PutObject", resource: `${prefix("ebs", account)}p1.tar.zst` },
      { action: "s3:ListMultipartUploadParts", resource: `${prefix("ebs", account)}p1.tar.zst` },
      { action: "s3:GetObject", resource: `${prefix("ebs", account)}manifest.json` },
      { action: "s3:DeleteObjectVersion", resource: `${prefix("ebs", account)}p1.tar.zst` },
      { action: "s3:ListBucketMultipartUploads", resource: `arn:aws:s3:::${BUCKET}` },
      { action: "kms:GenerateDataKey", resource: keyArn, context: viaS3 },
      { action: "kms:Decrypt", resource: keyArn, context: viaS3 },
    ],
    "rds-s3-export": [
      { action: "s3:PutObject", resource: `${prefix("rds", account)}parquet/export-1/db/table/part-0.parquet` },
      { action: "s3:DeleteObject", resource: `${prefix("rds", account)}parquet/export-1/old` },
      { action: "s3:ListBucket", resource: `arn:aws:s3:::${BUCKET}` },
      { action: "s3:GetBucketLocation", resource: `arn:aws:s3:::${BUCKET}` },
      { action: "kms:GenerateDataKey", resource: keyArn },
      { action: "kms:Encrypt", resource: keyArn },
      { action: "kms:DescribeKey", resource: keyArn },
    ],
    "dynamodb-export": [
      { action: "s3:PutObject", resource: `${prefix("dynamodb", account)}AWSDynamoDB/01234-abcd/data/x.json.gz` },
      { action: "s3:AbortMultipartUpload", resource: `${prefix("dynamodb", account)}AWSDynamoDB/01234-abcd/data/x` },
      { action: "kms:GenerateDataKey", resource: keyArn, context: viaS3 },
    ],
    "rds-export": [
      { action: "kms:CreateGrant", resource: keyArn, context: { "kms:GrantIsForAWSResource": "true" } },
      { action: "kms:DescribeKey", resource: keyArn },
    ],
    "aurora-export": [
      { action: "kms:CreateGrant", resource: keyArn, context: { "kms:GrantIsForAWSResource": "true" } },
    ],
    verify: [
      { action: "s3:GetObject", resource: `${prefix("ebs", account)}manifest.json` },
      { action: "s3:ListBucket", resource: `arn:aws:s3:::${BUCKET}` },
      { action: "kms:Decrypt", resource: keyArn },
    ],
  };
}

describe("IAM proof: member pipelines and the central archive of another account", () => {
  it.each(MEMBERS)("allows every archive request of account %s's roles", async (account) => {
    const member = memberModels.get(account)!;
    const verdicts: string[] = [];
    for (const [key, asks] of Object.entries(asksOf(account, archive.keyArn))) {
      for (const ask of asks)
        verdicts.push(`${key} ${ask.action} ${ask.resource}: ${await decide(member.roleFor(key), member, ask)}`);
    }
    expect(verdicts.filter((v) => !v.endsWith(": Allowed"))).toEqual([]);
    expect(verdicts).toHaveLength(23);
  });

  it("refuses the same roles of an account that is not a member", async () => {
    const member = memberModels.get("111111111111")!;
    const outsider = "444444444444";
    for (const [key, asks] of Object.entries(asksOf(outsider, archive.keyArn))) {
      for (const ask of asks)
        expect(
          `${key} ${ask.action}: ${await decide(member.roleFor(key), member, ask, { callerAccount: outsider })}`,
        ).toBe(`${key} ${ask.action}: ImplicitlyDenied`);
    }
  });

  it("refuses a member's writes and reads under another member's prefix", async () => {
    const member = memberModels.get("111111111111")!;
    const other = "222222222222";
    expect(
      await decide(member.roleFor("worker-job"), member, {
        action: "s3:PutObject",
        resource: `${prefix("ebs", other)}p1.tar.zst`,
      }),
    ).toBe("ImplicitlyDenied");
    expect(
      await decide(member.roleFor("verify"), member, {
        action: "s3:GetObject",
        resource: `${prefix("ebs", other)}manifest.json`,
      }),
    ).toBe("ImplicitlyDenied");
  });

  it("refuses a member role that is outside the organization", async () => {
    const member = memberModels.get("222222222222")!;
    const ask = asksOf("222222222222", archive.keyArn);
    expect(await decide(member.roleFor("worker-job"), member, ask["worker-job"]![0]!, { orgId: "o-zzzzzzzzzz" })).toBe(
      "ImplicitlyDenied",
    );
    expect(await decide(member.roleFor("worker-job"), member, ask["worker-job"]![5]!, { orgId: "o-zzzzzzzzzz" })).toBe(
      "ImplicitlyDenied",
    );
  });

  it("refuses a member the archive's policies were built without (the grants are what lets them in)", async () => {
    // GIVEN an archive stack whose policies leave out 333333333333
    const d = resolveDeployment(config).archive!;
    const app = Testing.app();
    const partial = new ArchiveStack(app, "partial", {
      archive: { ...d, members: d.members.filter((m) => m.accountId !== "333333333333") },
    });
    const built = archiveModelOf(JSON.parse(Testing.synth(partial)));
    const policies = { bucket: built.bucketPolicy, key: built.keyPolicy };
    const member = memberModels.get("333333333333")!;
    const [put, , , , , generate] = asksOf("333333333333", archive.keyArn)["worker-job"]!;
    // THEN its worker's own IAM still allows, but the archive refuses, the upload and the key
    expect(await decide(member.roleFor("worker-job"), member, put!, { policies })).toBe("ImplicitlyDenied");
    expect(
      await decide(member.roleFor("worker-job"), member, { ...generate!, resource: archive.keyArn }, { policies }),
    ).toBe("ImplicitlyDenied");
    // and the members still listed are let in by the same policies
    const kept = memberModels.get("111111111111")!;
    const [keptPut] = asksOf("111111111111", archive.keyArn)["worker-job"]!;
    expect(await decide(kept.roleFor("worker-job"), kept, keptPut!, { policies })).toBe("Allowed");
  });
});
