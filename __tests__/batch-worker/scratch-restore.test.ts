/**
 * `backup-actions verify URL --restore-scratch` against real servers: databases of a PostgreSQL 15 and a
 * MariaDB server (testing/databases.ts) dumped with the dump command to file://, then verified with the dumps
 * loaded into a throw-away server the verify starts itself (initdb / mariadb-install-db, Unix socket only).
 * Then archives that pass every byte check but do not restore right: a PostgreSQL dump whose data no longer
 * loads, a MariaDB dump that loses a row while it loads. On every path (success, failure, SIGTERM) the
 * scratch server is gone and its directory removed.
 */
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { DatabaseManifest, DumpItem, MANIFEST_NAME, parseArchiveManifest } from "../../core/manifest";
import { CompositeSha256 } from "../../core/s3-checksum";
import { databasePrerequisites, POSTGRES_BIN, startMariadb, startPostgres, TestServer } from "../../testing/databases";
import { verifyJobMain } from "../../batch-worker/src/verify-job";
import { describeWithPrereqs } from "./helpers";
import { type CliRun, dumpArgs, processesUnder, runCli } from "../helpers/database-cli";

type Run = CliRun;
const cli = (args: string[], password = "", onStderr?: (text: string, kill: () => void) => void) =>
  runCli(args, password, { onStderr });

const dump = (s: TestServer, url: string) => cli(dumpArgs(s, url), s.password);

interface Report {
  ok: boolean;
  items: { name: string; ok: boolean; problems: string[]; rows?: number }[];
  checked: string[];
  notes: string[];
}

const scratchItem = (r: Run) => (JSON.parse(r.stdout) as Report).items.find((i) => i.name === "scratch-restore");

/** Nothing of a scratch server is left under `parent`: no directory, no process. */
async function expectNoScratchLeft(parent: string): Promise<void> {
  expect(await fs.readdir(parent)).toEqual([]);
  expect(await processesUnder(parent)).toEqual([]);
}

/**
 * Replaces one dump of a copied archive by `raw` (uncompressed) and rewrites the manifest to match, as
 * someone who can write the bucket could: every byte check of a plain verify then passes.
 */
async function repack(dir: string, m: DatabaseManifest, item: DumpItem, raw: Buffer): Promise<DatabaseManifest> {
  const z = spawnSync("zstd", ["-q", "-c", "-3"], { input: raw, maxBuffer: 1 << 30 });
  expect(z.status).toBe(0);
  const compressed = z.stdout;
  await fs.writeFile(path.join(dir, item.key), compressed);
  const composite = new CompositeSha256(item.partSize!);
  composite.update(compressed);
  const next = structuredClone(m);
  const it = next.items.find((i) => i.name === item.name)!;
  it.compressedBytes = compressed.length;
  it.uncompressedBytes = raw.length;
  it.sha256 = createHash("sha256").update(compressed).digest("hex");
  it.s3ChecksumSHA256 = composite.digest();
  it.parts = Math.max(1, Math.ceil(compressed.length / item.partSize!));
  next.totals = {
    compressedBytes: next.items.reduce((a, i) => a + i.compressedBytes, 0),
    uncompressedBytes: next.items.reduce((a, i) => a + i.uncompressedBytes, 0),
  };
  await fs.writeFile(path.join(dir, MANIFEST_NAME), JSON.stringify(next, null, 2));
  return next;
}

function unzstd(file: string): Buffer {
  const r = spawnSync("zstd", ["-q", "-d", "-c", file], { maxBuffer: 1 << 30 });
  expect(r.status).toBe(0);
  return r.stdout;
}

describeWithPrereqs("verify --restore-scratch", databasePrerequisites(), () => {
  jest.setTimeout(120_000);
  const servers: TestServer[] = [];
  const dirs: string[] = [];
  /** The parent of the scratch servers' directories: the postgres user must pass through it. */
  let parent: string;
  const tempDir = async () => {
    const d = await fs.mkdtemp(path.join(os.tmpdir(), "backup-actions-scratchtest-"));
    dirs.push(d);
    return d;
  };
  const copy = async (from: string) => {
    const d = await tempDir();
    await fs.cp(from, d, { recursive: true });
    return d;
  };
  const readManifest = async (dir: string) =>
    parseArchiveManifest(await fs.readFile(path.join(dir, MANIFEST_NAME), "utf8"), dir) as DatabaseManifest;
  const verify = (dir: string, extra: string[] = ["--restore-scratch", "--work-dir", parent]) =>
    cli(["verify", `file://${dir}/`, ...extra]);

  let pgDir: string;
  let mariaDir: string;

  beforeAll(async () => {
    parent = await tempDir();
    await fs.chmod(parent, 0o711);
    const [pg, maria] = await Promise.all([startPostgres(), startMariadb()]);
    servers.push(pg, maria);
    pg.sql(`CREATE ROLE shop_owner NOLOGIN; CREATE DATABASE shop OWNER shop_owner; CREATE DATABASE "lager ü";`);
    pg.sql(
      `CREATE SCHEMA sales;
       CREATE TABLE sales.items (id integer PRIMARY KEY, label text);
       INSERT INTO sales.items SELECT g, 'item ' || g FROM generate_series(1, 250) g;
       INSERT INTO sales.items VALUES (777777, E'tab\\there, a line\\nbreak and a \\\\.');
       CREATE TABLE "Mixed Case" (v text);
       INSERT INTO "Mixed Case" VALUES ('x'), ('y');
       CREATE TABLE public.empty (v int);`,
      "shop",
    );
    pg.sql(`CREATE TABLE stock (n int); INSERT INTO stock SELECT generate_series(1, 40);`, "lager ü");
    maria.sql(
      `CREATE DATABASE shop CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
       CREATE DATABASE legacy CHARACTER SET latin1 COLLATE latin1_swedish_ci;`,
    );
    maria.sql(
      `CREATE TABLE items (id INT PRIMARY KEY, label TEXT);
       INSERT INTO items VALUES (1, 'a ( paren'), (2, 'it''s, ), quoted'), (3, 'back\\\\slash \\' (');
       CREATE TABLE audit (what TEXT);
       CREATE TABLE empty (v INT);
       CREATE TRIGGER items_ai AFTER INSERT ON items FOR EACH ROW
INSERT INTO \`audit\` VALUES (CONCAT('inserted ', NEW.id));`,
      "shop",
    );
    maria.sql(`CREATE TABLE t (v VARCHAR(10)); INSERT INTO t VALUES ('é');`, "legacy");
    [pgDir, mariaDir] = await Promise.all([tempDir(), tempDir()]);
    for (const [s, d] of [
      [pg, pgDir],
      [maria, mariaDir],
    ] as const) {
      const r = await dump(s, `file://${d}/`);
      expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining("dump complete") });
    }
  });
  afterAll(async () => {
    await Promise.all(servers.map((s) => s.stop()));
    await Promise.all(dirs.map((d) => fs.rm(d, { recursive: true, force: true })));
  });

  it("PostgreSQL: the dumps load into a scratch server; databases, owners and every table's rows check; nothing is left", async () => {
    const r = await verify(pgDir);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining("scratch-restore") });
    expect(r.stderr).toMatch(/scratch postgres server started in .* \(pid \d+, Unix socket only\)/);
    // 251 + 2 + 0 rows in shop, 40 in "lager ü", none in postgres
    expect(scratchItem(r)).toEqual({
      name: "scratch-restore",
      kind: "scratch-restore",
      ok: true,
      problems: [],
      rows: 293,
    });
    expect(r.stderr).toMatch(/checked: scratch-restore: the dumps loaded into a throw-away 15\.\d+ postgres server/);
    await expectNoScratchLeft(parent);
  });

  it("MariaDB: the dumps load; character sets, collations and rows (quotes and parentheses in values) check", async () => {
    const r = await verify(mariaDir);
    expect({ code: r.code, stderr: r.stderr }).toEqual({ code: 0, stderr: expect.stringContaining("scratch-restore") });
    // 3 items (the trigger's INSERT is not a row of the dump), 1 in legacy; the trigger fired on none of them
    expect(scratchItem(r)).toMatchObject({ ok: true, rows: 4 });
    expect(r.stderr).toContain("its character set and collation as recorded");
    await expectNoScratchLeft(parent);
  });

  it("without --restore-scratch no server is started; --work-dir alone is a usage error", async () => {
    const r = await verify(pgDir, []);
    expect(r.code).toBe(0);
    expect(scratchItem(r)).toBeUndefined();
    const bad = await verify(pgDir, ["--work-dir", parent]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--work-dir is where --restore-scratch puts its server: it needs --restore-scratch");
  });

  it("PostgreSQL: a dump whose data no longer loads passes every byte check but fails the scratch restore, naming why", async () => {
    const d = await copy(pgDir);
    const m = await readManifest(d);
    const shop = m.items.find((i) => i.database === "shop")!;
    const raw = unzstd(path.join(d, shop.key));
    const at = raw.indexOf("777777\t");
    expect(at).toBeGreaterThan(0);
    raw.write("77x777", at); // same length: the custom format's offsets stay right
    await repack(d, m, shop, raw);

    const plain = await verify(d, []);
    expect(plain.code).toBe(0);
    const r = await verify(d);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("verify: FAILED (scratch-restore)");
    expect(scratchItem(r)!.problems).toEqual([
      expect.stringMatching(
        new RegExp(
          `^the scratch restore failed: loading ${shop.name} into database "shop" of the postgres server .* failed: .*invalid input syntax for type integer: "77x777"`,
          "s",
        ),
      ),
    ]);
    await expectNoScratchLeft(parent);
  });

  it("MariaDB: a dump that loses a row while it loads fails, naming the table and both counts", async () => {
    const d = await copy(mariaDir);
    const m = await readManifest(d);
    const shop = m.items.find((i) => i.database === "shop")!;
    const text = unzstd(path.join(d, shop.key)).toString("utf8");
    const insert = /^INSERT INTO `items` VALUES[\s\S]*?\);$/m.exec(text)!;
    const tampered = text.replace(insert[0], `${insert[0]}\nDELETE FROM \`items\` WHERE id = 2;`);
    await repack(d, m, shop, Buffer.from(tampered));

    expect((await verify(d, [])).code).toBe(0);
    const r = await verify(d);
    expect(r.code).toBe(1);
    expect(scratchItem(r)!.problems).toEqual([
      `database "shop", table \`items\`: the dump ${shop.name} holds 3 rows, the restored server 2`,
    ]);
    await expectNoScratchLeft(parent);
  });

  it("MariaDB: a manifest whose collation the restored database does not have fails, naming both", async () => {
    const d = await copy(mariaDir);
    const m = await readManifest(d);
    // the restore creates the database with the manifest's collation: change what the restored server reports instead
    const legacy = m.items.find((i) => i.database === "legacy")!;
    const text = unzstd(path.join(d, legacy.key)).toString("utf8");
    const tampered = text.replace(
      /^-- Dump completed/m,
      "ALTER DATABASE `legacy` CHARACTER SET latin1 COLLATE latin1_bin;\n-- Dump completed",
    );
    await repack(d, m, legacy, Buffer.from(tampered));
    const r = await verify(d);
    expect(r.code).toBe(1);
    expect(scratchItem(r)!.problems).toEqual([
      'database "legacy": collation "latin1_bin" on the restored server, the manifest records "latin1_swedish_ci"',
    ]);
    await expectNoScratchLeft(parent);
  });

  it("an archive that fails its byte checks is not restored; the report says so", async () => {
    const d = await copy(pgDir);
    const m = await readManifest(d);
    const file = path.join(d, m.items[1]!.key);
    const bytes = await fs.readFile(file);
    bytes[Math.floor(bytes.length / 2)]! ^= 0x01;
    await fs.writeFile(file, bytes);
    const r = await verify(d);
    expect(r.code).toBe(1);
    expect(scratchItem(r)).toBeUndefined();
    expect(r.stderr).toContain("note: scratch restore not attempted: the archive did not verify");
    expect(r.stderr).not.toContain("scratch postgres server started");
    await expectNoScratchLeft(parent);
  });

  it("the drill's worker job (verify-job.ts): --restore-scratch exits 0 on a good dump, 1 on one whose data does not load", async () => {
    const sha = async (dir: string) =>
      createHash("sha256")
        .update(await fs.readFile(path.join(dir, MANIFEST_NAME)))
        .digest("hex");
    const d = await copy(pgDir);
    const prev = process.env.BACKUP_ACTIONS_POSTGRES_BIN;
    process.env.BACKUP_ACTIONS_POSTGRES_BIN = POSTGRES_BIN;
    // The job has no --work-dir: its server goes under os.tmpdir() (which TMPDIR does not move inside jest).
    // Where it went is what it logs; each one must be gone after its job.
    const started: Array<{ dir: string; pid: number }> = [];
    const write = process.stderr.write.bind(process.stderr);
    const err = jest.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      for (const m of chunk.toString().matchAll(/scratch postgres server started in (\S+) \(pid (\d+),/g))
        started.push({ dir: m[1]!, pid: Number(m[2]) });
      return write(chunk);
    });
    const expectServersGone = async (count: number) => {
      expect(started).toHaveLength(count);
      for (const { dir, pid } of started) {
        await expect(fs.stat(dir)).rejects.toMatchObject({ code: "ENOENT" });
        await expect(fs.stat(`/proc/${pid}`)).rejects.toMatchObject({ code: "ENOENT" });
      }
    };
    try {
      const job = async () =>
        verifyJobMain([`file://${d}/`, "--expect-manifest-sha256", await sha(d), "--restore-scratch"]);
      expect(await job()).toBe(0);
      await expectServersGone(1);
      const m = await readManifest(d);
      const shop = m.items.find((i) => i.database === "shop")!;
      const raw = unzstd(path.join(d, shop.key));
      raw.write("77x777", raw.indexOf("777777\t"));
      await repack(d, m, shop, raw);
      expect(await job()).toBe(1);
      await expectServersGone(2);
    } finally {
      err.mockRestore();
      if (prev === undefined) delete process.env.BACKUP_ACTIONS_POSTGRES_BIN;
      else process.env.BACKUP_ACTIONS_POSTGRES_BIN = prev;
    }
  });

  it("SIGTERM while the scratch server runs: it is stopped and its directory removed, exit 143", async () => {
    let sent = false;
    const r = await cli(["verify", `file://${pgDir}/`, "--restore-scratch", "--work-dir", parent], "", (text, kill) => {
      if (!sent && /scratch postgres server started/.test(text)) {
        sent = true;
        kill();
      }
    });
    expect(sent).toBe(true);
    expect(r.code).toBe(143);
    expect(r.stderr).toContain("received SIGTERM: cleaning up");
    expect(r.stderr).toMatch(/scratch postgres server stopped, .* removed/);
    await expectNoScratchLeft(parent);
  });
});
