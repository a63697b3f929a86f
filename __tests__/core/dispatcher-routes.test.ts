import { parseDispatcherRoutes } from "../../core/dispatcher-routes";
import type { IntakeConfig } from "../../core/intake-config";

const config: IntakeConfig = {
  accounts: [
    { id: "111111111111", regions: ["us-west-2", "us-east-1"] },
    { id: "222222222222", regions: ["us-east-1"] },
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
  JSON.stringify({ account: "111111111111", region: "us-west-2", dispatchers: { "us-west-2": dispatcher("us-west-2"), "us-east-1": dispatcher("us-east-1") }, ...overrides });

describe("parseDispatcherRoutes (BACKUP_ACTIONS_DISPATCHERS)", () => {
  it("reads the starter's own account and region and a dispatcher per deployed region of that account", () => {
    expect(parseDispatcherRoutes(routes(), config)).toEqual({
      account: "111111111111",
      region: "us-west-2",
      dispatchers: { "us-west-2": dispatcher("us-west-2"), "us-east-1": dispatcher("us-east-1") },
    });
  });

  it("refuses a missing, empty or non-JSON setting", () => {
    expect(() => parseDispatcherRoutes(undefined, config)).toThrow("BACKUP_ACTIONS_DISPATCHERS is not set");
    expect(() => parseDispatcherRoutes(" ", config)).toThrow("BACKUP_ACTIONS_DISPATCHERS is not set");
    expect(() => parseDispatcherRoutes("{", config)).toThrow(/^BACKUP_ACTIONS_DISPATCHERS is not valid JSON: /);
  });

  it("refuses a bad shape, naming each key", () => {
    expect(() => parseDispatcherRoutes(routes({ account: "1", dispatchers: { "us-west-2": { ...dispatcher("us-west-2"), placementCount: 0 } } }), config)).toThrow(
      "BACKUP_ACTIONS_DISPATCHERS is invalid: account: must be 12 digits; dispatchers.us-west-2.placementCount: Too small: expected number to be >=1",
    );
    expect(() => parseDispatcherRoutes(routes({ dispatchers: { "us-west-2": { ...dispatcher("us-west-2"), stateMachineArn: "arn:aws:lambda:us-west-2:111111111111:function:x" } } }), config)).toThrow(
      "BACKUP_ACTIONS_DISPATCHERS is invalid: dispatchers.us-west-2.stateMachineArn: must be a state machine ARN",
    );
  });

  it("refuses routes that do not cover exactly the deployed regions of the account", () => {
    expect(() => parseDispatcherRoutes(routes({ dispatchers: { "us-west-2": dispatcher("us-west-2") } }), config)).toThrow(
      "BACKUP_ACTIONS_DISPATCHERS is invalid: dispatchers cover us-west-2, the config deploys us-east-1, us-west-2",
    );
    expect(() => parseDispatcherRoutes(routes({ account: "333333333333" }), config)).toThrow(/account 333333333333 is not in the intake config/);
  });

  it("refuses a dispatcher ARN outside its region or the account, and routes without the own region", () => {
    expect(() => parseDispatcherRoutes(routes({ dispatchers: { "us-west-2": dispatcher("us-west-2"), "us-east-1": dispatcher("us-east-1", "222222222222") } }), config)).toThrow(
      "BACKUP_ACTIONS_DISPATCHERS is invalid: dispatchers.us-east-1: arn:aws:states:us-east-1:222222222222:stateMachine:backup-actions-dispatcher is not in 111111111111/us-east-1",
    );
    expect(() => parseDispatcherRoutes(routes({ region: "eu-west-1" }), config)).toThrow("BACKUP_ACTIONS_DISPATCHERS is invalid: no dispatcher for its own region eu-west-1");
  });
});
