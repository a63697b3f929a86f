import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { bundleLambda } from "../../stacks/constructs/lambda-bundle";
import { METRICS } from "../../core/metrics";
import { loadEvent } from "../helpers/events";

const INTAKE = JSON.stringify({
  accounts: [{ id: "111111111111", regions: ["us-east-1"] }],
  backupVaults: ["Default"],
  exports: { ebs: true, rds: true, aurora: true, dynamodb: true },
});
const DISPATCHERS = JSON.stringify({
  account: "111111111111",
  region: "us-east-1",
  name: "backup-actions",
  placements: { "us-east-1": 2 },
});

const PIPELINE = "pipeline-111111111111-us-east-1";

function loadHandler(env: Record<string, string | undefined>) {
  const saved = { ...process.env };
  Object.assign(process.env, { BACKUP_ACTIONS_PIPELINE: PIPELINE, ...env });
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    let mod: typeof import("../../lambdas/starter/handler") | undefined;
    jest.isolateModules(() => {
      // eslint-disable-next-line @typescript-eslint/no-require-imports -- jest.isolateModules needs a synchronous load
      mod = require("../../lambdas/starter/handler");
    });
    return mod!;
  } finally {
    process.env = saved;
  }
}

describe("starter handler (cold start)", () => {
  it("refuses to start without its dispatcher routes", () => {
    expect(() => loadHandler({ BACKUP_ACTIONS_DISPATCHERS: undefined, BACKUP_ACTIONS_INTAKE_CONFIG: INTAKE })).toThrow(
      "BACKUP_ACTIONS_DISPATCHERS is not set",
    );
  });

  it("refuses routes that do not match the intake config (a bad placement count, another region)", () => {
    const routes = JSON.parse(DISPATCHERS);
    routes.placements["us-east-1"] = 0;
    expect(() =>
      loadHandler({ BACKUP_ACTIONS_DISPATCHERS: JSON.stringify(routes), BACKUP_ACTIONS_INTAKE_CONFIG: INTAKE }),
    ).toThrow(/^BACKUP_ACTIONS_DISPATCHERS is invalid: placements\.us-east-1: /);
    expect(() =>
      loadHandler({
        BACKUP_ACTIONS_DISPATCHERS: DISPATCHERS.replaceAll("us-east-1", "us-west-2"),
        BACKUP_ACTIONS_INTAKE_CONFIG: INTAKE,
      }),
    ).toThrow("BACKUP_ACTIONS_DISPATCHERS is invalid: placements cover us-west-2, the config deploys us-east-1");
  });

  it("refuses a bad intake config, naming the problem", () => {
    expect(() =>
      loadHandler({ BACKUP_ACTIONS_DISPATCHERS: DISPATCHERS, BACKUP_ACTIONS_INTAKE_CONFIG: undefined }),
    ).toThrow("BACKUP_ACTIONS_INTAKE_CONFIG is not set");
    expect(() => loadHandler({ BACKUP_ACTIONS_DISPATCHERS: DISPATCHERS, BACKUP_ACTIONS_INTAKE_CONFIG: "{}" })).toThrow(
      /BACKUP_ACTIONS_INTAKE_CONFIG is invalid: accounts: /,
    );
  });

  it("refuses to start without the metrics' Pipeline dimension", () => {
    expect(() =>
      loadHandler({
        BACKUP_ACTIONS_DISPATCHERS: DISPATCHERS,
        BACKUP_ACTIONS_INTAKE_CONFIG: INTAKE,
        BACKUP_ACTIONS_PIPELINE: undefined,
      }),
    ).toThrow("BACKUP_ACTIONS_PIPELINE is not set: the metrics' Pipeline dimension");
  });

  it("handles a batch of events it skips without calling AWS, and publishes what it counted as EMF", async () => {
    const { handler } = loadHandler({ BACKUP_ACTIONS_DISPATCHERS: DISPATCHERS, BACKUP_ACTIONS_INTAKE_CONFIG: INTAKE });
    const written: string[] = [];
    const write = jest.spyOn(process.stdout, "write").mockImplementation((c) => (written.push(String(c)), true));
    const errors = jest.spyOn(process.stderr, "write").mockImplementation(() => true);
    try {
      const result = await handler({
        Records: [
          { messageId: "m1", body: JSON.stringify(loadEvent("doc-backup-job-failed.json")) },
          { messageId: "m2", body: "not json" },
        ],
      });
      expect(result).toEqual({ batchItemFailures: [] });
    } finally {
      write.mockRestore();
      errors.mockRestore();
    }
    const emf = written
      .join("")
      .split("\n")
      .filter((l) => l.includes('"_aws"'))
      .map((l) => JSON.parse(l));
    // One line per dimension set: the batch's events, then each drop reason.
    expect(emf.map((l) => l._aws.CloudWatchMetrics[0])).toEqual([
      {
        Namespace: "BackupActions",
        Dimensions: [["service", "Pipeline"]],
        Metrics: [{ Name: METRICS.starterEventsReceived.name, Unit: "Count" }],
      },
      {
        Namespace: "BackupActions",
        Dimensions: [["service", "Pipeline", "Reason"]],
        Metrics: [{ Name: METRICS.starterEventsDropped.name, Unit: "Count" }],
      },
      {
        Namespace: "BackupActions",
        Dimensions: [["service", "Pipeline", "Reason"]],
        Metrics: [{ Name: METRICS.starterEventsDropped.name, Unit: "Count" }],
      },
    ]);
    expect(emf.map(({ _aws, ...values }) => values)).toEqual([
      { service: "backup-actions-starter", Pipeline: PIPELINE, StarterEventsReceived: 2 },
      { service: "backup-actions-starter", Pipeline: PIPELINE, Reason: "NotExportable", StarterEventsDropped: 1 },
      { service: "backup-actions-starter", Pipeline: PIPELINE, Reason: "NotJson", StarterEventsDropped: 1 },
    ]);
  });
});

describe("the bundled starter (what Lambda runs)", () => {
  it("loads and answers a batch from .gen/lambdas/starter/index.js", () => {
    const bundle = bundleLambda("starter");
    const script = `
      const { handler } = require(${JSON.stringify(path.join(bundle.dir, "index.js"))});
      handler({ Records: [{ messageId: "m1", body: process.argv[1] }, { messageId: "m2", body: "not json" }] })
        .then((r) => process.stdout.write("RESULT " + JSON.stringify(r) + "\\n"));
    `;
    const run = spawnSync(process.execPath, ["-e", script, JSON.stringify(loadEvent("doc-copy-job-running.json"))], {
      env: {
        ...process.env,
        BACKUP_ACTIONS_DISPATCHERS: DISPATCHERS,
        BACKUP_ACTIONS_INTAKE_CONFIG: INTAKE,
        BACKUP_ACTIONS_PIPELINE: PIPELINE,
        AWS_REGION: "us-east-1",
      },
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    // Powertools writes INFO to stdout and WARN/ERROR to stderr.
    const out = run.stdout.trim().split("\n");
    expect(out.pop()).toBe('RESULT {"batchItemFailures":[]}');
    const lines = out.map((l) => JSON.parse(l));
    expect(lines.filter((l) => !l._aws).map((l) => [l.level, l.message, l.messageId, l.service])).toEqual([
      ["INFO", "skipped", "m1", "backup-actions-starter"],
    ]);
    // The bundle's Powertools Metrics: the same EMF records as in-process.
    expect(lines.filter((l) => l._aws).map(({ _aws, ...values }) => values)).toEqual([
      { service: "backup-actions-starter", Pipeline: PIPELINE, StarterEventsReceived: 2 },
      { service: "backup-actions-starter", Pipeline: PIPELINE, Reason: "NotExportable", StarterEventsDropped: 1 },
      { service: "backup-actions-starter", Pipeline: PIPELINE, Reason: "NotJson", StarterEventsDropped: 1 },
    ]);
    const err = run.stderr
      .trim()
      .split("\n")
      .filter((l) => l.startsWith("{"));
    expect(err.map((l) => JSON.parse(l)).map((l) => [l.level, l.message, l.messageId])).toEqual([
      ["WARN", "dropped: the message body is not JSON", "m2"],
    ]);
  });
});
