import { createWriteStream, promises as fs } from "node:fs";
import path from "node:path";
import { DatabaseManifest, DumpItem } from "../../core/manifest";
import { Connection, openSession, query, Session, spawnTool, where } from "./db-engine";
import { CommandError } from "./exec";
import { log } from "./log";
import { exitOf } from "./pipeline";
import { checkAgainstManifest, readBack } from "./readback";
import { RestoreRefusedError } from "./restore-target";
import { ObjectStore } from "./store";
import { ManifestCheck, readArchiveManifest } from "./verify";
import os from "node:os";

export interface DatabaseRestoreOptions {
  store: ObjectStore;
  /** The target server; its engine must read the archive's dumps (postgres, or mysql/mariadb for either). */
  connection: Connection;
  /** Tamper evidence: refuses the manifest before any object is read (see cli/manifest-trust.ts). */
  checkManifest?: ManifestCheck;
  /** Where the checked dumps wait for their load (they need its free space). @default os.tmpdir() */
  workDir?: string;
  /**
   * Called once every dump is loaded, with the checked dump files (by item) while they still exist: the
   * scratch restore of `verify --restore-scratch` (scratch-restore.ts) counts their rows there.
   */
  afterLoad?: (files: ReadonlyMap<DumpItem, string>) => Promise<void>;
}

export interface RestoredDatabase {
  database: string;
  item: string;
  created: boolean;
}

/** PostgreSQL objects of a database that are not the ones every new database has. */
const PG_USER_OBJECTS = `
SELECT (SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%')
     + (SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%')
     + (SELECT count(*) FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
         WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_%'
           AND t.typrelid = 0 AND t.typcategory <> 'A')
     + (SELECT count(*) FROM pg_namespace WHERE nspname NOT IN ('public', 'information_schema') AND nspname NOT LIKE 'pg\\_%')
     + (SELECT count(*) FROM pg_extension WHERE extname <> 'plpgsql')`;

const MYSQL_OBJECTS =
  "SELECT TABLE_SCHEMA FROM information_schema.TABLES UNION ALL SELECT ROUTINE_SCHEMA FROM information_schema.ROUTINES " +
  "UNION ALL SELECT EVENT_SCHEMA FROM information_schema.EVENTS";

function pgIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function mysqlIdentifier(name: string): string {
  return `\`${name.replace(/`/g, "``")}\``;
}

/** Which target engines read an archive's dumps: a PostgreSQL dump needs PostgreSQL, a MySQL or MariaDB dump either. */
export function compatible(archive: DatabaseManifest["database"]["engine"], target: Connection["engine"]): boolean {
  return archive === "postgres" ? target === "postgres" : target !== "postgres";
}

/**
 * Loads every dump of a database archive into a server with the engine's own tools. Nothing is written
 * to the server before all of this held: the manifest checks (and `checkManifest` accepts its SHA-256),
 * every object has its recorded size, and every object was read whole into a private work directory
 * with its SHA-256, S3 checksum and sizes matching the manifest and zstd's frames intact; then every
 * database of the archive is absent from the server or empty (a non-empty one is refused, naming it).
 * Names in the archive never become paths: the work files are named by item index.
 *
 * PostgreSQL: the globals script first (roles; its errors, e.g. a role that exists or that the target
 * does not let anyone create, are warnings: a role a database needs then fails its pg_restore), then
 * per database CREATE DATABASE (when absent) and `pg_restore --single-transaction --exit-on-error`, so a
 * failed database is left empty. MySQL/MariaDB: CREATE DATABASE with the recorded character set and
 * collation, then the script through the client, which stops at the first error.
 */
export async function restoreDatabases(o: DatabaseRestoreOptions): Promise<RestoredDatabase[]> {
  const m = await readArchiveManifest(o.store, o.checkManifest);
  if (!("database" in m))
    throw new RestoreRefusedError(
      `${o.store.url} is a volume export, not a database dump: restore it with --to DIR or --device DEV`,
    );
  const c = o.connection;
  if (!compatible(m.database.engine, c.engine))
    throw new RestoreRefusedError(
      `${o.store.url} holds ${m.database.engine} dumps: they cannot be loaded into a ${c.engine} server`,
    );
  // the archive's own engine picks the client (a MariaDB dump is loaded with the mariadb client)
  const conn: Connection = { ...c, engine: m.database.engine };
  for (const it of m.items) {
    const size = await o.store.size(it.key);
    if (size === undefined) throw new RestoreRefusedError(`item ${it.name}: object ${it.key} is missing`);
    if (size !== it.compressedBytes)
      throw new RestoreRefusedError(
        `item ${it.name}: object ${it.key} has ${size} bytes, the manifest says ${it.compressedBytes}`,
      );
  }
  const work = await fs.mkdtemp(path.join(o.workDir ?? os.tmpdir(), "backup-actions-restore-"));
  let session: Session | undefined;
  try {
    await fs.chmod(work, 0o700);
    const need = m.items.reduce((a, it) => a + it.uncompressedBytes, 0);
    const st = await fs.statfs(work);
    if (st.bavail * st.bsize < need)
      throw new RestoreRefusedError(
        `${work} has ${st.bavail * st.bsize} bytes free, the dumps need ${need}: choose another --work-dir`,
      );
    const files = new Map<DumpItem, string>();
    for (const [i, it] of m.items.entries()) {
      const file = path.join(work, `${i}.dump`);
      const r = await readBack(o.store, it, { writable: createWriteStream(file, { flags: "wx", mode: 0o600 }) });
      const problems = checkAgainstManifest(it, r);
      if (problems.length)
        throw new RestoreRefusedError(
          `item ${it.name} (${it.key}) does not match the manifest, nothing was written to the server: ${problems.join("; ")}`,
        );
      log.info(`restore ${it.name}: ${r.decompressedBytes} bytes read, SHA-256 and S3 checksum verified`);
      files.set(it, file);
    }

    session = await openSession(conn);
    const existing = await existingDatabases(session);
    const dumps = m.items.filter((it) => it.database !== undefined);
    const notEmpty: string[] = [];
    for (const it of dumps) {
      const count = existing.get(it.database!);
      if (count === undefined) continue;
      const objects =
        conn.engine === "postgres" ? Number((await query(session, PG_USER_OBJECTS, it.database))[0]![0]) : count;
      if (objects > 0) notEmpty.push(`${JSON.stringify(it.database)} (${objects} object${objects === 1 ? "" : "s"})`);
    }
    if (notEmpty.length)
      throw new RestoreRefusedError(
        `the ${where(conn)} already holds database ${notEmpty.join(", ")}: a restore loads into absent or empty databases only (nothing was written)`,
      );

    // PostgreSQL: where CREATE DATABASE and the globals run (a server without "postgres" has template1)
    const adminDb = existing.has("postgres") ? "postgres" : "template1";
    const globals = m.items.find((it) => it.database === undefined);
    if (globals) await loadGlobals(session, files.get(globals)!, adminDb);
    // after the globals: the roles a created database may be given to
    const roles = new Set(
      conn.engine === "postgres"
        ? (await query(session, "SELECT rolname FROM pg_roles", adminDb)).map(([r]) => r!)
        : [],
    );
    const out: RestoredDatabase[] = [];
    const entries = new Map(m.database.databases.map((d) => [d.name, d]));
    for (const it of dumps) {
      const name = it.database!;
      const created = !existing.has(name);
      if (created) {
        const d = entries.get(name)!;
        const sql =
          conn.engine === "postgres"
            ? `CREATE DATABASE ${pgIdentifier(name)} TEMPLATE template0${d.owner && roles.has(d.owner) ? ` OWNER ${pgIdentifier(d.owner)}` : ""}`
            : `CREATE DATABASE ${mysqlIdentifier(name)}${d.charset ? ` CHARACTER SET ${d.charset}` : ""}${d.collation ? ` COLLATE ${d.collation}` : ""}`;
        await query(session, sql, conn.engine === "postgres" ? adminDb : undefined);
      }
      log.info(
        `restore ${it.name}: loading into database ${JSON.stringify(name)}${created ? " (created)" : " (empty)"}`,
      );
      await load(session, it, files.get(it)!);
      out.push({ database: name, item: it.name, created });
    }
    log.info(`restore complete: ${out.length} database(s) into the ${where(conn)}`);
    await o.afterLoad?.(files);
    return out;
  } finally {
    await session?.close();
    await fs.rm(work, { recursive: true, force: true });
  }
}

/** The server's databases; for MySQL with the number of objects each holds (PostgreSQL counts per database later). */
async function existingDatabases(s: Session): Promise<Map<string, number>> {
  if (s.connection.engine === "postgres")
    return new Map((await query(s, "SELECT datname FROM pg_database")).map(([n]) => [n!, 0]));
  const out = new Map<string, number>((await query(s, "SHOW DATABASES")).map(([n]) => [n!, 0]));
  for (const [schema] of await query(s, MYSQL_OBJECTS)) out.set(schema!, (out.get(schema!) ?? 0) + 1);
  return out;
}

/** Runs a tool of the session on a checked dump: PostgreSQL's read the file, the MySQL client its stdin. */
async function runWithFile(s: Session, role: "client" | "restore", args: string[], db: string, file: string) {
  const fh = await fs.open(file, "r");
  try {
    const pg = s.connection.engine === "postgres";
    const child = spawnTool(s, role, pg ? [...args, role === "restore" ? file : `--file=${file}`] : args, db, [
      pg ? "ignore" : fh.fd,
      "pipe",
      "pipe",
    ]);
    const { done, stderr } = exitOf(child, child.spawnfile);
    await done;
    return stderr();
  } finally {
    await fh.close();
  }
}

async function loadGlobals(s: Session, file: string, db: string): Promise<void> {
  // no ON_ERROR_STOP: every statement is tried; each error becomes a warning
  const err = await runWithFile(s, "client", ["-X", "-q"], db, file);
  const errors = err.split("\n").filter((l) => /ERROR:/.test(l));
  for (const e of errors) log.warn(`globals: ${e.replace(/^psql:[^:]*:\d+: /, "")}`);
  log.info(`restore globals: roles and tablespaces loaded${errors.length ? ` with ${errors.length} warning(s)` : ""}`);
}

async function load(s: Session, it: DumpItem, file: string): Promise<void> {
  const db = it.database!;
  try {
    if (s.connection.engine === "postgres")
      await runWithFile(s, "restore", ["--single-transaction", "--exit-on-error", "--no-password"], db, file);
    else
      await runWithFile(
        s,
        "client",
        [`--database=${db}`, "--default-character-set=utf8mb4", "--batch", "--max-allowed-packet=1073741824"],
        db,
        file,
      );
  } catch (e) {
    const detail = e instanceof CommandError ? e.message : (e as Error).message;
    throw new Error(
      `loading ${it.name} into database ${JSON.stringify(db)} of the ${where(s.connection)} failed: ${detail}`,
    );
  }
}
