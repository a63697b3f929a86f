import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { ConfigError, configPath, DEFAULT_CONFIG_PATH, formatPath, loadConfig, parseConfig } from "../../config/load";

/** A valid config to break one key at a time. */
function valid(): Record<string, any> {
  return {
    accounts: [{ id: "111111111111", regions: ["us-east-1"] }],
    tags: { project: "backup-actions" },
    stateBackend: { type: "s3", bucket: "my-state-bucket", region: "us-east-1", keyPrefix: "ba" },
  };
}

function problemsOf(mutate: (c: Record<string, any>) => void): string[] {
  const config = valid();
  mutate(config);
  try {
    parseConfig(config);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error("expected the config to be rejected");
}

describe("config defaults", () => {
  const RDS_CLASS = { instanceClass: "db.t4g.medium" };
  const AURORA_CLASS = { instanceClass: "db.r6g.large" };
  it.each([
    [true, { format: "dump" }],
    [false, false],
    [{}, { format: "dump" }],
    [{ format: "parquet" }, { format: "parquet" }],
    [{ format: "both" }, { format: "both" }],
  ])(
    "resolves exports.rds %j to %j (and exports.aurora alike), with each one's dump instance class",
    (given, resolved) => {
      const config = parseConfig({ ...valid(), exports: { rds: given, aurora: given } });
      expect([config.exports.rds, config.exports.aurora]).toEqual(
        resolved
          ? [
              { ...(resolved as object), ...RDS_CLASS },
              { ...(resolved as object), ...AURORA_CLASS },
            ]
          : [false, false],
      );
    },
  );

  it("takes the dump's instance class of exports.rds and exports.aurora", () => {
    const config = parseConfig({
      ...valid(),
      exports: { rds: { instanceClass: "db.m7g.large" }, aurora: { format: "both", instanceClass: "db.t4g.medium" } },
    });
    expect(config.exports.rds).toEqual({ format: "dump", instanceClass: "db.m7g.large" });
    expect(config.exports.aurora).toEqual({ format: "both", instanceClass: "db.t4g.medium" });
  });

  it("takes azCount from the named availabilityZones", () => {
    const config = parseConfig({
      ...valid(),
      network: { vpcCidr: "10.42.0.0/16", availabilityZones: ["b", "c", "d"] },
    });
    expect(config.network).toMatchObject({ azCount: 3, availabilityZones: ["b", "c", "d"] });
  });

  it("fills every optional key of a minimal config", () => {
    const config = parseConfig(valid());
    expect(config.name).toBe("backup-actions");
    expect(config.backupVaults).toEqual(["Default"]);
    expect(config.deleteRecoveryPoint).toEqual({ enabled: false, requiredTag: "backup-actions:delete" });
    expect(config.network).toEqual({ vpcCidr: "10.42.0.0/16", azCount: 2, endpointAzCount: 1, egress: "endpoints" });
    expect(config.exports).toEqual({
      ebs: true,
      rds: { format: "dump", instanceClass: "db.t4g.medium" },
      aurora: { format: "dump", instanceClass: "db.r6g.large" },
      dynamodb: true,
      compressionLevel: 3,
    });
    expect(parseConfig({ ...valid(), exports: { dynamodb: {} } }).exports.dynamodb).toEqual({
      format: "DYNAMODB_JSON",
    });
    expect(parseConfig({ ...valid(), exports: { dynamodb: { format: "ION" } } }).exports.dynamodb).toEqual({
      format: "ION",
    });
    expect(config.lifecycleRules).toEqual({});
    expect(config.archive).toEqual({ noncurrentVersionRetentionDays: 365 });
    expect(config.reconciler).toEqual({ enabled: true, intervalHours: 6, lookBackDays: 7 });
    expect(parseConfig({ ...valid(), reconciler: { intervalHours: 23, lookBackDays: 1 } }).reconciler).toEqual({
      enabled: true,
      intervalHours: 23,
      lookBackDays: 1,
    });
    expect(config.stateBackend).toEqual({
      type: "s3",
      bucket: "my-state-bucket",
      region: "us-east-1",
      keyPrefix: "ba",
    });
    expect(config.worker).toEqual({
      vcpus: 4,
      memoryMiB: 8192,
      maxVcpus: 64,
      timeoutHours: 24,
      maxVolumeGiB: 16384,
      spotRetries: 3,
      instanceFamilies: ["c6i", "c6a", "c7i", "c7a", "m6i", "m6a", "m7i", "m7a", "r6i", "r7i"],
      onDemandFallback: false,
      readPath: "volume",
      directRead: { requestsPerSecond: 600, parallelism: 32 },
      volume: { throughputMiBps: 500, iops: 6000 },
    });
  });

  it("fills the worker's defaults around the keys that are given", () => {
    const config = parseConfig({ ...valid(), worker: { vcpus: 8, volume: { initializationRateMiBps: 300 } } });
    expect(config.worker.vcpus).toBe(8);
    expect(config.worker.memoryMiB).toBe(8192);
    expect(config.worker.volume).toEqual({ throughputMiBps: 500, iops: 6000, initializationRateMiBps: 300 });
  });

  it("accepts Graviton families with a prebuilt (multi-arch) image", () => {
    const config = parseConfig({
      ...valid(),
      worker: { instanceFamilies: ["c7g", "c7i"], imageUri: "public.ecr.aws/acme/worker@sha256:" + "a".repeat(64) },
    });
    expect(config.worker.instanceFamilies).toEqual(["c7g", "c7i"]);
  });

  it("loads the embedded default config", () => {
    const config = loadConfig(DEFAULT_CONFIG_PATH);
    expect(config.accounts).toEqual([{ id: "111111111111", regions: ["us-east-1"] }]);
    expect(config.stateBackend.type).toBe("s3");
  });

  it("takes the path from BACKUP_ACTIONS_CONFIG, relative to the working directory", () => {
    expect(configPath({ BACKUP_ACTIONS_CONFIG: "x/y.json" })).toBe(path.resolve("x/y.json"));
    expect(configPath({})).toBe(DEFAULT_CONFIG_PATH);
  });

  it("accepts an account in GovCloud with a deploy role of its partition", () => {
    const config = parseConfig({
      ...valid(),
      accounts: [
        {
          id: "111111111111",
          regions: ["us-gov-west-1", "us-gov-east-1"],
          assumeRoleArn: "arn:aws-us-gov:iam::111111111111:role/deploy",
        },
      ],
      stateBackend: { ...valid().stateBackend, accountId: "999999999999" },
    });
    expect(config.accounts[0]!.regions).toEqual(["us-gov-west-1", "us-gov-east-1"]);
  });

  it("accepts a single-Region kmsKeyArn for the one pipeline, and a multi-Region key for every region of its account", () => {
    expect(
      parseConfig({
        ...valid(),
        accounts: [{ id: "111111111111", regions: ["us-east-1"] }],
        kmsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/12345678-1234-1234-1234-123456789012",
      }).kmsKeyArn,
    ).toBe("arn:aws:kms:us-east-1:111111111111:key/12345678-1234-1234-1234-123456789012");
    const mrk = parseConfig({
      ...valid(),
      accounts: [{ id: "111111111111", regions: ["us-east-1", "eu-west-1"] }],
      kmsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef",
    });
    expect(mrk.kmsKeyArn).toBe("arn:aws:kms:us-east-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef");
  });

  it("accepts an existing VPC and a Terraform Cloud backend", () => {
    const config = parseConfig({
      ...valid(),
      stateBackend: {
        type: "cloud",
        organization: "acme",
        workspacePrefix: "ba",
        runRoleArns: { "111111111111": "arn:aws:iam::111111111111:role/tfc" },
      },
      worker: { imageUri: "111111111111.dkr.ecr.us-east-1.amazonaws.com/worker:1" },
      network: {
        vpcId: "vpc-0123456789abcdef0",
        subnetIds: ["subnet-0123456789abcdef0"],
        routeTableIds: ["rtb-0123456789abcdef0"],
      },
    });
    expect(config.stateBackend).toEqual({
      type: "cloud",
      organization: "acme",
      workspacePrefix: "ba",
      runRoleArns: { "111111111111": "arn:aws:iam::111111111111:role/tfc" },
    });
    expect(config.network).toMatchObject({ vpcId: "vpc-0123456789abcdef0", egress: "endpoints", endpointAzCount: 1 });
  });
});

describe("config rules (one test per rule, exact message)", () => {
  const rules: Array<[string, (c: Record<string, any>) => void, string]> = [
    ["account id is 12 digits", (c) => (c.accounts[0].id = "12345"), "accounts[0].id: must be 12 digits"],
    [
      "account id is a string",
      (c) => (c.accounts[0].id = 111111111111),
      "accounts[0].id: must be 12 digits (as a string)",
    ],
    ["accounts is not empty", (c) => (c.accounts = []), "accounts: must list at least one account"],
    ["accounts is required", (c) => delete c.accounts, "accounts: is required"],
    ["regions is not empty", (c) => (c.accounts[0].regions = []), "accounts[0].regions: must list at least one region"],
    [
      "regions are region names",
      (c) => (c.accounts[0].regions = ["us-east"]),
      "accounts[0].regions[0]: must be an AWS region name like us-east-1",
    ],
    [
      "regions do not repeat",
      (c) => (c.accounts[0].regions = ["us-east-1", "us-east-1"]),
      "accounts[0].regions: must not repeat a region",
    ],
    [
      "assumeRoleArn is a role ARN",
      (c) => (c.accounts[0].assumeRoleArn = "role/x"),
      "accounts[0].assumeRoleArn: must be an IAM role ARN",
    ],
    [
      "assumeRoleArn is in its account",
      (c) => (c.accounts[0].assumeRoleArn = "arn:aws:iam::222222222222:role/deploy"),
      "accounts[0].assumeRoleArn: must be a role in account 111111111111 (it is in 222222222222)",
    ],
    [
      "an account's regions are in one partition",
      (c) => (c.accounts[0].regions = ["us-east-1", "eu-west-1", "us-gov-west-1"]),
      "accounts[0].regions: must all be in one partition, but us-east-1 (aws) and us-gov-west-1 (aws-us-gov) are not",
    ],
    [
      "assumeRoleArn is in the partition of the account's regions",
      (c) =>
        (c.accounts[0] = {
          id: "111111111111",
          regions: ["cn-north-1"],
          assumeRoleArn: "arn:aws:iam::111111111111:role/deploy",
        }),
      "accounts[0].assumeRoleArn: must be a role in aws-cn, the partition of the account's regions (it is in aws)",
    ],
    [
      "account ids do not repeat",
      (c) => c.accounts.push({ id: "111111111111", regions: ["eu-west-1"] }),
      "accounts[1].id: repeats accounts[0].id (111111111111); list its regions once",
    ],
    ["backupVaults is not empty", (c) => (c.backupVaults = []), "backupVaults: must list at least one vault"],
    [
      "backupVaults are vault names",
      (c) => (c.backupVaults = ["my vault"]),
      "backupVaults[0]: must be a backup vault name (2-50 letters, digits, '-' or '_')",
    ],
    [
      "deleteRecoveryPoint.enabled is a real boolean",
      (c) => (c.deleteRecoveryPoint = { enabled: "false" }),
      'deleteRecoveryPoint.enabled: must be true or false (a JSON boolean, not a string like "false")',
    ],
    [
      "deleteRecoveryPoint.enabled is required",
      (c) => (c.deleteRecoveryPoint = { requiredTag: "x" }),
      "deleteRecoveryPoint.enabled: is required",
    ],
    [
      "deleteRecoveryPoint.requiredTag is a tag key",
      (c) => (c.deleteRecoveryPoint = { enabled: true, requiredTag: "" }),
      "deleteRecoveryPoint.requiredTag: must be a tag key (1-128 characters)",
    ],
    [
      "unknown top-level key, with a hint",
      (c) => (c.backupVault = ["x"]),
      'backupVault: unknown key (did you mean "backupVaults"?)',
    ],
    [
      "unknown nested key",
      (c) => (c.deleteRecoveryPoint = { enabled: true, enable: true }),
      'deleteRecoveryPoint.enable: unknown key (did you mean "enabled"?)',
    ],
    ["unknown key without a near match", (c) => (c.colour = "blue"), "colour: unknown key"],
    [
      "notificationEmail is an address",
      (c) => (c.notificationEmail = "ops"),
      "notificationEmail: must be an email address",
    ],
    [
      "kmsKeyArn is a key ARN",
      (c) => (c.kmsKeyArn = "alias/x"),
      "kmsKeyArn: must be a KMS key ARN (arn:aws:kms:<region>:<account>:key/<id>)",
    ],
    [
      "a single-Region kmsKeyArn serves only the one pipeline of its account and region",
      (c) => (
        (c.kmsKeyArn = "arn:aws:kms:us-east-1:111111111111:key/12345678-1234-1234-1234-123456789012"),
        (c.accounts = [
          { id: "111111111111", regions: ["us-east-1", "eu-west-1"] },
          { id: "222222222222", regions: ["us-east-1"] },
        ])
      ),
      "kmsKeyArn: a KMS key serves only its own account and region (111111111111/us-east-1), but the config also deploys 111111111111/eu-west-1, 222222222222/us-east-1; leave kmsKeyArn unset so each pipeline creates its own key, or use a multi-Region key (key/mrk-…) replicated to each region",
    ],
    [
      "a single-Region kmsKeyArn is in the region deployed",
      (c) => (c.kmsKeyArn = "arn:aws:kms:us-west-2:111111111111:key/12345678-1234-1234-1234-123456789012"),
      "kmsKeyArn: a KMS key serves only its own account and region (111111111111/us-west-2), but the config also deploys 111111111111/us-east-1; leave kmsKeyArn unset so each pipeline creates its own key, or use a multi-Region key (key/mrk-…) replicated to each region",
    ],
    [
      "a multi-Region kmsKeyArn serves one account",
      (c) => (
        (c.kmsKeyArn = "arn:aws:kms:us-east-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef"),
        c.accounts.push({ id: "222222222222", regions: ["us-east-1", "eu-west-1", "eu-central-1", "ap-south-1"] })
      ),
      "kmsKeyArn: a multi-Region key serves the regions of its own account (111111111111), but the config also deploys 222222222222/us-east-1, 222222222222/eu-west-1, 222222222222/eu-central-1 and 1 more; leave kmsKeyArn unset so each pipeline creates its own key",
    ],
    [
      "kmsKeyArn is in the partition of its region",
      (c) => (c.kmsKeyArn = "arn:aws:kms:us-gov-west-1:111111111111:key/12345678-1234-1234-1234-123456789012"),
      "kmsKeyArn: names partition aws, but its region us-gov-west-1 is in aws-us-gov",
    ],
    ["tags are required", (c) => delete c.tags, "tags: is required"],
    ["tags are not empty", (c) => (c.tags = {}), "tags: must have at least one tag"],
    ["tag values are strings", (c) => (c.tags = { a: 1 }), "tags.a: must be a string (got number 1)"],
    [
      "accessLogs.bucket is a bucket name",
      (c) => (c.accessLogs = { bucket: "Logs!" }),
      "accessLogs.bucket: must be a valid S3 bucket name",
    ],
    [
      "securityTag is a tag key",
      (c) => (c.securityTag = "x".repeat(129)),
      "securityTag: must be a tag key (1-128 characters)",
    ],
    [
      "lifecycle days are whole",
      (c) => (c.lifecycleRules = { glacier: 1.5 }),
      "lifecycleRules.glacier: must be a whole number of days",
    ],
    [
      "lifecycle days are positive",
      (c) => (c.lifecycleRules = { expiration: 0 }),
      "lifecycleRules.expiration: must be a positive number of days",
    ],
    [
      "deepArchive ≥ glacier + 90",
      (c) => (c.lifecycleRules = { glacier: 100, deepArchive: 150 }),
      "lifecycleRules.deepArchive: must be at least 90 days after glacier (100)",
    ],
    [
      "expiration ≥ deepArchive + 180",
      (c) => (c.lifecycleRules = { deepArchive: 100, expiration: 279 }),
      "lifecycleRules.expiration: must be at least 180 days after deepArchive (100)",
    ],
    [
      "expiration ≥ glacier + 90 without deepArchive",
      (c) => (c.lifecycleRules = { glacier: 30, expiration: 119 }),
      "lifecycleRules.expiration: must be at least 90 days after glacier (30)",
    ],
    ["stateBackend is required", (c) => delete c.stateBackend, 'stateBackend: must be "s3" or "cloud"'],
    [
      "stateBackend.type is s3 or cloud",
      (c) => (c.stateBackend = { type: "gcs" }),
      'stateBackend.type: must be "s3" or "cloud"',
    ],
    [
      "stateBackend.bucket is a bucket name",
      (c) => (c.stateBackend.bucket = "UPPER"),
      "stateBackend.bucket: must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)",
    ],
    [
      "stateBackend.keyPrefix has no slashes at the ends",
      (c) => (c.stateBackend.keyPrefix = "/ba/"),
      "stateBackend.keyPrefix: must be an S3 key prefix without leading or trailing '/'",
    ],
    [
      "cloud backend needs an organization",
      (c) => (c.stateBackend = { type: "cloud", workspacePrefix: "ba" }),
      "stateBackend.organization: is required",
    ],
    [
      "cloud workspacePrefix is a name",
      (c) => (c.stateBackend = { type: "cloud", organization: "acme", workspacePrefix: "b a" }),
      "stateBackend.workspacePrefix: must be letters, digits, '-' or '_' (at most 60)",
    ],
    [
      "vpcCidr is a /16–/24 block",
      (c) => (c.network = { vpcCidr: "10.0.0.0/8" }),
      "network.vpcCidr: must be an IPv4 CIDR block with a prefix from /16 to /24 (e.g. 10.42.0.0/16)",
    ],
    [
      "azCount is 1–6",
      (c) => (c.network = { vpcCidr: "10.0.0.0/16", azCount: 0 }),
      "network.azCount: must be at least 1",
    ],
    [
      "endpointAzCount ≤ azCount",
      (c) => (c.network = { vpcCidr: "10.0.0.0/16", azCount: 1, endpointAzCount: 2 }),
      "network.endpointAzCount: must be at most azCount (1)",
    ],
    [
      "availabilityZones are zone letters",
      (c) => (c.network = { vpcCidr: "10.0.0.0/16", availabilityZones: ["us-east-1a"] }),
      'network.availabilityZones[0]: must be the letter of an availability zone ("a", "b", ...): in each region the zone is <region><letter>',
    ],
    [
      "availabilityZones do not repeat",
      (c) => (c.network = { vpcCidr: "10.0.0.0/16", availabilityZones: ["a", "b", "a"] }),
      "network.availabilityZones: must not repeat a zone",
    ],
    [
      "azCount agrees with availabilityZones",
      (c) => (c.network = { vpcCidr: "10.0.0.0/16", azCount: 3, availabilityZones: ["a", "b"] }),
      "network.azCount: must equal the number of availabilityZones (2), or be left out",
    ],
    [
      "endpointAzCount ≤ the number of availabilityZones",
      (c) => (c.network = { vpcCidr: "10.0.0.0/16", availabilityZones: ["a"], endpointAzCount: 2 }),
      "network.endpointAzCount: must be at most azCount (1)",
    ],
    [
      "availabilityZones are for a new VPC only",
      (c) =>
        (c.network = {
          vpcId: "vpc-0123456789abcdef0",
          subnetIds: ["subnet-0123456789abcdef0"],
          routeTableIds: ["rtb-0123456789abcdef0"],
          availabilityZones: ["a"],
        }),
      "network.availabilityZones: not allowed with vpcId (a network is either vpcCidr and azCount, or vpcId and subnetIds)",
    ],
    [
      "egress is a known mode",
      (c) => (c.network = { vpcCidr: "10.0.0.0/16", egress: "internet" }),
      'network.egress: must be one of "endpoints", "nat", "public"',
    ],
    [
      "vpcId is a VPC id",
      (c) =>
        (c.network = {
          vpcId: "my-vpc",
          subnetIds: ["subnet-0123456789abcdef0"],
          routeTableIds: ["rtb-0123456789abcdef0"],
        }),
      "network.vpcId: must be a VPC id like vpc-0123456789abcdef0",
    ],
    [
      "an existing VPC needs subnets",
      (c) => (c.network = { vpcId: "vpc-0123456789abcdef0", subnetIds: [], routeTableIds: ["rtb-0123456789abcdef0"] }),
      "network.subnetIds: must list at least one subnet",
    ],
    [
      "an existing VPC needs route tables",
      (c) =>
        (c.network = { vpcId: "vpc-0123456789abcdef0", subnetIds: ["subnet-0123456789abcdef0"], routeTableIds: [] }),
      "network.routeTableIds: must list the route tables of subnetIds (the S3 and DynamoDB gateway endpoints are wired to them)",
    ],
    [
      "vpcCidr and vpcId do not mix",
      (c) =>
        (c.network = {
          vpcId: "vpc-0123456789abcdef0",
          vpcCidr: "10.0.0.0/16",
          subnetIds: ["subnet-0123456789abcdef0"],
          routeTableIds: ["rtb-0123456789abcdef0"],
        }),
      "network.vpcCidr: not allowed with vpcId (a network is either vpcCidr and azCount, or vpcId and subnetIds)",
    ],
    ["a known key in the wrong place", (c) => (c.exports = { bucket: "x" }), "exports.bucket: not allowed here"],
    [
      "a top-level vpcId serves one account and region",
      (c) => {
        c.accounts[0].regions = ["us-east-1", "eu-west-1"];
        c.network = {
          vpcId: "vpc-0123456789abcdef0",
          subnetIds: ["subnet-0123456789abcdef0"],
          routeTableIds: ["rtb-0123456789abcdef0"],
        };
      },
      "network.vpcId: an existing VPC belongs to one account and region, but 2 use it (accounts[0] us-east-1, accounts[0] eu-west-1); set accounts[i].network instead",
    ],
    ["exports flags are booleans", (c) => (c.exports = { ebs: "yes" }), "exports.ebs: must be true or false"],
    [
      "exports.dynamodb is a switch or { format }",
      (c) => (c.exports = { dynamodb: "yes" }),
      'exports.dynamodb: must be true, false or { "format": "DYNAMODB_JSON" | "ION" }',
    ],
    [
      "exports.dynamodb.format is DYNAMODB_JSON or ION",
      (c) => (c.exports = { dynamodb: { format: "PARQUET" } }),
      'exports.dynamodb.format: must be "DYNAMODB_JSON" or "ION"',
    ],
    [
      "exports.rds is a switch or a format",
      (c) => (c.exports = { rds: "yes" }),
      'exports.rds: must be true, false or { "format": "parquet" | "dump" | "both", "instanceClass": "db.…" }',
    ],
    [
      "exports.rds.instanceClass is a DB instance class",
      (c) => (c.exports = { rds: { instanceClass: "t4g.medium" } }),
      'exports.rds.instanceClass: must be a DB instance class like "db.t4g.medium"',
    ],
    [
      "exports.aurora.instanceClass is a string",
      (c) => (c.exports = { aurora: { instanceClass: 2 } }),
      'exports.aurora.instanceClass: must be a DB instance class like "db.t4g.medium"',
    ],
    [
      "exports.aurora.format is one of three",
      (c) => (c.exports = { aurora: { format: "csv" } }),
      'exports.aurora.format: must be "parquet", "dump" or "both"',
    ],
    [
      "exports.rds takes only format and instanceClass",
      (c) => (c.exports = { rds: { format: "parquet", formats: "dump" } }),
      'exports.rds.formats: unknown key (did you mean "format"?)',
    ],
    [
      "compressionLevel is 1–19",
      (c) => (c.exports = { compressionLevel: 22 }),
      "exports.compressionLevel: must be from 1 to 19",
    ],
    ["worker.vcpus is whole", (c) => (c.worker = { vcpus: 1.5 }), "worker.vcpus: must be a whole number"],
    ["worker.vcpus is 1–192", (c) => (c.worker = { vcpus: 0 }), "worker.vcpus: must be from 1 to 192"],
    [
      "worker.memoryMiB is 1024–786432",
      (c) => (c.worker = { memoryMiB: 512 }),
      "worker.memoryMiB: must be from 1024 to 786432 MiB",
    ],
    ["worker.maxVcpus is 1–10000", (c) => (c.worker = { maxVcpus: 20000 }), "worker.maxVcpus: must be from 1 to 10000"],
    [
      "worker.directRead.requestsPerSecond is 1–10000",
      (c) => (c.worker = { directRead: { requestsPerSecond: 0 } }),
      "worker.directRead.requestsPerSecond: must be from 1 to 10000 requests/s",
    ],
    [
      "worker.directRead.parallelism is 1–256",
      (c) => (c.worker = { directRead: { parallelism: 300 } }),
      "worker.directRead.parallelism: must be from 1 to 256",
    ],
    [
      "worker.maxVcpus fits one job",
      (c) => (c.worker = { vcpus: 16, maxVcpus: 8 }),
      "worker.maxVcpus: must be at least worker.vcpus (16), or no job ever fits",
    ],
    [
      "worker.timeoutHours is 1–168",
      (c) => (c.worker = { timeoutHours: 200 }),
      "worker.timeoutHours: must be from 1 to 168 hours",
    ],
    ["worker.spotRetries is 1–10", (c) => (c.worker = { spotRetries: 11 }), "worker.spotRetries: must be from 1 to 10"],
    [
      "worker.instanceFamilies is not empty",
      (c) => (c.worker = { instanceFamilies: [] }),
      "worker.instanceFamilies: must list at least one instance family",
    ],
    [
      "worker.instanceFamilies are families or types",
      (c) => (c.worker = { instanceFamilies: ["C6I"] }),
      "worker.instanceFamilies[0]: must be an EC2 instance family or type like c6i or c6i.2xlarge",
    ],
    [
      "worker.instanceFamilies do not repeat",
      (c) => (c.worker = { instanceFamilies: ["c6i", "c6i"] }),
      "worker.instanceFamilies: must not repeat a family",
    ],
    [
      "worker.instanceFamilies are x86_64 when the image is built here",
      (c) => (c.worker = { instanceFamilies: ["c7i", "m7g.2xlarge"] }),
      "worker.instanceFamilies[1]: m7g.2xlarge is Graviton (arm64), but the image built from batch-worker/ is x86_64 only; remove it or set worker.imageUri to a multi-arch image",
    ],
    [
      "worker.onDemandFallback is a boolean",
      (c) => (c.worker = { onDemandFallback: "no" }),
      "worker.onDemandFallback: must be true or false",
    ],
    [
      "worker.imageUri has a tag or digest",
      (c) => (c.worker = { imageUri: "acme/worker" }),
      "worker.imageUri: must be an image URI with a tag or digest, like 123456789012.dkr.ecr.us-east-1.amazonaws.com/worker:1.2.0",
    ],
    [
      "worker.volume.throughputMiBps is 125–1000",
      (c) => (c.worker = { volume: { throughputMiBps: 2000 } }),
      "worker.volume.throughputMiBps: must be from 125 to 1000 MiB/s",
    ],
    [
      "worker.volume.iops is 3000–16000",
      (c) => (c.worker = { volume: { iops: 100 } }),
      "worker.volume.iops: must be from 3000 to 16000",
    ],
    [
      "worker.volume.initializationRateMiBps is 100–300",
      (c) => (c.worker = { volume: { initializationRateMiBps: 50 } }),
      "worker.volume.initializationRateMiBps: must be from 100 to 300 MiB/s",
    ],
    [
      "worker.volume throughput ≤ iops / 4",
      (c) => (c.worker = { volume: { throughputMiBps: 1000, iops: 3000 } }),
      "worker.volume.throughputMiBps: must be at most iops / 4 (750): gp3 gives 0.25 MiB/s per provisioned IOPS",
    ],
    [
      "worker.maxVolumeGiB is 1–65536",
      (c) => (c.worker = { maxVolumeGiB: 100000 }),
      "worker.maxVolumeGiB: must be from 1 to 65536 GiB",
    ],
    [
      "worker.timeoutHours reads worker.maxVolumeGiB at the throughput, with margin",
      (c) => (c.worker = { volume: { throughputMiBps: 125 } }),
      "worker.timeoutHours: must be at least 48 hours: reading worker.maxVolumeGiB (16384 GiB) at 125 MiB/s (worker.volume.throughputMiBps) takes 37.3 hours, plus 25 % and 1 hour of margin; raise timeoutHours (at most 168), raise the rate, or lower maxVolumeGiB",
    ],
    [
      "worker.timeoutHours reads worker.maxVolumeGiB at a lower initialization rate",
      (c) => (c.worker = { timeoutHours: 48, volume: { initializationRateMiBps: 100 } }),
      "worker.timeoutHours: must be at least 60 hours: reading worker.maxVolumeGiB (16384 GiB) at 100 MiB/s (worker.volume.initializationRateMiBps) takes 46.6 hours, plus 25 % and 1 hour of margin; raise timeoutHours (at most 168), raise the rate, or lower maxVolumeGiB",
    ],
    [
      "worker.memoryMiB holds two parts of worker.maxVolumeGiB",
      (c) => (c.worker = { maxVolumeGiB: 65536, timeoutHours: 60 }),
      "worker.memoryMiB: must be at least 11776 MiB: two part buffers of 5120 MiB (the part size for worker.maxVolumeGiB, 65536 GiB) plus 1536 MiB for the worker, tar and zstd (1024 + 128 per vCPU); raise memoryMiB or lower maxVolumeGiB",
    ],
    [
      "stateBackend.accountId is an account id",
      (c) => (c.stateBackend.accountId = "12345"),
      "stateBackend.accountId: must be 12 digits",
    ],
    [
      "stateBackend.accountId is needed when every account is reached through a role",
      (c) => (c.accounts[0].assumeRoleArn = "arn:aws:iam::111111111111:role/deploy"),
      "stateBackend.accountId: is required when every account sets assumeRoleArn: the state bucket lives in the account of the credentials that run terraform, which the config does not name otherwise",
    ],
    [
      "archive.objectLock.mode is GOVERNANCE or COMPLIANCE",
      (c) => (c.archive = { objectLock: { mode: "LEGAL", retentionDays: 30 } }),
      'archive.objectLock.mode: must be "GOVERNANCE" or "COMPLIANCE"',
    ],
    [
      "archive.objectLock.retentionDays is 1–36500",
      (c) => (c.archive = { objectLock: { mode: "COMPLIANCE", retentionDays: 0 } }),
      "archive.objectLock.retentionDays: must be from 1 to 36500 days",
    ],
    [
      "archive.objectLock needs retentionDays",
      (c) => (c.archive = { objectLock: { mode: "GOVERNANCE" } }),
      "archive.objectLock.retentionDays: is required",
    ],
    [
      "archive.noncurrentVersionRetentionDays is whole",
      (c) => (c.archive = { noncurrentVersionRetentionDays: 1.5 }),
      "archive.noncurrentVersionRetentionDays: must be a whole number of days",
    ],
    [
      "archive.noncurrentVersionRetentionDays is positive",
      (c) => (c.archive = { noncurrentVersionRetentionDays: 0 }),
      "archive.noncurrentVersionRetentionDays: must be a positive number of days",
    ],
    [
      "archive.noncurrentVersionRetentionDays outlives the Object Lock retention",
      (c) => (c.archive = { objectLock: { mode: "GOVERNANCE", retentionDays: 400 } }),
      "archive.noncurrentVersionRetentionDays: must be at least archive.objectLock.retentionDays (400): S3 keeps a locked version until its retention ends whatever the lifecycle says",
    ],
    [
      "unknown worker key, with a hint",
      (c) => (c.worker = { vcpu: 4 }),
      'worker.vcpu: unknown key (did you mean "vcpus"?)',
    ],
    [
      "reconciler.enabled is a JSON boolean",
      (c) => (c.reconciler = { enabled: "false" }),
      'reconciler.enabled: must be true or false (a JSON boolean, not a string like "false")',
    ],
    [
      "reconciler.intervalHours is 1–168",
      (c) => (c.reconciler = { intervalHours: 0 }),
      "reconciler.intervalHours: must be from 1 to 168 hours",
    ],
    [
      "reconciler.intervalHours is whole",
      (c) => (c.reconciler = { intervalHours: 1.5 }),
      "reconciler.intervalHours: must be a whole number",
    ],
    [
      "reconciler.lookBackDays is 1–365",
      (c) => (c.reconciler = { lookBackDays: 400 }),
      "reconciler.lookBackDays: must be from 1 to 365 days",
    ],
    [
      "reconciler.lookBackDays covers more than the interval",
      (c) => (c.reconciler = { intervalHours: 48, lookBackDays: 2 }),
      "reconciler.lookBackDays: must cover more than reconciler.intervalHours (48 h), but 2 × 24 = 48 h: a recovery point created just after one run could fall out of the window before the next run lists it",
    ],
    [
      "reconciler.lookBackDays covers more than the default interval",
      (c) => (c.reconciler = { intervalHours: 168 }),
      "reconciler.lookBackDays: must cover more than reconciler.intervalHours (168 h), but 7 × 24 = 168 h: a recovery point created just after one run could fall out of the window before the next run lists it",
    ],
    [
      "unknown reconciler key, with a hint",
      (c) => (c.reconciler = { intervalHour: 6 }),
      'reconciler.intervalHour: unknown key (did you mean "intervalHours"?)',
    ],
    [
      "name is a short slug",
      (c) => (c.name = "Backup_Actions"),
      "name: must be 2-20 lowercase letters, digits or '-', starting with a letter",
    ],
  ];

  it.each(rules)("%s", (_rule, mutate, expected) => {
    expect(problemsOf(mutate)).toContain(expected);
  });

  it("reports every problem of a file at once, each with its key path", () => {
    const problems = problemsOf((c) => {
      c.accounts[0].id = "1";
      c.lifecycleRules = { glacier: 100, deepArchive: 120 };
      c.exprots = {};
    });
    expect(problems).toEqual([
      "accounts[0].id: must be 12 digits",
      'exprots: unknown key (did you mean "exports"?)',
      "lifecycleRules.deepArchive: must be at least 90 days after glacier (100)",
    ]);
  });
});

describe("Terraform Cloud backend rules (exact messages)", () => {
  /** A valid cloud config: two accounts, a run role each, a prebuilt worker image. */
  const cloud = (): Record<string, any> => ({
    ...valid(),
    accounts: [
      { id: "111111111111", regions: ["us-east-1"] },
      { id: "222222222222", regions: ["eu-west-1"] },
    ],
    worker: { imageUri: "111111111111.dkr.ecr.us-east-1.amazonaws.com/worker:1.0.0" },
    stateBackend: {
      type: "cloud",
      organization: "acme",
      workspacePrefix: "ba",
      runRoleArns: {
        "111111111111": "arn:aws:iam::111111111111:role/tfc",
        "222222222222": "arn:aws:iam::222222222222:role/tfc",
      },
    },
  });
  const problems = (mutate: (c: Record<string, any>) => void): string[] => {
    const c = cloud();
    mutate(c);
    try {
      parseConfig(c);
      return [];
    } catch (err) {
      expect(err).toBeInstanceOf(ConfigError);
      return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
    }
  };

  it("accepts the valid cloud config, with VCS settings, a project and S3 state for the workspaces stack", () => {
    expect(problems(() => undefined)).toEqual([]);
    const config = parseConfig({
      ...cloud(),
      stateBackend: {
        ...cloud().stateBackend,
        vcs: { identifier: "acme/deploy", oauthTokenId: "ot-abc123" },
        project: "backups",
        workspacesState: { bucket: "admin-state", region: "us-east-1" },
      },
    });
    expect(config.stateBackend).toMatchObject({
      vcs: { identifier: "acme/deploy", oauthTokenId: "ot-abc123" },
      workspacesState: { bucket: "admin-state", region: "us-east-1", key: "backup-actions/workspaces.tfstate" },
    });
  });

  it("requires worker.imageUri, saying why", () => {
    expect(problems((c) => delete c.worker)).toEqual([
      'worker.imageUri: is required with stateBackend.type "cloud": Terraform Cloud runs have no Docker engine, so the pipeline cannot build the worker image from batch-worker/; build and push it in CI and set its URI here',
    ]);
    expect(problems((c) => delete c.worker.imageUri)).toHaveLength(1);
  });

  it("requires runRoleArns", () => {
    expect(problems((c) => delete c.stateBackend.runRoleArns)).toEqual(["stateBackend.runRoleArns: is required"]);
    expect(problems((c) => (c.stateBackend.runRoleArns = "arn:aws:iam::111111111111:role/tfc"))).toEqual([
      "stateBackend.runRoleArns: must map each account id to the IAM role its workspaces' runs assume (dynamic credentials)",
    ]);
  });

  it("requires a run role for every account", () => {
    expect(problems((c) => delete c.stateBackend.runRoleArns["222222222222"])).toEqual([
      "stateBackend.runRoleArns: has no role for account 222222222222 (accounts[1]): its workspaces reach AWS only through the run role they assume (dynamic credentials)",
    ]);
  });

  it("refuses a run role of another account, and a role for an account not deployed", () => {
    expect(
      problems((c) => {
        c.stateBackend.runRoleArns["222222222222"] = "arn:aws:iam::111111111111:role/tfc";
        c.stateBackend.runRoleArns["333333333333"] = "arn:aws:iam::333333333333:role/tfc";
      }),
    ).toEqual([
      "stateBackend.runRoleArns.222222222222: must be a role in account 222222222222 (it is in 111111111111)",
      "stateBackend.runRoleArns.333333333333: names an account that accounts does not list",
    ]);
  });

  it("checks the shapes of runRoleArns, vcs and workspacesState", () => {
    expect(problems((c) => (c.stateBackend.runRoleArns["111111111111"] = "tfc"))).toEqual([
      "stateBackend.runRoleArns.111111111111: must be an IAM role ARN",
    ]);
    expect(problems((c) => (c.stateBackend.vcs = { identifier: "deploy", oauthTokenId: "token" }))).toEqual([
      "stateBackend.vcs.identifier: must be <organization>/<repository>, like acme/backup-actions",
      "stateBackend.vcs.oauthTokenId: must be an OAuth token id like ot-AbCd1234",
    ]);
    expect(problems((c) => (c.stateBackend.workspacesState = { bucket: "b", region: "us-east-1" }))).toEqual([
      "stateBackend.workspacesState.bucket: must be a valid S3 bucket name (3-63 lowercase letters, digits, dots, hyphens)",
    ]);
  });

  it("asks nothing of the kind with S3 state", () => {
    expect(() => parseConfig(valid())).not.toThrow();
  });
});

describe("config files", () => {
  const dir = mkdtempSync(path.join(tmpdir(), "ba-config-"));

  it("names the file and the JSON error when it is not JSON", () => {
    const file = path.join(dir, "broken.json");
    writeFileSync(file, "{ accounts: ");
    expect(() => loadConfig(file)).toThrow(
      new RegExp(`^Invalid configuration in ${file}:\\n  \\(root\\): not valid JSON: `),
    );
  });

  it("names a missing file", () => {
    expect(() => loadConfig(path.join(dir, "nope.json"))).toThrow(/\(root\): cannot read the file \(ENOENT\)/);
  });

  it("rejects a JSON value that is not an object", () => {
    expect(() => parseConfig([1], "x.json")).toThrow(
      "Invalid configuration in x.json:\n  (root): must be a JSON object",
    );
  });

  it("formats key paths the way users write them", () => {
    expect(formatPath(["accounts", 0, "regions", 2])).toBe("accounts[0].regions[2]");
    expect(formatPath([])).toBe("");
  });
});
