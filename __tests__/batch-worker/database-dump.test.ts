/**
 * `backup-actions dump-database`, `verify` and `restore --to-database` against real servers: PostgreSQL 15
 * and MariaDB started on loopback (testing/databases.ts), loaded with the hard parts (every common column
 * type, binary and JSON columns, arrays, enums, time zones, NULLs, non-ASCII names, several schemas and
 * databases, views, functions and procedures, triggers, sequences at non-default values, a row of several
 * MiB), dumped to file:// and to S3 on moto, restored into a fresh server, and compared table by table (row
 * count and a checksum of the content) and object by object. Then the failures: wrong password, unreachable
 * server, missing database, missing tool, a dump that fails half-way (no manifest, no upload left open), a
 * tampered object and a non-empty target (restore refuses, the server untouched).
 */
import { createHash, randomBytes } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { DatabaseManifest, MANIFEST_NAME, parseArchiveManifest } from "../../core/manifest";
import { makeS3Client } from "../../batch-worker/src/store";
import { verifyArchive } from "../../lambdas/verify/logic";
import { databasePrerequisites, startMariadb, startPostgres, TestServer } from "../../testing/databases";
import { freePort } from "../../testing/free-port";
import { dumpArgs, PW_ENV, runCli } from "../helpers/database-cli";
import { writeRdsExport } from "../../testing/rds-export-fake";
import { describeWithPrereqs, incompleteUploads, motoMissing, newBucket } from "./helpers";

const cli = (args: string[], password: string, env: NodeJS.ProcessEnv = {}) => runCli(args, password, { env });

const targetUrl = (s: TestServer) =>
  `${s.engine === "postgres" ? "postgres" : "mysql"}://${s.user}@${s.host}:${s.port}/`;

// ---------------------------------------------------------------- the data

/** 6 MiB of random bytes: a row far larger than any buffer default, that zstd cannot shrink. */
const BIG = randomBytes(6 * 1024 * 1024);

const PG_DATABASES = ["shop", "café ünïcode"];

function loadPostgres(s: TestServer): void {
  s.sql(`CREATE ROLE app_owner NOLOGIN; CREATE DATABASE shop; CREATE DATABASE "café ünïcode" OWNER app_owner;`);
  s.sql(
    `
    CREATE SCHEMA sales AUTHORIZATION app_owner;
    CREATE SCHEMA "Ärger";
    CREATE TYPE sales.mood AS ENUM ('sad', 'ok', 'happy');
    CREATE TABLE sales.everything (
      id bigserial PRIMARY KEY, i2 smallint, i4 integer, i8 bigint, n numeric(30, 10), r real, d double precision,
      t text, vc varchar(40), ch char(3), flag boolean, ba bytea, j json, jb jsonb, ia integer[], ta text[],
      ts timestamp, tz timestamptz, dt date, tm time, iv interval, u uuid, ip inet, m sales.mood
    );
    ALTER TABLE sales.everything OWNER TO app_owner;
    INSERT INTO sales.everything (i2, i4, i8, n, r, d, t, vc, ch, flag, ba, j, jb, ia, ta, ts, tz, dt, tm, iv, u, ip, m)
    VALUES
      (-32768, 2147483647, -9223372036854775808, 12345678901234567890.0123456789, 3.14, 2.718281828459045,
       E'tab\\there\\nnewline ''quote'' \\\\ back', 'ünïcödé ✓', 'abc', true, '\\x00ff10', '{"a": [1, 2]}',
       '{"b": {"c": null}}', '{1,2,3}', '{"x y","z"}', '2020-02-29 23:59:59.123456', '2021-03-14 01:59:26+05:30',
       '1999-12-31', '12:34:56', '1 year 2 mons 3 days', 'a0eebc99-9c0b-4ef8-bb6d-6bb9bd380a11', '192.168.0.1/24', 'happy'),
      (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL),
      (0, 0, 0, 'NaN', '-Infinity', 'Infinity', '', '', '', false, '\\x', '[]', '{}', '{}', '{NULL}',
       'infinity', '-infinity', '0001-01-01', '00:00', '0', '00000000-0000-0000-0000-000000000000', '::1', 'sad');
    CREATE TABLE sales.blobs (id int PRIMARY KEY, payload bytea);
    CREATE TABLE "Ärger"."Tabelle ß" ("Spalte ü" text PRIMARY KEY, "größe" int);
    INSERT INTO "Ärger"."Tabelle ß" VALUES ('Grüße', 1), ('日本語', 2), ('emoji 🎉', NULL);
    CREATE SEQUENCE sales.invoice_no START 1000 INCREMENT 7;
    SELECT setval('sales.invoice_no', 424242);
    SELECT setval('sales.everything_id_seq', 9000);
    CREATE TABLE sales.audit (id serial PRIMARY KEY, what text, at timestamptz DEFAULT '2000-01-01 00:00+00');
    CREATE FUNCTION sales.log_insert() RETURNS trigger LANGUAGE plpgsql AS
      $$ BEGIN INSERT INTO sales.audit (what) VALUES (TG_TABLE_NAME || ':' || NEW.id); RETURN NEW; END $$;
    CREATE TRIGGER everything_audit AFTER INSERT ON sales.everything FOR EACH ROW EXECUTE FUNCTION sales.log_insert();
    INSERT INTO sales.everything (t) VALUES ('fires the trigger');
    CREATE FUNCTION sales.double(x int) RETURNS int LANGUAGE sql IMMUTABLE AS 'SELECT x * 2';
    CREATE PROCEDURE sales.bump(n int) LANGUAGE plpgsql AS $$ BEGIN PERFORM setval('sales.invoice_no', n); END $$;
    CREATE VIEW sales.happy AS SELECT id, t FROM sales.everything WHERE m = 'happy';
    CREATE MATERIALIZED VIEW sales.counts AS SELECT m, count(*) FROM sales.everything GROUP BY m;
  `,
    "shop",
  );
  s.sql(`INSERT INTO sales.blobs VALUES (1, decode('${BIG.toString("hex")}', 'hex'));`, "shop");
  s.sql(
    `CREATE TABLE "Größen" (id int PRIMARY KEY, v text); INSERT INTO "Größen" VALUES (1, 'eins'), (2, NULL);`,
    "café ünïcode",
  );
  s.sql(`CREATE TABLE public.notes (id int, body text); INSERT INTO public.notes VALUES (1, 'in postgres');`);
}

const MY_DATABASES = ["shop", "café"];

function loadMariadb(s: TestServer): void {
  s.sql(`
    CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
    CREATE DATABASE \`café\` CHARACTER SET latin1 COLLATE latin1_swedish_ci;
    CREATE DATABASE untouched;
    USE shop;
    CREATE TABLE everything (
      id INT AUTO_INCREMENT PRIMARY KEY, ti TINYINT, si SMALLINT, bi BIGINT, dec_ DECIMAL(30, 10), f FLOAT, d DOUBLE,
      bits BIT(8), ch CHAR(3), vc VARCHAR(40), tx TEXT, lt LONGTEXT, bl BLOB, bin BINARY(4), vb VARBINARY(16),
      dt DATE, dtm DATETIME(6), ts TIMESTAMP(6) NULL, tm TIME(3), yr YEAR, en ENUM('sad', 'ok', 'happy'),
      st SET('a', 'b', 'c'), js JSON
    ) AUTO_INCREMENT = 5000;
    INSERT INTO everything (ti, si, bi, dec_, f, d, bits, ch, vc, tx, lt, bl, bin, vb, dt, dtm, ts, tm, yr, en, st, js)
    VALUES
      (-128, 32767, -9223372036854775808, 12345678901234567890.0123456789, 3.25, 2.718281828459045, b'10100101',
       'abc', 'ünïcödé ✓', 'tab\\there\\nnewline \\'quote\\' \\\\ back', REPEAT('long ', 1000), 0x00FF10, 0x00000001,
       0xDEADBEEF, '2020-02-29', '2020-02-29 23:59:59.123456', '2021-03-14 01:59:26.5', '-838:59:59', 2155, 'happy',
       'a,c', '{"a": [1, 2], "b": null}'),
      (NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
       NULL, NULL, NULL, NULL);
    CREATE TABLE \`Tabelle ß\` (\`Spalte ü\` VARCHAR(20) PRIMARY KEY, \`größe\` INT);
    INSERT INTO \`Tabelle ß\` VALUES ('Grüße', 1), ('日本語', 2), ('emoji 🎉', NULL);
    CREATE TABLE blobs (id INT PRIMARY KEY, payload LONGBLOB);
    CREATE TABLE audit (id INT AUTO_INCREMENT PRIMARY KEY, what VARCHAR(100));
    CREATE TRIGGER everything_audit AFTER INSERT ON everything FOR EACH ROW INSERT INTO audit (what) VALUES (CONCAT('everything:', NEW.id));
    INSERT INTO everything (tx) VALUES ('fires the trigger');
    CREATE SEQUENCE invoice_no START WITH 1000 INCREMENT BY 7;
    SELECT SETVAL(invoice_no, 424242);
    CREATE VIEW happy AS SELECT id, tx FROM everything WHERE en = 'happy';
    CREATE FUNCTION double_it(x INT) RETURNS INT DETERMINISTIC RETURN x * 2;
    CREATE PROCEDURE bump(IN n INT) UPDATE audit SET what = CONCAT(what, n) WHERE id = n;
    CREATE EVENT nightly ON SCHEDULE EVERY 1 DAY DISABLE DO DELETE FROM audit WHERE id < 0;
    USE \`café\`;
    CREATE TABLE \`Größen\` (id INT PRIMARY KEY, v VARCHAR(10));
    INSERT INTO \`Größen\` VALUES (1, 'eins'), (2, NULL);
  `);
  s.sql(`INSERT INTO blobs VALUES (1, 0x${BIG.toString("hex")});`, "shop");
}

// ---------------------------------------------------------------- what is compared

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

/** Every table's row count and content checksum, and the database's objects, of one PostgreSQL database. */
function pgFingerprint(s: TestServer, db: string): Record<string, unknown> {
  const tables = s
    .sql(
      "SELECT quote_ident(schemaname) || '.' || quote_ident(tablename) FROM pg_tables " +
        "WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1",
      db,
    )
    .trim()
    .split("\n")
    .filter(Boolean);
  const content = Object.fromEntries(
    tables.map((t) => {
      const [count, md5] = s
        .sql(
          `SELECT count(*) || '|' || coalesce(md5(string_agg(x::text, E'\\n' ORDER BY x::text)), '') FROM ${t} x`,
          db,
        )
        .trim()
        .split("|");
      return [t, { rows: Number(count), md5 }];
    }),
  );
  const objects = s.sql(
    `SELECT n.nspname || '.' || c.relname || ':' || c.relkind::text || ':' || pg_get_userbyid(c.relowner) FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') ORDER BY 1;
     SELECT n.nspname || '.' || p.proname || ':' || p.prokind::text || ':' || md5(pg_get_functiondef(p.oid)) FROM pg_proc p
       JOIN pg_namespace n ON n.oid = p.pronamespace WHERE n.nspname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1;
     SELECT tgname || ':' || tgrelid::regclass FROM pg_trigger WHERE NOT tgisinternal ORDER BY 1;
     SELECT string_agg(enumlabel, ',' ORDER BY enumsortorder) FROM pg_enum;
     SELECT n.nspname || '.' || c.relname || '=' || pg_sequence_last_value(c.oid::regclass) FROM pg_class c
       JOIN pg_namespace n ON n.oid = c.relnamespace WHERE c.relkind = 'S' ORDER BY 1;
     SELECT viewname || ':' || md5(definition) FROM pg_views WHERE schemaname NOT IN ('pg_catalog', 'information_schema') ORDER BY 1;`,
    db,
  );
  return { content, objects };
}

function myFingerprint(s: TestServer, db: string): Record<string, unknown> {
  const q = (name: string) => `\`${name.replace(/`/g, "``")}\``;
  const tables = s
    .sql(
      `SELECT TABLE_NAME FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${db}' AND TABLE_TYPE = 'BASE TABLE' ORDER BY 1`,
    )
    .trim()
    .split("\n")
    .filter(Boolean);
  const content = Object.fromEntries(
    tables.map((t) => {
      const rows = s.sql(`SELECT * FROM ${q(db)}.${q(t)} ORDER BY 1`);
      return [t, { rows: rows.split("\n").filter(Boolean).length, sha256: sha(rows) }];
    }),
  );
  const objects = s.sql(`
    SELECT DEFAULT_CHARACTER_SET_NAME, DEFAULT_COLLATION_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME = '${db}';
    SELECT TABLE_NAME, TABLE_TYPE, AUTO_INCREMENT FROM information_schema.TABLES WHERE TABLE_SCHEMA = '${db}' ORDER BY 1;
    SELECT ROUTINE_NAME, ROUTINE_TYPE, MD5(ROUTINE_DEFINITION) FROM information_schema.ROUTINES WHERE ROUTINE_SCHEMA = '${db}' ORDER BY 1;
    SELECT TRIGGER_NAME, EVENT_OBJECT_TABLE, MD5(ACTION_STATEMENT) FROM information_schema.TRIGGERS WHERE TRIGGER_SCHEMA = '${db}' ORDER BY 1;
    SELECT EVENT_NAME, STATUS, MD5(EVENT_DEFINITION) FROM information_schema.EVENTS WHERE EVENT_SCHEMA = '${db}' ORDER BY 1;
    SELECT TABLE_NAME, MD5(VIEW_DEFINITION) FROM information_schema.VIEWS WHERE TABLE_SCHEMA = '${db}' ORDER BY 1;
  `);
  return { content, objects };
}

async function tempDir(): Promise<string> {
  return fs.mkdtemp(path.join(os.tmpdir(), "backup-actions-dbdump-"));
}

describeWithPrereqs("database dumps", [...databasePrerequisites(), ...motoMissing()], () => {
  jest.setTimeout(60_000);
  const servers: TestServer[] = [];
  const dirs: string[] = [];
  let pg: TestServer;
  let maria: TestServer;
  const start = async (f: () => Promise<TestServer>) => {
    const s = await f();
    servers.push(s);
    return s;
  };

  beforeAll(async () => {
    [pg, maria] = await Promise.all([start(startPostgres), start(startMariadb)]);
    loadPostgres(pg);
    loadMariadb(maria);
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  describe("PostgreSQL, to file://", () => {
    let dir: string;
    let url: string;
    let manifest: DatabaseManifest;

    beforeAll(async () => {
      dir = await tempDir();
      dirs.push(dir);
      url = `file://${dir}/`;
      const r = await cli(dumpArgs(pg, url), pg.password);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining("dump complete") });
      expect(r.stderr).toMatch(/progress db\d-\S+: .* GiB read/);
      manifest = parseArchiveManifest(
        await fs.readFile(path.join(dir, MANIFEST_NAME), "utf8"),
        url,
      ) as DatabaseManifest;
    });

    it("dumps every database but the templates, the globals first, and records engine, version, sizes and tools", () => {
      expect(manifest.database).toMatchObject({ engine: "postgres", host: pg.host, port: pg.port });
      expect(manifest.database.serverVersion).toMatch(/^15\./);
      expect(manifest.database.databases.map((d) => d.name).sort()).toEqual([...PG_DATABASES, "postgres"].sort());
      for (const d of manifest.database.databases) expect(d.sizeBytes).toBeGreaterThan(1_000_000);
      expect(manifest.items.map((i) => [i.name, i.format, i.database])).toEqual([
        ["globals", "sql", undefined],
        ...manifest.database.databases.map((d, i) => [
          `db${i + 1}-${d.name.replace(/[^A-Za-z0-9_.+-]/g, "_")}`,
          "pg-custom",
          d.name,
        ]),
      ]);
      expect(manifest.tools.pg_dump).toMatch(/^pg_dump \(PostgreSQL\) 15\./);
      expect(manifest.tools.pg_dumpall).toMatch(/^pg_dumpall \(PostgreSQL\) 15\./);
      expect(manifest.tools.zstd).toMatch(/Zstandard/);
      const shop = manifest.items.find((i) => i.database === "shop")!;
      expect(shop.uncompressedBytes).toBeGreaterThan(BIG.length);
      expect(shop.s3ChecksumSHA256).toMatch(/^[A-Za-z0-9+/]{43}=-\d+$/);
    });

    it("verifies: checksums, and pg_restore --list of each database", async () => {
      const r = await cli(["verify", url], pg.password);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as { ok: boolean; items: { name: string; ok: boolean }[] };
      expect(report.ok).toBe(true);
      expect(report.items).toHaveLength(manifest.items.length);
    });

    it("restores into a fresh server: every table's rows and content, and every object, as in the source", async () => {
      const fresh = await start(startPostgres);
      const r = await cli(
        ["restore", url, "--to-database", targetUrl(fresh), "--password-env", PW_ENV],
        fresh.password,
      );
      expect({ code: r.code, stderr: r.stderr }).toEqual({
        code: 0,
        stderr: expect.stringContaining("restore complete"),
      });
      for (const db of [...PG_DATABASES, "postgres"]) {
        const want = pgFingerprint(pg, db);
        expect(Object.keys(want.content as object).length).toBeGreaterThan(0);
        expect({ db, ...pgFingerprint(fresh, db) }).toEqual({ db, ...want });
      }
      // the role came with the globals and owns what it owned
      expect(fresh.sql(`SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'café ünïcode'`).trim()).toBe(
        "app_owner",
      );
      // the restored trigger fires, the sequence continues where it stood
      fresh.sql("INSERT INTO sales.everything (t) VALUES ('after restore')", "shop");
      expect(fresh.sql("SELECT what FROM sales.audit ORDER BY id DESC LIMIT 1", "shop").trim()).toBe("everything:9002");
      expect(fresh.sql("SELECT nextval('sales.invoice_no')", "shop").trim()).toBe("424249");

      // a second restore meets databases that are not empty: refused, naming them, nothing written
      const again = await cli(
        ["restore", url, "--to-database", targetUrl(fresh), "--password-env", PW_ENV],
        fresh.password,
      );
      expect(again.code).toBe(1);
      expect(again.stderr).toMatch(/the postgres server admin@127\.0\.0\.1:\d+ already holds database /);
      for (const db of ["postgres", "shop", "café ünïcode"])
        expect(again.stderr).toMatch(new RegExp(`"${db}" \\(\\d+ objects?\\)`));
      expect(again.stderr).toContain("nothing was written");
    });

    it("refuses a tampered object before it writes anything to the server", async () => {
      const copy = await tempDir();
      dirs.push(copy);
      await fs.cp(dir, copy, { recursive: true });
      const shop = manifest.items.find((i) => i.database === "shop")!;
      const file = path.join(copy, shop.key);
      const bytes = await fs.readFile(file);
      bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
      await fs.writeFile(file, bytes);
      const fresh = await start(startPostgres);
      const r = await cli(
        ["restore", `file://${copy}/`, "--to-database", targetUrl(fresh), "--password-env", PW_ENV],
        fresh.password,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        `item ${shop.name} (${shop.key}) does not match the manifest, nothing was written to the server`,
      );
      expect(r.stderr).toContain("SHA-256");
      expect(fresh.sql("SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database").trim()).toBe(
        "postgres,template0,template1",
      );
      expect(fresh.sql("SELECT count(*) FROM pg_roles WHERE rolname = 'app_owner'").trim()).toBe("0");
      // and verify names it
      const v = await cli(["verify", `file://${copy}/`], fresh.password);
      expect(v.code).toBe(1);
      expect(v.stderr).toContain(`verify: FAILED (${shop.name})`);
    });
    it("refuses a manifest that does not check (a name that is a path), before reading any object", async () => {
      const copy = await tempDir();
      dirs.push(copy);
      await fs.cp(dir, copy, { recursive: true });
      const hostile = structuredClone(manifest);
      hostile.items[1]!.name = "../../../tmp/evil";
      hostile.items[1]!.key = "../../../tmp/evil.pgdump.zst";
      await fs.writeFile(path.join(copy, MANIFEST_NAME), JSON.stringify(hostile));
      const fresh = await start(startPostgres);
      const r = await cli(
        ["restore", `file://${copy}/`, "--to-database", targetUrl(fresh), "--password-env", PW_ENV],
        fresh.password,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        'item 1 ("../../../tmp/evil"): name: "../../../tmp/evil" is not a single safe path component',
      );
      expect(fresh.sql("SELECT count(*) FROM pg_database").trim()).toBe("3");
    });
  });

  describe("MariaDB, to S3", () => {
    let bucket: string;
    let url: string;
    let manifest: DatabaseManifest;
    const s3 = makeS3Client();

    beforeAll(async () => {
      bucket = await newBucket();
      url = `s3://${bucket}/rds/111111111111/us-east-1/db/2026/12/02/snap/`;
      const r = await cli(dumpArgs(maria, url, ["--database", "shop", "--database", "café"]), maria.password);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining("dump complete") });
      const body = await s3.send(
        new GetObjectCommand({ Bucket: bucket, Key: `${url.slice(`s3://${bucket}/`.length)}${MANIFEST_NAME}` }),
      );
      manifest = parseArchiveManifest(await body.Body!.transformToString(), url) as DatabaseManifest;
    });

    it("dumps the named databases only, with their character sets, and leaves no upload open", async () => {
      expect(manifest.database.engine).toBe("mariadb");
      expect(manifest.database.serverVersion).toMatch(/MariaDB/);
      expect(manifest.database.databases).toEqual([
        { name: "shop", sizeBytes: expect.any(Number), charset: "utf8mb4", collation: "utf8mb4_unicode_ci" },
        { name: "café", sizeBytes: expect.any(Number), charset: "latin1", collation: "latin1_swedish_ci" },
      ]);
      expect(manifest.items.map((i) => [i.name, i.format, i.key])).toEqual([
        ["db1-shop", "sql", "db1-shop.sql.zst"],
        ["db2-caf_", "sql", "db2-caf_.sql.zst"],
      ]);
      expect(manifest.tools["mariadb-dump"]).toMatch(/^mariadb-dump\s+Ver/);
      expect(await incompleteUploads(bucket)).toEqual([]);
    });

    it("passes the verify Lambda's check (sizes and S3's checksums) and backup-actions verify", async () => {
      const lambda = await verifyArchive(s3, { archiveUrl: url });
      expect(lambda).toMatchObject({
        verified: true,
        objects: 2,
        reason: "2 objects present with the manifest's sizes and S3 checksums",
      });
      const r = await cli(["verify", url], maria.password);
      expect(r.code).toBe(0);
      expect(r.stderr).toContain("verify db1-shop (sql dump, db1-shop.sql.zst): OK");
    });

    it("verifies format both: the dump and, beside it under parquet/<task>/, RDS's Parquet export", async () => {
      const prefix = url.slice(`s3://${bucket}/`.length);
      await writeRdsExport(s3, {
        id: "ba-rds-both",
        sourceArn: "arn:aws:rds:us-east-1:111111111111:snapshot:awsbackup:job-both",
        bucket,
        s3Prefix: `${prefix}parquet`,
        iamRoleArn: "arn:aws:iam::111111111111:role/export",
        kmsKeyId: "arn:aws:kms:us-east-1:111111111111:key/1",
        tables: [{ target: "shop.everything", rows: 4 }],
      });
      const r = await cli(["verify", url], maria.password);
      expect(r.code).toBe(0);
      const report = JSON.parse(r.stdout) as { kind: string; items: { name: string; kind: string; rows?: number }[] };
      expect(report.kind).toBe("rds-parquet+database-dump");
      expect(report.items.map((i) => [i.name, i.kind, i.rows])).toEqual([
        ["db1-shop", "dump", undefined],
        ["db2-caf_", "dump", undefined],
        ["shop.everything", "parquet-table", 4],
      ]);
    });

    it("restores into a fresh server: tables, routines, triggers, events, views and counters as in the source", async () => {
      const fresh = await start(startMariadb);
      const r = await cli(
        ["restore", url, "--to-database", targetUrl(fresh), "--password-env", PW_ENV],
        fresh.password,
      );
      expect({ code: r.code, stderr: r.stderr }).toEqual({
        code: 0,
        stderr: expect.stringContaining("restore complete"),
      });
      for (const db of MY_DATABASES) {
        const want = myFingerprint(maria, db);
        expect(Object.keys(want.content as object).length).toBeGreaterThan(0);
        expect({ db, ...myFingerprint(fresh, db) }).toEqual({ db, ...want });
      }
      expect(fresh.sql("SELECT LENGTH(payload), SHA2(payload, 256) FROM blobs", "shop").trim()).toBe(
        `${BIG.length}\t${createHash("sha256").update(BIG).digest("hex")}`,
      );
      expect(fresh.sql("SELECT NEXTVAL(invoice_no)", "shop").trim()).toBe("424249");
      expect(fresh.sql("SHOW DATABASES").split("\n")).not.toContain("untouched");
    });

    it("refuses a replaced object: the verify Lambda and restore both see it", async () => {
      const key = `${url.slice(`s3://${bucket}/`.length)}db2-caf_.sql.zst`;
      await s3.send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: Buffer.alloc(manifest.items[1]!.compressedBytes) }),
      );
      const lambda = await verifyArchive(s3, { archiveUrl: url });
      expect(lambda.verified).toBe(false);
      expect(lambda.reason).toContain("db2-caf_: S3 reports no SHA-256 checksum");
      const fresh = await start(startMariadb);
      const r = await cli(
        ["restore", url, "--to-database", targetUrl(fresh), "--password-env", PW_ENV],
        fresh.password,
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toContain(
        "item db2-caf_ (db2-caf_.sql.zst) does not match the manifest, nothing was written to the server",
      );
      expect(fresh.sql("SHOW DATABASES").split("\n")).not.toContain("shop");
    });
  });

  describe("failures leave no manifest", () => {
    const expectNoManifest = async (dir: string) => expect(existsSync(path.join(dir, MANIFEST_NAME))).toBe(false);

    it.each([
      [
        "a wrong password",
        "postgres",
        { password: "wrong" },
        /refused the user or password: .*password authentication failed/,
      ],
      [
        "a wrong password",
        "mariadb",
        { password: "wrong" },
        /refused the user or password: .*Access denied for user 'admin'/,
      ],
      [
        "an unreachable server",
        "postgres",
        { port: "closed" },
        /cannot reach the postgres server admin@127\.0\.0\.1:\d+: /,
      ],
      [
        "an unreachable server",
        "mariadb",
        { port: "closed" },
        /cannot reach the mariadb server admin@127\.0\.0\.1:\d+: .*Can't connect/,
      ],
      ["a database that does not exist", "postgres", { database: "nope" }, /has no database "nope" \(it has: .*shop/],
      ["a database that does not exist", "mariadb", { database: "nope" }, /has no database "nope" \(it has: .*shop/],
      ["a missing tool", "postgres", { bin: "/nonexistent" }, /\/nonexistent\/pg_dump is not installed/],
    ] as const)("%s (%s): a clear error, exit 1", async (_what, engine, fault, message) => {
      const s = engine === "postgres" ? pg : maria;
      const dir = await tempDir();
      dirs.push(dir);
      const port = "port" in fault ? await freePort() : s.port;
      const r = await cli(
        dumpArgs({ ...s, port }, `file://${dir}/`, "database" in fault ? ["--database", fault.database] : []),
        "password" in fault ? fault.password : s.password,
        "bin" in fault ? { BACKUP_ACTIONS_POSTGRES_BIN: fault.bin } : {},
      );
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
      await expectNoManifest(dir);
    });

    it("a dump that fails half-way (a table the user may not read): no manifest, no upload left open", async () => {
      pg.sql(
        `CREATE ROLE reader LOGIN PASSWORD 'reader-pw'; GRANT CONNECT ON DATABASE shop TO reader;
         CREATE TABLE public.secret (x int); REVOKE ALL ON public.secret FROM PUBLIC;`,
        "shop",
      );
      const bucket = await newBucket();
      const url = `s3://${bucket}/rds/x/`;
      const r = await cli(dumpArgs({ ...pg, user: "reader" }, url, ["--database", "shop"]), "reader-pw");
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(
        /dump of shop from the postgres server reader@.* failed: pg_dump failed \(exit 1\): .*permission denied/,
      );
      expect(await incompleteUploads(bucket)).toEqual([]);
      const listed = await makeS3Client()
        .send(new GetObjectCommand({ Bucket: bucket, Key: `rds/x/${MANIFEST_NAME}` }))
        .catch((e: Error) => e.name);
      expect(listed).toBe("NoSuchKey");
    });
  });
});
