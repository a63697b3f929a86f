/**
 * State isolation between test files, half a of a pair: moto-reset-a and
 * moto-reset-b each leave a bucket and a recovery point behind and each
 * expect to start from nothing. Whichever file runs second proves that
 * testing/moto/reset.ts wiped what the first one left.
 */
import { CreateBucketCommand, ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { seedRecoveryPoints, storedRecoveryPoints } from "../../testing/backup-fake/control";
import { motoMissing } from "../../testing/moto/availability";
import { awsClientConfig } from "../../testing/moto/client-config";
import { describeWithPrereqs } from "../../testing/prereq";

describeWithPrereqs("state reset between test files (a)", motoMissing(), () => {
  const s3 = new S3Client(awsClientConfig());
  afterAll(() => s3.destroy());

  test("moto starts empty, whatever moto-reset-b left", async () => {
    expect((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).toEqual([]);
    await s3.send(new CreateBucketCommand({ Bucket: "bench-reset-probe-a" }));
    const names = ((await s3.send(new ListBucketsCommand({}))).Buckets ?? []).map((b) => b.Name);
    expect(names).toEqual(["bench-reset-probe-a"]);
  });

  test("the Backup fake starts empty, whatever moto-reset-b left", async () => {
    expect(await storedRecoveryPoints()).toEqual([]);
    await seedRecoveryPoints([
      {
        RecoveryPointArn: "arn:aws:ec2:us-east-1:123456789012:snapshot/snap-reseta",
        BackupVaultName: "reset-vault",
        ResourceArn: "arn:aws:ec2:us-east-1:123456789012:volume/vol-reseta",
        ResourceType: "EBS",
      },
    ]);
    expect((await storedRecoveryPoints()).map((p) => p.RecoveryPointArn)).toEqual([
      "arn:aws:ec2:us-east-1:123456789012:snapshot/snap-reseta",
    ]);
  });
});
