/**
 * The one parser of `dump-database`'s flags, for both callers: the CLI (`backup-actions dump-database`)
 * and the worker image's entrypoint, which the RDS/Aurora dump job runs as
 * `node /app/worker.js dump-database --engine … --password-parameter /backup-actions/<pipeline>/dump/<id> …`:
 * the worker reads the SecureString itself (GetParameter WithDecryption), since the parameter is made per
 * job by the state machine's password Lambda (stacks/workflows/rds-dump.ts), after the job definition.
 * By hand, `--password-env VAR` names an environment variable instead. The password is never on a command line.
 */
import { parseArgs } from "node:util";
import { GetParameterCommand, SSMClient } from "@aws-sdk/client-ssm";
import { instrumented } from "../../core/aws-client-hook";
import { DATABASE_ENGINES, DatabaseEngine } from "../../core/manifest";
import { parseTarget } from "../../core/s3-url";
import { JobParamsError } from "../../core/worker-job";
import { DEFAULT_PORTS } from "./db-engine";
import { DumpOptions } from "./dump-database";
import { openStore } from "./store";

export const DUMP_USAGE =
  "dump-database --engine postgres|mysql|mariadb --host HOST [--port PORT] --user USER " +
  "(--password-env VAR|--password-parameter NAME) " +
  "[--database DB]... --to s3://BUCKET/PREFIX/|file:///DIR/ [--compression-level N] [--concurrency N]";

function int(v: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new JobParamsError(`--${flag} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
}

/** The options, and with --password-parameter the SSM parameter the password is still to be read from. */
export interface DumpJob extends DumpOptions {
  readonly passwordParameter?: string;
}

/**
 * Checks every flag (naming the bad one) and reads the password from the variable --password-env names;
 * with --password-parameter the password is read by `withPassword`.
 */
export function parseDumpJob(argv: string[], env: NodeJS.ProcessEnv = process.env): DumpJob {
  let values;
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        engine: { type: "string" },
        host: { type: "string" },
        port: { type: "string" },
        user: { type: "string" },
        "password-env": { type: "string" },
        "password-parameter": { type: "string" },
        database: { type: "string", multiple: true },
        to: { type: "string" },
        "compression-level": { type: "string" },
        concurrency: { type: "string" },
      },
      allowPositionals: false,
      strict: true,
    }));
  } catch (e) {
    throw new JobParamsError((e as Error).message);
  }
  const engine = values.engine as DatabaseEngine | undefined;
  if (!engine) throw new JobParamsError("--engine is required (postgres, mysql or mariadb)");
  if (!DATABASE_ENGINES.includes(engine))
    throw new JobParamsError(`--engine must be postgres, mysql or mariadb, got "${engine}"`);
  if (!values.host) throw new JobParamsError("--host is required");
  if (!values.user) throw new JobParamsError("--user is required");
  const port = int(values.port, "port", 1, 65535) ?? DEFAULT_PORTS[engine];
  const name = values["password-env"];
  const parameter = values["password-parameter"];
  if (name !== undefined && parameter !== undefined)
    throw new JobParamsError("--password-env and --password-parameter: give one of them");
  if (parameter !== undefined && !/^\/[A-Za-z0-9_.\-/]+$/.test(parameter))
    throw new JobParamsError(`--password-parameter must be an SSM parameter name like /a/b (got "${parameter}")`);
  if (!name && parameter === undefined)
    throw new JobParamsError(
      "--password-env VAR is required (the environment variable with the password), or --password-parameter NAME",
    );
  const password = name ? env[name] : "";
  if (password === undefined)
    throw new JobParamsError(`--password-env ${name}: the environment variable ${name} is not set`);
  if (!values.to) throw new JobParamsError("--to is required");
  let target;
  try {
    target = parseTarget(values.to);
  } catch (e) {
    throw new JobParamsError((e as Error).message);
  }
  const empty = values.database?.find((d) => d === "");
  if (empty !== undefined) throw new JobParamsError("--database: an empty database name");
  return {
    connection: { engine, host: values.host, port, user: values.user, password },
    databases: values.database,
    store: openStore(target),
    compressionLevel: int(values["compression-level"], "compression-level", 1, 19),
    concurrency: int(values.concurrency, "concurrency", 1, 64),
    ...(parameter !== undefined ? { passwordParameter: parameter } : {}),
  };
}

/** Reads a SecureString (decrypted); the SSM client of the job's role by default. */
export type ParameterReader = (name: string) => Promise<string>;

export const ssmParameterReader =
  (ssm: SSMClient = instrumented(new SSMClient({}))): ParameterReader =>
  async (name) => {
    try {
      const out = await ssm.send(new GetParameterCommand({ Name: name, WithDecryption: true }));
      return out.Parameter?.Value ?? "";
    } catch (e) {
      if ((e as Error).name === "ParameterNotFound")
        throw new JobParamsError(`--password-parameter ${name}: no such SSM parameter`);
      throw e;
    }
  };

/** The job's options with the password in place: read from SSM when --password-parameter named it. */
export async function withPassword(
  job: DumpJob,
  read: () => ParameterReader = ssmParameterReader,
): Promise<DumpOptions> {
  const { passwordParameter, ...options } = job;
  if (passwordParameter === undefined) return options;
  const password = await read()(passwordParameter);
  return { ...options, connection: { ...options.connection, password } };
}
