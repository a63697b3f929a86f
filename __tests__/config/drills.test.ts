/** Config `drills` (README "Restore drills"): defaults, and one test per rule with its exact message. */
import { ConfigError, parseConfig } from "../../config/load";

const valid = (drills?: unknown, exports?: unknown) => ({
  accounts: [{ id: "111111111111", regions: ["us-east-1"] }],
  tags: { project: "backup-actions" },
  stateBackend: { type: "s3", bucket: "my-state-bucket", region: "us-east-1", keyPrefix: "ba" },
  ...(drills === undefined ? {} : { drills }),
  ...(exports === undefined ? {} : { exports }),
});

function problemsOf(drills: unknown, exports?: unknown): string[] {
  try {
    parseConfig(valid(drills, exports));
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  throw new Error("expected the config to be rejected");
}

describe("config drills", () => {
  it("is off by default, monthly, three archives besides the newest of each type, Glacier skipped", () => {
    expect(parseConfig(valid()).drills).toEqual({
      enabled: false,
      schedule: "cron(0 3 1 * ? *)",
      sampleSize: 3,
      glacier: "skip",
      restoreDumps: false,
    });
    expect(parseConfig(valid({ enabled: true, glacier: "restore" })).drills).toMatchObject({ glacier: "restore" });
  });

  it.each(["rate(1 day)", "rate(30 days)", "rate(12 hours)", "cron(0 3 1 * ? *)", "cron(15 2 ? * MON *)"])(
    "accepts the schedule %s",
    (schedule) => expect(parseConfig(valid({ schedule })).drills.schedule).toBe(schedule),
  );

  const SCHEDULE =
    'drills.schedule: must be an EventBridge schedule expression: "rate(N unit)" (unit minute(s), hour(s) or day(s), singular for 1) or "cron(min hour day-of-month month day-of-week year)"';
  it.each(["monthly", "rate(1 days)", "rate(2 day)", "rate(0 days)", "cron(0 3 1 * ?)", "rate(1 month)"])(
    "refuses the schedule %s",
    (schedule) => expect(problemsOf({ schedule })).toEqual([SCHEDULE]),
  );

  it("refuses a sample size outside 0-100 or not whole", () => {
    expect(problemsOf({ sampleSize: 101 })).toEqual(["drills.sampleSize: must be from 0 to 100 archives"]);
    expect(problemsOf({ sampleSize: 1.5 })).toEqual(["drills.sampleSize: must be a whole number"]);
  });

  it("refuses another Glacier mode, a string for enabled and an unknown key", () => {
    expect(problemsOf({ glacier: "expedited" })).toEqual(['drills.glacier: must be "skip" or "restore"']);
    expect(problemsOf({ enabled: "true" })).toEqual([
      'drills.enabled: must be true or false (a JSON boolean, not a string like "false")',
    ]);
    expect(problemsOf({ enabeld: true })[0]).toMatch(/^drills\.enabeld: unknown key/);
  });

  it("refuses a drill with no archive the worker verifies (no EBS, databases as Parquet or off)", () => {
    expect(
      problemsOf({ enabled: true }, { ebs: false, rds: { format: "parquet" }, aurora: false, dynamodb: true }),
    ).toEqual([
      'drills.enabled: is true, but no archive the drill can verify is exported: switch on exports.ebs, or exports.rds / exports.aurora with format "dump" or "both" (Parquet and DynamoDB exports are checked by the verify Lambda only)',
    ]);
    // one dump format is enough
    expect(
      parseConfig(valid({ enabled: true }, { ebs: false, rds: { format: "both" }, aurora: false })).drills.enabled,
    ).toBe(true);
    // and off, nothing is checked
    expect(parseConfig(valid({ enabled: false }, { ebs: false, rds: false, aurora: false })).drills.enabled).toBe(
      false,
    );
  });

  describe("restoreDumps", () => {
    it("is a JSON boolean, off by default, on with a drill of native dumps", () => {
      expect(parseConfig(valid({ enabled: true, restoreDumps: true })).drills.restoreDumps).toBe(true);
      expect(
        parseConfig(valid({ enabled: true, restoreDumps: true }, { ebs: false, aurora: { format: "both" } })).drills
          .restoreDumps,
      ).toBe(true);
      expect(problemsOf({ enabled: true, restoreDumps: "yes" })).toEqual([
        'drills.restoreDumps: must be true or false (a JSON boolean, not a string like "false")',
      ]);
    });

    it("refuses it without the drill", () => {
      expect(problemsOf({ restoreDumps: true })).toEqual([
        "drills.restoreDumps: is true, but drills.enabled is not: the scratch restore is a step of the restore drill",
      ]);
    });

    it("refuses it when no native dump is exported (EBS only, databases as Parquet)", () => {
      expect(
        problemsOf({ enabled: true, restoreDumps: true }, { ebs: true, rds: { format: "parquet" }, aurora: false }),
      ).toEqual([
        'drills.restoreDumps: is true, but no native dump is exported: it needs exports.rds or exports.aurora with format "dump" or "both"',
      ]);
    });
  });
});
