import type { RecoveryPointFacts } from "../../core/events";
import {
  archiveBucketName,
  archiveLocation,
  ebsRecoveryPointArnOf,
  keySegment,
  placementIndexOf,
  resourceIdOf,
} from "../../core/s3-layout";

const rp: RecoveryPointFacts = {
  arn: "arn:aws:ec2:us-east-1::snapshot/snap-0726fe70935586180",
  id: "snap-0726fe70935586180",
  kind: "ebs-snapshot",
  workflow: "ebs",
  account: "111111111111",
  region: "us-east-1",
  vault: "Default",
  resourceType: "EBS",
  resourceArn: "arn:aws:ec2:us-east-1:111111111111:volume/vol-0a1b2c3d4e5f60718",
  sizeBytes: 8589934592,
};

describe("S3 layout", () => {
  it("puts an export under <workflow>/<account>/<region>/<resource>/<yyyy>/<mm>/<dd>/<recovery point>/", () => {
    expect(archiveLocation("acme-archive", rp, "2026-03-05T23:59:59Z")).toEqual({
      bucket: "acme-archive",
      prefix: "ebs/111111111111/us-east-1/vol-0a1b2c3d4e5f60718/2026/03/05/snap-0726fe70935586180/",
      url: "s3://acme-archive/ebs/111111111111/us-east-1/vol-0a1b2c3d4e5f60718/2026/03/05/snap-0726fe70935586180/",
    });
  });

  it("uses the UTC date of the event", () => {
    expect(archiveLocation("b", rp, "2026-12-31T23:30:00-02:00").prefix).toContain("/2027/01/01/");
  });

  it("refuses a time it cannot read", () => {
    expect(() => archiveLocation("b", rp, "yesterday")).toThrow('archiveLocation: not a time: "yesterday"');
  });

  it("takes the resource id from the ARN's last segment, safely", () => {
    expect(resourceIdOf("arn:aws:dynamodb:us-east-1:111111111111:table/Orders")).toBe("Orders");
    expect(resourceIdOf("arn:aws:rds:us-east-1:111111111111:db:prod-db")).toBe("prod-db");
    expect(resourceIdOf(null)).toBe("unknown");
    expect(resourceIdOf(":/")).toBe("unknown");
    expect(keySegment("a b/../c")).toBe("a_b_.._c");
    expect(keySegment("..")).toBe("_");
  });

  it("names the archive bucket per pipeline", () => {
    expect(archiveBucketName("backup-actions", "111111111111", "eu-west-1")).toBe(
      "backup-actions-archive-111111111111-eu-west-1",
    );
  });

  it("picks a stable placement that spreads recovery points over the AZs", () => {
    expect(placementIndexOf(rp.arn, 3)).toBe(placementIndexOf(rp.arn, 3));
    const counts = [0, 0, 0];
    for (let i = 0; i < 3000; i++) counts[placementIndexOf(`arn:aws:ec2:us-east-1::snapshot/snap-${i}`, 3)]!++;
    for (const c of counts) expect(c).toBeGreaterThan(850);
    expect(() => placementIndexOf(rp.arn, 0)).toThrow("placementIndexOf: count must be a positive integer (got 0)");
  });
});

describe("ebsRecoveryPointArnOf (the ledger key of an EBS archive prefix)", () => {
  it("reads back the recovery point archiveLocation wrote the prefix for: EBS snapshot, GovCloud, AWS Backup-only", () => {
    const at = (facts: RecoveryPointFacts) => archiveLocation("b", facts, "2026-03-05T01:00:00Z").prefix;
    expect(ebsRecoveryPointArnOf(at(rp))).toBe(rp.arn);
    const gov = {
      ...rp,
      region: "us-gov-west-1",
      arn: "arn:aws-us-gov:ec2:us-gov-west-1::snapshot/snap-0726fe70935586180",
    };
    expect(ebsRecoveryPointArnOf(at(gov))).toBe(gov.arn);
    const backup = { ...rp, kind: "backup-recovery-point" as const, id: "3b4c5d6e-7f80-4a1b-9c2d-3e4f5a6b7c8d" };
    expect(ebsRecoveryPointArnOf(at(backup))).toBe(
      "arn:aws:backup:us-east-1:111111111111:recovery-point:3b4c5d6e-7f80-4a1b-9c2d-3e4f5a6b7c8d",
    );
  });
  it("answers undefined for other workflows, ids keySegment changed, and prefixes of another shape", () => {
    expect(
      ebsRecoveryPointArnOf(archiveLocation("b", { ...rp, workflow: "rds" }, "2026-03-05T01:00:00Z").prefix),
    ).toBeUndefined();
    expect(ebsRecoveryPointArnOf("ebs/111111111111/us-east-1/vol-1/2026/03/05/awsbackup_job-1/")).toBeUndefined();
    expect(ebsRecoveryPointArnOf("ebs/ext4/")).toBeUndefined();
    expect(ebsRecoveryPointArnOf("ebs/111111111111/us-east-1/vol-1/2026/03/05/snap-0726fe70935586180")).toBeUndefined();
  });
});

describe("layout edge cases (from the mutation run's survivors)", () => {
  it("keySegment: nothing left becomes one _, a leading dot run one _, and a segment is cut at 200 characters", () => {
    expect(keySegment("")).toBe("_");
    expect(keySegment("..a")).toBe("_a");
    expect(keySegment("a b/c")).toBe("a_b_c");
    expect(keySegment("x".repeat(250))).toBe("x".repeat(200));
  });

  it("resourceIdOf: the last non-empty segment; unknown without an ARN", () => {
    expect(resourceIdOf(null)).toBe("unknown");
    expect(resourceIdOf(":/")).toBe("unknown");
    expect(resourceIdOf("arn:aws:rds:us-east-1:111111111111:cluster:orders/")).toBe("orders");
    expect(resourceIdOf("arn:aws:ec2:us-east-1:111111111111:volume/vol-0123")).toBe("vol-0123");
  });

  it("archiveLocation pads the year to four digits", () => {
    expect(archiveLocation("b", rp, "0999-03-04T00:00:00Z").prefix).toContain("/0999/03/04/");
  });

  it("placementIndexOf takes a single placement and refuses none", () => {
    expect(placementIndexOf(rp.arn, 1)).toBe(0);
    expect(() => placementIndexOf(rp.arn, 0)).toThrow("placementIndexOf: count must be a positive integer (got 0)");
  });

  it("ebsRecoveryPointArnOf: only a whole snap- id is a snapshot; an id that is no ARN gives undefined", () => {
    const prefix = (id: string, region = "us-east-1") => `ebs/111111111111/${region}/vol-1/2026/01/02/${id}/`;
    expect(ebsRecoveryPointArnOf(prefix("snap-0123456789abcdef0"))).toBe(
      "arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0",
    );
    for (const id of ["xsnap-0123456789abcdef0", "snap-0123456789abcdef0123"]) {
      expect(ebsRecoveryPointArnOf(prefix(id))).toBe(`arn:aws:backup:us-east-1:111111111111:recovery-point:${id}`);
    }
    expect(ebsRecoveryPointArnOf(prefix("snap-0123456789abcdef0", "us-east"))).toBeUndefined();
  });
});
