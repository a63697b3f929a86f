/**
 * Which tool each engine's dump runs, with which flags, and where the worker image puts it: the Dockerfile sets
 * the very variables db-engine.ts reads, to the clients it installs.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { conninfo, TOOL_DIR_ENV, toolName, toolPath } from "../../batch-worker/src/db-engine";
import { checkPgDumpVersion, dumpArgs, SYSTEM_DATABASES } from "../../batch-worker/src/dump-database";
import { serverBinary } from "../../batch-worker/src/scratch-server";

const DOCKERFILE = readFileSync(path.join(__dirname, "../../batch-worker/Dockerfile"), "utf8");

describe("the dump tools", () => {
  it("are the engine's own, found in the directory the image names", () => {
    expect([toolName("postgres", "dump"), toolName("mysql", "dump"), toolName("mariadb", "dump")]).toEqual([
      "pg_dump",
      "mysqldump",
      "mariadb-dump",
    ]);
    expect(toolPath("mysql", "dump", { BACKUP_ACTIONS_MYSQL_BIN: "/opt/mysql-8.4/bin" })).toBe(
      "/opt/mysql-8.4/bin/mysqldump",
    );
    expect(toolPath("postgres", "restore", {})).toBe("pg_restore");
    expect(() => toolName("mysql", "globals")).toThrow("mysql has no globals tool");
  });

  it("are in the worker image at the paths its environment names", () => {
    expect(DOCKERFILE).toContain(`${TOOL_DIR_ENV.postgres}=/usr/lib/postgresql/\${PG_MAJOR}/bin`);
    expect(DOCKERFILE).toContain(`${TOOL_DIR_ENV.mysql}=/opt/mysql-\${MYSQL_SERIES}/bin`);
    expect(DOCKERFILE).toContain(`${TOOL_DIR_ENV.mariadb}=/usr/bin`);
    expect(DOCKERFILE).toMatch(/^ARG PG_MAJOR=17$/m);
    expect(DOCKERFILE).toMatch(/^ARG MYSQL_SERIES=8\.4$/m);
    expect(DOCKERFILE).toMatch(/^ARG MARIADB_SERIES=11\.\d+$/m);
    expect(DOCKERFILE).toContain('"postgresql-client-${PG_MAJOR}" mariadb-client');
    expect(DOCKERFILE).toContain("mysql-${MYSQL_SERIES}-lts");
  });

  it("the scratch restore's servers are in the image, binaries only, where serverBinary finds them", () => {
    // PostgreSQL's server beside its clients (BACKUP_ACTIONS_POSTGRES_BIN), MariaDB's in /usr/sbin (a fallback)
    expect(DOCKERFILE).toContain('"postgresql-${PG_MAJOR}" mariadb-server-core');
    expect(DOCKERFILE).toContain("create_main_cluster = false");
    expect(DOCKERFILE).toContain('"/usr/lib/postgresql/${PG_MAJOR}/bin/initdb" --version');
    expect(DOCKERFILE).toContain('mariadbd --version | grep -q " ${MARIADB_SERIES}\\."');
  });

  it("server binaries: the engine's directory first, then PATH and the sbin directories; a missing one is named", () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), "backup-actions-bin-"));
    try {
      writeFileSync(path.join(dir, "initdb"), "#!/bin/sh\n", { mode: 0o755 });
      expect(serverBinary("postgres", "initdb", { BACKUP_ACTIONS_POSTGRES_BIN: dir, PATH: "" })).toBe(
        path.join(dir, "initdb"),
      );
      expect(serverBinary("mariadb", "initdb", { PATH: dir })).toBe(path.join(dir, "initdb"));
      expect(() => serverBinary("mariadb", "no-such-mariadbd", { PATH: dir })).toThrow(
        "no-such-mariadbd is not installed (looked in $BACKUP_ACTIONS_MARIADB_BIN, PATH, /usr/sbin, /usr/local/sbin): the scratch restore of a mariadb dump needs the mariadb server",
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("dump one consistent snapshot with everything a restore needs", () => {
    expect(dumpArgs("postgres", "shop")).toEqual(["--format=custom", "--compress=0"]);
    const my = dumpArgs("mysql", "shop");
    for (const f of ["--single-transaction", "--routines", "--triggers", "--events", "--hex-blob"])
      expect(my).toContain(f);
    expect(my.at(-1)).toBe("shop");
    expect(my).toContain("--set-gtid-purged=OFF");
    expect(dumpArgs("mariadb", "shop")).not.toContain("--set-gtid-purged=OFF"); // mariadb-dump has no such option
    expect(SYSTEM_DATABASES.mysql).toEqual([
      "mysql",
      "information_schema",
      "performance_schema",
      "sys",
      "rdsadmin",
      "innodb",
      "tmp",
    ]);
    expect(SYSTEM_DATABASES.postgres).not.toContain("postgres");
  });

  it("connect with every value of the connection string quoted", () => {
    expect(conninfo({ engine: "postgres", host: "h", port: 5432, user: "o'neil", password: "" }, "a b=c\\d")).toBe(
      "host='h' port=5432 user='o\\'neil' dbname='a b=c\\\\d' connect_timeout=10",
    );
  });

  it("refuse a pg_dump older than the server before anything is written", () => {
    expect(() => checkPgDumpVersion("pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1)", "16.4")).toThrow(
      "pg_dump (PostgreSQL) 15.18 (Debian 15.18-0+deb12u1) cannot dump a PostgreSQL 16.4 server: install a pg_dump of major version 16 or newer",
    );
    expect(() => checkPgDumpVersion("pg_dump (PostgreSQL) 17.2", "16.4 (Debian 16.4-1)")).not.toThrow();
    expect(() => checkPgDumpVersion("pg_dump (PostgreSQL) 17.2", "17.0")).not.toThrow();
  });
});
