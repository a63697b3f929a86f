/**
 * The database dump manifest (core/manifest.ts): what parseArchiveManifest accepts and every rule it
 * refuses, each with the message; a volume manifest still reads as before, and parseManifest (volume only)
 * refuses a dump manifest naming why.
 */
import {
  checkArchiveManifest,
  DatabaseManifest,
  dumpItemName,
  dumpKey,
  isDatabaseManifest,
  isExportKey,
  ManifestError,
  parseArchiveManifest,
  parseManifest,
} from "../../core/manifest";
import { dumpManifest } from "../helpers/dump-manifest";
import { validManifest } from "../helpers/malformed-manifests";

function issuesOf(m: unknown): string[] {
  try {
    checkArchiveManifest(m, "m.json");
  } catch (e) {
    if (e instanceof ManifestError) return [...e.issues];
    throw e;
  }
  return [];
}

function edit(f: (m: DatabaseManifest) => void): DatabaseManifest {
  const m = structuredClone(dumpManifest());
  f(m);
  return m;
}

describe("a database dump manifest", () => {
  it("reads back as it was written, as a database manifest", () => {
    const m = parseArchiveManifest(JSON.stringify(dumpManifest()), "m.json");
    expect(isDatabaseManifest(m)).toBe(true);
    expect(m).toEqual(dumpManifest());
  });

  it("does not change how a volume manifest reads", () => {
    const v = validManifest();
    const m = parseArchiveManifest(v, "m.json");
    expect(isDatabaseManifest(m)).toBe(false);
    expect(m).toEqual(parseManifest(v, "m.json"));
    expect(m).toEqual(JSON.parse(v));
  });

  it("is refused by the volume-only reader, which says what it is", () => {
    expect(() => parseManifest(JSON.stringify(dumpManifest()), "m.json")).toThrow(
      "invalid manifest m.json: database: this is a database dump manifest, not a volume export's (read it with parseArchiveManifest)",
    );
  });

  it.each<[string, (m: DatabaseManifest) => void, string[]]>([
    [
      "an item name that is a path",
      (m) => {
        m.items[1]!.name = "../shop";
        m.items[1]!.key = "../shop.pgdump.zst";
      },
      [
        'item 1 ("../shop"): name: "../shop" is not a single safe path component (1 to 128 of A-Z a-z 0-9 _ . + -, not starting with "." or "-")',
      ],
    ],
    [
      "a key that is not the item's",
      (m) => (m.items[1]!.key = "elsewhere/x.pgdump.zst"),
      [
        'item 1 ("db1-shop"): key: "elsewhere/x.pgdump.zst" is not "db1-shop.pgdump.zst", the key of a dump item of that name',
      ],
    ],
    [
      "a PostgreSQL database as SQL",
      (m) => {
        m.items[1]!.format = "sql";
        m.items[1]!.key = "db1-shop.sql.zst";
      },
      ['item 1 ("db1-shop"): format: "sql", but a postgres database dump is pg-custom'],
    ],
    [
      "a dump of a database the manifest does not list",
      (m) => (m.items[2]!.database = "other"),
      [
        'item 2 ("db2-caf___"): database: "other" is not in database.databases',
        'database.databases: "café ü" has no dump item',
      ],
    ],
    [
      "one database dumped twice",
      (m) => (m.items[2]!.database = "shop"),
      [
        'item 2 ("db2-caf___"): database: "shop" is also dumped by item 1',
        'database.databases: "café ü" has no dump item',
      ],
    ],
    [
      "a globals item of a MySQL server",
      (m) => {
        m.database.engine = "mysql";
        for (const it of m.items.slice(1)) {
          it.format = "sql";
          it.key = dumpKey(it.name, "sql");
        }
      },
      ['item 0 ("globals"): database: missing (only a PostgreSQL server has a globals item)'],
    ],
    [
      "totals that do not add up",
      (m) => (m.totals.compressedBytes = 1),
      ["totals.compressedBytes: 1, but the items add up to 300"],
    ],
    [
      "a part count S3's checksum contradicts",
      (m) => (m.items[1]!.parts = 2),
      [
        'item 1 ("db1-shop"): parts: 2, but 100 compressed bytes in parts of 8388608 bytes are 1 part(s)',
        'item 1 ("db1-shop"): s3ChecksumSHA256: names 1 parts, the item says 2',
      ],
    ],
    [
      "no database at all",
      (m) => {
        m.database.databases = [];
        m.items = m.items.slice(0, 1);
      },
      [
        "items: no database is dumped",
        "totals.uncompressedBytes: 900, but the items add up to 300",
        "totals.compressedBytes: 300, but the items add up to 100",
      ],
    ],
    [
      "a character set that is not a name",
      (m) => (m.database.databases[0]!.charset = "utf8; DROP"),
      ["database.databases.0.charset: not a character set or collation name"],
    ],
    [
      "an unknown engine",
      (m) => ((m.database as { engine: string }).engine = "oracle"),
      ['database.engine: "oracle" is not one of "postgres", "mysql", "mariadb"'],
    ],
    [
      "a field no reader knows",
      (m) => ((m.items[1] as unknown as { path: string }).path = "/x"),
      ['item 1 ("db1-shop"): unknown field path'],
    ],
  ])("refuses %s", (_what, f, issues) => {
    expect(issuesOf(edit(f))).toEqual(issues);
  });

  it("is version 2 only", () => {
    expect(issuesOf(edit((m) => ((m as { version: number }).version = 1)))).toEqual([
      "version: 1 is not one this reader accepts (2 for a database dump manifest)",
    ]);
  });

  it("names dump items and keys safely from any database name", () => {
    expect(dumpItemName(1, "shop")).toBe("db1-shop");
    expect(dumpItemName(12, "../é t/")).toBe("db12-..___t_");
    expect(dumpItemName(3, "x".repeat(300))).toHaveLength(104);
    expect([dumpKey("db1-shop", "pg-custom"), dumpKey("globals", "sql")]).toEqual([
      "db1-shop.pgdump.zst",
      "globals.sql.zst",
    ]);
    expect(["db1-shop.pgdump.zst", "globals.sql.zst", "../x.sql.zst", "x.dump.zst"].map(isExportKey)).toEqual([
      true,
      true,
      false,
      false,
    ]);
  });
});
