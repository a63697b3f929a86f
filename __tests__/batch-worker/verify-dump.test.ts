/** What `verify` reads from a dump besides its checksums: pg_restore --list's header, a SQL dump's first and last lines. */
import { pgListProblems, sqlStructureProblems } from "../../batch-worker/src/verify-dump";

const LIST = `;
; Archive created at 2026-12-02 16:00:00 UTC
;     dbname: café ü
;     TOC Entries: 42
;     Compression: none
;     Dump Version: 1.15-0
;     Format: CUSTOM
;
215; 1259 16390 TABLE sales everything admin
`;

describe("pg_restore --list", () => {
  it("is accepted for the database the manifest names", () => {
    expect(pgListProblems(LIST, "café ü")).toEqual([]);
  });

  it("names another database, another format, or an empty table of contents", () => {
    expect(pgListProblems(LIST, "shop")).toEqual(['pg_restore --list names database "café ü", the manifest "shop"']);
    expect(pgListProblems(LIST.replace("CUSTOM", "TAR").replace("42", "0"), "café ü")).toEqual([
      "pg_restore --list does not report the custom format",
      "pg_restore --list shows no table of contents entries",
    ]);
  });
});

describe("a SQL dump's structure", () => {
  const maria = [
    "/*M!999999\\- enable the sandbox mode */ \n-- MariaDB dump 10.19  Distrib 10.11.18-MariaDB\n--\n",
    "\n-- Dump completed\n",
  ];
  it.each([
    ["mariadb", maria[0]!, maria[1]!],
    ["mysql", "-- MySQL dump 10.13  Distrib 8.4.3\n", "-- Dump completed on 2026-12-02 16:00:00\n"],
    [
      "postgres",
      "--\n-- PostgreSQL database cluster dump\n--\n",
      "--\n-- PostgreSQL database cluster dump complete\n--\n\n",
    ],
  ] as const)("%s: begins and ends as the tool writes it", (engine, head, tail) => {
    expect(sqlStructureProblems(engine, head, tail)).toEqual([]);
  });

  it("a dump cut short, or not a dump at all, is named", () => {
    expect(sqlStructureProblems("mariadb", maria[0]!, "INSERT INTO t VALUES (1,")).toEqual([
      'does not end like a complete mariadb dump (no "^-- Dump completed( on .*)?\\s*$" line): cut short?',
    ]);
    expect(sqlStructureProblems("postgres", "hello", "--\n-- PostgreSQL database cluster dump complete\n")).toEqual([
      'does not begin like a postgres dump (no "^-- PostgreSQL database cluster dump$" line)',
    ]);
  });
});
