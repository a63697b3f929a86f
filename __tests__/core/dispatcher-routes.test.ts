import { parseDispatcherRoutes } from "../../core/dispatcher-routes";
import type { IntakeConfig } from "../../core/intake-config";

const config: IntakeConfig = {
  accounts: [
    { id: "111111111111", regions: ["us-west-2", "us-east-1"] },
    { id: "222222222222", regions: ["us-east-1"] },
    { id: "333333333333", regions: ["us-gov-west-1"] },
  ],
  backupVaults: ["Default"],
  exports: { ebs: true, rds: true, aurora: true, dynamodb: true },
};

const dispatcher = (region: string, account = "111111111111") => ({
  stateMachineArn: `arn:aws:states:${region}:${account}:stateMachine:backup-actions-dispatcher`,
  archiveBucket: `backup-actions-archive-${account}-${region}`,
  placementCount: 2,
});

const routes = (overrides: Record<string, unknown> = {}) =>
  JSON.stringify({
    account: "111111111111",
    region: "us-west-2",
    name: "backup-actions",
    placements: { "us-west-2": 2, "us-east-1": 2 },
    ...overrides,
  });

describe("parseDispatcherRoutes (BACKUP_ACTIONS_DISPATCHERS)", () => {
  it("derives the dispatcher ARN and archive bucket of each deployed region of the account from the config's name", () => {
    expect(parseDispatcherRoutes(routes(), config)).toEqual({
      account: "111111111111",
      region: "us-west-2",
      dispatchers: { "us-west-2": dispatcher("us-west-2"), "us-east-1": dispatcher("us-east-1") },
    });
  });

  it("keeps each region's placement count", () => {
    expect(
      parseDispatcherRoutes(routes({ placements: { "us-west-2": 3, "us-east-1": 1 } }), config).dispatchers,
    ).toEqual({
      "us-west-2": { ...dispatcher("us-west-2"), placementCount: 3 },
      "us-east-1": { ...dispatcher("us-east-1"), placementCount: 1 },
    });
  });

  it("names the ARNs in the partition of their region", () => {
    expect(
      parseDispatcherRoutes(
        routes({ account: "333333333333", region: "us-gov-west-1", name: "ba", placements: { "us-gov-west-1": 2 } }),
        config,
      ).dispatchers,
    ).toEqual({
      "us-gov-west-1": {
        stateMachineArn: "arn:aws-us-gov:states:us-gov-west-1:333333333333:stateMachine:ba-dispatcher",
        archiveBucket: "ba-archive-333333333333-us-gov-west-1",
        placementCount: 2,
      },
    });
  });

  it("refuses a missing, empty or non-JSON setting", () => {
    expect(() => parseDispatcherRoutes(undefined, config)).toThrow("BACKUP_ACTIONS_DISPATCHERS is not set");
    expect(() => parseDispatcherRoutes(" ", config)).toThrow("BACKUP_ACTIONS_DISPATCHERS is not set");
    expect(() => parseDispatcherRoutes("{", config)).toThrow(/^BACKUP_ACTIONS_DISPATCHERS is not valid JSON: /);
  });

  it("refuses a bad account or placement count, naming each key", () => {
    expect(() =>
      parseDispatcherRoutes(routes({ account: "1", placements: { "us-west-2": 0, "us-east-1": 2 } }), config),
    ).toThrow(
      "BACKUP_ACTIONS_DISPATCHERS is invalid: account: must be 12 digits; placements.us-west-2: Too small: expected number to be >=1",
    );
  });

  it("refuses a name the config would refuse (the dispatchers and buckets are named after it)", () => {
    expect(() => parseDispatcherRoutes(routes({ name: "Backup_Actions" }), config)).toThrow(
      "BACKUP_ACTIONS_DISPATCHERS is invalid: name: must be config.name (2-20 lowercase letters, digits or '-', starting with a letter)",
    );
  });

  it("refuses unknown keys (the written-out form of earlier versions included)", () => {
    expect(() =>
      parseDispatcherRoutes(routes({ dispatchers: { "us-west-2": dispatcher("us-west-2") } }), config),
    ).toThrow('BACKUP_ACTIONS_DISPATCHERS is invalid: (root): Unrecognized key: "dispatchers"');
  });

  it("refuses placements that do not cover exactly the deployed regions of the account", () => {
    expect(() => parseDispatcherRoutes(routes({ placements: { "us-west-2": 2 } }), config)).toThrow(
      "BACKUP_ACTIONS_DISPATCHERS is invalid: placements cover us-west-2, the config deploys us-east-1, us-west-2",
    );
  });

  it("refuses an account the intake config does not list", () => {
    expect(() => parseDispatcherRoutes(routes({ account: "444444444444" }), config)).toThrow(
      "BACKUP_ACTIONS_DISPATCHERS is invalid: account 444444444444 is not in the intake config",
    );
  });

  it("refuses routes without the starter's own region", () => {
    expect(() => parseDispatcherRoutes(routes({ region: "eu-west-1" }), config)).toThrow(
      "BACKUP_ACTIONS_DISPATCHERS is invalid: placements have no entry for its own region eu-west-1",
    );
  });
});
