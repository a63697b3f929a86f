/**
 * The flags of `dump-database` and `restore --to-database`: the one parser the CLI and the worker image's
 * entrypoint share (batch-worker/src/dump-job.ts), the target URL, and the password that never comes from
 * the command line: from the environment variable --password-env names, or the SSM parameter
 * --password-parameter names (the pipeline's dump job; read through SSM in __tests__/integration/rds-dump.test.ts).
 */
import { DEFAULT_PORTS } from "../../batch-worker/src/db-engine";
import { parseDumpJob, DUMP_USAGE, withPassword } from "../../batch-worker/src/dump-job";
import { commands, main } from "../../cli/main";
import { databaseTarget, passwordFrom } from "../../cli/worker-commands";
import { JobParamsError } from "../../core/worker-job";

const base = ["--engine", "postgres", "--host", "db", "--user", "u", "--password-env", "PW", "--to", "file:///tmp/x/"];

async function run(argv: string[]): Promise<{ code: number; err: string }> {
  const err: string[] = [];
  const o = jest.spyOn(process.stdout, "write").mockImplementation(() => true);
  const e = jest.spyOn(process.stderr, "write").mockImplementation((s) => (err.push(String(s)), true));
  try {
    return { code: await main(argv), err: err.join("") };
  } finally {
    o.mockRestore();
    e.mockRestore();
  }
}

describe("dump-database's flags", () => {
  it("are the same in the CLI and the worker image", () => {
    expect(commands["dump-database"]!.usage).toBe(DUMP_USAGE);
  });

  it("read the password from the named variable, the port from the engine", () => {
    const o = parseDumpJob([...base, "--database", "a", "--database", "b c"], { PW: "p w" });
    expect(o.connection).toEqual({ engine: "postgres", host: "db", port: 5432, user: "u", password: "p w" });
    expect(o.databases).toEqual(["a", "b c"]);
    expect(o.store.url).toBe("file:///tmp/x/");
    const m = parseDumpJob([...base.slice(2), "--engine", "mariadb", "--port", "3307"], { PW: "" });
    expect(m.connection).toMatchObject({ engine: "mariadb", port: 3307, password: "" });
    expect(parseDumpJob([...base.slice(2), "--engine", "mysql"], { PW: "x" }).connection.port).toBe(3306);
  });

  it("read the password from the SSM parameter --password-parameter names, not from the environment", async () => {
    const argv = [...base.slice(0, 6), "--password-parameter", "/backup-actions/p/dump/dump-1", ...base.slice(8)];
    const job = parseDumpJob(argv, { PW: "not this one" });
    expect(job.passwordParameter).toBe("/backup-actions/p/dump/dump-1");
    const read: string[] = [];
    const options = await withPassword(job, () => async (name) => (read.push(name), "from ssm"));
    expect(read).toEqual(["/backup-actions/p/dump/dump-1"]);
    expect(options.connection.password).toBe("from ssm");
    expect("passwordParameter" in options).toBe(false);
    // With --password-env nothing is read from SSM.
    const env = await withPassword(parseDumpJob(base, { PW: "env" }), () => {
      throw new Error("no SSM read expected");
    });
    expect(env.connection.password).toBe("env");
  });

  it.each([
    [["--engine", "oracle", ...base.slice(2)], 'engine must be postgres, mysql or mariadb, got "oracle"'],
    [base.slice(2), "--engine is required (postgres, mysql or mariadb)"],
    [[...base.slice(0, 2), ...base.slice(4)], "--host is required"],
    [[...base.slice(0, 4), ...base.slice(6)], "--user is required"],
    [[...base, "--port", "70000"], '--port must be an integer from 1 to 65535, got "70000"'],
    [
      [...base.slice(0, 6), ...base.slice(8)],
      "--password-env VAR is required (the environment variable with the password), or --password-parameter NAME",
    ],
    [[...base.slice(0, 6), "--password-env", "UNSET", ...base.slice(8)], "the environment variable UNSET is not set"],
    [[...base.slice(0, 8)], "--to is required"],
    [[...base.slice(0, 8), "--to", "s3:/x"], "s3:/x"],
    [[...base, "--database", ""], "--database: an empty database name"],
    [[...base, "--password", "p"], "Unknown option '--password'"],
    [[...base, "--compression-level", "20"], '--compression-level must be an integer from 1 to 19, got "20"'],
    [[...base, "--password-parameter", "/p/x"], "--password-env and --password-parameter: give one of them"],
    [
      [...base.slice(0, 6), "--password-parameter", "p x", ...base.slice(8)],
      '--password-parameter must be an SSM parameter name like /a/b (got "p x")',
    ],
  ])("refuse %j", (argv, message) => {
    expect(() => parseDumpJob(argv, { PW: "x" })).toThrow(JobParamsError);
    expect(() => parseDumpJob(argv, { PW: "x" })).toThrow(message);
  });

  it("are usage errors of the CLI (exit 2)", async () => {
    const r = await run(["dump-database", "--engine", "db2"]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('backup-actions dump-database: --engine must be postgres, mysql or mariadb, got "db2"');
  });
});

describe("restore --to-database", () => {
  it("takes user, host and port from the URL, the password from the environment", () => {
    expect(databaseTarget("postgres://app@db.internal:6432/", "pw")).toEqual({
      engine: "postgres",
      host: "db.internal",
      port: 6432,
      user: "app",
      password: "pw",
    });
    expect(databaseTarget("postgresql://a%40b@[::1]", "")).toMatchObject({
      engine: "postgres",
      host: "::1",
      port: 5432,
      user: "a@b",
    });
    expect(databaseTarget("mysql://root@h/", "x")).toMatchObject({ engine: "mysql", port: 3306 });
    expect(databaseTarget("mariadb://root@h:3307/", "x")).toMatchObject({ engine: "mariadb", port: 3307 });
    expect(passwordFrom("PW", { PW: "secret" })).toBe("secret");
    // the CLI keeps its own copy of the ports (it loads the worker only when a command runs)
    for (const engine of ["postgres", "mysql", "mariadb"] as const)
      expect(databaseTarget(`${engine}://u@h/`, "").port).toBe(DEFAULT_PORTS[engine]);
  });

  it.each([
    ["postgres://u:secret@h/", "put no password in the URL"],
    ["postgres://u@h/shop", "name no database (/shop)"],
    ["oracle://u@h/", "the scheme must be postgres, postgresql, mysql or mariadb, not oracle"],
    ["postgres://h/", "the URL names no user"],
    ["not a url", "is not a URL"],
  ])("refuses %s", (url, message) => {
    expect(() => databaseTarget(url, "x")).toThrow(message);
  });

  it("refuses an unset password variable, and volume flags beside it (exit 2)", async () => {
    expect(() => passwordFrom("NOPE_UNSET", {})).toThrow(
      "--password-env NOPE_UNSET: the environment variable NOPE_UNSET is not set",
    );
    expect(() => passwordFrom(undefined, {})).toThrow("--password-env VAR is required");
    const both = await run(["restore", "file:///tmp/x/", "--to-database", "postgres://u@h/", "--to", "/tmp/y"]);
    expect(both).toEqual({
      code: 2,
      err: expect.stringContaining("--to-database excludes --to, --device, --force and --item"),
    });
    const pw = await run(["restore", "file:///tmp/x/", "--to", "/tmp/y", "--password-env", "PW"]);
    expect(pw).toEqual({
      code: 2,
      err: expect.stringContaining("--password-env and --work-dir apply to --to-database only"),
    });
  });
});
