/**
 * Throwaway PostgreSQL and MariaDB servers for tests and benches: each in its own temporary directory,
 * listening on a free loopback port, with one administrative user (`admin`) and a password, stopped and
 * removed by `stop()`. The servers are the Debian packages' (PostgreSQL 15 from /usr/lib/postgresql,
 * MariaDB from `mariadb-server` in .ci/apt-packages.txt); `databasePrerequisites()` names what is missing.
 *
 * PostgreSQL refuses to run as root: its directory belongs to the `postgres` user and the server runs as it
 * (runuser). MariaDB runs as root with `--user=root`.
 */
import { ChildProcess, execFileSync, spawn } from "node:child_process";
import { existsSync, promises as fs } from "node:fs";
import { freePort } from "./free-port";
import os from "node:os";
import path from "node:path";

export const POSTGRES_BIN = process.env.TEST_POSTGRES_BIN ?? "/usr/lib/postgresql/15/bin";
export const ADMIN_USER = "admin";
/** Characters an option file or a connection string must quote right. */
export const ADMIN_PASSWORD = `s3cr'et "pw" \\ #;=x`;

export interface TestServer {
  engine: "postgres" | "mariadb";
  host: string;
  port: number;
  user: string;
  password: string;
  /** Runs SQL as the admin user (psql / mariadb client over TCP); returns stdout. */
  sql(statements: string, database?: string): string;
  stop(): Promise<void>;
}

function which(cmd: string): boolean {
  try {
    execFileSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" });
    return true;
  } catch {
    return false;
  }
}

/** What this machine lacks to start the servers (empty: all there). */
export function databasePrerequisites(): string[] {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root (the PostgreSQL server runs as the postgres user through runuser)");
  if (!existsSync(path.join(POSTGRES_BIN, "initdb"))) missing.push(`PostgreSQL server binaries in ${POSTGRES_BIN}`);
  for (const t of ["mariadbd", "mariadb-install-db", "mariadb", "mariadb-dump", "zstd", "runuser"])
    if (!which(t) && !existsSync(`/usr/sbin/${t}`))
      missing.push(`${t} (apt-get install mariadb-server mariadb-client zstd)`);
  return missing;
}

async function waitFor(what: string, ok: () => boolean, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`${what} exited (${child.exitCode}): ${log()}`);
    if (ok()) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${what} did not accept connections within 30 s: ${log()}`);
}

function stopper(child: ChildProcess, dir: string): () => Promise<void> {
  return async () => {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      await gone;
      clearTimeout(t);
    }
    await fs.rm(dir, { recursive: true, force: true });
  };
}

/** A PostgreSQL server (UTF-8, C.UTF-8 locale) whose superuser is `admin`, scram-sha-256 over TCP. */
export async function startPostgres(): Promise<TestServer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "backup-actions-pg-"));
  const data = path.join(dir, "data");
  await fs.writeFile(path.join(dir, "pw"), ADMIN_PASSWORD + "\n");
  execFileSync("chown", ["-R", "postgres:postgres", dir]);
  await fs.chmod(dir, 0o700);
  const as = (cmd: string, args: string[]) =>
    execFileSync("runuser", ["-u", "postgres", "--", path.join(POSTGRES_BIN, cmd), ...args], {
      stdio: ["ignore", "pipe", "pipe"],
    });
  as("initdb", [
    "-D",
    data,
    "-U",
    ADMIN_USER,
    "--pwfile",
    path.join(dir, "pw"),
    "-A",
    "scram-sha-256",
    "-E",
    "UTF8",
    "--locale=C.UTF-8",
    "--no-sync",
  ]);
  await fs.rm(path.join(dir, "pw"));
  const port = await freePort();
  let log = "";
  const child = spawn(
    "runuser",
    [
      "-u",
      "postgres",
      "--",
      path.join(POSTGRES_BIN, "postgres"),
      "-D",
      data,
      "-p",
      String(port),
      "-c",
      "listen_addresses=127.0.0.1",
      "-c",
      `unix_socket_directories=${dir}`,
      "-c",
      "fsync=off",
      "-c",
      "max_connections=20",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr!.on("data", (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
  const ready = () => {
    try {
      execFileSync(path.join(POSTGRES_BIN, "pg_isready"), ["-q", "-h", "127.0.0.1", "-p", String(port)]);
      return true;
    } catch {
      return false;
    }
  };
  const stop = stopper(child, dir);
  try {
    await waitFor("postgres", ready, child, () => log);
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    engine: "postgres",
    host: "127.0.0.1",
    port,
    user: ADMIN_USER,
    password: ADMIN_PASSWORD,
    sql: (statements, database = "postgres") =>
      execFileSync(
        path.join(POSTGRES_BIN, "psql"),
        [
          "-X",
          "-q",
          "-A",
          "-t",
          "-v",
          "ON_ERROR_STOP=1",
          "-h",
          "127.0.0.1",
          "-p",
          String(port),
          "-U",
          ADMIN_USER,
          "-d",
          database,
        ],
        { input: statements, env: { ...process.env, PGPASSWORD: ADMIN_PASSWORD }, encoding: "utf8", stdio: "pipe" },
      ),
    stop,
  };
}

/** A MariaDB server whose `admin`@`127.0.0.1` has every privilege, with a password. */
export async function startMariadb(): Promise<TestServer> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), "backup-actions-maria-"));
  const data = path.join(dir, "data");
  const sock = path.join(dir, "sock");
  execFileSync(
    "mariadb-install-db",
    ["--no-defaults", `--datadir=${data}`, "--user=root", "--auth-root-authentication-method=socket", "--skip-test-db"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  const port = await freePort();
  let log = "";
  const child = spawn(
    "mariadbd",
    [
      "--no-defaults",
      `--datadir=${data}`,
      `--socket=${sock}`,
      `--port=${port}`,
      "--bind-address=127.0.0.1",
      "--user=root",
      `--pid-file=${path.join(dir, "pid")}`,
      "--skip-name-resolve",
      "--innodb-buffer-pool-size=32M",
      "--innodb-flush-log-at-trx-commit=0",
      "--max-allowed-packet=64M",
      "--skip-log-bin",
    ],
    { stdio: ["ignore", "ignore", "pipe"] },
  );
  child.stderr!.on("data", (b: Buffer) => (log = (log + b.toString()).slice(-4000)));
  const root = (statements: string) =>
    execFileSync(
      "mariadb",
      [
        "--no-defaults",
        `--socket=${sock}`,
        "-u",
        "root",
        "--batch",
        "--skip-column-names",
        "--default-character-set=utf8mb4",
      ],
      {
        input: statements,
        encoding: "utf8",
        stdio: "pipe",
      },
    );
  const ready = () => {
    try {
      root("SELECT 1");
      return true;
    } catch {
      return false;
    }
  };
  const stop = stopper(child, dir);
  try {
    await waitFor("mariadbd", ready, child, () => log);
    const pw = ADMIN_PASSWORD.replace(/\\/g, "\\\\").replace(/'/g, "\\'");
    root(
      `CREATE USER '${ADMIN_USER}'@'127.0.0.1' IDENTIFIED BY '${pw}';\n` +
        `GRANT ALL PRIVILEGES ON *.* TO '${ADMIN_USER}'@'127.0.0.1' WITH GRANT OPTION;\n`,
    );
  } catch (e) {
    await stop();
    throw e;
  }
  return {
    engine: "mariadb",
    host: "127.0.0.1",
    port,
    user: ADMIN_USER,
    password: ADMIN_PASSWORD,
    sql: (statements, database) =>
      execFileSync(
        "mariadb",
        [
          "--no-defaults",
          `--socket=${sock}`,
          "-u",
          "root",
          "--batch",
          "--skip-column-names",
          "--default-character-set=utf8mb4",
          ...(database ? [database] : []),
        ],
        { input: statements, encoding: "utf8", stdio: "pipe", maxBuffer: 256 << 20 },
      ),
    stop,
  };
}
