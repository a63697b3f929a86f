import type { Connection } from "../batch-worker/src";
import { parseTarget, TargetUrlError } from "../core/s3-url";
import { intOption, parse, UsageError } from "./args";
import type { Command } from "./main";

/**
 * The worker (AWS SDK S3 client, zstd, tar), the config loader (zod) and the ledger check (AWS SDK DynamoDB) are
 * imported once a command runs: `--help` and usage errors load none of them (cli/main.ts).
 */
const worker = () => import("../batch-worker/src");

/** Options of verify and restore that compare the manifest with what the pipeline recorded. */
const TRUST_OPTIONS = {
  "expect-manifest-sha256": { type: "string" },
  "ledger-table": { type: "string" },
  "recovery-point-arn": { type: "string" },
} as const;
const TRUST_USAGE = "[--expect-manifest-sha256 HEX] [--ledger-table NAME [--recovery-point-arn ARN]]";

async function trustOf(
  url: string,
  v: { "expect-manifest-sha256"?: string; "ledger-table"?: string; "recovery-point-arn"?: string },
) {
  const [{ loadConfig }, { manifestCheck }] = await Promise.all([import("../config/load"), import("./manifest-trust")]);
  // the pipeline's own table when the operator points the CLI at its config (as `ledger` does)
  const table = v["ledger-table"] ?? (process.env.BACKUP_ACTIONS_CONFIG ? `${loadConfig().name}-ledger` : undefined);
  return manifestCheck({
    url,
    expectSha256: v["expect-manifest-sha256"],
    ledgerTable: table,
    recoveryPointArn: v["recovery-point-arn"],
    warn: (line) => process.stderr.write(`${line}\n`),
  });
}

async function target(url: string | undefined, what: string) {
  if (!url) throw new UsageError(`${what} is required`);
  const { openStore } = await worker();
  try {
    return openStore(parseTarget(url));
  } catch (e) {
    if (e instanceof TargetUrlError) throw new UsageError(e.message);
    throw e;
  }
}

const ENGINES = ["postgres", "mysql", "mariadb"] as const;
/** The ports the engines listen on unless told otherwise (batch-worker/src/db-engine.ts DEFAULT_PORTS). */
const DEFAULT_PORTS = { postgres: 5432, mysql: 3306, mariadb: 3306 } as const;
/** batch-worker/src/dump-job.ts DUMP_USAGE (a test pins that they agree; the worker loads only when a command runs). */
const DUMP_USAGE =
  "dump-database --engine postgres|mysql|mariadb --host HOST [--port PORT] --user USER " +
  "(--password-env VAR|--password-parameter NAME) " +
  "[--database DB]... --to s3://BUCKET/PREFIX/|file:///DIR/ [--compression-level N] [--concurrency N]";

/** The password, from the environment variable --password-env names: never from the command line. */
export function passwordFrom(name: string | undefined, env: NodeJS.ProcessEnv = process.env): string {
  if (!name)
    throw new UsageError("--password-env VAR is required (the name of the environment variable with the password)");
  const v = env[name];
  if (v === undefined) throw new UsageError(`--password-env ${name}: the environment variable ${name} is not set`);
  return v;
}

/** `postgres://USER@HOST:PORT/` or `mysql://…` / `mariadb://…`: where a restore loads the dumps (no password, no database). */
export function databaseTarget(url: string, password: string): Connection {
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw new UsageError(`--to-database ${url} is not a URL (postgres://USER@HOST:PORT/ or mysql://USER@HOST:PORT/)`);
  }
  const scheme = u.protocol.replace(/:$/, "");
  const engine = scheme === "postgresql" ? "postgres" : scheme;
  if (!(ENGINES as readonly string[]).includes(engine))
    throw new UsageError(
      `--to-database ${url}: the scheme must be postgres, postgresql, mysql or mariadb, not ${scheme}`,
    );
  if (u.password)
    throw new UsageError(
      "--to-database: put no password in the URL; name the environment variable that holds it with --password-env",
    );
  if (!u.username) throw new UsageError(`--to-database ${url}: the URL names no user (postgres://USER@HOST:PORT/)`);
  if (!u.hostname) throw new UsageError(`--to-database ${url}: the URL names no host`);
  if (u.pathname !== "" && u.pathname !== "/")
    throw new UsageError(
      `--to-database ${url}: name no database (${u.pathname}): the archive's databases are restored under their own names`,
    );
  const e = engine as Connection["engine"];
  return {
    engine: e,
    host: u.hostname.replace(/^\[(.*)\]$/, "$1"),
    port: u.port ? Number(u.port) : DEFAULT_PORTS[e],
    user: decodeURIComponent(u.username),
    password,
  };
}

export const workerCommands: Record<string, Command> = {
  "export-volume": {
    summary: "export every filesystem of a disk (tar.zst / img.zst + manifest.json)",
    usage: "export-volume --device DEV --to s3://BUCKET/PREFIX/|file:///DIR/ [--compression-level N] [--concurrency N]",
    async run(args) {
      const { values } = parse(
        args,
        {
          device: { type: "string" },
          to: { type: "string" },
          "compression-level": { type: "string" },
          concurrency: { type: "string" },
        },
        { min: 0, max: 0 },
      );
      if (!values.device) throw new UsageError("--device is required");
      const store = await target(values.to, "--to");
      const compressionLevel = intOption(values["compression-level"], "compression-level", 1, 19);
      const concurrency = intOption(values.concurrency, "concurrency", 1, 64);
      const { Cleanup, cleanupOnSignals, DEFAULT_COMPRESSION_LEVEL, DEFAULT_CONCURRENCY, exportVolume } =
        await worker();
      const cleanup = new Cleanup();
      const off = cleanupOnSignals(cleanup);
      try {
        await exportVolume({
          device: values.device,
          store,
          compressionLevel: compressionLevel ?? DEFAULT_COMPRESSION_LEVEL,
          concurrency: concurrency ?? DEFAULT_CONCURRENCY,
          cleanup,
        });
        return 0;
      } finally {
        off();
      }
    },
  },
  "export-snapshot": {
    summary:
      "export an EBS snapshot without a volume: its blocks through the EBS direct APIs into a scratch, then as export-volume " +
      "(a disk where nothing mounts: its image streamed from the blocks, no scratch)",
    usage:
      "export-snapshot --snapshot snap-… [--scratch DEV|FILE] --to s3://BUCKET/PREFIX/|file:///DIR/ [--rate N] [--concurrency N] [--compression-level N]",
    async run(args) {
      const { values } = parse(
        args,
        {
          snapshot: { type: "string" },
          scratch: { type: "string" },
          to: { type: "string" },
          rate: { type: "string" },
          concurrency: { type: "string" },
          "compression-level": { type: "string" },
        },
        { min: 0, max: 0 },
      );
      if (!values.snapshot) throw new UsageError("--snapshot is required");
      if (!/^snap-[0-9a-f]+$/.test(values.snapshot))
        throw new UsageError(`--snapshot ${values.snapshot}: not a snapshot id (snap-0123456789abcdef0)`);
      const store = await target(values.to, "--to");
      const rate = intOption(values.rate, "rate", 1, 10000);
      const concurrency = intOption(values.concurrency, "concurrency", 1, 256);
      const compressionLevel = intOption(values["compression-level"], "compression-level", 1, 19);
      const { Cleanup, cleanupOnSignals, DEFAULT_COMPRESSION_LEVEL, exportSnapshot } = await worker();
      const cleanup = new Cleanup();
      const off = cleanupOnSignals(cleanup);
      try {
        await exportSnapshot({
          snapshotId: values.snapshot,
          scratch: values.scratch,
          store,
          rate,
          blockConcurrency: concurrency,
          compressionLevel: compressionLevel ?? DEFAULT_COMPRESSION_LEVEL,
          cleanup,
        });
        return 0;
      } finally {
        off();
      }
    },
  },
  "dump-database": {
    summary: "dump databases of a PostgreSQL/MySQL/MariaDB server (pg_dump -Fc / mysqldump, zstd) + manifest.json",
    usage: DUMP_USAGE,
    async run(args) {
      // the worker's own parser (the Batch job's entrypoint uses it too); its errors are usage errors here
      const { dumpDatabases, JobParamsError, parseDumpJob, withPassword } = await worker();
      let options;
      try {
        options = await withPassword(parseDumpJob(args));
      } catch (e) {
        if (e instanceof JobParamsError) throw new UsageError(e.message);
        throw e;
      }
      await dumpDatabases(options);
      return 0;
    },
  },
  verify: {
    summary:
      "check an archive of any kind (a volume's or a database dump's manifest.json, an RDS Parquet export, a DynamoDB export): says which it found and what it checked; --restore-scratch also loads a database dump into a throw-away local server and checks its databases and rows",
    usage: `verify s3://BUCKET/PREFIX/|file:///DIR/ [--restore-scratch [--work-dir DIR]] ${TRUST_USAGE}`,
    async run(args) {
      const { values, positionals } = parse(
        args,
        { ...TRUST_OPTIONS, "restore-scratch": { type: "boolean" }, "work-dir": { type: "string" } },
        { min: 1, max: 1 },
      );
      if (values["work-dir"] !== undefined && !values["restore-scratch"])
        throw new UsageError("--work-dir is where --restore-scratch puts its server: it needs --restore-scratch");
      const store = await target(positionals[0], "the export URL");
      const { Cleanup, cleanupOnSignals, verifyArchiveAt, withScratchRestore } = await worker();
      const requested =
        values["expect-manifest-sha256"] !== undefined ||
        values["ledger-table"] !== undefined ||
        values["recovery-point-arn"] !== undefined;
      const check = await trustOf(store.url, values);
      let report = await verifyArchiveAt(store, { check, requested });
      if (values["restore-scratch"]) {
        const cleanup = new Cleanup();
        const release = cleanupOnSignals(cleanup);
        try {
          report = await withScratchRestore(store, report, {
            checkManifest: check,
            workDir: values["work-dir"],
            cleanup,
          });
        } finally {
          await cleanup.runAll();
          release();
        }
      }
      process.stdout.write(JSON.stringify(report, null, 2) + "\n");
      process.stderr.write(
        `verify: ${report.kind} at ${report.url}\n${report.checked.map((c) => `  checked: ${c}\n`).join("")}` +
          report.notes.map((n) => `  note: ${n}\n`).join(""),
      );
      if (!report.ok)
        process.stderr.write(
          `verify: FAILED (${report.items
            .filter((i) => !i.ok)
            .map((i) => i.name)
            .join(", ")})\n${report.items
            .filter((i) => !i.ok)
            .flatMap((i) => i.problems.map((p) => `  ${i.name}: ${p}\n`))
            .join("")}`,
        );
      return report.ok ? 0 : 1;
    },
  },
  restore: {
    summary:
      "restore items into a new or empty DIR: tar -> DIR/<item>/, img -> DIR/<item>.img; or one img onto --device; or a database dump into a server (--to-database); or a DynamoDB export into a new table (--to-dynamodb-table)",
    usage: `restore s3://BUCKET/PREFIX/|file:///DIR/ (--to DIR [--force] | --device DEV | --to-database postgres://USER@HOST:PORT/|mysql://USER@HOST:PORT/ --password-env VAR [--work-dir DIR] | --to-dynamodb-table NAME) [--item NAME]... ${TRUST_USAGE}`,
    async run(args) {
      const { values, positionals } = parse(
        args,
        {
          to: { type: "string" },
          force: { type: "boolean" },
          item: { type: "string", multiple: true },
          device: { type: "string" },
          "to-database": { type: "string" },
          "password-env": { type: "string" },
          "work-dir": { type: "string" },
          "to-dynamodb-table": { type: "string" },
          ...TRUST_OPTIONS,
        },
        { min: 1, max: 1 },
      );
      if (values["to-dynamodb-table"] !== undefined) {
        if (values["to-database"] !== undefined)
          throw new UsageError("--to-dynamodb-table and --to-database exclude each other");
        return restoreToDynamoDb(positionals[0]!, values);
      }
      if (values["to-database"] !== undefined) {
        if (values.to || values.device || values.force || values.item)
          throw new UsageError("--to-database excludes --to, --device, --force and --item (every dump is loaded)");
        const connection = databaseTarget(values["to-database"], passwordFrom(values["password-env"]));
        const store = await target(positionals[0], "the export URL");
        const { restoreDatabases } = await worker();
        await restoreDatabases({
          store,
          connection,
          checkManifest: await trustOf(store.url, values),
          workDir: values["work-dir"],
        });
        return 0;
      }
      if (values["password-env"] || values["work-dir"])
        throw new UsageError("--password-env and --work-dir apply to --to-database only");
      if (!values.to && !values.device)
        throw new UsageError("--to DIR, --device DEV, --to-database URL or --to-dynamodb-table NAME is required");
      if (values.to && values.device) throw new UsageError("--to and --device exclude each other");
      if (values.force && !values.to) throw new UsageError("--force applies to --to only");
      const store = await target(positionals[0], "the export URL");
      const { Cleanup, cleanupOnSignals, restoreExport } = await worker();
      const checkManifest = await trustOf(store.url, values);
      const cleanup = new Cleanup();
      const off = cleanupOnSignals(cleanup);
      try {
        await restoreExport({
          store,
          to: values.to,
          force: values.force,
          items: values.item,
          device: values.device,
          checkManifest,
          tty: Boolean(process.stderr.isTTY),
          cleanup,
        });
        return 0;
      } finally {
        off();
      }
    },
  },
};

/** `restore URL --to-dynamodb-table NAME`: a DynamoDB export imported into a new table (cli/dynamodb-restore.ts). */
async function restoreToDynamoDb(url: string, values: Record<string, unknown>): Promise<number> {
  const others = ["to", "device", "force", "item", "password-env", "work-dir"].filter((k) => values[k] !== undefined);
  if (others.length > 0) throw new UsageError(`--to-dynamodb-table excludes ${others.map((k) => `--${k}`).join(", ")}`);
  if (!url.startsWith("s3://"))
    throw new UsageError("--to-dynamodb-table needs an s3:// export URL (ImportTable reads S3)");
  const [{ DynamoDBClient }, { S3Client }, { restoreDynamoDbTable }, { instrumented }] = await Promise.all([
    import("@aws-sdk/client-dynamodb"),
    import("@aws-sdk/client-s3"),
    import("./dynamodb-restore"),
    import("../core/aws-client-hook"),
  ]);
  const ddb = instrumented(new DynamoDBClient({}));
  const s3 = instrumented(
    new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL) }),
  );
  try {
    const result = await restoreDynamoDbTable({
      url,
      table: String(values["to-dynamodb-table"]),
      ddb,
      s3,
      warn: (line) => process.stderr.write(`restore: ${line}\n`),
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.stderr.write(`restore: ${result.items} items imported into table ${result.table}\n`);
    return 0;
  } finally {
    ddb.destroy();
    s3.destroy();
  }
}
