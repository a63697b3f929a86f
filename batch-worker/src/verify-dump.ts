import { spawn } from "node:child_process";
import { Writable } from "node:stream";
import { DatabaseEngine, DumpItem } from "../../core/manifest";
import { toolPath } from "./db-engine";
import { checkAgainstManifest, readBack } from "./readback";
import { ObjectStore } from "./store";

const EDGE = 4096;

/** Keeps the first and the last few KiB of a stream: what a SQL dump's structure is judged by. */
class Edges extends Writable {
  head = Buffer.alloc(0);
  tail = Buffer.alloc(0);
  constructor() {
    super({
      write: (c: Buffer, _e, cb) => {
        if (this.head.length < EDGE) this.head = Buffer.concat([this.head, c.subarray(0, EDGE - this.head.length)]);
        this.tail = Buffer.concat([this.tail, c]).subarray(-EDGE);
        cb();
      },
    });
  }
}

/** What a complete SQL dump begins and ends with, by the tool that wrote it. */
export function sqlStructureProblems(engine: DatabaseEngine, head: string, tail: string): string[] {
  const problems: string[] = [];
  const [start, end] =
    engine === "postgres"
      ? [/^-- PostgreSQL database cluster dump$/m, /^-- PostgreSQL database cluster dump complete\s*$/m]
      : [/^-- (MySQL|MariaDB) dump /m, /^-- Dump completed( on .*)?\s*$/m];
  if (!start.test(head)) problems.push(`does not begin like a ${engine} dump (no "${start.source}" line)`);
  if (!end.test(tail))
    problems.push(`does not end like a complete ${engine} dump (no "${end.source}" line): cut short?`);
  return problems;
}

/** pg_restore --list's header: the format and the database it was dumped from. */
export function pgListProblems(list: string, database: string | undefined): string[] {
  const problems: string[] = [];
  if (!/^;\s+Format: CUSTOM$/m.test(list)) problems.push("pg_restore --list does not report the custom format");
  const db = /^;\s+dbname: (.*)$/m.exec(list)?.[1];
  if (db !== database)
    problems.push(`pg_restore --list names database ${JSON.stringify(db)}, the manifest ${JSON.stringify(database)}`);
  const entries = Number(/^;\s+TOC Entries: (\d+)$/m.exec(list)?.[1] ?? 0);
  if (!(entries > 0)) problems.push("pg_restore --list shows no table of contents entries");
  return problems;
}

/**
 * Re-reads one dump: the object's size, SHA-256, S3 checksum and zstd frames (readback.ts), and what the
 * engine's tool makes of it while it streams.
 */
export async function verifyDumpItem(store: ObjectStore, engine: DatabaseEngine, it: DumpItem): Promise<string[]> {
  const size = await store.size(it.key);
  if (size === undefined) return [`object ${it.key} is missing`];
  const problems: string[] = [];
  if (size !== it.compressedBytes)
    problems.push(`object ${it.key} has ${size} bytes, manifest says ${it.compressedBytes}`);
  if (it.format === "pg-custom") {
    const child = spawn(toolPath("postgres", "restore"), ["--list"], { stdio: ["pipe", "pipe", "pipe"] });
    let list = "";
    child.stdout.on("data", (b: Buffer) => (list += b.toString()));
    const r = await readBack(store, it, { process: child, name: "pg_restore --list" });
    problems.push(...checkAgainstManifest(it, r));
    if (r.errors.length === 0) problems.push(...pgListProblems(list, it.database));
    return problems;
  }
  const edges = new Edges();
  const r = await readBack(store, it, { writable: edges });
  problems.push(...checkAgainstManifest(it, r));
  if (r.errors.length === 0)
    problems.push(...sqlStructureProblems(engine, edges.head.toString("utf8"), edges.tail.toString("utf8")));
  return problems;
}
