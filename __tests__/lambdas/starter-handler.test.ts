import { spawnSync } from "node:child_process";
import * as path from "node:path";
import { bundleLambda } from "../../stacks/constructs/lambda-bundle";
import { loadEvent } from "../helpers/events";

const INTAKE = JSON.stringify({
  accounts: [{ id: "111111111111", regions: ["us-east-1"] }],
  backupVaults: ["Default"],
  exports: { ebs: true, rds: true, aurora: true, dynamodb: true },
});
const ARN = "arn:aws:states:us-east-1:111111111111:stateMachine:backup-actions-dispatcher";

const DEST_ENV = { ARCHIVE_BUCKET: "backup-actions-archive-111111111111-us-east-1", PLACEMENT_COUNT: "2" };

function loadHandler(env: Record<string, string | undefined>) {
  const saved = { ...process.env };
  Object.assign(process.env, env);
  for (const [k, v] of Object.entries(env)) if (v === undefined) delete process.env[k];
  try {
    let mod: typeof import("../../lambdas/starter/handler") | undefined;
    jest.isolateModules(() => {
      mod = require("../../lambdas/starter/handler");
    });
    return mod!;
  } finally {
    process.env = saved;
  }
}

describe("starter handler (cold start)", () => {
  it("refuses to start without the dispatcher ARN", () => {
    expect(() => loadHandler({ DISPATCHER_STATE_MACHINE_ARN: undefined, BACKUP_ACTIONS_INTAKE_CONFIG: INTAKE, ...DEST_ENV })).toThrow("DISPATCHER_STATE_MACHINE_ARN is not set");
  });

  it("refuses to start without its archive bucket or with a bad placement count", () => {
    expect(() => loadHandler({ DISPATCHER_STATE_MACHINE_ARN: ARN, BACKUP_ACTIONS_INTAKE_CONFIG: INTAKE, ...DEST_ENV, ARCHIVE_BUCKET: undefined })).toThrow("ARCHIVE_BUCKET is not set");
    expect(() => loadHandler({ DISPATCHER_STATE_MACHINE_ARN: ARN, BACKUP_ACTIONS_INTAKE_CONFIG: INTAKE, ...DEST_ENV, PLACEMENT_COUNT: "0" })).toThrow("PLACEMENT_COUNT must be a positive integer");
  });

  it("refuses a bad intake config, naming the problem", () => {
    expect(() => loadHandler({ DISPATCHER_STATE_MACHINE_ARN: ARN, BACKUP_ACTIONS_INTAKE_CONFIG: undefined, ...DEST_ENV })).toThrow("BACKUP_ACTIONS_INTAKE_CONFIG is not set");
    expect(() => loadHandler({ DISPATCHER_STATE_MACHINE_ARN: ARN, BACKUP_ACTIONS_INTAKE_CONFIG: "{}", ...DEST_ENV })).toThrow(/BACKUP_ACTIONS_INTAKE_CONFIG is invalid: accounts: /);
  });

  it("handles a batch of events it skips without calling AWS", async () => {
    const { handler } = loadHandler({ DISPATCHER_STATE_MACHINE_ARN: ARN, BACKUP_ACTIONS_INTAKE_CONFIG: INTAKE, ...DEST_ENV });
    const write = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
    try {
      const result = await handler({ Records: [{ messageId: "m1", body: JSON.stringify(loadEvent("doc-backup-job-failed.json")) }] });
      expect(result).toEqual({ batchItemFailures: [] });
    } finally {
      write.mockRestore();
    }
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
      env: { ...process.env, DISPATCHER_STATE_MACHINE_ARN: ARN, BACKUP_ACTIONS_INTAKE_CONFIG: INTAKE, ...DEST_ENV, AWS_REGION: "us-east-1" },
      encoding: "utf8",
    });
    expect(run.status).toBe(0);
    // Powertools writes INFO to stdout and WARN/ERROR to stderr.
    const out = run.stdout.trim().split("\n");
    expect(out.pop()).toBe('RESULT {"batchItemFailures":[]}');
    expect(out.map((l) => JSON.parse(l)).map((l) => [l.level, l.message, l.messageId, l.service])).toEqual([["INFO", "skipped", "m1", "backup-actions-starter"]]);
    const err = run.stderr.trim().split("\n").filter((l) => l.startsWith("{"));
    expect(err.map((l) => JSON.parse(l)).map((l) => [l.level, l.message, l.messageId])).toEqual([["WARN", "dropped: the message body is not JSON", "m2"]]);
  });
});
