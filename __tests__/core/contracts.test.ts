/**
 * The contracts between deployables (core/*-contract.ts, core/worker-job.ts): what the
 * stacks write is exactly what the Lambdas and the worker read back, and bad values are
 * refused naming the variable.
 */
import { RuntimeConfigError, InvalidEventError } from "../../core/errors";
import { janitorEnvironment, JANITOR_ENV, parseJanitorEnv } from "../../core/janitor-contract";
import { elapsedSeconds, parseVerifyRequest } from "../../core/verify-contract";
import {
  JobParamsError,
  parseJobParams,
  WORKER_COMMAND,
  WORKER_ENVIRONMENT,
  WORKER_JOB_PARAMETERS,
} from "../../core/worker-job";

describe("janitor environment", () => {
  it("reads back what the construct writes", () => {
    const settings = { pipelineTag: { key: "backup-actions:pipeline", value: "prod" }, maxAgeHours: 79 };
    const env = janitorEnvironment(settings);
    expect(env).toEqual({
      PIPELINE_TAG_KEY: "backup-actions:pipeline",
      PIPELINE_TAG_VALUE: "prod",
      MAX_AGE_HOURS: "79",
    });
    expect(parseJanitorEnv(env)).toEqual(settings);
  });

  it("carries the sweeps' settings when they are on: the table prefix and the dump's parameter path", () => {
    const settings = {
      pipelineTag: { key: "backup-actions:pipeline", value: "prod" },
      maxAgeHours: 79,
      tablePrefix: "prod-restore-",
      dumpParameterPath: "/backup-actions/prod/dump/",
    };
    const env = janitorEnvironment(settings);
    expect(env).toMatchObject({
      TEMP_TABLE_PREFIX: "prod-restore-",
      DUMP_PARAMETER_PATH: "/backup-actions/prod/dump/",
    });
    expect(parseJanitorEnv(env)).toEqual(settings);
  });

  it("names every missing or bad variable", () => {
    expect(() => parseJanitorEnv({ [JANITOR_ENV.maxAgeHours]: "soon" })).toThrow(
      new RuntimeConfigError(
        'the janitor\'s environment is invalid: PIPELINE_TAG_KEY is not set; PIPELINE_TAG_VALUE is not set; MAX_AGE_HOURS must be a positive number of hours (got "soon")',
      ),
    );
    expect(() => parseJanitorEnv({ PIPELINE_TAG_KEY: "k", PIPELINE_TAG_VALUE: "v", MAX_AGE_HOURS: "0" })).toThrow(
      /MAX_AGE_HOURS must be a positive/,
    );
  });
});

describe("verify payload", () => {
  it("takes the archive URL (and the recovery point, for the logs)", () => {
    expect(parseVerifyRequest({ archiveUrl: "s3://b/p/", recoveryPointArn: "arn:x" })).toEqual({
      archiveUrl: "s3://b/p/",
      recoveryPointArn: "arn:x",
    });
    expect(parseVerifyRequest({ archiveUrl: "s3://b/p/" })).toEqual({ archiveUrl: "s3://b/p/" });
  });

  it("takes the workflow and the child's output, for the workflow's verifier", () => {
    expect(
      parseVerifyRequest({ archiveUrl: "s3://b/p/", workflow: "rds", export: { outcome: "EXPORTED", parquet: "x" } }),
    ).toEqual({ archiveUrl: "s3://b/p/", workflow: "rds", export: { outcome: "EXPORTED", parquet: "x" } });
  });

  it("refuses a workflow it does not know and an export that is not an object", () => {
    expect(() => parseVerifyRequest({ archiveUrl: "s3://b/p/", workflow: "s3" })).toThrow(
      new InvalidEventError('VerifyArchive: workflow "s3" is not one of ebs, rds, aurora, dynamodb'),
    );
    for (const bad of [null, "x", [1]]) {
      expect(() => parseVerifyRequest({ archiveUrl: "s3://b/p/", export: bad })).toThrow(
        new InvalidEventError("VerifyArchive: export, when given, must be the child's output object"),
      );
    }
  });

  it("takes the execution's start time ($$.Execution.StartTime), with or without a fraction of a second", () => {
    for (const t of ["2026-12-03T09:47:12.418Z", "2026-12-03T09:47:12Z"]) {
      expect(parseVerifyRequest({ archiveUrl: "s3://b/p/", executionStartTime: t })).toEqual({
        archiveUrl: "s3://b/p/",
        executionStartTime: t,
      });
    }
  });

  it("refuses an executionStartTime that is not an ISO 8601 UTC time, naming it", () => {
    for (const bad of [
      null,
      1764755232418,
      "yesterday",
      "2026-12-03 09:47:12Z",
      "2026-12-03T09:47:12+01:00",
      "2026-13-40T09:47:12Z",
    ]) {
      expect(() => parseVerifyRequest({ archiveUrl: "s3://b/p/", executionStartTime: bad })).toThrow(
        new InvalidEventError(
          `VerifyArchive: executionStartTime, when given, must be an ISO 8601 UTC time ($$.Execution.StartTime), got ${JSON.stringify(bad)}`,
        ),
      );
    }
  });

  it("refuses a payload without archiveUrl", () => {
    for (const bad of [null, "s3://b/p/", {}, { archiveUrl: 7 }]) {
      expect(() => parseVerifyRequest(bad)).toThrow(
        new InvalidEventError("VerifyArchive: the payload needs archiveUrl"),
      );
    }
  });
});

describe("worker job", () => {
  const defaults = { compressionLevel: 3, concurrency: 4, directRead: { requestsPerSecond: 500, parallelism: 32 } };

  it("the job definition's command, with Batch's Ref:: substitution, parses back into the job", () => {
    const submitted = {
      volumeId: "vol-0123456789abcdef0",
      targetUrl: "s3://archive/ebs/1/",
      compressionLevel: "7",
      snapshotId: "",
      readPath: "volume",
    };
    const argv = WORKER_COMMAND.map((a) =>
      a.startsWith("Ref::") ? submitted[a.slice(5) as keyof typeof WORKER_JOB_PARAMETERS] : a,
    );
    expect(parseJobParams(argv, {}, defaults)).toEqual({
      volumeId: "vol-0123456789abcdef0",
      target: "s3://archive/ebs/1/",
      snapshotId: undefined,
      compressionLevel: 7,
      concurrency: 4,
      attachTimeoutSeconds: 600,
      attempt: 1,
      readPath: "volume",
    });
  });

  it("every Ref:: of the command is a job parameter", () => {
    const refs = WORKER_COMMAND.filter((a) => a.startsWith("Ref::")).map((a) => a.slice(5));
    expect(refs.sort()).toEqual(Object.keys(WORKER_JOB_PARAMETERS).sort());
  });

  it("reads the job definition's environment names", () => {
    const env = {
      [WORKER_ENVIRONMENT.volumeId]: "vol-0aaaaaaaaaaaaaaaa",
      [WORKER_ENVIRONMENT.target]: "s3://bkt/p/",
      [WORKER_ENVIRONMENT.uploadConcurrency]: "9",
    };
    expect(parseJobParams([], env, defaults)).toMatchObject({ volumeId: "vol-0aaaaaaaaaaaaaaaa", concurrency: 9 });
    expect(() => parseJobParams([], { ...env, [WORKER_ENVIRONMENT.attachTimeoutSeconds]: "1" }, defaults)).toThrow(
      new JobParamsError('BACKUP_ACTIONS_ATTACH_TIMEOUT_SECONDS must be an integer from 10 to 7200, got "1"'),
    );
  });
});

describe("elapsedSeconds (the outcome events' durationSeconds)", () => {
  const start = "2026-12-03T09:47:12.418Z";
  const at = (ms: number) => new Date(Date.parse(start) + ms);

  it("counts the seconds since the start, to 0.1 s", () => {
    expect(elapsedSeconds(start, at(0))).toBe(0);
    expect(elapsedSeconds(start, at(1))).toBe(0);
    expect(elapsedSeconds(start, at(49))).toBe(0);
    expect(elapsedSeconds(start, at(50))).toBe(0.1);
    expect(elapsedSeconds(start, at(1_234))).toBe(1.2);
    expect(elapsedSeconds(start, at(4_717_951))).toBe(4718);
    // Two days, the longest an export can run, keeps its tenths.
    expect(elapsedSeconds(start, at(172_799_960))).toBe(172800);
    expect(elapsedSeconds(start, at(172_799_849))).toBe(172799.8);
  });

  it("is never negative: a clock behind Step Functions' counts as no time", () => {
    expect(elapsedSeconds(start, at(-1))).toBe(0);
    expect(elapsedSeconds(start, at(-2_500))).toBe(0);
    expect(Object.is(elapsedSeconds(start, at(-40)), -0)).toBe(false);
  });

  it("reads a start without a fraction of a second", () => {
    expect(elapsedSeconds("2026-12-03T09:47:12Z", new Date("2026-12-03T09:48:13.5Z"))).toBe(61.5);
  });

  it("refuses a start that is not a time", () => {
    expect(() => elapsedSeconds("soon", at(0))).toThrow(new InvalidEventError('elapsedSeconds: "soon" is not a time'));
  });
});
