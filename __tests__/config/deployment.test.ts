/** config/deployment.ts: the config resolved once, one record per account and region. */
import { keyArnInRegion, resolveDeployment } from "../../config/deployment";
import { parseConfig } from "../../config/load";

const base = {
  tags: { project: "backup-actions" },
  stateBackend: { type: "s3", bucket: "state-bucket-111", region: "us-east-1", keyPrefix: "ba" },
};

describe("resolveDeployment", () => {
  it("makes one record per account and region, in config order, with the account's own network where it has one", () => {
    const config = parseConfig({
      ...base,
      name: "ba",
      accounts: [
        {
          id: "111111111111",
          regions: ["us-east-1", "eu-west-1"],
          assumeRoleArn: "arn:aws:iam::111111111111:role/deploy",
        },
        {
          id: "222222222222",
          regions: ["us-gov-west-1"],
          network: {
            vpcId: "vpc-0123456789abcdef0",
            subnetIds: ["subnet-0123456789abcdef0"],
            routeTableIds: ["rtb-0123456789abcdef0"],
            egress: "nat",
          },
        },
      ],
      network: { vpcCidr: "10.1.0.0/16", azCount: 3 },
    });
    const { bootstrap, regions } = resolveDeployment(config);
    expect(bootstrap).toMatchObject({ stackName: "bootstrap", egress: "endpoints" });
    expect(regions.map((r) => `${r.accountId}/${r.region}`)).toEqual([
      "111111111111/us-east-1",
      "111111111111/eu-west-1",
      "222222222222/us-gov-west-1",
    ]);

    const [east, , gov] = regions;
    expect(east).toMatchObject({
      name: "ba",
      partition: "aws",
      assumeRoleArn: "arn:aws:iam::111111111111:role/deploy",
      egress: "endpoints",
      placementCount: 3,
      kmsKeyArn: undefined,
      stackNames: { network: "network-111111111111-us-east-1", pipeline: "pipeline-111111111111-us-east-1" },
      routes: {
        account: "111111111111",
        region: "us-east-1",
        name: "ba",
        placements: { "us-east-1": 3, "eu-west-1": 3 },
      },
      dispatcher: {
        stateMachineName: "ba-dispatcher",
        stateMachineArn: "arn:aws:states:us-east-1:111111111111:stateMachine:ba-dispatcher",
        archiveBucket: "ba-archive-111111111111-us-east-1",
        placementCount: 3,
      },
    });
    expect(gov).toMatchObject({
      partition: "aws-us-gov",
      assumeRoleArn: undefined,
      egress: "nat",
      placementCount: 1,
      network: { vpcId: "vpc-0123456789abcdef0" },
      dispatcher: { stateMachineArn: "arn:aws-us-gov:states:us-gov-west-1:222222222222:stateMachine:ba-dispatcher" },
    });
    expect(gov!.intake).toEqual({
      accounts: [
        { id: "111111111111", regions: ["us-east-1", "eu-west-1"] },
        { id: "222222222222", regions: ["us-gov-west-1"] },
      ],
      backupVaults: ["Default"],
      exports: { ebs: true, rds: true, aurora: true, dynamodb: true },
    });
  });

  it("gives each region a multi-Region key's replica there, and a Terraform Cloud config no bootstrap", () => {
    const key = "arn:aws:kms:us-east-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef";
    const { bootstrap, regions } = resolveDeployment(
      parseConfig({
        ...base,
        stateBackend: {
          type: "cloud",
          organization: "acme",
          workspacePrefix: "ba",
          runRoleArns: { "111111111111": "arn:aws:iam::111111111111:role/tfc" },
        },
        worker: { imageUri: "111111111111.dkr.ecr.us-east-1.amazonaws.com/worker:1" },
        accounts: [{ id: "111111111111", regions: ["us-east-1", "eu-west-1"] }],
        kmsKeyArn: key,
      }),
    );
    expect(bootstrap).toBeUndefined();
    expect(regions.map((r) => r.kmsKeyArn)).toEqual([
      key,
      "arn:aws:kms:eu-west-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef",
    ]);
  });
});

describe("keyArnInRegion", () => {
  it("leaves a single-Region key as it is", () => {
    const key = "arn:aws:kms:us-east-1:111111111111:key/12345678-1234-1234-1234-123456789012";
    expect(keyArnInRegion(key, "eu-west-1")).toBe(key);
  });
});
