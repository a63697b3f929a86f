/**
 * A throw-away database server for `verify --restore-scratch` (scratch-restore.ts): created in a private
 * temporary directory, listening on a Unix socket in that directory and on no TCP port, reachable by the
 * worker alone (the directory is 0700), and gone with its directory after `stop()`.
 *
 * - PostgreSQL: `initdb` (trust authentication: the socket's directory is the only door) and `postgres`
 *   with `listen_addresses=''`. The server is the worker's own child process rather than pg_ctl's, so the
 *   worker stops it on every path without reading a pid file. PostgreSQL refuses to run as root: when the
 *   worker is root (the Batch container), initdb and the server run as the `postgres` user, which owns
 *   the directory (its parent must let that user through: os.tmpdir() does).
 * - MariaDB: `mariadb-install-db` and `mariadbd --skip-networking` with the socket in the directory; the
 *   user that runs the worker logs in through the unix_socket plugin (no password exists).
 *
 * The binaries are looked up like the client tools (db-engine.ts): the directory in
 * `BACKUP_ACTIONS_<ENGINE>_BIN` first, then PATH, then /usr/sbin and /usr/local/sbin (where mariadbd lives).
 */
import { ChildProcess, spawn } from "node:child_process";
import { accessSync, constants, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { BackupActionsError } from "../../core/errors";
import { Connection, openSession, query, TOOL_DIR_ENV } from "./db-engine";
import { run, runOk } from "./exec";
import { log } from "./log";

/** The scratch server could not be set up (a binary missing, initdb or the server failing). */
export class ScratchServerError extends BackupActionsError {
  override readonly name: string = "ScratchServerError";
}

/** Engines the scratch restore can start a server for; a MySQL dump is not one (README "Restore drills"). */
export const SCRATCH_ENGINES = ["postgres", "mariadb"] as const;
export type ScratchEngine = (typeof SCRATCH_ENGINES)[number];

/** The superuser of a scratch PostgreSQL: a name no dump's globals are likely to carry (they may demote theirs). */
export const SCRATCH_PG_SUPERUSER = "backup_actions_scratch";
/** The name of the socket file is .s.PGSQL.<port>: no TCP port is opened. */
const PG_SOCKET_PORT = 5432;
const READY_TIMEOUT_MS = 120_000;
const STOP_TIMEOUT_MS = 30_000;
/** sun_path holds 108 bytes with its NUL. */
const MAX_SOCKET_PATH = 107;
export const SCRATCH_DIR_PREFIX = "backup-actions-scratch-";

const SERVER_TOOLS: Record<ScratchEngine, readonly string[]> = {
  postgres: ["initdb", "postgres"],
  mariadb: ["mariadb-install-db", "mariadbd"],
};

export interface ScratchServer {
  readonly connection: Connection;
  /** The server's directory (data, socket, log): removed by stop(). */
  readonly dir: string;
  readonly pid: number;
  /** Stops the server and removes its directory; safe to call more than once. */
  stop(): Promise<void>;
}

/** A server binary: $BACKUP_ACTIONS_<ENGINE>_BIN, then PATH, then the sbin directories. */
export function serverBinary(engine: ScratchEngine, name: string, env: NodeJS.ProcessEnv = process.env): string {
  const dirs = [
    env[TOOL_DIR_ENV[engine]],
    ...(env.PATH ?? "").split(path.delimiter),
    "/usr/sbin",
    "/usr/local/sbin",
  ].filter((d): d is string => !!d);
  for (const d of dirs) {
    const p = path.join(d, name);
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // next directory
    }
  }
  throw new ScratchServerError(
    `${name} is not installed (looked in $${TOOL_DIR_ENV[engine]}, PATH, /usr/sbin, /usr/local/sbin): ` +
      `the scratch restore of a ${engine} dump needs the ${engine} server`,
  );
}

/** uid and gid of a user of this machine. */
async function userIds(name: string): Promise<{ uid: number; gid: number }> {
  const r = await run("id", [name]);
  const uid = /uid=(\d+)/.exec(r.stdout)?.[1];
  const gid = /gid=(\d+)/.exec(r.stdout)?.[1];
  if (r.code !== 0 || uid === undefined || gid === undefined)
    throw new ScratchServerError(
      `PostgreSQL does not run as root and this machine has no "${name}" user to run the scratch server as`,
    );
  return { uid: Number(uid), gid: Number(gid) };
}

/** The last lines of the server's log, for an error message. */
async function tail(file: string): Promise<string> {
  const text = await fs.readFile(file, "utf8").catch(() => "");
  return text.trim().split("\n").slice(-8).join(" | ");
}

/** Starts a scratch server of `engine` in a new directory under `parent` (default os.tmpdir()). */
export async function startScratchServer(engine: ScratchEngine, parent = os.tmpdir()): Promise<ScratchServer> {
  const tools = SERVER_TOOLS[engine].map((t) => serverBinary(engine, t));
  const dir = await fs.mkdtemp(path.join(parent, SCRATCH_DIR_PREFIX));
  let child: ChildProcess | undefined;
  let stopped: Promise<void> | undefined;
  const stop = () =>
    (stopped ??= (async () => {
      if (child) await stopChild(child, engine);
      await fs.rm(dir, { recursive: true, force: true });
      log.info(`scratch ${engine} server stopped, ${dir} removed`);
    })());
  try {
    await fs.chmod(dir, 0o700);
    const socketPath =
      engine === "postgres" ? path.join(dir, `.s.PGSQL.${PG_SOCKET_PORT}`) : path.join(dir, "mariadbd.sock");
    if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH)
      throw new ScratchServerError(
        `the scratch server's socket ${socketPath} is longer than the ${MAX_SOCKET_PATH} bytes a Unix socket path may have: use a shorter work directory`,
      );
    const logFile = path.join(dir, "server.log");
    let connection: Connection;
    if (engine === "postgres") {
      const [initdb, postgres] = tools as [string, string];
      const ids = process.getuid?.() === 0 ? await userIds("postgres") : undefined;
      if (ids) await fs.chown(dir, ids.uid, ids.gid);
      const data = path.join(dir, "data");
      try {
        await runOk(
          initdb,
          ["-D", data, "-U", SCRATCH_PG_SUPERUSER, "-A", "trust", "-E", "UTF8", "--locale=C.UTF-8", "--no-sync"],
          { ...ids, cwd: dir },
        );
      } catch (e) {
        throw new ScratchServerError(`initdb of the scratch PostgreSQL server failed: ${(e as Error).message}`);
      }
      const out = await fs.open(logFile, "a", 0o600);
      if (ids) await out.chown(ids.uid, ids.gid);
      child = spawn(
        postgres,
        [
          "-D",
          data,
          "-p",
          String(PG_SOCKET_PORT),
          "-c",
          "listen_addresses=",
          "-c",
          `unix_socket_directories=${dir}`,
          "-c",
          "unix_socket_permissions=0700",
          "-c",
          "fsync=off",
          "-c",
          "full_page_writes=off",
          "-c",
          "synchronous_commit=off",
          "-c",
          "max_connections=20",
        ],
        { ...ids, cwd: dir, stdio: ["ignore", out.fd, out.fd] },
      );
      await out.close();
      connection = { engine, host: dir, port: PG_SOCKET_PORT, user: SCRATCH_PG_SUPERUSER, password: "" };
    } else {
      const [installDb, mariadbd] = tools as [string, string];
      const user = os.userInfo().username;
      const data = path.join(dir, "data");
      try {
        await runOk(
          installDb,
          [
            "--no-defaults",
            `--datadir=${data}`,
            `--user=${user}`,
            "--auth-root-authentication-method=socket",
            "--skip-test-db",
            "--skip-name-resolve",
          ],
          { cwd: dir },
        );
      } catch (e) {
        throw new ScratchServerError(
          `mariadb-install-db of the scratch MariaDB server failed: ${(e as Error).message}`,
        );
      }
      child = spawn(
        mariadbd,
        [
          "--no-defaults",
          `--datadir=${data}`,
          `--socket=${socketPath}`,
          "--skip-networking",
          `--user=${user}`,
          `--pid-file=${path.join(dir, "mariadbd.pid")}`,
          `--log-error=${logFile}`,
          "--innodb-flush-log-at-trx-commit=0",
          "--innodb-doublewrite=0",
          "--max-allowed-packet=1073741824",
          "--skip-log-bin",
        ],
        { cwd: dir, stdio: ["ignore", "ignore", "ignore"] },
      );
      connection = { engine, host: "localhost", port: 0, user, password: "", socket: socketPath };
    }
    await waitReady(connection, child, logFile);
    log.info(`scratch ${engine} server started in ${dir} (pid ${child.pid}, Unix socket only)`);
    return { connection, dir, pid: child.pid!, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}

async function waitReady(c: Connection, child: ChildProcess, logFile: string): Promise<void> {
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  const deadline = Date.now() + READY_TIMEOUT_MS;
  const session = await openSession(c);
  try {
    for (;;) {
      if (child.exitCode !== null || child.signalCode !== null)
        throw new ScratchServerError(
          `the scratch ${c.engine} server exited (${child.exitCode ?? child.signalCode}) before it accepted connections: ${await tail(logFile)}`,
        );
      try {
        await query(session, "SELECT 1");
        return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline)
        throw new ScratchServerError(
          `the scratch ${c.engine} server did not accept connections within ${READY_TIMEOUT_MS / 1000} s: ${await tail(logFile)}`,
        );
      await Promise.race([exited, new Promise((r) => setTimeout(r, 200))]);
    }
  } finally {
    await session.close();
  }
}

/** PostgreSQL's fast shutdown is SIGINT, MariaDB's SIGTERM; SIGKILL when it takes too long. */
async function stopChild(child: ChildProcess, engine: ScratchEngine): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const gone = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.kill(engine === "postgres" ? "SIGINT" : "SIGTERM");
  const timer = setTimeout(() => {
    log.warn(`scratch ${engine} server (pid ${child.pid}) did not stop within ${STOP_TIMEOUT_MS / 1000} s: killed`);
    child.kill("SIGKILL");
  }, STOP_TIMEOUT_MS);
  await gone;
  clearTimeout(timer);
}
