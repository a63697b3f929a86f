import { createHash } from "node:crypto";
import { Writable } from "node:stream";
import { log } from "./log";
import {
  ArchiveManifest,
  DatabaseManifest,
  isDatabaseManifest,
  Manifest,
  MANIFEST_NAME,
  parseArchiveManifest,
} from "../../core/manifest";
import { verifyDumpItem } from "./verify-dump";
import { checkAgainstManifest, readBack, spawnConsumer } from "./readback";
import { ObjectStore } from "./store";

export interface ItemVerdict {
  name: string;
  kind: string;
  ok: boolean;
  problems: string[];
  /** A Parquet export's table: its data files and the rows their footers hold. */
  files?: number;
  rows?: number;
}

/** What the URL holds (batch-worker/src/verify-exports.ts tells them apart). */
export type ArchiveKind = "volume" | "database-dump" | "rds-parquet" | "rds-parquet+database-dump" | "dynamodb";

export interface VerifyReport {
  ok: boolean;
  url: string;
  kind: ArchiveKind;
  /** What was checked, one line per check. */
  checked: string[];
  items: ItemVerdict[];
  problems: string[];
  /** What this verification could not check (a version 1 manifest has no byte ranges). */
  notes: string[];
}

/**
 * Called with the hex SHA-256 of manifest.json's bytes before the manifest is parsed or any object
 * is read; throws to refuse the manifest (tamper evidence: the CLI compares with the ledger or
 * --expect-manifest-sha256).
 */
export type ManifestCheck = (sha256: string) => Promise<void>;

/** Reads and checks the manifest of either kind of archive (a volume's or a database server's). */
export async function readArchiveManifest(store: ObjectStore, check?: ManifestCheck): Promise<ArchiveManifest> {
  let bytes: Buffer;
  try {
    const chunks: Buffer[] = [];
    for await (const c of await store.get(MANIFEST_NAME)) chunks.push(c as Buffer);
    bytes = Buffer.concat(chunks);
  } catch (e) {
    throw new Error(
      `no readable ${MANIFEST_NAME} at ${store.url}: the export is incomplete or absent (${(e as Error).message})`,
    );
  }
  if (check) await check(createHash("sha256").update(bytes).digest("hex"));
  // version 1 (no byte ranges) stays readable so that older archives verify and restore
  return parseArchiveManifest(bytes.toString("utf8"), `${store.url}${MANIFEST_NAME}`, { acceptVersion1: true });
}

/** Reads a volume export's manifest; a database dump's is refused with the way to restore it. */
export async function readManifest(store: ObjectStore, check?: ManifestCheck): Promise<Manifest> {
  const m = await readArchiveManifest(store, check);
  if (isDatabaseManifest(m))
    throw new Error(
      `${store.url}${MANIFEST_NAME} is a ${m.database.engine} database dump, not a volume export: restore it with --to-database`,
    );
  return m;
}

/** The note for a manifest whose byte accounting cannot be checked. */
export function version1Note(url: string): string {
  return `${url}${MANIFEST_NAME} is version 1: it records no byte ranges, so that every byte of the device is in the archive is not checked`;
}

/**
 * Re-reads every object of an export: size (HEAD, then counted), SHA-256 of the whole object,
 * S3's checksum recorded in the manifest (recomputed per part of the recorded part size, in the
 * same pass), and that it decompresses (img) or decompresses and lists as a tar archive with the recorded
 * number of members (tar). ok only if all of that holds for every item.
 */
export async function verifyExport(store: ObjectStore, check?: ManifestCheck): Promise<VerifyReport> {
  const archive = await readArchiveManifest(store, check);
  if (isDatabaseManifest(archive)) return verifyDump(store, archive);
  const manifest = archive;
  const notes = manifest.version === 1 ? [version1Note(store.url)] : [];
  for (const n of notes) log.warn(n);
  const items: ItemVerdict[] = [];
  for (const it of manifest.items) {
    if (it.kind === "skipped") {
      items.push({ name: it.name, kind: it.kind, ok: true, problems: [] });
      continue;
    }
    const problems: string[] = [];
    const size = await store.size(it.key!);
    if (size === undefined) problems.push(`object ${it.key} is missing`);
    else if (size !== it.compressedBytes)
      problems.push(`object ${it.key} has ${size} bytes, manifest says ${it.compressedBytes}`);
    if (size !== undefined) {
      let members = 0;
      let consumer;
      if (it.kind === "tar") {
        consumer = spawnConsumer("tar", ["--list", "--file=-"]);
        consumer.process.stdout!.on("data", (b: Buffer) => {
          for (let i = b.indexOf(10); i >= 0; i = b.indexOf(10, i + 1)) members++;
        });
      } else {
        consumer = { writable: new Writable({ write: (_c, _e, cb) => cb() }) };
      }
      const r = await readBack(store, it, consumer);
      problems.push(...checkAgainstManifest(it, r));
      // "./" is listed too but not counted in the manifest
      if (it.kind === "tar" && problems.length === 0 && it.files !== undefined && members - 1 !== it.files) {
        problems.push(`archive lists ${members - 1} members, manifest says ${it.files}`);
      }
    }
    const v = { name: it.name, kind: it.kind, ok: problems.length === 0, problems };
    log.info(`verify ${it.name} (${it.kind}, ${it.key}): ${v.ok ? "OK" : "FAILED: " + problems.join("; ")}`);
    items.push(v);
  }
  return {
    ok: items.every((i) => i.ok),
    url: store.url,
    kind: "volume",
    checked: [
      `${MANIFEST_NAME}: version, item names and keys, sizes and byte ranges that cover the device`,
      "every object re-read: size, SHA-256, S3's checksum where recorded, zstd frames",
      "every tar.zst listed by tar with the recorded number of members",
    ],
    items,
    problems: [],
    notes,
  };
}

/**
 * A database archive: every dump re-read like a volume's items (size, SHA-256, S3 checksum, zstd) and
 * read by the engine's tool as it streams: `pg_restore --list` for PostgreSQL's custom format (its table
 * of contents, naming the database recorded), a structural check of a SQL script (the dump tool's header
 * and its completion line at the end).
 */
async function verifyDump(store: ObjectStore, manifest: DatabaseManifest): Promise<VerifyReport> {
  const items: ItemVerdict[] = [];
  for (const it of manifest.items) {
    const problems = await verifyDumpItem(store, manifest.database.engine, it);
    const v = { name: it.name, kind: it.kind, ok: problems.length === 0, problems };
    log.info(`verify ${it.name} (${it.format} dump, ${it.key}): ${v.ok ? "OK" : "FAILED: " + problems.join("; ")}`);
    items.push(v);
  }
  return {
    ok: items.every((i) => i.ok),
    url: store.url,
    kind: "database-dump",
    checked: [
      `${MANIFEST_NAME}: one dump per database it lists, and nothing else`,
      "every dump re-read: size, SHA-256, S3's checksum where recorded, zstd frames",
      `read by the engine's tool: pg_restore --list (PostgreSQL custom format), a SQL script's header and completion line`,
    ],
    items,
    problems: [],
    notes: [],
  };
}
