/**
 * The contracts between deployables (core/*-contract.ts, core/worker-job.ts): what the
 * stacks write is exactly what the Lambdas and the worker read back, and bad values are
 * refused naming the variable.
 */
import { RuntimeConfigError, InvalidEventError } from "../../core/errors";
import { janitorEnvironment, JANITOR_ENV, parseJanitorEnv } from "../../core/janitor-contract";
import { parseVerifyRequest } from "../../core/verify-contract";
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
