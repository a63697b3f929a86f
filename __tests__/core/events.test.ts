import { analyzeEvent, classifyEvent } from "../../core/events";
import { eventsConfig, loadEvent } from "../helpers/events";

const config = eventsConfig();

const skip = (reason: string, recoveryPointArn: string | null = null) => ({
  action: "skip",
  workflow: null,
  executionName: null,
  recoveryPointArn,
  reason,
});

describe("classifyEvent: exports, one per resource type", () => {
  it("Backup Job State Change of an EBS volume: recovery point from resources[0]", () => {
    expect(classifyEvent(loadEvent("backup-job-ebs.json"), config)).toEqual({
      action: "export",
      workflow: "ebs",
      executionName: "ebs-snap-0726fe70935586180-767f49bf4c6c0e793d30ada7c40fc117",
      recoveryPointArn: "arn:aws:ec2:us-east-1::snapshot/snap-0726fe70935586180",
      reason:
        'EBS recovery point snap-0726fe70935586180 in vault "Default" (111111111111/us-east-1) from a Backup Job State Change',
    });
  });

  it("RDS instance snapshot → rds", () => {
    expect(classifyEvent(loadEvent("backup-job-rds.json"), config)).toEqual({
      action: "export",
      workflow: "rds",
      executionName: "rds-job-1a2bcd34-567e-8901-23f4-5a6bcdef7890-4d1278b69af3a5350b5c1cc4f565d2a4",
      recoveryPointArn:
        "arn:aws:rds:us-east-1:111111111111:snapshot:awsbackup:job-1a2bcd34-567e-8901-23f4-5a6bcdef7890",
      reason:
        'RDS recovery point awsbackup:job-1a2bcd34-567e-8901-23f4-5a6bcdef7890 in vault "Default" (111111111111/us-east-1) from a Backup Job State Change',
    });
  });

  it("Aurora cluster snapshot → aurora", () => {
    expect(classifyEvent(loadEvent("backup-job-aurora.json"), config)).toEqual({
      action: "export",
      workflow: "aurora",
      executionName: "aurora-job-4ece7121-d60e-00c2-5c3b-49960142d03b-d246b6c8c96bbb0ee5d6f7433bd40f29",
      recoveryPointArn:
        "arn:aws:rds:us-east-1:111111111111:cluster-snapshot:awsbackup:job-4ece7121-d60e-00c2-5c3b-49960142d03b",
      reason:
        'Aurora recovery point awsbackup:job-4ece7121-d60e-00c2-5c3b-49960142d03b in vault "Default" (111111111111/us-east-1) from a Backup Job State Change',
    });
  });

  it("an RDS-typed job whose snapshot is a cluster-snapshot is an Aurora export", () => {
    const plan = classifyEvent(loadEvent("backup-job-rds-cluster.json"), config);
    expect(plan).toEqual({
      action: "export",
      workflow: "aurora",
      executionName: "aurora-job-5fdf8232-e71f-11d3-6d4c-5aa71253e14c-a35d0c7fb509e353f4b4106959c103ef",
      recoveryPointArn:
        "arn:aws:rds:us-east-1:111111111111:cluster-snapshot:awsbackup:job-5fdf8232-e71f-11d3-6d4c-5aa71253e14c",
      reason:
        'RDS recovery point awsbackup:job-5fdf8232-e71f-11d3-6d4c-5aa71253e14c in vault "Default" (111111111111/us-east-1) from a Backup Job State Change',
    });
  });

  it("an RDS-typed job of a :cluster: resource with an AWS Backup recovery point ARN is an Aurora export", () => {
    const event = loadEvent("backup-job-rds-cluster.json");
    event.resources = ["arn:aws:backup:us-east-1:111111111111:recovery-point:0b1c2d3e-aaaa-bbbb-cccc-0123456789ab"];
    expect(classifyEvent(event, config)).toMatchObject({ action: "export", workflow: "aurora" });
    event.detail.resourceArn = "arn:aws:rds:us-east-1:111111111111:db:orders";
    expect(classifyEvent(event, config)).toMatchObject({ action: "export", workflow: "rds" });
  });

  it("DynamoDB table backup → dynamodb", () => {
    expect(classifyEvent(loadEvent("backup-job-dynamodb.json"), config)).toEqual({
      action: "export",
      workflow: "dynamodb",
      executionName: "dynamodb-01700000000000-abcd1234-2d94b7c7e9e61a7768bb9cf0814539bd",
      recoveryPointArn: "arn:aws:dynamodb:us-east-1:111111111111:table/Orders/backup/01700000000000-abcd1234",
      reason:
        'DynamoDB recovery point Orders/backup/01700000000000-abcd1234 in vault "Default" (111111111111/us-east-1) from a Backup Job State Change',
    });
  });

  it("DynamoDB with advanced features (generic arn:aws:backup recovery point) → dynamodb", () => {
    expect(classifyEvent(loadEvent("backup-job-dynamodb-advanced.json"), config)).toEqual({
      action: "export",
      workflow: "dynamodb",
      executionName: "dynamodb-f1d966fe-a3bd-410b-b292-99f442d13b56-1aeb4ad34ad72fb50fd8fbd3d9a40c02",
      recoveryPointArn: "arn:aws:backup:us-east-1:111111111111:recovery-point:f1d966fe-a3bd-410b-b292-99f442d13b56",
      reason:
        'DynamoDB recovery point f1d966fe-a3bd-410b-b292-99f442d13b56 in vault "Default" (111111111111/us-east-1) from a Backup Job State Change',
    });
  });

  it("Copy Job State Change: the DESTINATION recovery point, vault and region, not resources[0]", () => {
    const event = loadEvent("copy-job-ebs.json");
    expect(event.resources[0]).toBe("arn:aws:ec2:us-west-2::snapshot/snap-03886bc8d6ef3a1f9"); // the source
    expect(classifyEvent(event, config)).toEqual({
      action: "export",
      workflow: "ebs",
      executionName: "ebs-snap-0f00d1e5c0ffee123-0bdc86c500aba3fe5669c850e2058dbe",
      recoveryPointArn: "arn:aws:ec2:us-east-1::snapshot/snap-0f00d1e5c0ffee123",
      reason:
        'EBS recovery point snap-0f00d1e5c0ffee123 in vault "Default" (111111111111/us-east-1) from a Copy Job State Change; AWS Backup sent the event to us-west-2, the us-east-1 pipeline exports it',
    });
  });

  it("the extra facts: location, vault, type and the size (a string in backup jobs, a number in copy jobs)", () => {
    const backup = analyzeEvent(loadEvent("backup-job-ebs.json"), config);
    expect(backup.recoveryPoint).toEqual({
      arn: "arn:aws:ec2:us-east-1::snapshot/snap-0726fe70935586180",
      id: "snap-0726fe70935586180",
      kind: "ebs-snapshot",
      workflow: "ebs",
      account: "111111111111",
      region: "us-east-1",
      vault: "Default",
      resourceType: "EBS",
      resourceArn: "arn:aws:ec2:us-east-1:111111111111:volume/vol-0b5ae24f2ee72d926",
      sizeBytes: 8589934592,
    });
    expect(backup.event).toEqual({
      eventId: "0f1e2d3c-0001-4a86-a440-759fa94f34dd",
      detailType: "Backup Job State Change",
      time: "2026-11-20T03:41:17Z",
      jobId: "A827233A-D405-4A86-A440-759FA94F3401",
    });
    const copy = analyzeEvent(loadEvent("copy-job-ebs.json"), config);
    expect(copy.recoveryPoint).toMatchObject({
      account: "111111111111",
      region: "us-east-1",
      vault: "Default",
      sizeBytes: 3221225472,
    });
    expect(copy.event).toMatchObject({
      detailType: "Copy Job State Change",
      jobId: "0175DE71-5784-589F-D8AC-541ACCB4CAC8",
    });
  });

  it("is pure: the same event gives the same plan, and the event is not changed", () => {
    const event = loadEvent("copy-job-ebs.json");
    const before = JSON.stringify(event);
    expect(classifyEvent(event, config)).toEqual(classifyEvent(loadEvent("copy-job-ebs.json"), config));
    expect(JSON.stringify(event)).toBe(before);
  });
});

describe("classifyEvent: copy jobs across regions and accounts (ADR 0006)", () => {
  // copy-job-ebs.json: delivered in 111111111111/us-west-2 (the source), copied into Default in us-east-1.
  const copy = () => loadEvent("copy-job-ebs.json");
  const copyArn = "arn:aws:ec2:us-east-1::snapshot/snap-0f00d1e5c0ffee123";
  const copyName = "ebs-snap-0f00d1e5c0ffee123-0bdc86c500aba3fe5669c850e2058dbe";
  const base =
    'EBS recovery point snap-0f00d1e5c0ffee123 in vault "Default" (111111111111/us-east-1) from a Copy Job State Change';

  it("a copy within one region: exported where it arrived", () => {
    const event = copy();
    event.region = "us-east-1";
    event.detail.sourceBackupVaultArn = "arn:aws:backup:us-east-1:111111111111:backup-vault:primary";
    expect(classifyEvent(event, config)).toEqual({
      action: "export",
      workflow: "ebs",
      executionName: copyName,
      recoveryPointArn: copyArn,
      reason: base,
    });
  });

  it("a copy into another deployed region of the same account: that region's pipeline exports it, under the same execution name", () => {
    const analysis = analyzeEvent(copy(), config);
    expect(analysis.plan).toEqual({
      action: "export",
      workflow: "ebs",
      executionName: copyName,
      recoveryPointArn: copyArn,
      reason: `${base}; AWS Backup sent the event to us-west-2, the us-east-1 pipeline exports it`,
    });
    expect(analysis.recoveryPoint).toMatchObject({ account: "111111111111", region: "us-east-1", vault: "Default" });
    // The starter in us-west-2 passes itself as the receiver: the same answer.
    expect(analyzeEvent(copy(), config, { account: "111111111111", region: "us-west-2" })).toEqual(analysis);
  });

  it("the same copy event forwarded to the destination region's pipeline: the same plan (so the same execution input)", () => {
    expect(analyzeEvent(copy(), config, { account: "111111111111", region: "us-east-1" })).toEqual(
      analyzeEvent(copy(), config),
    );
  });

  it("a copy delivered in a region without a pipeline: nothing receives it", () => {
    const eastOnly = eventsConfig({ accounts: [{ id: "111111111111", regions: ["us-east-1"] }] });
    expect(classifyEvent(copy(), eastOnly)).toEqual(
      skip(
        "the event reached 111111111111/us-west-2, where the config deploys no pipeline (regions: us-east-1), so nothing receives it: " +
          "AWS Backup sends a copy job's events to the source region; deploy a pipeline there or forward the event to the event bus of us-east-1",
        copyArn,
      ),
    );
  });

  it("a copy into another account (both deployed): skipped where it arrives, because the destination account never sees the event", () => {
    const twoAccounts = eventsConfig({
      accounts: [
        { id: "111111111111", regions: ["us-west-2"] },
        { id: "222222222222", regions: ["us-east-1"] },
      ],
    });
    const event = copy();
    event.detail.destinationBackupVaultArn = "arn:aws:backup:us-east-1:222222222222:backup-vault:Default";
    expect(classifyEvent(event, twoAccounts)).toEqual(
      skip(
        "the copy is in account 222222222222 but its event reached account 111111111111: AWS Backup sends a copy job's events to the account that runs the copy job, " +
          "and a pipeline exports only its own account's recovery points, so no pipeline exports this copy unless the event is forwarded to an event bus of account 222222222222",
        copyArn,
      ),
    );
    // Forwarded to the destination account's event bus, its pipeline exports it.
    expect(classifyEvent(event, twoAccounts, { account: "222222222222", region: "us-east-1" })).toMatchObject({
      action: "export",
      executionName: copyName,
      reason:
        'EBS recovery point snap-0f00d1e5c0ffee123 in vault "Default" (222222222222/us-east-1) from a Copy Job State Change; AWS Backup sent the event to us-west-2, the us-east-1 pipeline exports it',
    });
  });

  it("a copy into an account the config does not deploy", () => {
    const event = copy();
    event.detail.destinationBackupVaultArn = "arn:aws:backup:us-east-1:333333333333:backup-vault:Default";
    expect(classifyEvent(event, config)).toEqual(
      skip("account 333333333333 is not deployed by the config (accounts: 111111111111)", copyArn),
    );
  });

  it("a backup job event that reached another account's pipeline (forwarded): skipped, its own account's pipeline exports it", () => {
    const twoAccounts = eventsConfig({
      accounts: [
        { id: "111111111111", regions: ["us-east-1"] },
        { id: "222222222222", regions: ["us-east-1"] },
      ],
    });
    expect(
      classifyEvent(loadEvent("backup-job-ebs.json"), twoAccounts, { account: "222222222222", region: "us-east-1" }),
    ).toEqual(
      skip(
        "the recovery point is in account 111111111111 but its event reached account 222222222222: a pipeline exports only its own account's recovery points (account 111111111111's pipeline receives this event on its own bus)",
        "arn:aws:ec2:us-east-1::snapshot/snap-0726fe70935586180",
      ),
    );
  });

  it("a copy event without its envelope account", () => {
    const event = copy();
    delete event.account;
    expect(classifyEvent(event, config)).toEqual(skip("account is missing, not a string", copyArn));
  });
});

describe("classifyEvent: the documented example events", () => {
  it("Backup Job COMPLETED example: skipped, its account 1112233445566 is not deployed", () => {
    expect(classifyEvent(loadEvent("doc-backup-job-completed.json"), config)).toEqual(
      skip(
        "account 1112233445566 is not deployed by the config (accounts: 111111111111)",
        "arn:aws:backup:us-west-2:1112233445566:recovery-point:f1d966fe-a3bd-410b-b292-99f442d13b56",
      ),
    );
  });

  it('Backup Job COMPLETED example in a deployed account: its resourceType "type" is not supported', () => {
    const event = loadEvent("doc-backup-job-completed.json");
    const cfg = eventsConfig({
      accounts: [{ id: "111111111111", regions: ["us-west-2"] }],
      backupVaults: ["9732c1b4-1091-472a-9d9f-52e0565ee39a"],
    });
    event.account = "111111111111";
    expect(classifyEvent(event, cfg)).toEqual(
      skip(
        'resource type "type" is not supported (EBS, RDS, Aurora, DynamoDB)',
        "arn:aws:backup:us-west-2:1112233445566:recovery-point:f1d966fe-a3bd-410b-b292-99f442d13b56",
      ),
    );
  });

  it("Copy Job COMPLETED example: skipped for the account of its destination vault", () => {
    expect(classifyEvent(loadEvent("doc-copy-job-completed.json"), config)).toEqual(
      skip(
        "account 1112233445566 is not deployed by the config (accounts: 111111111111)",
        "arn:aws:ec2:us-west-2::snapshot/snap-0726fe70935586180",
      ),
    );
  });

  it.each([
    ["doc-backup-job-failed.json", 'state is "FAILED", not "COMPLETED"', null],
    ["doc-backup-job-running.json", 'state is "RUNNING", not "COMPLETED"', null],
    ["doc-backup-job-aborted.json", 'state is "ABORTED", not "COMPLETED"', null],
    ["doc-backup-job-created.json", 'state is "CREATED", not "COMPLETED"', null],
    ["doc-copy-job-failed.json", 'state is "FAILED", not "COMPLETED"', null],
    ["doc-copy-job-running.json", 'state is "RUNNING", not "COMPLETED"', null],
  ])("%s is skipped: %s", (file, reason, arn) => {
    expect(classifyEvent(loadEvent(file), config)).toEqual(skip(reason, arn));
  });
});

describe("classifyEvent: skips with a precise reason", () => {
  const ebs = () => loadEvent("backup-job-ebs.json");
  const ebsArn = "arn:aws:ec2:us-east-1::snapshot/snap-0726fe70935586180";

  it("wrong source", () => {
    const event = { ...ebs(), source: "aws.ec2" };
    expect(classifyEvent(event, config)).toEqual(skip('source is "aws.ec2", not "aws.backup"'));
  });

  it("wrong detail-type (a Restore Job State Change)", () => {
    const event = { ...ebs(), "detail-type": "Restore Job State Change" };
    expect(classifyEvent(event, config)).toEqual(
      skip('detail-type is "Restore Job State Change", not "Backup Job State Change" or "Copy Job State Change"'),
    );
  });

  it("account not deployed", () => {
    const event = { ...ebs(), account: "222222222222" };
    expect(classifyEvent(event, config)).toEqual(
      skip("account 222222222222 is not deployed by the config (accounts: 111111111111)", ebsArn),
    );
  });

  it("region not deployed for the account", () => {
    const event = {
      ...ebs(),
      region: "eu-west-1",
      resources: ["arn:aws:ec2:eu-west-1::snapshot/snap-0726fe70935586180"],
    };
    expect(classifyEvent(event, config)).toEqual(
      skip(
        "region eu-west-1 is not deployed for account 111111111111 (regions: us-east-1, us-west-2)",
        "arn:aws:ec2:eu-west-1::snapshot/snap-0726fe70935586180",
      ),
    );
  });

  it("copy job into a region the config does not deploy (destination vault ARN decides, not the event's region)", () => {
    const event = loadEvent("copy-job-ebs.json");
    event.detail.destinationBackupVaultArn = "arn:aws:backup:eu-central-1:111111111111:backup-vault:Default";
    event.detail.destinationRecoveryPointArn = "arn:aws:ec2:eu-central-1::snapshot/snap-0f00d1e5c0ffee123";
    expect(classifyEvent(event, config)).toEqual(
      skip(
        "region eu-central-1 is not deployed for account 111111111111 (regions: us-east-1, us-west-2)",
        "arn:aws:ec2:eu-central-1::snapshot/snap-0f00d1e5c0ffee123",
      ),
    );
  });

  it("vault not watched (backup job: detail.backupVaultName)", () => {
    const event = ebs();
    event.detail.backupVaultName = "scratch";
    expect(classifyEvent(event, config)).toEqual(
      skip('vault "scratch" is not watched (backupVaults: Default, archive)', ebsArn),
    );
  });

  it("vault not watched (copy job: the destination vault, whatever the source vault)", () => {
    const event = loadEvent("copy-job-ebs.json");
    event.detail.sourceBackupVaultArn = "arn:aws:backup:us-west-2:111111111111:backup-vault:Default";
    event.detail.destinationBackupVaultArn = "arn:aws:backup:us-east-1:111111111111:backup-vault:offsite";
    expect(classifyEvent(event, config)).toEqual(
      skip(
        'vault "offsite" is not watched (backupVaults: Default, archive)',
        "arn:aws:ec2:us-east-1::snapshot/snap-0f00d1e5c0ffee123",
      ),
    );
  });

  it.each([
    ["backup-job-ec2.json", '"EC2"', "arn:aws:ec2:us-east-1::image/ami-0888b126e2170b98e"],
    [
      "backup-job-efs.json",
      '"EFS"',
      "arn:aws:backup:us-east-1:111111111111:recovery-point:0a6560b3-3660-494c-8d47-efa939bd32ca",
    ],
  ])("unsupported resource type (%s)", (file, type, arn) => {
    expect(classifyEvent(loadEvent(file), config)).toEqual(
      skip(`resource type ${type} is not supported (EBS, RDS, Aurora, DynamoDB)`, arn),
    );
  });

  it.each([
    ["backup-job-ebs.json", "ebs"],
    ["backup-job-rds.json", "rds"],
    ["backup-job-aurora.json", "aurora"],
    ["backup-job-rds-cluster.json", "aurora"],
    ["backup-job-dynamodb.json", "dynamodb"],
  ])("%s with exports.%s switched off", (file, type) => {
    const off = eventsConfig({ exports: { [type]: false } });
    const event = loadEvent(file);
    expect(classifyEvent(event, off)).toEqual(
      skip(`${type} exports are switched off (exports.${type} is false)`, event.resources[0]),
    );
  });

  it("missing recovery point ARN (backup job with empty resources)", () => {
    const event = { ...ebs(), resources: [] };
    expect(classifyEvent(event, config)).toEqual(skip("no recovery point ARN: resources[0] is missing"));
  });

  it("missing recovery point ARN (copy job whose destinationRecoveryPointArn is {} as in the documented examples)", () => {
    const event = loadEvent("copy-job-ebs.json");
    event.detail.destinationRecoveryPointArn = {};
    expect(classifyEvent(event, config)).toEqual(
      skip("no recovery point ARN: detail.destinationRecoveryPointArn is an empty object"),
    );
  });

  it("invalid recovery point ARN", () => {
    const event = { ...ebs(), resources: ["arn:aws:ec2:us-east-1::snapshot/not-a-snapshot"] };
    expect(classifyEvent(event, config)).toEqual(
      skip(
        'resources[0] "arn:aws:ec2:us-east-1::snapshot/not-a-snapshot" is not a recovery point ARN (EBS snapshot, RDS snapshot or cluster snapshot, DynamoDB backup or AWS Backup recovery point)',
        "arn:aws:ec2:us-east-1::snapshot/not-a-snapshot",
      ),
    );
  });

  it("a recovery point ARN that does not fit the resource type", () => {
    const event = ebs();
    event.resources = [
      "arn:aws:rds:us-east-1:111111111111:snapshot:awsbackup:job-1a2bcd34-567e-8901-23f4-5a6bcdef7890",
    ];
    expect(classifyEvent(event, config)).toEqual(
      skip(
        'resources[0] "arn:aws:rds:us-east-1:111111111111:snapshot:awsbackup:job-1a2bcd34-567e-8901-23f4-5a6bcdef7890" is a rds-snapshot, which a EBS backup does not produce',
        "arn:aws:rds:us-east-1:111111111111:snapshot:awsbackup:job-1a2bcd34-567e-8901-23f4-5a6bcdef7890",
      ),
    );
  });

  it("a recovery point ARN in another region than the event", () => {
    const event = { ...ebs(), resources: ["arn:aws:ec2:us-west-2::snapshot/snap-0726fe70935586180"] };
    expect(classifyEvent(event, config)).toEqual(
      skip(
        'resources[0] "arn:aws:ec2:us-west-2::snapshot/snap-0726fe70935586180" is not in 111111111111/us-east-1 where the event is',
        "arn:aws:ec2:us-west-2::snapshot/snap-0726fe70935586180",
      ),
    );
  });

  it("copy job without a destination vault ARN", () => {
    const event = loadEvent("copy-job-ebs.json");
    delete event.detail.destinationBackupVaultArn;
    expect(classifyEvent(event, config)).toEqual(
      skip(
        "detail.destinationBackupVaultArn is missing, not a backup vault ARN",
        "arn:aws:ec2:us-east-1::snapshot/snap-0f00d1e5c0ffee123",
      ),
    );
  });

  it.each<[string, unknown, string]>([
    ["null", null, "the event is null, not a JSON object"],
    ["an array", [1, 2], "the event is an array, not a JSON object"],
    ["a string", "hello", 'the event is "hello", not a JSON object'],
    ["a number", 42, "the event is number 42, not a JSON object"],
    ["an empty object", {}, 'source is missing, not "aws.backup"'],
    [
      "no detail",
      { source: "aws.backup", "detail-type": "Backup Job State Change" },
      "detail is missing, not an object",
    ],
    [
      "no state",
      { source: "aws.backup", "detail-type": "Backup Job State Change", detail: {} },
      'state is missing, not "COMPLETED"',
    ],
  ])("garbage: %s", (_label, event, reason) => {
    expect(classifyEvent(event, config)).toEqual(skip(reason));
  });
});
