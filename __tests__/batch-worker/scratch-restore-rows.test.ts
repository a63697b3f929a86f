/**
 * What `verify --restore-scratch` counts in a dump (batch-worker/src/scratch-restore.ts): the rows of
 * pg_restore's COPY blocks and of a mysqldump/mariadb-dump script's INSERTs; and the MySQL dump it does
 * not restore. The counts against real servers: scratch-restore.test.ts (disk tier).
 */
import { DatabaseManifest } from "../../core/manifest";
import { copyTable, mysqlDumpRows, pgDumpRows, scratchRestore } from "../../batch-worker/src/scratch-restore";
import type { ObjectStore } from "../../batch-worker/src/store";

async function* linesOf(text: string): AsyncIterable<string> {
  yield* text.split("\n");
}

describe("pg_restore --data-only output", () => {
  it("names the table of a COPY line as written, quoted identifiers included", () => {
    expect(copyTable("COPY sales.items (id, label) FROM stdin;")).toBe("sales.items");
    expect(copyTable('COPY public."Mixed Case" (v) FROM stdin;')).toBe('public."Mixed Case"');
    expect(copyTable('COPY "we""ird (x".t FROM stdin;')).toBe('"we""ird (x".t');
    expect(copyTable("-- COPY sales.items FROM stdin;")).toBeUndefined();
    expect(copyTable("COPY sales.items (id) TO stdout;")).toBeUndefined();
  });

  it("counts each COPY block's lines up to \\. (an escaped \\. inside a row is data)", async () => {
    const out = [
      "SET search_path = '';",
      "COPY sales.items (id, label) FROM stdin;",
      "1\tone",
      "2\ta \\\\. and a tab\\t",
      "\\.",
      "",
      'COPY public."Mixed Case" (v) FROM stdin;',
      "\\.",
      "COPY sales.items (id, label) FROM stdin;",
      "3\tthree",
      "\\.",
    ].join("\n");
    expect(await pgDumpRows(linesOf(out))).toEqual(
      new Map([
        ["sales.items", 3],
        ['public."Mixed Case"', 0],
      ]),
    );
  });

  it("a COPY block that does not end is an error, not a count", async () => {
    await expect(pgDumpRows(linesOf("COPY t.x (a) FROM stdin;\n1"))).rejects.toThrow(
      "the COPY block of t.x does not end",
    );
  });
});

describe("a mysqldump / mariadb-dump script", () => {
  it("counts tuples of one-line and tuple-per-line INSERTs, with quotes, escapes and parentheses in values", async () => {
    const script = [
      "CREATE TABLE `items` (",
      "  `id` int(11) NOT NULL",
      ") ENGINE=InnoDB;",
      "CREATE TABLE `empty` (`v` int);",
      "INSERT INTO `items` VALUES (1,'a ( paren'),(2,'it''s, ), quoted'),(3,'back\\\\slash \\' (');",
      "INSERT INTO `we``ird` VALUES",
      '(1,"x);("),',
      "(2,0x28);",
      "INSERT INTO `items` (`id`) VALUES (4);",
    ].join("\n");
    expect(await mysqlDumpRows(linesOf(script))).toEqual(
      new Map([
        ["`items`", 4],
        ["`empty`", 0],
        ["`we``ird`", 2],
      ]),
    );
  });

  it("does not count the INSERTs of trigger and routine bodies (DELIMITER blocks)", async () => {
    const script = [
      "INSERT INTO `audit` VALUES ('real');",
      "DELIMITER ;;",
      "/*!50003 CREATE*/ /*!50003 TRIGGER `t` AFTER INSERT ON `items` FOR EACH ROW",
      "INSERT INTO `audit` VALUES (1),(2) */;;",
      "DELIMITER ;",
    ].join("\n");
    expect(await mysqlDumpRows(linesOf(script))).toEqual(new Map([["`audit`", 1]]));
  });

  it("an INSERT that does not end is an error", async () => {
    await expect(mysqlDumpRows(linesOf("INSERT INTO `t` VALUES\n(1,'a;'),"))).rejects.toThrow(
      "the INSERT into `t` does not end",
    );
  });
});

describe("a MySQL dump", () => {
  it("is not restored: a note says so, and no item is added", async () => {
    const store = { url: "file:///nowhere/" } as ObjectStore;
    const m = { database: { engine: "mysql", databases: [] }, items: [] } as unknown as DatabaseManifest;
    expect(await scratchRestore(store, m)).toEqual({
      checked: [],
      notes: [
        "scratch restore unsupported for mysql dumps: the worker has no mysql server, and MariaDB does not load every mysql dump (not attempted; the dumps were verified byte by byte only)",
      ],
    });
  });
});
