import {
  checkArchiveManifest,
  DatabaseEntry,
  DatabaseManifest,
  dumpItemName,
  dumpKey,
  DumpFormat,
  DumpItem,
  GLOBALS_ITEM,
  isExportKey,
  MANIFEST_NAME,
  MANIFEST_VERSION,
} from "../../core/manifest";
import { jobCpus } from "./cpus";
import {
  Connection,
  DatabaseNotFoundError,
  DatabaseToolError,
  openSession,
  query,
  Session,
  toolName,
  toolVersion,
  where,
} from "./db-engine";
import { DEFAULT_COMPRESSION_LEVEL, DEFAULT_CONCURRENCY } from "./export-volume";
import { log } from "./log";
import { partSizeFor } from "./part-size";
import { commandToStore, StreamOptions } from "./pipeline";
import { emfWanted, Progress } from "./progress";
import { ObjectStore } from "./store";
import { toolVersions } from "./tools";
import { defaultMemoryBudget, partConcurrency } from "./upload";

export interface DumpOptions {
  connection: Connection;
  /** Only these databases (each must exist); default every database but the engine's system ones. */
  databases?: string[];
  store: ObjectStore;
  compressionLevel?: number;
  concurrency?: number;
  /** Override the part size (tests); default from the database's size. */
  partSize?: number;
  memoryBudget?: number;
  zstdThreads?: number;
  progressIntervalMs?: number;
}

/**
 * Databases that are the server's own, never dumped unless named. PostgreSQL: the templates (and every
 * database that refuses connections) and RDS's `rdsadmin`; `postgres` IS dumped: it is an ordinary
 * database that applications do use, and its dump costs a few KiB when it is empty. MySQL/MariaDB:
 * the system schemas, and RDS's `rdsadmin`, `innodb` and `tmp`.
 */
export const SYSTEM_DATABASES = {
  postgres: ["template0", "template1", "rdsadmin"],
  mysql: ["mysql", "information_schema", "performance_schema", "sys", "rdsadmin", "innodb", "tmp"],
} as const;

interface ServerInfo {
  version: string;
  /** Every database on the server, with its size (and MySQL's charset and collation). */
  databases: DatabaseEntry[];
  /** PostgreSQL: databases that refuse connections (template0, rdsadmin): never dumpable. */
  unconnectable: Set<string>;
}

async function serverInfo(s: Session): Promise<ServerInfo> {
  if (s.connection.engine === "postgres") {
    const [[version]] = (await query(s, "SHOW server_version")) as [[string]];
    const rows = await query(
      s,
      "SELECT datname, pg_database_size(datname), pg_get_userbyid(datdba) FROM pg_database WHERE datallowconn ORDER BY datname",
    );
    const all = await query(s, "SELECT datname FROM pg_database WHERE NOT datallowconn");
    return {
      version,
      databases: rows.map(([name, size, owner]) => ({ name: name!, sizeBytes: Number(size), owner })),
      unconnectable: new Set(all.map(([n]) => n!)),
    };
  }
  const [[version]] = (await query(s, "SELECT VERSION()")) as [[string]];
  const rows = await query(
    s,
    "SELECT s.SCHEMA_NAME, s.DEFAULT_CHARACTER_SET_NAME, s.DEFAULT_COLLATION_NAME, " +
      "COALESCE(SUM(t.DATA_LENGTH + t.INDEX_LENGTH), 0) FROM information_schema.SCHEMATA s " +
      "LEFT JOIN information_schema.TABLES t ON t.TABLE_SCHEMA = s.SCHEMA_NAME " +
      "GROUP BY s.SCHEMA_NAME, s.DEFAULT_CHARACTER_SET_NAME, s.DEFAULT_COLLATION_NAME ORDER BY s.SCHEMA_NAME",
  );
  return {
    version,
    databases: rows.map(([name, charset, collation, size]) => ({
      name: name!,
      sizeBytes: Number(size),
      charset,
      collation,
    })),
    unconnectable: new Set(),
  };
}

function chooseDatabases(o: DumpOptions, info: ServerInfo): DatabaseEntry[] {
  const c = o.connection;
  const system: readonly string[] = SYSTEM_DATABASES[c.engine === "postgres" ? "postgres" : "mysql"];
  if (!o.databases?.length) {
    const chosen = info.databases.filter((d) => !system.includes(d.name));
    if (chosen.length === 0)
      throw new DatabaseNotFoundError(`${where(c)} has no database but its system ones (${system.join(", ")})`);
    return chosen;
  }
  const byName = new Map(info.databases.map((d) => [d.name, d]));
  const missing = o.databases.filter((n) => !byName.has(n));
  if (missing.length) {
    const refusing = missing.filter((n) => info.unconnectable.has(n));
    const known = info.databases.map((d) => d.name).join(", ");
    throw new DatabaseNotFoundError(
      refusing.length
        ? `${where(c)}: database ${refusing.join(", ")} does not accept connections and cannot be dumped`
        : `${where(c)} has no database ${missing.map((n) => JSON.stringify(n)).join(", ")} (it has: ${known})`,
    );
  }
  if (c.engine !== "postgres") {
    const dashed = o.databases.find((n) => n.startsWith("-"));
    if (dashed)
      throw new DatabaseNotFoundError(
        `database ${JSON.stringify(dashed)}: a name starting with "-" would read as an option of the dump tool`,
      );
  }
  return [...new Set(o.databases)].map((n) => byName.get(n)!);
}

/** PostgreSQL's pg_dump refuses a newer server; said up front, with what to install. */
export function checkPgDumpVersion(pgDump: string, server: string): void {
  const major = (v: string) => Number(/(\d+)(?:\.\d+)?/.exec(v)?.[1]);
  const tool = major(pgDump.replace(/^\D*/, ""));
  const srv = major(server);
  if (tool < srv)
    throw new DatabaseToolError(
      `${pgDump} cannot dump a PostgreSQL ${server} server: install a pg_dump of major version ${srv} or newer`,
    );
}

/** The dump tool's arguments after the connection's (session.invocation). */
export function dumpArgs(engine: Connection["engine"], database: string): string[] {
  // one snapshot (repeatable read) for the whole database; the dump's own compression off: zstd does it
  if (engine === "postgres") return ["--format=custom", "--compress=0"];
  return [
    "--single-transaction",
    "--routines",
    "--triggers",
    "--events",
    "--hex-blob",
    "--no-tablespaces",
    "--default-character-set=utf8mb4",
    "--skip-dump-date",
    // a row as large as the server allows (its max_allowed_packet): the client's 16 MiB default would cut it
    "--max-allowed-packet=1073741824",
    ...(engine === "mysql" ? ["--set-gtid-purged=OFF"] : []),
    database,
  ];
}

/**
 * Dumps databases of one server into `store`: per database a consistent dump (pg_dump's custom format
 * in one serializable, read-only transaction; mysqldump/mariadb-dump `--single-transaction`), through
 * zstd into the same verified multipart upload as a volume export; for PostgreSQL also the globals
 * (roles without their passwords, which RDS does not let anyone read; tablespaces). manifest.json is
 * written last and only when every dump succeeded: a failure leaves none, and its upload is aborted.
 * Like the volume export, a re-run first deletes the manifest and aborts its own stale uploads.
 */
export async function dumpDatabases(o: DumpOptions): Promise<DatabaseManifest> {
  const started = new Date();
  const c = o.connection;
  const level = o.compressionLevel ?? DEFAULT_COMPRESSION_LEVEL;
  const { store } = o;
  if (/^s3:\/\/[^/]+\/*$/.test(store.url)) {
    throw new Error(`--to ${store.url}: a dump needs a prefix of its own (s3://BUCKET/PREFIX/), not the bucket's root`);
  }
  const tools: Record<string, string> = {};
  for (const role of c.engine === "postgres" ? (["dump", "globals", "client"] as const) : (["dump", "client"] as const))
    tools[toolName(c.engine, role)] = await toolVersion(c.engine, role);

  const session = await openSession(c);
  const progress = new Progress(0, {
    intervalMs: o.progressIntervalMs,
    emf: emfWanted(),
    dimensions: { Database: `${c.host}:${c.port}` },
  });
  try {
    const info = await serverInfo(session);
    log.info(`${where(c)}: ${c.engine} ${info.version}, ${info.databases.length} database(s)`);
    if (c.engine === "postgres") checkPgDumpVersion(tools.pg_dump!, info.version);
    const chosen = chooseDatabases(o, info);

    await store.delete(MANIFEST_NAME);
    const stale = await store.abortStaleUploads(isExportKey);
    if (stale) log.info(`aborted ${stale} incomplete multipart upload(s) of an earlier run under ${store.url}`);

    const memoryBudget = o.memoryBudget ?? defaultMemoryBudget();
    const cpus = o.zstdThreads ?? jobCpus().cpus;
    progress.setTotal(chosen.reduce((a, d) => a + d.sizeBytes, 0));
    progress.start();

    const items: DumpItem[] = [];
    /** `database` undefined: the globals, read through the first database dumped (every server has one we may connect to). */
    const one = async (name: string, format: DumpFormat, database: string | undefined, sizeBytes: number) => {
      // a text dump of binary columns is hex: up to twice the database's bytes before compression
      const partSize = o.partSize ?? partSizeFor(2 * sizeBytes);
      const base: StreamOptions = {
        store,
        key: dumpKey(name, format),
        compressionLevel: level,
        partSize,
        concurrency: partConcurrency(partSize, o.concurrency ?? DEFAULT_CONCURRENCY, memoryBudget),
        zstdThreads: cpus,
        memoryBudget,
        onStart: (sample) => progress.beginItem(name, sample),
      };
      const role = database === undefined ? "globals" : "dump";
      const inv = session.invocation(role, database ?? chosen[0]!.name);
      const args =
        database === undefined
          ? [...inv.args, "--globals-only", "--no-role-passwords"]
          : [...inv.args, ...dumpArgs(c.engine, database)];
      const t0 = Date.now();
      log.info(
        `${name}: ${toolName(c.engine, role)} of ${database ?? "the globals (roles, tablespaces)"} -> ${base.key}`,
      );
      let r;
      try {
        r = await commandToStore({ cmd: inv.cmd, args, env: inv.env, name: toolName(c.engine, role) }, base);
      } catch (e) {
        throw new Error(`dump of ${database ?? "the globals"} from the ${where(c)} failed: ${(e as Error).message}`);
      }
      progress.finishItem(database === undefined ? 0 : sizeBytes);
      const seconds = (Date.now() - t0) / 1000;
      log.info(
        `${name}: ${r.uncompressedBytes} -> ${r.compressedBytes} bytes in ${seconds.toFixed(1)} s, sha256 ${r.sha256}`,
      );
      items.push({
        name,
        kind: "dump",
        format,
        ...(database === undefined ? {} : { database }),
        key: base.key,
        uncompressedBytes: r.uncompressedBytes,
        compressedBytes: r.compressedBytes,
        sha256: r.sha256,
        s3ChecksumSHA256: r.s3ChecksumSHA256,
        partSize,
        parts: r.parts,
        seconds,
      });
    };
    if (c.engine === "postgres") await one(GLOBALS_ITEM, "sql", undefined, 0);
    for (const [i, d] of chosen.entries())
      await one(dumpItemName(i + 1, d.name), c.engine === "postgres" ? "pg-custom" : "sql", d.name, d.sizeBytes);
    progress.report();

    const finished = new Date();
    const seconds = (finished.getTime() - started.getTime()) / 1000;
    const uncompressed = items.reduce((a, i) => a + i.uncompressedBytes, 0);
    const { tar: _tar, kernel: _kernel, ...common } = await toolVersions();
    const manifest: DatabaseManifest = {
      version: MANIFEST_VERSION,
      tool: "backup-actions",
      database: { engine: c.engine, host: c.host, port: c.port, serverVersion: info.version, databases: chosen },
      items,
      compression: { tool: "zstd", level },
      tools: { ...tools, ...common },
      startedAt: started.toISOString(),
      finishedAt: finished.toISOString(),
      seconds,
      bytesPerSecond: Math.round(uncompressed / Math.max(seconds, 0.001)),
      totals: { uncompressedBytes: uncompressed, compressedBytes: items.reduce((a, i) => a + i.compressedBytes, 0) },
    };
    checkArchiveManifest(manifest, `${store.url}${MANIFEST_NAME}`);
    // last: its presence is what says the dump is complete
    await store.put(MANIFEST_NAME, JSON.stringify(manifest, null, 2) + "\n");
    log.info(
      `dump complete: ${chosen.length} database(s), ${uncompressed} bytes in ${seconds.toFixed(1)} s -> ${store.url}${MANIFEST_NAME}`,
    );
    return manifest;
  } finally {
    progress.stop();
    await session.close();
  }
}
