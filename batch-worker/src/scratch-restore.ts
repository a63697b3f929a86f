/**
 * `verify --restore-scratch` (issue 13 item 2, README "Restore drills"): a database dump archive is loaded
 * into a throw-away server (scratch-server.ts) with the restore command's own code (restore-database.ts),
 * and what the restored server holds is compared with the manifest and with the dumps themselves:
 *
 * - every database the manifest lists exists, owned by the role it records (PostgreSQL) or with the
 *   character set and collation it records (MariaDB);
 * - every table the dumps fill holds as many rows as the dump has for it (the rows of each COPY block of
 *   `pg_restore --data-only`, the row tuples of each INSERT of a MariaDB script; a table a MariaDB script
 *   creates without INSERTs holds none). The manifest records no row counts: the dump is the record.
 *
 * The server and its directory are removed on every path; `cleanup` (when given) lets a signal handler
 * remove them too. MySQL dumps are not restored: the worker image has no MySQL server, and MariaDB does
 * not load every MySQL 8 dump (its 0900 collations, its JSON type); the report says so in a note.
 */
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { DatabaseManifest, DumpItem, isDatabaseManifest, MANIFEST_NAME } from "../../core/manifest";
import { Cleanup } from "./cleanup";
import { Connection, openSession, query, Session, toolPath } from "./db-engine";
import { exitOf } from "./pipeline";
import { log } from "./log";
import { restoreDatabases } from "./restore-database";
import { SCRATCH_ENGINES, ScratchEngine, startScratchServer } from "./scratch-server";
import { ObjectStore } from "./store";
import { type ItemVerdict, type ManifestCheck, readArchiveManifest, type VerifyReport } from "./verify";

export const SCRATCH_ITEM = "scratch-restore";

export interface ScratchRestoreOptions {
  /** Parent of the server's directory and of the restore's work directory. @default os.tmpdir() */
  workDir?: string;
  /** The manifest check of the verify (tamper evidence): the restore reads manifest.json again. */
  checkManifest?: ManifestCheck;
  /** Where a signal handler finds the server's stop. */
  cleanup?: Cleanup;
}

export interface ScratchRestoreResult {
  /** Undefined when no restore was attempted (see notes). */
  item?: ItemVerdict;
  checked: string[];
  notes: string[];
}

/** Rows per table of one database's dump, by the table's name as SQL spells it (quoted where needed). */
export type TableRows = Map<string, number>;

/** The end of the identifier quoted with `q` at `i` of `s` (a doubled `q` stands for itself), or -1. */
function quotedIdentifierEnd(s: string, i: number, q: string): number {
  if (s[i] !== q) return -1;
  for (let j = i + 1; j < s.length; j++) {
    if (s[j] !== q) continue;
    if (s[j + 1] === q) j++;
    else return j + 1;
  }
  return -1;
}

/** One SQL identifier at `i` of `s` (double-quoted with "" or bare): its end, or -1. */
function pgIdentifierEnd(s: string, i: number): number {
  if (s[i] === '"') return quotedIdentifierEnd(s, i, '"');
  const m = /^[^\s."(]+/.exec(s.slice(i));
  return m ? i + m[0].length : -1;
}

/** The table of `COPY schema.table (columns) FROM stdin;`, as written (schema-qualified by pg_restore). */
export function copyTable(line: string): string | undefined {
  if (!line.startsWith("COPY ") || !line.endsWith(" FROM stdin;")) return undefined;
  let end = pgIdentifierEnd(line, 5);
  if (end > 0 && line[end] === ".") end = pgIdentifierEnd(line, end + 1);
  return end > 0 ? line.slice(5, end) : undefined;
}

/** Rows of every COPY block of pg_restore's SQL output (the data of a custom-format dump). */
export async function pgDumpRows(lines: AsyncIterable<string>): Promise<TableRows> {
  const rows: TableRows = new Map();
  let table: string | undefined;
  for await (const line of lines) {
    if (table === undefined) {
      table = copyTable(line);
      if (table !== undefined) rows.set(table, rows.get(table) ?? 0);
    } else if (line === "\\.") table = undefined;
    else rows.set(table, rows.get(table)! + 1);
  }
  if (table !== undefined) throw new Error(`the COPY block of ${table} does not end`);
  return rows;
}

/** A backquoted MySQL identifier at `i` (`` doubled inside): its end, or -1. */
function mysqlIdentifierEnd(s: string, i: number): number {
  return quotedIdentifierEnd(s, i, "`");
}

/**
 * Counts the row tuples of an INSERT's VALUES list, fed line by line (mysqldump writes a statement on one
 * line, mariadb-dump 10.11+ a tuple per line): top-level parentheses outside '…' and "…" strings (with \
 * escapes and doubled quotes), up to the `;` that ends the statement.
 */
export class ValuesScanner {
  tuples = 0;
  ended = false;
  private depth = 0;
  private quote: number | undefined;

  feed(s: string, from = 0): void {
    for (let i = from; i < s.length && !this.ended; i++) {
      const c = s.charCodeAt(i);
      if (this.quote !== undefined) {
        if (c === 92 /* \ */) i++;
        else if (c === this.quote) {
          if (s.charCodeAt(i + 1) === this.quote) i++;
          else this.quote = undefined;
        }
      } else if (c === 39 /* ' */ || c === 34 /* " */) this.quote = c;
      else if (c === 40 /* ( */) {
        if (this.depth++ === 0) this.tuples++;
      } else if (c === 41 /* ) */) this.depth--;
      else if (c === 59 /* ; */ && this.depth === 0) this.ended = true;
    }
  }
}

/**
 * Rows per table of a mysqldump/mariadb-dump script: `CREATE TABLE` and `INSERT INTO` statements the
 * tool writes at the start of a line, outside the DELIMITER blocks of routines and triggers (whose bodies
 * may hold INSERTs of their own).
 */
export async function mysqlDumpRows(lines: AsyncIterable<string>): Promise<TableRows> {
  const rows: TableRows = new Map();
  let delimiter = ";";
  let insert: { table: string; values: ValuesScanner } | undefined;
  /** Counts the INSERT's tuples into its table once its statement ended. */
  const endInsert = () => {
    if (!insert?.values.ended) return;
    rows.set(insert.table, (rows.get(insert.table) ?? 0) + insert.values.tuples);
    insert = undefined;
  };
  for await (const line of lines) {
    if (insert) {
      insert.values.feed(line);
      endInsert();
      continue;
    }
    const d = /^DELIMITER (\S+)\s*$/.exec(line);
    if (d) {
      delimiter = d[1]!;
      continue;
    }
    if (delimiter !== ";") continue;
    const create = /^CREATE TABLE (?:IF NOT EXISTS )?/.exec(line);
    if (create) {
      const end = mysqlIdentifierEnd(line, create[0].length);
      if (end > 0) {
        const t = line.slice(create[0].length, end);
        rows.set(t, rows.get(t) ?? 0);
      }
      continue;
    }
    const head = /^INSERT (?:IGNORE )?INTO /.exec(line);
    if (!head) continue;
    const end = mysqlIdentifierEnd(line, head[0].length);
    const values = end < 0 ? -1 : line.indexOf("VALUES", end);
    if (values < 0) throw new Error(`an INSERT the dump's rows cannot be counted in: ${line.slice(0, 200)}`);
    insert = { table: line.slice(head[0].length, end), values: new ValuesScanner() };
    insert.values.feed(line, values + "VALUES".length);
    endInsert();
  }
  if (insert) throw new Error(`the INSERT into ${insert.table} does not end`);
  return rows;
}

function linesOf(stream: NodeJS.ReadableStream): AsyncIterable<string> {
  return createInterface({ input: stream, crlfDelay: Infinity });
}

/** What one checked dump file holds, table by table. */
async function dumpRows(engine: ScratchEngine, file: string): Promise<TableRows> {
  if (engine === "mariadb") return mysqlDumpRows(linesOf(createReadStream(file)));
  const child = spawn(toolPath("postgres", "restore"), ["--data-only", "--file=-", file], {
    stdio: ["ignore", "pipe", "pipe"],
  });
  const { done } = exitOf(child, "pg_restore --data-only");
  const [rows] = await Promise.all([pgDumpRows(linesOf(child.stdout)), done]);
  return rows;
}

const COUNT_BATCH = 200;

/** The scratch server's rows of each table (one query per COUNT_BATCH tables); a missing table is a problem. */
async function serverRows(s: Session, database: string, tables: string[]): Promise<Map<string, number>> {
  const pg = s.connection.engine === "postgres";
  const out = new Map<string, number>();
  for (let i = 0; i < tables.length; i += COUNT_BATCH) {
    const batch = tables.slice(i, i + COUNT_BATCH);
    const sql = batch
      .map((t, j) => `SELECT ${i + j}, count(*) FROM ${pg ? `ONLY ${t}` : `\`${database.replace(/`/g, "``")}\`.${t}`}`)
      .join(" UNION ALL ");
    for (const [idx, n] of await query(s, sql, pg ? database : undefined)) out.set(tables[Number(idx)]!, Number(n));
  }
  return out;
}

/** Compares the restored server with the manifest's databases and the dumps' rows; returns the problems. */
async function compare(
  s: Session,
  m: DatabaseManifest,
  files: ReadonlyMap<DumpItem, string>,
  /** Databases of the fresh server (PostgreSQL's `postgres`): a restore loads into them without changing their owner. */
  preexisting: ReadonlySet<string>,
): Promise<{ problems: string[]; tables: number; rows: number }> {
  const engine = s.connection.engine as ScratchEngine;
  const problems: string[] = [];
  const pg = engine === "postgres";
  const present = new Map(
    (
      await query(
        s,
        pg
          ? "SELECT datname, pg_get_userbyid(datdba) FROM pg_database"
          : "SELECT SCHEMA_NAME, DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA",
        pg ? "postgres" : undefined,
      )
    ).map(([name, ...rest]) => [name!, rest]),
  );
  for (const d of m.database.databases) {
    const got = present.get(d.name);
    if (!got) {
      problems.push(`database ${JSON.stringify(d.name)} of the manifest is not on the restored server`);
      continue;
    }
    const want = pg
      ? [["owner", preexisting.has(d.name) ? undefined : d.owner]]
      : [
          ["character set", d.charset],
          ["collation", d.collation],
        ];
    want.forEach(([what, value], i) => {
      if (value !== undefined && got[i] !== value)
        problems.push(
          `database ${JSON.stringify(d.name)}: ${what} ${JSON.stringify(got[i])} on the restored server, the manifest records ${JSON.stringify(value)}`,
        );
    });
  }
  let tables = 0;
  let rows = 0;
  for (const [it, file] of files) {
    if (it.database === undefined || !present.has(it.database)) continue;
    const dumped = await dumpRows(engine, file);
    const restored = await serverRows(s, it.database, [...dumped.keys()]);
    for (const [t, n] of dumped) {
      const got = restored.get(t);
      if (got !== n)
        problems.push(
          `database ${JSON.stringify(it.database)}, table ${t}: the dump ${it.name} holds ${n} row${n === 1 ? "" : "s"}, the restored server ${got}`,
        );
      tables++;
      rows += n;
    }
  }
  return { problems, tables, rows };
}

/**
 * Restores a database archive into a scratch server and checks it. Never throws for what it finds (a
 * dump that does not load, a table short of rows, a server that does not start): those are the item's
 * problems. The server is stopped and its directory removed before it returns.
 */
export async function scratchRestore(
  store: ObjectStore,
  m: DatabaseManifest,
  o: ScratchRestoreOptions = {},
): Promise<ScratchRestoreResult> {
  const engine = m.database.engine;
  if (!(SCRATCH_ENGINES as readonly string[]).includes(engine)) {
    const note = `scratch restore unsupported for ${engine} dumps: the worker has no ${engine} server, and MariaDB does not load every ${engine} dump (not attempted; the dumps were verified byte by byte only)`;
    log.warn(note);
    return { checked: [], notes: [note] };
  }
  const problems: string[] = [];
  let checked = `${SCRATCH_ITEM}: the dumps loaded into a throw-away ${engine} server with the restore command's code`;
  let counts = { tables: 0, rows: 0 };
  let server;
  try {
    server = await startScratchServer(engine as ScratchEngine, o.workDir);
    o.cleanup?.add(`stop the scratch ${engine} server`, server.stop);
    const c = server.connection;
    const preexisting = new Set(await databasesOf(c));
    await restoreDatabases({
      store,
      connection: c,
      checkManifest: o.checkManifest,
      workDir: o.workDir,
      afterLoad: async (files) => {
        const s = await openSession(c);
        try {
          const [[version]] = (await query(s, pg(engine) ? "SHOW server_version" : "SELECT VERSION()")) as [[string]];
          checked = checked.replace("throw-away", `throw-away ${version.split(" ")[0]}`);
          const r = await compare(s, m, files, preexisting);
          problems.push(...r.problems);
          counts = r;
        } finally {
          await s.close();
        }
      },
    });
  } catch (e) {
    problems.push(`the scratch restore failed: ${(e as Error).message}`);
  } finally {
    if (o.cleanup && server) await o.cleanup.runOne(`stop the scratch ${engine} server`);
    else await server?.stop();
  }
  const item: ItemVerdict = { name: SCRATCH_ITEM, kind: SCRATCH_ITEM, ok: problems.length === 0, problems };
  if (item.ok) item.rows = counts.rows;
  log.info(
    `verify ${SCRATCH_ITEM} (${engine}): ${item.ok ? `OK, ${m.database.databases.length} database(s), ${counts.tables} table(s), ${counts.rows} row(s)` : "FAILED: " + problems.join("; ")}`,
  );
  return {
    item,
    checked: [
      `${checked}: every database of ${MANIFEST_NAME} present (${pg(engine) ? "its owner" : "its character set and collation"} as recorded), every table the dumps fill holding the dump's number of rows`,
    ],
    notes: [],
  };
}

async function databasesOf(c: Connection): Promise<string[]> {
  const s = await openSession(c);
  try {
    const sql = pg(c.engine) ? "SELECT datname FROM pg_database" : "SHOW DATABASES";
    return (await query(s, sql, pg(c.engine) ? "postgres" : undefined)).map(([n]) => n!);
  } finally {
    await s.close();
  }
}

function pg(engine: string): boolean {
  return engine === "postgres";
}

/**
 * A verify report with the scratch restore added (`verify --restore-scratch`): for an archive that holds
 * database dumps and verified byte by byte (a restore of an archive that did not is not attempted); other
 * kinds get a note that there was nothing to restore.
 */
export async function withScratchRestore(
  store: ObjectStore,
  report: VerifyReport,
  o: ScratchRestoreOptions = {},
): Promise<VerifyReport> {
  const note = (n: string): VerifyReport => {
    log.warn(n);
    return { ...report, notes: [...report.notes, n] };
  };
  if (!report.kind.includes("database-dump"))
    return note(`--restore-scratch: a ${report.kind} archive holds no database dump: nothing to restore`);
  if (!report.ok) return note("scratch restore not attempted: the archive did not verify");
  const m = await readArchiveManifest(store, o.checkManifest);
  if (!isDatabaseManifest(m)) return note(`--restore-scratch: ${store.url} is not a database dump`);
  const r = await scratchRestore(store, m, o);
  const items = r.item ? [...report.items, r.item] : report.items;
  return {
    ...report,
    ok: items.every((i) => i.ok),
    items,
    checked: [...report.checked, ...r.checked],
    notes: [...report.notes, ...r.notes],
  };
}
