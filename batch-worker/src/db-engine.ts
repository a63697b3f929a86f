/**
 * What differs between PostgreSQL and MySQL/MariaDB for a dump and its restore: which client tools,
 * how they are told where to connect and with which password (never on a command line: PGPASSWORD
 * in the child's environment, a 0600 option file for the MySQL clients), how the server lists its
 * databases, and how a failed connection reads. Everything goes through the engines' own clients
 * (psql, mysql/mariadb), so the worker needs no database driver.
 */
import { ChildProcess, spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BackupActionsError, CommandError } from "../../core/errors";
import { DatabaseEngine } from "../../core/manifest";
import { run, RunResult } from "./exec";

/** The server could not be reached, or refused the user or password. */
export class DatabaseConnectionError extends BackupActionsError {
  override readonly name: string = "DatabaseConnectionError";
}

/** A database named on the command line does not exist on the server. */
export class DatabaseNotFoundError extends BackupActionsError {
  override readonly name: string = "DatabaseNotFoundError";
}

/** An engine's client tool is not installed, or older than the server it would dump. */
export class DatabaseToolError extends BackupActionsError {
  override readonly name: string = "DatabaseToolError";
}

export interface Connection {
  engine: DatabaseEngine;
  host: string;
  port: number;
  user: string;
  password: string;
  /**
   * MySQL/MariaDB: connect through this Unix socket instead of host:port (the scratch server of
   * scratch-server.ts listens on no TCP port). PostgreSQL needs no such field: a `host` that starts
   * with "/" is the directory of the server's socket (libpq), `port` names the socket file.
   */
  socket?: string;
}

export const DEFAULT_PORTS: Record<DatabaseEngine, number> = { postgres: 5432, mysql: 3306, mariadb: 3306 };

/**
 * The engine's client tools. A directory from `BACKUP_ACTIONS_<ENGINE>_BIN` (the worker image sets
 * them: MySQL's and MariaDB's clients both want to be called `mysql`), else found on PATH.
 */
export const TOOL_DIR_ENV: Record<DatabaseEngine, string> = {
  postgres: "BACKUP_ACTIONS_POSTGRES_BIN",
  mysql: "BACKUP_ACTIONS_MYSQL_BIN",
  mariadb: "BACKUP_ACTIONS_MARIADB_BIN",
};

const TOOLS = {
  postgres: { client: "psql", dump: "pg_dump", globals: "pg_dumpall", restore: "pg_restore" },
  mysql: { client: "mysql", dump: "mysqldump" },
  mariadb: { client: "mariadb", dump: "mariadb-dump" },
} as const;

export type ToolRole = "client" | "dump" | "globals" | "restore";

export function toolName(engine: DatabaseEngine, role: ToolRole): string {
  const t = (TOOLS[engine] as Partial<Record<ToolRole, string>>)[role];
  if (!t) throw new Error(`${engine} has no ${role} tool`);
  return t;
}

export function toolPath(engine: DatabaseEngine, role: ToolRole, env: NodeJS.ProcessEnv = process.env): string {
  const dir = env[TOOL_DIR_ENV[engine]];
  const name = toolName(engine, role);
  return dir ? path.join(dir, name) : name;
}

/** libpq's connection string, every value quoted (a database name may hold spaces, quotes or "="). */
export function conninfo(c: Connection, dbname: string): string {
  const q = (v: string) => `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  return `host=${q(c.host)} port=${c.port} user=${q(c.user)} dbname=${q(dbname)} connect_timeout=10`;
}

/**
 * A MySQL option file (`[client]`, mode 0600, in a private temporary directory) with the user and
 * password, passed as `--defaults-extra-file`: MYSQL_PWD is deprecated in MySQL 8 and a password on the
 * command line is visible to every process of the machine.
 */
export class MysqlOptionFile {
  private constructor(
    readonly dir: string,
    readonly file: string,
  ) {}

  static async create(c: Connection): Promise<MysqlOptionFile> {
    if (/[\n\r]/.test(c.password) || /[\n\r]/.test(c.user))
      throw new DatabaseConnectionError("a MySQL user or password with a line break cannot be passed to the client");
    const dir = await fs.mkdtemp(path.join(os.tmpdir(), "backup-actions-my-"));
    const file = path.join(dir, "client.cnf");
    // quoted values: the client undoes \\ and the quote inside them
    const quote = (v: string) => `"${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
    await fs.writeFile(file, `[client]\nuser=${quote(c.user)}\npassword=${quote(c.password)}\n`, { mode: 0o600 });
    return new MysqlOptionFile(dir, file);
  }

  async remove(): Promise<void> {
    await fs.rm(this.dir, { recursive: true, force: true });
  }
}

/** How to run one engine's tools against one server. */
export interface Session {
  readonly connection: Connection;
  /** Arguments and environment for `tool`: connection first (the option file must be the first option). */
  invocation(role: ToolRole, dbname?: string): { cmd: string; args: string[]; env: NodeJS.ProcessEnv };
  close(): Promise<void>;
}

export async function openSession(c: Connection): Promise<Session> {
  if (c.engine === "postgres") {
    const env = { ...process.env, PGPASSWORD: c.password, PGCONNECT_TIMEOUT: "10", PGAPPNAME: "backup-actions" };
    return {
      connection: c,
      invocation(role, dbname = "postgres") {
        return { cmd: toolPath(c.engine, role), args: ["--no-password", "-d", conninfo(c, dbname)], env };
      },
      close: async () => undefined,
    };
  }
  const opt = await MysqlOptionFile.create(c);
  return {
    connection: c,
    invocation(role) {
      return {
        cmd: toolPath(c.engine, role),
        args: [
          `--defaults-extra-file=${opt.file}`,
          ...(c.socket ? ["--protocol=SOCKET", `--socket=${c.socket}`] : [`--host=${c.host}`, `--port=${c.port}`]),
          // mysqldump/mariadb-dump have no such option (the connection is their first step anyway)
          ...(role === "client" ? ["--connect-timeout=10"] : []),
        ],
        env: { ...process.env, MYSQL_PWD: undefined },
      };
    },
    close: () => opt.remove(),
  };
}

export function where(c: Connection): string {
  if (c.socket) return `${c.engine} server ${c.user}@${c.socket}`;
  return `${c.engine} server ${c.user}@${c.host}:${c.port}`;
}

/** Turns a client's failure into the error a person can act on (unreachable, refused, missing tool). */
export function connectionFailure(c: Connection, tool: string, e: unknown): Error {
  const text = e instanceof CommandError ? e.stderr : (e as Error).message;
  if (/ENOENT/.test(text) || (e as NodeJS.ErrnoException).code === "ENOENT")
    return new DatabaseToolError(
      `${tool} is not installed (or not on PATH / in $${TOOL_DIR_ENV[c.engine]}): the ${c.engine} client tools are needed`,
    );
  if (/password authentication failed|Access denied for user|no password supplied|authentication failed/i.test(text))
    return new DatabaseConnectionError(`${where(c)} refused the user or password: ${oneLine(text)}`);
  if (
    /could not connect|Connection refused|Can't connect|could not translate host name|Unknown (MySQL|MariaDB) server host|timeout expired|timed out|No route to host|Lost connection/i.test(
      text,
    )
  )
    return new DatabaseConnectionError(`cannot reach the ${where(c)}: ${oneLine(text)}`);
  return e instanceof Error ? e : new Error(String(e));
}

/** The tool's message in one line: psql spreads one failure over several ("… failed: Connection refused\n\tIs the server running …"). */
function oneLine(text: string): string {
  const lines = text
    .split("\n")
    .map((l) => l.trim())
    .filter(Boolean);
  return lines.join(" ").slice(-600);
}

/** Runs a query with the engine's client; returns rows of fields (NUL-separated for psql, unescaped for mysql). */
export async function query(s: Session, sql: string, dbname?: string): Promise<string[][]> {
  const c = s.connection;
  const inv = s.invocation("client", dbname);
  const args =
    c.engine === "postgres"
      ? [
          ...inv.args,
          "-X",
          "-q",
          "-A",
          "-t",
          "-F",
          PG_FIELD,
          "--record-separator-zero",
          "-v",
          "ON_ERROR_STOP=1",
          "-c",
          sql,
        ]
      : [...inv.args, "--batch", "--skip-column-names", ...(dbname ? [`--database=${dbname}`] : []), "-e", sql];
  let r: RunResult;
  try {
    r = await run(inv.cmd, args, { env: inv.env });
  } catch (e) {
    throw connectionFailure(c, inv.cmd, e);
  }
  if (r.code !== 0) throw connectionFailure(c, inv.cmd, new CommandError(inv.cmd, r.code, r.signal, r.stderr));
  if (c.engine === "postgres")
    return r.stdout
      .split("\0")
      .filter((rec) => rec !== "")
      .map((rec) => rec.split(PG_FIELD));
  return r.stdout
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => l.split("\t").map(unescapeMysql));
}

/** psql's field separator: ASCII unit separator, which no name of a database or setting holds (records end in NUL). */
const PG_FIELD = "\x1f";

function unescapeMysql(f: string): string {
  return f.replace(/\\(.)/g, (_, ch: string) => ({ n: "\n", t: "\t", "0": "\0", "\\": "\\" })[ch] ?? ch);
}

/** The first line of `tool --version`; throws DatabaseToolError when the tool cannot run. */
export async function toolVersion(engine: DatabaseEngine, role: ToolRole): Promise<string> {
  const cmd = toolPath(engine, role);
  const r = await run(cmd, ["--version"]).catch((e: NodeJS.ErrnoException) => {
    throw new DatabaseToolError(
      `${cmd} is not installed (${e.code ?? e.message}): put the ${engine} client tools on PATH or in $${TOOL_DIR_ENV[engine]}`,
    );
  });
  if (r.code !== 0) throw new DatabaseToolError(`${cmd} --version failed: ${r.stderr.trim()}`);
  return r.stdout.split("\n")[0]!.trim();
}

/** Spawns a tool of the session with extra arguments after the connection's. */
export function spawnTool(
  s: Session,
  role: ToolRole,
  extra: string[],
  dbname: string | undefined,
  stdio: ("pipe" | "ignore" | number)[],
): ChildProcess {
  const inv = s.invocation(role, dbname);
  return spawn(inv.cmd, [...inv.args, ...extra], { env: inv.env, stdio: stdio as never });
}
