/**
 * parseJobParams, the one reader of the worker's job (flags from the job definition's `Ref::`
 * substitution, else the environment): what it takes, what it refuses, and the error it refuses with.
 * Written from the mutation run's survivors (testing/README.md, Mutation testing).
 */
import { JobParamsError, parseJobParams, WORKER_ENVIRONMENT as E } from "../../core/worker-job";

const defaults = { compressionLevel: 3, concurrency: 4, directRead: { requestsPerSecond: 500, parallelism: 32 } };
const VOL = "vol-0123456789abcdef0";
const TARGET = "s3://archive/ebs/1/";
const base = ["--volume-id", VOL, "--to", TARGET];
const parse = (argv: string[], env: NodeJS.ProcessEnv = {}) => parseJobParams(argv, env, defaults);

describe("parseJobParams", () => {
  it("takes a flag over the environment variable of the same setting", () => {
    const env = {
      [E.volumeId]: "vol-0aaaaaaaaaaaaaaaa",
      [E.target]: "s3://other/x/",
      [E.snapshotId]: "snap-env",
      [E.compressionLevel]: "9",
      [E.uploadConcurrency]: "9",
    };
    expect(
      parse([...base, "--snapshot-id", "snap-flag", "--compression-level", "5", "--concurrency", "2"], env),
    ).toEqual({
      volumeId: VOL,
      target: TARGET,
      snapshotId: "snap-flag",
      compressionLevel: 5,
      concurrency: 2,
      attachTimeoutSeconds: 600,
      attempt: 1,
      readPath: "volume",
    });
  });

  it("reads every setting from the environment when no flag gives it", () => {
    const env = {
      [E.volumeId]: VOL,
      [E.target]: TARGET,
      [E.snapshotId]: "snap-0123",
      [E.compressionLevel]: "19",
      [E.uploadConcurrency]: "64",
      [E.attachTimeoutSeconds]: "7200",
    };
    expect(parse([], env)).toEqual({
      volumeId: VOL,
      target: TARGET,
      snapshotId: "snap-0123",
      compressionLevel: 19,
      concurrency: 64,
      attachTimeoutSeconds: 7200,
      attempt: 1,
      readPath: "volume",
    });
  });

  it("a direct read: the snapshot is required, the budget comes from the job definition's environment", () => {
    const direct = [...base, "--read-path", "direct", "--snapshot-id", "snap-0123456789abcdef0"];
    expect(
      parse(direct, { [E.directReadRequestsPerSecond]: "75", [E.directReadParallelism]: "8", [E.attempt]: "2" }),
    ).toMatchObject({
      readPath: "direct",
      snapshotId: "snap-0123456789abcdef0",
      attempt: 2,
      directRead: { requestsPerSecond: 75, parallelism: 8 },
    });
    expect(parse(direct)).toMatchObject({ directRead: { requestsPerSecond: 500, parallelism: 32 } });
    // Batch substitutes a parameter the submission left out with the job definition's default: ""
    expect(parse([...base, "--read-path", "", "--snapshot-id", ""])).toMatchObject({
      readPath: "volume",
      snapshotId: undefined,
    });
    expect(parse(base).directRead).toBeUndefined();
  });

  it("refuses a direct read without a snapshot id, an unknown read path and an out-of-range budget", () => {
    expect(() => parse([...base, "--read-path", "direct", "--snapshot-id", ""])).toThrow(
      new JobParamsError('--read-path direct needs the snapshot to read: --snapshot-id snap-..., got ""'),
    );
    expect(() => parse([...base, "--read-path", "lazy"])).toThrow(
      new JobParamsError('--read-path must be "volume" or "direct", got "lazy"'),
    );
    expect(() =>
      parse([...base, "--read-path", "direct", "--snapshot-id", "snap-0123456789abcdef0"], {
        [E.directReadRequestsPerSecond]: "0",
      }),
    ).toThrow(new JobParamsError('BACKUP_ACTIONS_DIRECT_READ_RPS must be an integer from 1 to 10000, got "0"'));
  });

  it("a direct read with a lease table: the budget, the table and Batch's job id, or an error naming the variable", () => {
    const direct = [...base, "--read-path", "direct", "--snapshot-id", "snap-0123456789abcdef0"];
    const env = {
      [E.directReadRequestsPerSecond]: "18",
      [E.directReadBudget]: "600",
      [E.directReadLeaseTable]: "ba-direct-read-leases",
      [E.jobId]: "0b1c2d3e-job",
    };
    expect(parse(direct, env).directRead).toEqual({
      requestsPerSecond: 18,
      parallelism: 32,
      lease: { table: "ba-direct-read-leases", budget: 600, jobId: "0b1c2d3e-job" },
    });
    expect(parse(direct, { ...env, [E.directReadLeaseTable]: "" }).directRead).toEqual({
      requestsPerSecond: 18,
      parallelism: 32,
    });
    expect(() => parse(direct, { ...env, [E.directReadBudget]: "0" })).toThrow(
      new JobParamsError(
        'BACKUP_ACTIONS_DIRECT_READ_BUDGET must be an integer from 1 to 10000 with BACKUP_ACTIONS_DIRECT_READ_LEASE_TABLE, got "0"',
      ),
    );
    expect(() => parse(direct, { ...env, [E.directReadLeaseTable]: "a b" })).toThrow(
      new JobParamsError('BACKUP_ACTIONS_DIRECT_READ_LEASE_TABLE must be a DynamoDB table name, got "a b"'),
    );
    expect(() => parse(direct, { ...env, [E.jobId]: undefined })).toThrow(
      new JobParamsError(
        "BACKUP_ACTIONS_DIRECT_READ_LEASE_TABLE needs AWS_BATCH_JOB_ID (Batch sets it): the key of the job's lease",
      ),
    );
  });

  it("uses the defaults for a setting that is unset or empty", () => {
    const env = { [E.compressionLevel]: "", [E.uploadConcurrency]: "", [E.attachTimeoutSeconds]: "" };
    expect(parse(base, env)).toMatchObject({ compressionLevel: 3, concurrency: 4, attachTimeoutSeconds: 600 });
  });

  it("accepts the bounds of every number and refuses one past them, naming the setting", () => {
    expect(
      parse([...base, "--compression-level", "1", "--concurrency", "1"], { [E.attachTimeoutSeconds]: "10" }),
    ).toMatchObject({ compressionLevel: 1, concurrency: 1, attachTimeoutSeconds: 10 });
    const refused: Array<[string[], NodeJS.ProcessEnv, string]> = [
      [["--compression-level", "0"], {}, 'compression level must be an integer from 1 to 19, got "0"'],
      [["--compression-level", "20"], {}, 'compression level must be an integer from 1 to 19, got "20"'],
      [["--compression-level", "2.5"], {}, 'compression level must be an integer from 1 to 19, got "2.5"'],
      [["--concurrency", "0"], {}, 'concurrency must be an integer from 1 to 64, got "0"'],
      [["--concurrency", "65"], {}, 'concurrency must be an integer from 1 to 64, got "65"'],
      [[], { [E.attachTimeoutSeconds]: "9" }, `${E.attachTimeoutSeconds} must be an integer from 10 to 7200, got "9"`],
      [
        [],
        { [E.attachTimeoutSeconds]: "7201" },
        `${E.attachTimeoutSeconds} must be an integer from 10 to 7200, got "7201"`,
      ],
    ];
    for (const [flags, env, message] of refused) {
      expect(() => parse([...base, ...flags], env)).toThrow(new JobParamsError(message));
    }
  });

  it("refuses a missing or malformed volume id, naming the flag and the variable", () => {
    const message = (got: string) => `a volume id (--volume-id or ${E.volumeId}) is required, got "${got}"`;
    expect(() => parse(["--to", TARGET])).toThrow(new JobParamsError(message("")));
    for (const bad of [
      "vol-0123456",
      "vol-0123456789abcdef01",
      "vol-0123456789ABCDEF0",
      "x-vol-01234567",
      "vol-01234567 ",
    ]) {
      expect(() => parse(["--volume-id", bad, "--to", TARGET])).toThrow(new JobParamsError(message(bad)));
    }
    expect(parse(["--volume-id", "vol-01234567", "--to", TARGET]).volumeId).toBe("vol-01234567");
  });

  it("refuses a missing target, naming the flag and the variable, and a target that is not a location", () => {
    expect(() => parse(["--volume-id", VOL])).toThrow(
      new JobParamsError(`a target (--to or ${E.target}, s3://BUCKET/PREFIX/) is required`),
    );
    expect(() => parse(["--volume-id", VOL], { [E.target]: "" })).toThrow(JobParamsError);
    expect(() => parse(["--volume-id", VOL, "--to", "s3://Not_A_Bucket/x/"])).toThrow(/bucket/i);
  });

  it("throws a JobParamsError, named so in the log line (main.ts exits 2 on it: a bad job, not a failed export)", () => {
    let thrown: unknown;
    try {
      parse(["--to", TARGET]);
    } catch (e) {
      thrown = e;
    }
    expect(thrown).toBeInstanceOf(JobParamsError);
    expect((thrown as Error).name).toBe("JobParamsError");
  });

  it("refuses a flag it does not know", () => {
    expect(() => parse([...base, "--compression", "3"])).toThrow(/--compression/);
  });
});
