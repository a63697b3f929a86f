/**
 * The AWS Backup fake, driven by the real @aws-sdk/client-backup through
 * AWS_ENDPOINT_URL_BACKUP: every operation, pagination, and each error with
 * the exception class, HTTP status and wire format the real service uses.
 */
import {
  BackupClient,
  BackupServiceException,
  DeleteRecoveryPointCommand,
  DescribeRecoveryPointCommand,
  InvalidParameterValueException,
  InvalidRequestException,
  InvalidResourceStateException,
  ListRecoveryPointsByBackupVaultCommand,
  ListTagsCommand,
  MissingParameterValueException,
  ResourceNotFoundException,
  ServiceUnavailableException,
  paginateListRecoveryPointsByBackupVault,
  paginateListTags,
} from "@aws-sdk/client-backup";
import { spawn } from "node:child_process";
import path from "node:path";
import {
  injectFaults,
  resetBackupFake,
  seedRecoveryPoints,
  seedVaults,
  setDeletionOutcomes,
  storedRecoveryPoints,
  type RecoveryPointSeed,
} from "../../testing/backup-fake/control";
import { backupFakeMissing } from "../../testing/moto/availability";
import { awsClientConfig } from "../../testing/moto/client-config";
import { describeWithPrereqs } from "../../testing/prereq";

const ACCOUNT = "123456789012";
const VAULT = "bench-vault";
// An EBS recovery point is an EC2 snapshot: its ARN has no account.
const snapshotArn = (id: string): string => `arn:aws:ec2:us-east-1::snapshot/snap-${id}`;
const volumeArn = (id: string): string => `arn:aws:ec2:us-east-1:${ACCOUNT}:volume/vol-${id}`;

function ebsPoint(id: string, creationIso: string, extra: Partial<RecoveryPointSeed> = {}): RecoveryPointSeed {
  return {
    RecoveryPointArn: snapshotArn(id),
    BackupVaultName: VAULT,
    ResourceArn: volumeArn(id),
    ResourceType: "EBS",
    CreationDate: creationIso,
    ...extra,
  };
}

/** A raw signed-looking request, to see the wire format the SDK hides. */
async function raw(path: string, init: RequestInit = {}): Promise<Response> {
  return fetch(`${process.env.AWS_ENDPOINT_URL_BACKUP}${path}`, {
    ...init,
    headers: {
      authorization: "AWS4-HMAC-SHA256 Credential=testing/20260101/us-east-1/backup/aws4_request",
      ...init.headers,
    },
  });
}

async function rejection(promise: Promise<unknown>): Promise<BackupServiceException> {
  try {
    await promise;
  } catch (error) {
    return error as BackupServiceException;
  }
  throw new Error("expected the call to fail");
}

describeWithPrereqs("AWS Backup fake with the real BackupClient", backupFakeMissing(), () => {
  const backup = new BackupClient(awsClientConfig());
  afterAll(() => backup.destroy());
  // reset.ts isolates files; these tests also need isolation from each other.
  beforeEach(() => resetBackupFake());

  describe("DescribeRecoveryPoint", () => {
    test("returns the seeded record with dates, derived lifecycle and vault ARN", async () => {
      // GIVEN a completed EBS recovery point created by a backup plan, kept 30 days
      await seedRecoveryPoints([
        ebsPoint("0a1", "2026-03-01T02:00:00Z", {
          Status: "COMPLETED",
          CompletionDate: "2026-03-01T02:10:00Z",
          BackupSizeInBytes: 8 * 1024 ** 3,
          Lifecycle: { DeleteAfterDays: 30 },
          CreatedBy: { BackupPlanId: "plan-1", BackupRuleId: "rule-1" },
          IsEncrypted: true,
          EncryptionKeyArn: `arn:aws:kms:us-east-1:${ACCOUNT}:key/k1`,
          Tags: { "backup-actions:export": "true" },
        }),
      ]);
      // WHEN it is described
      const point = await backup.send(
        new DescribeRecoveryPointCommand({ BackupVaultName: VAULT, RecoveryPointArn: snapshotArn("0a1") }),
      );
      // THEN every member has the API's name and type
      expect(point).toMatchObject({
        RecoveryPointArn: snapshotArn("0a1"),
        BackupVaultName: VAULT,
        BackupVaultArn: `arn:aws:backup:us-east-1:${ACCOUNT}:backup-vault:${VAULT}`,
        ResourceArn: volumeArn("0a1"),
        ResourceType: "EBS",
        Status: "COMPLETED",
        CreationDate: new Date("2026-03-01T02:00:00Z"),
        CompletionDate: new Date("2026-03-01T02:10:00Z"),
        BackupSizeInBytes: 8 * 1024 ** 3,
        Lifecycle: { DeleteAfterDays: 30 },
        CalculatedLifecycle: { DeleteAt: new Date("2026-03-31T02:00:00Z") },
        CreatedBy: { BackupPlanId: "plan-1", BackupRuleId: "rule-1" },
        IsEncrypted: true,
        StorageClass: "WARM",
        IsParent: false,
        VaultType: "BACKUP_VAULT",
      });
      expect(point.IamRoleArn).toMatch(/^arn:aws:iam::123456789012:role\//);
    });

    test("puts dates on the wire as epoch seconds, like restJson1", async () => {
      await seedRecoveryPoints([ebsPoint("0a2", "2026-03-01T00:00:00Z")]);
      const response = await raw(`/backup-vaults/${VAULT}/recovery-points/${encodeURIComponent(snapshotArn("0a2"))}`);
      expect(response.status).toBe(200);
      expect(response.headers.get("content-type")).toBe("application/json");
      const body = (await response.json()) as Record<string, unknown>;
      expect(body.CreationDate).toBe(Date.parse("2026-03-01T00:00:00Z") / 1000);
    });

    test("unknown recovery point: ResourceNotFoundException, HTTP 400, x-amzn-ErrorType", async () => {
      await seedVaults([{ BackupVaultName: VAULT }]);
      const error = await rejection(
        backup.send(
          new DescribeRecoveryPointCommand({ BackupVaultName: VAULT, RecoveryPointArn: snapshotArn("none") }),
        ),
      );
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error.$metadata.httpStatusCode).toBe(400);
      expect(error.message).toContain(snapshotArn("none"));

      const response = await raw(`/backup-vaults/${VAULT}/recovery-points/${encodeURIComponent(snapshotArn("none"))}`);
      expect(response.headers.get("x-amzn-errortype")).toBe("ResourceNotFoundException");
      expect(await response.json()).toMatchObject({
        __type: "ResourceNotFoundException",
        Code: "ResourceNotFoundException",
      });
    });

    test("unknown vault: ResourceNotFoundException", async () => {
      const error = await rejection(
        backup.send(
          new DescribeRecoveryPointCommand({ BackupVaultName: "no-such-vault", RecoveryPointArn: snapshotArn("x") }),
        ),
      );
      expect(error).toBeInstanceOf(ResourceNotFoundException);
      expect(error.message).toContain("no-such-vault");
    });

    test("recovery point of another vault: ResourceNotFoundException", async () => {
      await seedRecoveryPoints([ebsPoint("0a3", "2026-03-01T00:00:00Z", { BackupVaultName: "other-vault" })]);
      await seedVaults([{ BackupVaultName: VAULT }]);
      const error = await rejection(
        backup.send(new DescribeRecoveryPointCommand({ BackupVaultName: VAULT, RecoveryPointArn: snapshotArn("0a3") })),
      );
      expect(error).toBeInstanceOf(ResourceNotFoundException);
    });

    test("vault name outside ^[a-zA-Z0-9\\-\\_]{2,50}$: InvalidParameterValueException", async () => {
      const error = await rejection(
        backup.send(new DescribeRecoveryPointCommand({ BackupVaultName: "v", RecoveryPointArn: snapshotArn("x") })),
      );
      expect(error).toBeInstanceOf(InvalidParameterValueException);
      expect(error.$metadata.httpStatusCode).toBe(400);
    });

    test("recovery point ARN that is no ARN: InvalidParameterValueException", async () => {
      await seedVaults([{ BackupVaultName: VAULT }]);
      const error = await rejection(
        backup.send(new DescribeRecoveryPointCommand({ BackupVaultName: VAULT, RecoveryPointArn: "snap-123" })),
      );
      expect(error).toBeInstanceOf(InvalidParameterValueException);
    });
  });

  describe("ListRecoveryPointsByBackupVault", () => {
    beforeEach(async () => {
      await seedRecoveryPoints([
        ebsPoint("1", "2026-01-01T00:00:00Z", { CreatedBy: { BackupPlanId: "plan-a" } }),
        ebsPoint("2", "2026-01-02T00:00:00Z", { CreatedBy: { BackupPlanId: "plan-b" } }),
        ebsPoint("3", "2026-01-03T00:00:00Z"),
        ebsPoint("4", "2026-01-04T00:00:00Z"),
        {
          RecoveryPointArn: `arn:aws:rds:us-east-1:${ACCOUNT}:snapshot:awsbackup:job-5`,
          BackupVaultName: VAULT,
          ResourceArn: `arn:aws:rds:us-east-1:${ACCOUNT}:db:orders`,
          ResourceType: "RDS",
          CreationDate: "2026-01-05T00:00:00Z",
        },
      ]);
    });

    test("pages through every recovery point, newest first", async () => {
      const pages = [];
      for await (const page of paginateListRecoveryPointsByBackupVault(
        { client: backup, pageSize: 2 },
        { BackupVaultName: VAULT },
      )) {
        pages.push(page.RecoveryPoints!.map((p) => p.ResourceArn!.split(/[/:]/).pop()));
      }
      expect(pages).toEqual([["orders", "vol-4"], ["vol-3", "vol-2"], ["vol-1"]]);
    });

    test("returns NextToken only while more remain", async () => {
      const first = await backup.send(
        new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: VAULT, MaxResults: 4 }),
      );
      expect(first.NextToken).toEqual(expect.any(String));
      const last = await backup.send(
        new ListRecoveryPointsByBackupVaultCommand({
          BackupVaultName: VAULT,
          MaxResults: 4,
          NextToken: first.NextToken,
        }),
      );
      expect(last.RecoveryPoints).toHaveLength(1);
      expect(last.NextToken).toBeUndefined();
    });

    test("list items carry the RecoveryPointByBackupVault members, without StorageClass", async () => {
      const { RecoveryPoints } = await backup.send(
        new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: VAULT, ByResourceArn: volumeArn("1") }),
      );
      expect(RecoveryPoints).toHaveLength(1);
      expect(RecoveryPoints![0]).toMatchObject({
        RecoveryPointArn: snapshotArn("1"),
        CreationDate: new Date("2026-01-01T00:00:00Z"),
        Status: "COMPLETED",
      });
      expect(RecoveryPoints![0]).not.toHaveProperty("StorageClass");
    });

    test("filters by resource type, backup plan and creation dates", async () => {
      const names = async (
        input: Omit<ConstructorParameters<typeof ListRecoveryPointsByBackupVaultCommand>[0], "BackupVaultName">,
      ) =>
        (
          await backup.send(new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: VAULT, ...input }))
        ).RecoveryPoints!.map((p) => p.RecoveryPointArn);
      expect(await names({ ByResourceType: "RDS" })).toEqual([
        `arn:aws:rds:us-east-1:${ACCOUNT}:snapshot:awsbackup:job-5`,
      ]);
      expect(await names({ ByBackupPlanId: "plan-b" })).toEqual([snapshotArn("2")]);
      expect(
        await names({
          ByCreatedAfter: new Date("2026-01-01T12:00:00Z"),
          ByCreatedBefore: new Date("2026-01-03T12:00:00Z"),
        }),
      ).toEqual([snapshotArn("3"), snapshotArn("2")]);
    });

    test("MaxResults out of 1..1000: InvalidParameterValueException", async () => {
      const error = await rejection(
        backup.send(new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: VAULT, MaxResults: 1001 })),
      );
      expect(error).toBeInstanceOf(InvalidParameterValueException);
    });

    test("MaxResults 0: InvalidParameterValueException", async () => {
      const error = await rejection(
        backup.send(new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: VAULT, MaxResults: 0 })),
      );
      expect(error).toBeInstanceOf(InvalidParameterValueException);
    });

    test("a ByResourceType outside ^[a-zA-Z0-9\\-\\_\\.]{1,50}$: InvalidParameterValueException", async () => {
      const error = await rejection(
        backup.send(
          new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: VAULT, ByResourceType: "EBS volume" }),
        ),
      );
      expect(error).toBeInstanceOf(InvalidParameterValueException);
    });

    test("list items carry CalculatedLifecycle, seeded or derived from Lifecycle", async () => {
      await seedRecoveryPoints([
        ebsPoint("6", "2026-01-06T00:00:00Z", { Lifecycle: { DeleteAfterDays: 35 } }),
        ebsPoint("7", "2026-01-07T00:00:00Z", { CalculatedLifecycle: { DeleteAt: "2026-01-08T00:00:00Z" } }),
      ]);
      const lifecycle = async (id: string) =>
        (
          await backup.send(
            new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: VAULT, ByResourceArn: volumeArn(id) }),
          )
        ).RecoveryPoints![0]!.CalculatedLifecycle;
      expect(await lifecycle("6")).toEqual({ DeleteAt: new Date("2026-02-10T00:00:00Z") });
      expect(await lifecycle("7")).toEqual({ DeleteAt: new Date("2026-01-08T00:00:00Z") });
    });

    test("a NextToken from another query: InvalidParameterValueException", async () => {
      const first = await backup.send(
        new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: VAULT, MaxResults: 1 }),
      );
      const error = await rejection(
        backup.send(
          new ListRecoveryPointsByBackupVaultCommand({
            BackupVaultName: VAULT,
            ByResourceType: "EBS",
            NextToken: first.NextToken,
          }),
        ),
      );
      expect(error).toBeInstanceOf(InvalidParameterValueException);
    });

    test("unknown vault: ResourceNotFoundException", async () => {
      const error = await rejection(
        backup.send(new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: "missing-vault" })),
      );
      expect(error).toBeInstanceOf(ResourceNotFoundException);
    });

    test("an existing empty vault lists nothing", async () => {
      await seedVaults([{ BackupVaultName: "empty-vault" }]);
      const result = await backup.send(new ListRecoveryPointsByBackupVaultCommand({ BackupVaultName: "empty-vault" }));
      expect(result.RecoveryPoints).toEqual([]);
    });
  });

  describe("ListTags", () => {
    const tags = { a: "1", b: "2", c: "3", "backup-actions:export": "true" };
    const efsPointArn = (id: string): string => `arn:aws:backup:us-east-1:${ACCOUNT}:recovery-point:${id}`;
    const efsPoint = (id: string, extra: Partial<RecoveryPointSeed> = {}): RecoveryPointSeed => ({
      RecoveryPointArn: efsPointArn(id),
      BackupVaultName: VAULT,
      ResourceArn: `arn:aws:elasticfilesystem:us-east-1:${ACCOUNT}:file-system/fs-${id}`,
      ResourceType: "EFS",
      ...extra,
    });

    test("returns the tags of a recovery point under full AWS Backup management, paged", async () => {
      await seedRecoveryPoints([efsPoint("t1", { Tags: tags })]);
      const pages: Array<Record<string, string>> = [];
      for await (const page of paginateListTags({ client: backup, pageSize: 3 }, { ResourceArn: efsPointArn("t1") })) {
        pages.push(page.Tags!);
      }
      expect(pages).toHaveLength(2);
      expect(Object.assign({}, ...pages)).toEqual(tags);
    });

    test("returns the tags of a vault by its ARN", async () => {
      await seedVaults([{ BackupVaultName: "tagged-vault", Tags: { team: "storage" } }]);
      const result = await backup.send(
        new ListTagsCommand({ ResourceArn: `arn:aws:backup:us-east-1:${ACCOUNT}:backup-vault:tagged-vault` }),
      );
      expect(result.Tags).toEqual({ team: "storage" });
    });

    test("a recovery point without tags has an empty map", async () => {
      await seedRecoveryPoints([efsPoint("t2")]);
      expect((await backup.send(new ListTagsCommand({ ResourceArn: efsPointArn("t2") }))).Tags).toEqual({});
    });

    // The API reference: ListTags works only for resource types with full AWS Backup management,
    // whose recovery point ARNs begin arn:aws:backup; other ARNs "may return one of the exceptions
    // listed" (InvalidParameterValueException, 400, is the one for a bad parameter value).
    test.each([
      ["EBS snapshot", "arn:aws:ec2:us-east-1::snapshot/snap-0123456789abcdef0", "EBS"],
      ["EC2 AMI", "arn:aws:ec2:us-east-1::image/ami-0123456789abcdef0", "EC2"],
      ["RDS snapshot", `arn:aws:rds:us-east-1:${ACCOUNT}:snapshot:awsbackup:job-1a2b`, "RDS"],
      ["Aurora cluster snapshot", `arn:aws:rds:us-east-1:${ACCOUNT}:cluster-snapshot:awsbackup:job-3c4d`, "Aurora"],
      [
        "classic DynamoDB backup",
        `arn:aws:dynamodb:us-east-1:${ACCOUNT}:table/orders/backup/01700000000000-abcdef12`,
        "DynamoDB",
      ],
      ["GovCloud EBS snapshot", "arn:aws-us-gov:ec2:us-gov-west-1::snapshot/snap-0123456789abcdef0", "EBS"],
    ])(
      "%s: InvalidParameterValueException (400) naming the ARN, even when the fake knows it",
      async (_kind, arn, type) => {
        await seedRecoveryPoints([
          {
            RecoveryPointArn: arn,
            BackupVaultName: VAULT,
            ResourceArn: `${arn}-source`,
            ResourceType: type,
            Tags: tags,
          },
        ]);
        const error = await rejection(backup.send(new ListTagsCommand({ ResourceArn: arn })));
        expect(error).toBeInstanceOf(InvalidParameterValueException);
        expect(error.$metadata.httpStatusCode).toBe(400);
        expect(error.message).toContain(arn);
        expect(error.message).toContain("not managed fully by AWS Backup");
        expect((error as InvalidParameterValueException).Context).toBe(arn);
      },
    );

    test("unknown recovery point under full management: ResourceNotFoundException", async () => {
      const error = await rejection(backup.send(new ListTagsCommand({ ResourceArn: efsPointArn("nothing") })));
      expect(error).toBeInstanceOf(ResourceNotFoundException);
    });

    test("empty ResourceArn: MissingParameterValueException", async () => {
      const error = await rejection(backup.send(new ListTagsCommand({ ResourceArn: "" })));
      expect(error).toBeInstanceOf(MissingParameterValueException);
      expect(error.$metadata.httpStatusCode).toBe(400);
    });
  });

  describe("DeleteRecoveryPoint (asynchronous, as in AWS)", () => {
    const describe1 = (id: string) =>
      backup.send(new DescribeRecoveryPointCommand({ BackupVaultName: VAULT, RecoveryPointArn: snapshotArn(id) }));

    test("answers 200, goes DELETING, then is gone with its tags", async () => {
      await seedRecoveryPoints([
        ebsPoint("d1", "2026-02-01T00:00:00Z", { Tags: { k: "v" } }),
        ebsPoint("d2", "2026-02-02T00:00:00Z"),
      ]);
      const result = await backup.send(
        new DeleteRecoveryPointCommand({ BackupVaultName: VAULT, RecoveryPointArn: snapshotArn("d1") }),
      );
      expect(result.$metadata.httpStatusCode).toBe(200);
      // Not gone on the 200: it is being deleted.
      expect((await storedRecoveryPoints()).map((p) => [p.RecoveryPointArn, p.Status])).toEqual([
        [snapshotArn("d1"), "DELETING"],
        [snapshotArn("d2"), "COMPLETED"],
      ]);
      expect((await describe1("d1")).Status).toBe("DELETING");
      expect(await rejection(describe1("d1"))).toBeInstanceOf(ResourceNotFoundException);
      expect((await storedRecoveryPoints()).map((p) => p.RecoveryPointArn)).toEqual([snapshotArn("d2")]);
    });

    test("ends EXPIRED, with a StatusMessage, when the control API says it cannot be deleted", async () => {
      await seedRecoveryPoints([ebsPoint("x1", "2026-02-01T00:00:00Z"), ebsPoint("x2", "2026-02-01T00:00:00Z")]);
      await setDeletionOutcomes([
        {
          RecoveryPointArn: snapshotArn("x1"),
          Outcome: "EXPIRED",
          DescribesWhileDeleting: 2,
          StatusMessage: "Insufficient privileges to delete snapshot",
        },
      ]);
      await backup.send(
        new DeleteRecoveryPointCommand({ BackupVaultName: VAULT, RecoveryPointArn: snapshotArn("x1") }),
      );
      await backup.send(
        new DeleteRecoveryPointCommand({ BackupVaultName: VAULT, RecoveryPointArn: snapshotArn("x2") }),
      );
      expect((await describe1("x1")).Status).toBe("DELETING");
      expect((await describe1("x1")).Status).toBe("DELETING");
      const expired = await describe1("x1");
      expect([expired.Status, expired.StatusMessage]).toEqual([
        "EXPIRED",
        "Insufficient privileges to delete snapshot",
      ]);
      expect((await describe1("x1")).Status).toBe("EXPIRED");
      // Another recovery point keeps the default outcome.
      expect((await describe1("x2")).Status).toBe("DELETING");
      expect(await rejection(describe1("x2"))).toBeInstanceOf(ResourceNotFoundException);
    });

    test("a default outcome applies to every recovery point; DescribesWhileDeleting 0 settles on the first look", async () => {
      await seedRecoveryPoints([ebsPoint("x3", "2026-02-01T00:00:00Z")]);
      await setDeletionOutcomes([{ Outcome: "EXPIRED", DescribesWhileDeleting: 0 }]);
      await backup.send(
        new DeleteRecoveryPointCommand({ BackupVaultName: VAULT, RecoveryPointArn: snapshotArn("x3") }),
      );
      const expired = await describe1("x3");
      expect(expired.Status).toBe("EXPIRED");
      expect(expired.StatusMessage).toContain(snapshotArn("x3"));
    });

    test("a bad outcome is refused by the control API with the field named", async () => {
      await expect(setDeletionOutcomes([{ Outcome: "GONE" as never }])).rejects.toThrow(
        /Outcome must be DELETED or EXPIRED/,
      );
      await expect(setDeletionOutcomes([{ Outcome: "DELETED", DescribesWhileDeleting: -1 }])).rejects.toThrow(
        /DescribesWhileDeleting/,
      );
    });

    test("an EXPIRED recovery point can be deleted", async () => {
      await seedRecoveryPoints([ebsPoint("d3", "2026-02-01T00:00:00Z", { Status: "EXPIRED" })]);
      await backup.send(
        new DeleteRecoveryPointCommand({ BackupVaultName: VAULT, RecoveryPointArn: snapshotArn("d3") }),
      );
      expect((await describe1("d3")).Status).toBe("DELETING");
      expect(await rejection(describe1("d3"))).toBeInstanceOf(ResourceNotFoundException);
      expect(await storedRecoveryPoints()).toEqual([]);
    });

    test("a second delete while DELETING: InvalidResourceStateException; once gone: ResourceNotFoundException", async () => {
      await seedRecoveryPoints([ebsPoint("d4", "2026-02-01T00:00:00Z")]);
      await backup.send(
        new DeleteRecoveryPointCommand({ BackupVaultName: VAULT, RecoveryPointArn: snapshotArn("d4") }),
      );
      const again = () =>
        rejection(
          backup.send(new DeleteRecoveryPointCommand({ BackupVaultName: VAULT, RecoveryPointArn: snapshotArn("d4") })),
        );
      expect(await again()).toBeInstanceOf(InvalidResourceStateException);
      await describe1("d4");
      await rejection(describe1("d4"));
      expect(await again()).toBeInstanceOf(ResourceNotFoundException);
    });

    test.each(["CREATING", "DELETING"])(
      "a recovery point in %s: InvalidResourceStateException, nothing deleted",
      async (status) => {
        await seedRecoveryPoints([ebsPoint("d5", "2026-02-01T00:00:00Z", { Status: status })]);
        const error = await rejection(
          backup.send(new DeleteRecoveryPointCommand({ BackupVaultName: VAULT, RecoveryPointArn: snapshotArn("d5") })),
        );
        expect(error).toBeInstanceOf(InvalidResourceStateException);
        expect(error.$metadata.httpStatusCode).toBe(400);
        expect(await storedRecoveryPoints()).toHaveLength(1);
      },
    );

    test("inside a locked vault's minimum retention: InvalidRequestException", async () => {
      await seedVaults([{ BackupVaultName: "locked-vault", MinRetentionDays: 7 }]);
      await seedRecoveryPoints([ebsPoint("d6", new Date().toISOString(), { BackupVaultName: "locked-vault" })]);
      const error = await rejection(
        backup.send(
          new DeleteRecoveryPointCommand({ BackupVaultName: "locked-vault", RecoveryPointArn: snapshotArn("d6") }),
        ),
      );
      expect(error).toBeInstanceOf(InvalidRequestException);
      expect(error.message).toContain("minimum retention of 7 days");
    });

    test("an injected ServiceUnavailableException is HTTP 500 and retried by the SDK", async () => {
      await seedRecoveryPoints([ebsPoint("d7", "2026-02-01T00:00:00Z")]);
      // GIVEN the service fails as often as the client tries (awsClientConfig: 2 attempts)
      await injectFaults([
        { operation: "DeleteRecoveryPoint", code: "ServiceUnavailableException", message: "try later", count: 2 },
      ]);
      const error = await rejection(
        backup.send(new DeleteRecoveryPointCommand({ BackupVaultName: VAULT, RecoveryPointArn: snapshotArn("d7") })),
      );
      expect(error).toBeInstanceOf(ServiceUnavailableException);
      expect(error.$metadata.httpStatusCode).toBe(500);
      expect(error.$metadata.attempts).toBe(2);
      // THEN once the faults are used up the call is accepted
      await backup.send(
        new DeleteRecoveryPointCommand({ BackupVaultName: VAULT, RecoveryPointArn: snapshotArn("d7") }),
      );
      expect((await storedRecoveryPoints()).map((p) => p.Status)).toEqual(["DELETING"]);
    });
  });

  describe("protocol", () => {
    test("an unsigned request is refused with 403 MissingAuthenticationTokenException", async () => {
      const response = await fetch(`${process.env.AWS_ENDPOINT_URL_BACKUP}/backup-vaults/${VAULT}/recovery-points`);
      expect(response.status).toBe(403);
      expect(response.headers.get("x-amzn-errortype")).toBe("MissingAuthenticationTokenException");
    });

    test("an operation the fake does not implement answers 404 naming it", async () => {
      const response = await raw("/backup-plans/", { method: "GET" });
      expect(response.status).toBe(404);
      expect(((await response.json()) as { Message: string }).Message).toContain(
        "does not implement GET /backup-plans",
      );
    });

    test("seeding rejects a record without its identity fields", async () => {
      await expect(seedRecoveryPoints([{ BackupVaultName: VAULT } as RecoveryPointSeed])).rejects.toThrow(
        /RecoveryPointArn is required/,
      );
    });
  });
});

describe("AWS Backup fake process", () => {
  test("prints its URL when ready and exits when its stdin closes (it dies with jest)", async () => {
    const main = path.join(__dirname, "..", "..", "testing", "backup-fake", "main.ts");
    const child = spawn(process.execPath, [require.resolve("tsx/cli"), main, "--port", "0"], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    try {
      const url = await new Promise<string>((resolve, reject) => {
        let out = "";
        child.stdout!.on("data", (chunk: Buffer) => {
          out += chunk.toString();
          const match = /backup-fake ready url=(\S+)/.exec(out);
          if (match) resolve(match[1]!);
        });
        child.once("exit", (code) => reject(new Error(`backup fake exited with ${code} before ready`)));
      });
      expect((await fetch(`${url}/_fake/recovery-points`)).status).toBe(200);
      const exited = new Promise<number | null>((resolve) => child.once("exit", resolve));
      child.stdin!.end();
      expect(await exited).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    }
  }, 60_000);
});
