/**
 * config `centralArchive` (docs/adr/0009-central-archive.md): its shape and the rules that relate it to
 * the deployed account-regions, one test per rule with the exact message.
 */
import { ConfigError, parseConfig } from "../../config/load";

/** Three accounts in eu-west-1, archiving into 999999999999 (mode "write"). */
function valid(): Record<string, any> {
  return {
    accounts: [
      { id: "111111111111", regions: ["eu-west-1"] },
      { id: "222222222222", regions: ["eu-west-1"], assumeRoleArn: "arn:aws:iam::222222222222:role/deploy" },
      { id: "333333333333", regions: ["eu-west-1"], assumeRoleArn: "arn:aws:iam::333333333333:role/deploy" },
    ],
    tags: { project: "backup-actions" },
    stateBackend: { type: "s3", bucket: "my-state-bucket", region: "eu-west-1", keyPrefix: "ba" },
    centralArchive: { account: "999999999999", region: "eu-west-1", mode: "write" },
  };
}

const IMAGE = "111111111111.dkr.ecr.eu-west-1.amazonaws.com/backup-actions-worker:1.0.0";

/** A Terraform Cloud backend with a run role for each member account, and `more`. */
function cloudBackend(more: Record<string, string> = {}): Record<string, any> {
  return {
    type: "cloud",
    organization: "acme",
    workspacePrefix: "ba",
    runRoleArns: {
      "111111111111": "arn:aws:iam::111111111111:role/tfc",
      "222222222222": "arn:aws:iam::222222222222:role/tfc",
      "333333333333": "arn:aws:iam::333333333333:role/tfc",
      ...more,
    },
  };
}

function problemsOf(mutate: (c: Record<string, any>) => void): string[] {
  const config = valid();
  mutate(config);
  try {
    parseConfig(config);
    return [];
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
}

describe("config centralArchive", () => {
  it("is absent by default: each pipeline keeps its own archive", () => {
    const { centralArchive, ...rest } = valid();
    expect(centralArchive).toBeDefined();
    expect(parseConfig(rest).centralArchive).toBeUndefined();
  });

  it("accepts mode write with an organization id, and mode copy with the archive account deployed", () => {
    expect(problemsOf((c) => (c.centralArchive.organizationId = "o-a1b2c3d4e5"))).toEqual([]);
    expect(
      problemsOf((c) => {
        c.accounts[0].regions = ["eu-west-1", "us-east-1"];
        c.centralArchive = { account: "111111111111", region: "eu-west-1", mode: "copy" };
      }),
    ).toEqual([]);
  });

  it("accepts mode write with Terraform Cloud and a run role for the archive account", () => {
    expect(
      problemsOf((c) => {
        c.stateBackend = cloudBackend({ "999999999999": "arn:aws:iam::999999999999:role/tfc" });
        c.worker = { imageUri: IMAGE };
      }),
    ).toEqual([]);
  });

  const rules: Array<[string, (c: Record<string, any>) => void, string]> = [
    ["account is 12 digits", (c) => (c.centralArchive.account = "99999"), "centralArchive.account: must be 12 digits"],
    [
      "account is a string",
      (c) => (c.centralArchive.account = 999999999999),
      "centralArchive.account: must be 12 digits (as a string)",
    ],
    [
      "region is a region name",
      (c) => (c.centralArchive.region = "europe"),
      "centralArchive.region: must be an AWS region name like us-east-1",
    ],
    [
      "organizationId is an Organizations id",
      (c) => (c.centralArchive.organizationId = "o-ABC"),
      "centralArchive.organizationId: must be an AWS Organizations id: o- and 10 to 32 lowercase letters or digits",
    ],
    [
      "mode is write or copy",
      (c) => (c.centralArchive.mode = "replicate"),
      'centralArchive.mode: must be "write" or "copy"',
    ],
    ["mode is required", (c) => delete c.centralArchive.mode, 'centralArchive.mode: must be "write" or "copy"'],
    [
      "assumeRoleArn is a role ARN",
      (c) => (c.centralArchive.assumeRoleArn = "deploy"),
      "centralArchive.assumeRoleArn: must be an IAM role ARN",
    ],
    [
      "mode copy needs the archive account-region deployed",
      (c) => (c.centralArchive.mode = "copy"),
      'centralArchive: mode "copy" needs a pipeline in the archive account and region (999999999999/eu-west-1): it exports what the members copy into its vault; add eu-west-1 to that account\'s regions in accounts',
    ],
    [
      "mode write needs every pipeline in the archive's region",
      (c) => (c.accounts[1].regions = ["eu-west-1", "us-east-1"]),
      'accounts[1].regions[1]: is not the central archive\'s region (eu-west-1): in mode "write" every pipeline writes into the archive bucket, and RDS snapshot exports and the S3 gateway endpoint reach only a bucket of their own region; deploy the pipelines in eu-west-1 or use mode "copy"',
    ],
    [
      "mode write with Terraform Cloud needs a run role in the archive account (its stack has a workspace)",
      (c) => {
        c.stateBackend = cloudBackend();
        c.worker = { imageUri: IMAGE };
      },
      "stateBackend.runRoleArns: has no role for account 999999999999 (centralArchive.account): the archive stack's workspace reaches AWS only through the run role it assumes (dynamic credentials)",
    ],
    [
      "a run role names a deployed account or the archive's",
      (c) => {
        c.stateBackend = cloudBackend({ "999999999999": "arn:aws:iam::999999999999:role/tfc" });
        c.stateBackend.runRoleArns["444444444444"] = "arn:aws:iam::444444444444:role/tfc";
        c.worker = { imageUri: IMAGE };
      },
      "stateBackend.runRoleArns.444444444444: names an account that neither accounts nor centralArchive.account lists",
    ],
    [
      "unknown key, with a hint",
      (c) => (c.centralArchive.organisationId = "o-a1b2c3d4e5"),
      'centralArchive.organisationId: unknown key (did you mean "organizationId"?)',
    ],
  ];

  it.each(rules)("%s", (_rule, mutate, expected) => {
    expect(problemsOf(mutate)).toContain(expected);
  });
});
