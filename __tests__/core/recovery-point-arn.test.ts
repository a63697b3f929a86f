import { parseBackupVaultArn, parseRecoveryPointArn } from "../../core/recovery-point-arn";

describe("parseRecoveryPointArn in every partition", () => {
  it.each([
    ["arn:aws:ec2:us-east-1::snapshot/snap-0726fe70935586180", "ebs-snapshot", "aws", "us-east-1", null],
    [
      "arn:aws-us-gov:ec2:us-gov-west-1::snapshot/snap-0726fe70935586180",
      "ebs-snapshot",
      "aws-us-gov",
      "us-gov-west-1",
      null,
    ],
    [
      "arn:aws-cn:rds:cn-north-1:111111111111:snapshot:awsbackup:job-1a2b",
      "rds-snapshot",
      "aws-cn",
      "cn-north-1",
      "111111111111",
    ],
    [
      "arn:aws-iso:rds:us-iso-east-1:111111111111:cluster-snapshot:awsbackup:job-1a2b",
      "rds-cluster-snapshot",
      "aws-iso",
      "us-iso-east-1",
      "111111111111",
    ],
    [
      "arn:aws-iso-b:dynamodb:us-isob-east-1:111111111111:table/orders/backup/01700000000000-abcdef12",
      "dynamodb-backup",
      "aws-iso-b",
      "us-isob-east-1",
      "111111111111",
    ],
    [
      "arn:aws-iso-e:backup:eu-isoe-west-1:111111111111:recovery-point:0a6560b3-3660-494c-8d47-efa939bd32ca",
      "backup-recovery-point",
      "aws-iso-e",
      "eu-isoe-west-1",
      "111111111111",
    ],
    [
      "arn:aws-iso-f:ec2:us-isof-south-1::snapshot/snap-0726fe70935586180",
      "ebs-snapshot",
      "aws-iso-f",
      "us-isof-south-1",
      null,
    ],
  ])("%s", (arn, kind, partition, region, account) => {
    expect(parseRecoveryPointArn(arn)).toMatchObject({ arn, kind, partition, region, account });
  });

  it.each([
    "arn:aws:ec2:us-gov-west-1::snapshot/snap-0726fe70935586180", // commercial partition, GovCloud region
    "arn:aws-us-gov:ec2:us-east-1::snapshot/snap-0726fe70935586180",
    "arn:aws-cn:ec2:us-east-1::snapshot/snap-0726fe70935586180",
    "arn:aws-iso:ec2:us-isob-east-1::snapshot/snap-0726fe70935586180",
    "arn:aws-eu:ec2:eu-west-1::snapshot/snap-0726fe70935586180", // no such partition
  ])("an ARN whose partition is not its region's is none of the formats: %s", (arn) => {
    expect(parseRecoveryPointArn(arn)).toBeUndefined();
  });

  it("reads a GovCloud vault ARN", () => {
    expect(parseBackupVaultArn("arn:aws-us-gov:backup:us-gov-east-1:111111111111:backup-vault:aws/backup/x")).toEqual({
      region: "us-gov-east-1",
      account: "111111111111",
      name: "aws/backup/x",
    });
  });
});
