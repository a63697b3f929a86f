/**
 * The one parser of `dump-database`'s flags, for both callers: the CLI (`backup-actions dump-database`)
 * and the worker image's entrypoint, which the RDS/Aurora dump job runs as
 * `node /app/worker.js dump-database --engine … --password-env DB_PASSWORD …` with the password put into
 * that variable by Batch from its SSM parameter (`secrets`): never on a command line.
 */
import { parseArgs } from "node:util";
import { DATABASE_ENGINES, DatabaseEngine } from "../../core/manifest";
import { parseTarget } from "../../core/s3-url";
import { JobParamsError } from "../../core/worker-job";
import { DEFAULT_PORTS } from "./db-engine";
import { DumpOptions } from "./dump-database";
import { openStore } from "./store";

export const DUMP_USAGE =
  "dump-database --engine postgres|mysql|mariadb --host HOST [--port PORT] --user USER --password-env VAR " +
  "[--database DB]... --to s3://BUCKET/PREFIX/|file:///DIR/ [--compression-level N] [--concurrency N]";

function int(v: string | undefined, flag: string, min: number, max: number): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max)
    throw new JobParamsError(`--${flag} must be an integer from ${min} to ${max}, got "${v}"`);
  return n;
}

/** Checks every flag (naming the bad one) and reads the password from the variable --password-env names. */
export function parseDumpJob(argv: string[], env: NodeJS.ProcessEnv = process.env): DumpOptions {
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
  if (!name) throw new JobParamsError("--password-env VAR is required (the environment variable with the password)");
  const password = env[name];
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
  };
}
