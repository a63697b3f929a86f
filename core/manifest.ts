/**
 * The manifest of an export (`manifest.json`, written last: its presence is what marks an export
 * as complete) and the one strict reader that the worker, `backup-actions verify`/`restore` and the
 * verify Lambda share. Whoever can write the archive bucket can write a manifest, so nothing in it
 * is trusted before `parseManifest` has checked it: every item name is one safe path component and
 * unique, every key is the one its name and kind produce, sizes add up, and (version 2) the byte
 * ranges of the device are accounted for exactly once, from byte 0 to the device's last byte.
 *
 * Two sources share the format (version 2): a volume (`device`, `partitionTable`, `ranges`; items
 * tar/img/skipped) and a database server (`database`; one `dump` item per database, plus the
 * server's globals for PostgreSQL). `parseArchiveManifest` reads either; `parseManifest` reads a
 * volume's only. The objects are checked the same way for both (sizes, SHA-256, S3's checksum).
 */
import * as z from "zod/mini";
import { BackupActionsError } from "./errors";
import { MAX_PARTS, parseS3Sha256 } from "./s3-checksum";

export const MANIFEST_NAME = "manifest.json";
/**
 * 2: `ranges` accounts for every byte of the device. 1: no `ranges`; read by `backup-actions verify`/`restore`
 * (old archives stay readable, their byte accounting unchecked), refused by the verify Lambda.
 */
export const MANIFEST_VERSION = 2;

export const ITEM_KINDS = ["tar", "img", "skipped"] as const;
export type ItemKind = (typeof ITEM_KINDS)[number];

/**
 * An item name: one path component that no shell, tar or path join can misread: 1 to 128 of
 * A-Z a-z 0-9 _ . + -, starting with a letter, digit or "_" (so never ".", "..", "-x" or empty).
 * Partitions are "p1", LVs "vg0-root", a disk without partition table "disk", bytes outside every
 * partition "gap-<offset>".
 */
export const ITEM_NAME = /^[A-Za-z0-9_][A-Za-z0-9_.+-]{0,127}$/;

export interface ItemSource {
  /** Device the bytes were read from (partition node, loop device over an LV, or the disk). */
  path: string;
  /** Partition number, when the item is a partition. */
  partition?: number;
  /** "vg/lv" when the item is an LVM logical volume. */
  lv?: string;
  fsType: string | null;
  uuid?: string;
  label?: string;
  /** GPT type GUID or MBR type byte ("0x83"). */
  partType?: string;
  /**
   * Offset of the item's bytes on the exported device, and their length. -1 for an LV whose
   * extents are not one contiguous range of the device (read through device-mapper).
   */
  offsetBytes: number;
  sizeBytes: number;
}

/** What every stored object of an archive records, whatever its source: what read-back and verify check. */
export interface StoredObject {
  name: string;
  key?: string;
  uncompressedBytes?: number;
  compressedBytes?: number;
  sha256?: string;
  s3ChecksumSHA256?: string;
  partSize?: number;
  parts?: number;
}

export interface ManifestItem {
  name: string;
  kind: ItemKind;
  source: ItemSource;
  /** Object key relative to the export prefix, always `itemKey(name, kind)`; absent for skipped items. */
  key?: string;
  /** Why the item is skipped, or why a filesystem was exported as a raw image. Required when skipped. */
  reason?: string;
  uncompressedBytes?: number;
  compressedBytes?: number;
  /** Hex SHA-256 of the whole compressed object. */
  sha256?: string;
  /**
   * The object's SHA-256 checksum in the form S3 reports it (HeadObject or GetObject with
   * ChecksumMode ENABLED), which the verify Lambda compares without reading the object. Every item
   * is a multipart upload with ChecksumAlgorithm SHA256, so this is S3's COMPOSITE checksum:
   * base64(SHA-256(d1 || d2 || … || dN)) + "-N", where dK is the binary SHA-256 of part K (`partSize`
   * bytes each, the last one shorter; an empty object is one empty part) and N is `parts`. The worker
   * computes it from the parts it sent and, when CompleteMultipartUpload answers with a checksum,
   * checks that S3 agrees. An object written by a single PutObject would record the plain base64
   * SHA-256 of its bytes instead (no "-N"); the worker writes none today.
   * A file:// export records the same composite, computed from the same parts, so its manifest reads
   * like an S3 one and `backup-actions verify` recomputes it either way. The worker always writes it;
   * absent in manifests written before the field existed, whose verification then checks sizes and
   * `sha256` only.
   */
  s3ChecksumSHA256?: string;
  /** Archive members (files, directories, links) in a tar item. */
  files?: number;
  /** Bytes of every part but the last (the composite checksum depends on it). */
  partSize?: number;
  parts?: number;
  seconds?: number;
}

/**
 * One byte range of the device. The ranges of a version 2 manifest are sorted, do not overlap and
 * cover the device from byte 0 to its size. `item`: the bytes are those of the named item (a tar or
 * img item, or a skipped item whose `reason` says why its bytes are not kept: swap, BIOS boot, an
 * LVM PV whose LVs are items of their own). `unallocated`: outside every partition and read back as
 * zeros by the worker (any non-zero byte outside the partitions becomes a `gap-<offset>` img item).
 */
export type DeviceRange =
  | { offsetBytes: number; sizeBytes: number; use: "item"; item: string }
  | { offsetBytes: number; sizeBytes: number; use: "unallocated"; reason: string };

export interface PartitionEntry {
  name: string;
  number: number;
  node: string;
  startBytes: number;
  sizeBytes: number;
  type: string;
  partUuid?: string;
  partLabel?: string;
}

export interface LvmReport {
  vgs: {
    name: string;
    uuid?: string;
    extentSize: number;
    lvs: { name: string; sizeBytes: number; segType: string }[];
  }[];
}

export interface Manifest {
  version: 1 | 2;
  tool: "backup-actions";
  device: { path: string; sizeBytes: number; volumeId?: string; snapshotId?: string };
  partitionTable: { type: "gpt" | "dos" | null; id?: string; partitions: PartitionEntry[] };
  lvm?: LvmReport;
  items: ManifestItem[];
  /** Every byte of the device, once (version 2; absent in version 1). */
  ranges?: DeviceRange[];
  compression: { tool: "zstd"; level: number };
  tools: Record<string, string>;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  /** Uncompressed bytes read per second over the whole export. */
  bytesPerSecond: number;
  totals: { uncompressedBytes: number; compressedBytes: number };
}

export function itemKey(name: string, kind: Exclude<ItemKind, "skipped">): string {
  return `${name}.${kind}.zst`;
}

export const DATABASE_ENGINES = ["postgres", "mysql", "mariadb"] as const;
export type DatabaseEngine = (typeof DATABASE_ENGINES)[number];

/**
 * How a dump's bytes (once zstd is undone) read: `pg-custom` is pg_dump's custom format (`-Fc`,
 * its own compression off), restored with pg_restore; `sql` is a script for the engine's client
 * (mysqldump/mariadb-dump output, or pg_dumpall --globals-only).
 */
export const DUMP_FORMATS = ["pg-custom", "sql"] as const;
export type DumpFormat = (typeof DUMP_FORMATS)[number];

/** One dump object: a database, or (no `database`) the globals of a PostgreSQL server (roles, tablespaces). */
export interface DumpItem extends StoredObject {
  kind: "dump";
  format: DumpFormat;
  /** The database's name as the server spells it (any characters: never used as a path). */
  database?: string;
  key: string;
  uncompressedBytes: number;
  compressedBytes: number;
  sha256: string;
  seconds?: number;
}

export interface DatabaseEntry {
  /** As the server spells it; the dump item that holds it names it in `database`. */
  name: string;
  /** On the server before the dump (pg_database_size; MySQL: data + index length of its tables). */
  sizeBytes: number;
  /** PostgreSQL: the role that owns the database, which a restore gives it when the role exists there. */
  owner?: string;
  /** MySQL/MariaDB: the database's default character set and collation, which a restore creates it with. */
  charset?: string;
  collation?: string;
}

export interface DatabaseManifest {
  version: 2;
  tool: "backup-actions";
  database: {
    engine: DatabaseEngine;
    host: string;
    port: number;
    /** `SHOW server_version` / `SELECT VERSION()`. */
    serverVersion: string;
    databases: DatabaseEntry[];
  };
  items: DumpItem[];
  compression: { tool: "zstd"; level: number };
  /** The dump tool (pg_dump, mysqldump, mariadb-dump), zstd, node, …: name -> the first line of `--version`. */
  tools: Record<string, string>;
  startedAt: string;
  finishedAt: string;
  seconds: number;
  bytesPerSecond: number;
  totals: { uncompressedBytes: number; compressedBytes: number };
}

/** Any archive's manifest: a volume's or a database server's. */
export type ArchiveManifest = Manifest | DatabaseManifest;

export function isDatabaseManifest(m: ArchiveManifest): m is DatabaseManifest {
  return "database" in m;
}

/** A dump item's name for the database that is `index`-th (from 1) in the manifest: one safe path component. */
export function dumpItemName(index: number, database: string): string {
  const safe = database.replace(/[^A-Za-z0-9_.+-]/g, "_").slice(0, 100);
  return `db${index}-${safe}`;
}

/** The name of the PostgreSQL globals item. */
export const GLOBALS_ITEM = "globals";

export function dumpKey(name: string, format: DumpFormat): string {
  return `${name}.${format === "pg-custom" ? "pgdump" : "sql"}.zst`;
}

/**
 * True for a key (relative to the export's prefix) that an export writes: the manifest or an item's
 * object directly under the prefix. What a re-run may clean up; anything else there is not its own.
 */
export function isExportKey(key: string): boolean {
  if (key === MANIFEST_NAME) return true;
  const m = /^(.*)\.(tar|img|pgdump|sql)\.zst$/.exec(key);
  return m !== null && ITEM_NAME.test(m[1]!);
}

/** A manifest that cannot be trusted; `issues` name the item or range and the field of each problem. */
export class ManifestError extends BackupActionsError {
  override readonly name: string = "ManifestError";
  constructor(
    readonly file: string,
    readonly issues: readonly string[],
  ) {
    super(`invalid manifest ${file}: ${issues.join("; ")}`);
  }
}

// zod/mini: the same checks as classic zod, in a twentieth of the verify Lambda's bundle (classic zod does not
// tree-shake: about 450 KB minified)
const bytes = z.int().check(z.minimum(0));
const text = z.string().check(z.minLength(1));
const opt = z.optional;
const str = () => z.string();

const sourceSchema = z.strictObject({
  path: text,
  partition: opt(z.int().check(z.minimum(1))),
  lv: opt(z.string().check(z.regex(/^[^/\0]+\/[^/\0]+$/, { error: 'not "vg/lv"' }))),
  fsType: z.nullable(str()),
  uuid: opt(str()),
  label: opt(str()),
  partType: opt(str()),
  offsetBytes: z.int().check(z.minimum(-1)),
  sizeBytes: bytes,
});

const itemSchema = z.strictObject({
  name: z.string().check(
    z.regex(ITEM_NAME, {
      error: (i) =>
        `${JSON.stringify(i.input)} is not a single safe path component ` +
        '(1 to 128 of A-Z a-z 0-9 _ . + -, not starting with "." or "-")',
    }),
  ),
  kind: z.enum(ITEM_KINDS),
  source: sourceSchema,
  key: opt(str()),
  reason: opt(text),
  uncompressedBytes: opt(bytes),
  compressedBytes: opt(bytes),
  sha256: opt(
    z.string().check(z.regex(/^[0-9a-f]{64}$/, { error: (i) => `${JSON.stringify(i.input)} is not a hex SHA-256` })),
  ),
  s3ChecksumSHA256: opt(z.unknown()),
  files: opt(bytes),
  partSize: opt(z.int().check(z.minimum(1))),
  parts: opt(z.int().check(z.minimum(1), z.maximum(MAX_PARTS))),
  seconds: opt(z.number().check(z.minimum(0))),
});

const rangeSchema = z.strictObject({
  offsetBytes: bytes,
  sizeBytes: z.int().check(z.minimum(1)),
  use: z.enum(["item", "unallocated"]),
  item: opt(str()),
  reason: opt(text),
});

const partitionSchema = z.strictObject({
  name: text,
  number: z.int().check(z.minimum(1)),
  node: text,
  startBytes: bytes,
  sizeBytes: bytes,
  type: str(),
  partUuid: opt(str()),
  partLabel: opt(str()),
});

const lvmSchema = z.strictObject({
  vgs: z.array(
    z.strictObject({
      name: text,
      uuid: opt(str()),
      extentSize: bytes,
      lvs: z.array(z.strictObject({ name: text, sizeBytes: bytes, segType: str() })),
    }),
  ),
});

const manifestSchema = z.strictObject({
  version: z.union([z.literal(1), z.literal(2)]),
  tool: z.literal("backup-actions"),
  device: z.strictObject({ path: text, sizeBytes: bytes, volumeId: opt(str()), snapshotId: opt(str()) }),
  partitionTable: z.strictObject({
    type: z.nullable(z.enum(["gpt", "dos"])),
    id: opt(str()),
    partitions: z.array(partitionSchema),
  }),
  lvm: opt(lvmSchema),
  items: z.array(itemSchema),
  ranges: opt(z.array(rangeSchema)),
  compression: z.strictObject({ tool: z.literal("zstd"), level: z.int() }),
  tools: z.record(str(), str()),
  startedAt: text,
  finishedAt: text,
  seconds: z.number().check(z.minimum(0)),
  bytesPerSecond: z.number().check(z.minimum(0)),
  totals: z.strictObject({ uncompressedBytes: bytes, compressedBytes: bytes }),
});

const hex256 = z
  .string()
  .check(z.regex(/^[0-9a-f]{64}$/, { error: (i) => `${JSON.stringify(i.input)} is not a hex SHA-256` }));
const identifier = z
  .string()
  .check(z.regex(/^[A-Za-z0-9_]{1,64}$/, { error: "not a character set or collation name" }));

const dumpItemSchema = z.strictObject({
  name: itemSchema.shape.name,
  kind: z.literal("dump"),
  format: z.enum(DUMP_FORMATS),
  database: opt(text),
  key: text,
  uncompressedBytes: bytes,
  compressedBytes: bytes,
  sha256: hex256,
  s3ChecksumSHA256: opt(z.unknown()),
  partSize: opt(z.int().check(z.minimum(1))),
  parts: opt(z.int().check(z.minimum(1), z.maximum(MAX_PARTS))),
  seconds: opt(z.number().check(z.minimum(0))),
});

const databaseManifestSchema = z.strictObject({
  version: z.literal(2),
  tool: z.literal("backup-actions"),
  database: z.strictObject({
    engine: z.enum(DATABASE_ENGINES),
    host: text,
    port: z.int().check(z.minimum(1), z.maximum(65535)),
    serverVersion: text,
    databases: z.array(
      z.strictObject({
        name: text,
        sizeBytes: bytes,
        owner: opt(text),
        charset: opt(identifier),
        collation: opt(identifier),
      }),
    ),
  }),
  items: z.array(dumpItemSchema),
  compression: manifestSchema.shape.compression,
  tools: manifestSchema.shape.tools,
  startedAt: text,
  finishedAt: text,
  seconds: z.number().check(z.minimum(0)),
  bytesPerSecond: z.number().check(z.minimum(0)),
  totals: manifestSchema.shape.totals,
});

export interface ParseOptions {
  /**
   * Read version 1 manifests (no `ranges`: the device's byte accounting cannot be checked).
   * `backup-actions verify` and `restore` do, so that archives written before version 2 stay
   * readable; the verify Lambda does not: the pipeline's worker writes version 2.
   */
  acceptVersion1?: boolean;
}

/**
 * Parses and checks a manifest read back from `file` (its URL or path, named in every error).
 * Throws a ManifestError listing every problem, each with the item (index and name) or range and
 * the field; returns the manifest only when all of it holds.
 */
export function parseManifest(json: string, file: string, opts: ParseOptions = {}): Manifest {
  return checkManifest(jsonOf(json, file), file, opts);
}

/** The manifest's JSON value; a ManifestError naming `file` when it is not JSON. */
function jsonOf(json: string, file: string): unknown {
  try {
    return JSON.parse(json);
  } catch (e) {
    throw new ManifestError(file, [`not JSON (${(e as Error).message})`]);
  }
}

/** `parseManifest` for a value already parsed (the worker checks its own manifest before writing it). */
export function checkManifest(value: unknown, file: string, opts: ParseOptions = {}): Manifest {
  const v = value as { tool?: unknown; version?: unknown; items?: unknown } | null;
  if (typeof v !== "object" || v === null || Array.isArray(v) || v.tool !== "backup-actions") {
    throw new ManifestError(file, [`not a backup-actions manifest (tool ${describe(v?.tool)})`]);
  }
  if ("database" in v) {
    throw new ManifestError(file, [
      "database: this is a database dump manifest, not a volume export's (read it with parseArchiveManifest)",
    ]);
  }
  const readable = opts.acceptVersion1 ? [1, 2] : [2];
  if (!readable.includes(v.version as number)) {
    const note = v.version === 1 ? " (version 1 has no byte ranges to account for the device)" : "";
    throw new ManifestError(file, [
      `version: ${describe(v.version)} is not one this reader accepts (${readable.join(", ")})${note}`,
    ]);
  }
  const parsed = manifestSchema.safeParse(value, { reportInput: true });
  if (!parsed.success)
    throw new ManifestError(
      file,
      parsed.error.issues.map((i) => formatIssue(i, v.items)),
    );
  const m = parsed.data as Manifest;
  // the ranges name items: checked once the items themselves hold (unique names above all)
  const issues = itemIssues(m);
  if (issues.length === 0) issues.push(...rangeIssues(m));
  if (issues.length) throw new ManifestError(file, issues);
  return m;
}

/**
 * Parses and checks either kind of manifest: a database server's (it has `database`) or a volume's
 * (`parseManifest`). Throws a ManifestError listing every problem.
 */
export function parseArchiveManifest(json: string, file: string, opts: ParseOptions = {}): ArchiveManifest {
  return checkArchiveManifest(jsonOf(json, file), file, opts);
}

/** `parseArchiveManifest` for a value already parsed (the worker checks its own manifest before writing it). */
export function checkArchiveManifest(value: unknown, file: string, opts: ParseOptions = {}): ArchiveManifest {
  const v = value as { tool?: unknown; version?: unknown; items?: unknown; database?: unknown } | null;
  if (typeof v !== "object" || v === null || Array.isArray(v) || !("database" in v))
    return checkManifest(value, file, opts);
  if (v.tool !== "backup-actions")
    throw new ManifestError(file, [`not a backup-actions manifest (tool ${describe(v.tool)})`]);
  if (v.version !== 2)
    throw new ManifestError(file, [
      `version: ${describe(v.version)} is not one this reader accepts (2 for a database dump manifest)`,
    ]);
  const parsed = databaseManifestSchema.safeParse(value, { reportInput: true });
  if (!parsed.success)
    throw new ManifestError(
      file,
      parsed.error.issues.map((i) => formatIssue(i, v.items)),
    );
  const m = parsed.data as DatabaseManifest;
  const issues = dumpIssues(m);
  if (issues.length) throw new ManifestError(file, issues);
  return m;
}

function dumpIssues(m: DatabaseManifest): string[] {
  const issues: string[] = [];
  const firstIndex = new Map<string, number>();
  const dumped = new Map<string, number>();
  const listed = new Set(m.database.databases.map((d) => d.name));
  const seenListed = new Set<string>();
  m.database.databases.forEach((d, i) => {
    if (seenListed.has(d.name)) issues.push(`database.databases.${i}: ${JSON.stringify(d.name)} is listed twice`);
    seenListed.add(d.name);
  });
  let globals = 0;
  m.items.forEach((it, i) => {
    const at = (field: string, problem: string) => issues.push(`${itemLabel(i, m.items)}: ${field}: ${problem}`);
    const seen = firstIndex.get(it.name);
    if (seen !== undefined) at("name", `${JSON.stringify(it.name)} is also the name of item ${seen}`);
    else firstIndex.set(it.name, i);
    keyAndSizeIssues(it, dumpKey(it.name, it.format), it.kind, at);
    partIssues(it, at);
    const pgCustom = m.database.engine === "postgres" && it.database !== undefined;
    if ((it.format === "pg-custom") !== pgCustom) {
      const want = pgCustom ? "pg-custom" : "sql";
      at(
        "format",
        `${JSON.stringify(it.format)}, but a ${m.database.engine} ${it.database === undefined ? "globals" : "database"} dump is ${want}`,
      );
    }
    if (it.database === undefined) {
      globals++;
      if (m.database.engine !== "postgres") at("database", "missing (only a PostgreSQL server has a globals item)");
      else if (it.name !== GLOBALS_ITEM) at("name", `a globals item is named ${JSON.stringify(GLOBALS_ITEM)}`);
      return;
    }
    if (!listed.has(it.database)) at("database", `${JSON.stringify(it.database)} is not in database.databases`);
    const other = dumped.get(it.database);
    if (other !== undefined) at("database", `${JSON.stringify(it.database)} is also dumped by item ${other}`);
    else dumped.set(it.database, i);
  });
  if (globals > 1) issues.push(`items: ${globals} globals items (at most one)`);
  for (const d of m.database.databases)
    if (!dumped.has(d.name)) issues.push(`database.databases: ${JSON.stringify(d.name)} has no dump item`);
  if (!m.items.some((it) => it.database !== undefined)) issues.push("items: no database is dumped");
  issues.push(...totalsIssues(m));
  return issues;
}

function describe(x: unknown): string {
  return x === undefined ? "missing" : JSON.stringify(x);
}

function itemLabel(i: number, items: unknown): string {
  const name = Array.isArray(items) ? (items[i] as { name?: unknown } | null)?.name : undefined;
  return `item ${i} (${typeof name === "string" ? JSON.stringify(name) : "no name"})`;
}

function formatIssue(issue: z.core.$ZodIssue, items: unknown): string {
  const path = [...issue.path];
  let where: string | undefined;
  if ((path[0] === "items" || path[0] === "ranges") && typeof path[1] === "number") {
    where = path[0] === "items" ? itemLabel(path[1], items) : `range ${path[1]}`;
    path.splice(0, 2);
  }
  const input = (issue as { input?: unknown }).input;
  let problem: string;
  switch (issue.code) {
    case "invalid_type":
      problem = input === undefined ? "missing" : `expected ${issue.expected}, got ${describe(input)}`;
      break;
    case "invalid_value":
      problem = `${describe(input)} is not one of ${issue.values.map((x) => JSON.stringify(x)).join(", ")}`;
      break;
    case "unrecognized_keys":
      problem = `unknown field${issue.keys.length > 1 ? "s" : ""} ${issue.keys.join(", ")}`;
      break;
    case "too_small":
    case "too_big":
      problem = `${describe(input)} is ${issue.code === "too_small" ? "below" : "above"} ${String(
        (issue as { minimum?: unknown; maximum?: unknown }).minimum ?? (issue as { maximum?: unknown }).maximum,
      )}`;
      break;
    default:
      problem = issue.message;
  }
  const field = path.map(String).join(".");
  return [where, field, problem].filter((s) => s !== undefined && s !== "").join(": ");
}

/** Fields that only an exported (tar or img) item has. */
const OBJECT_FIELDS = [
  "key",
  "uncompressedBytes",
  "compressedBytes",
  "sha256",
  "s3ChecksumSHA256",
  "files",
  "partSize",
  "parts",
] as const;

function itemIssues(m: Manifest): string[] {
  const issues: string[] = [];
  const firstIndex = new Map<string, number>();
  m.items.forEach((it, i) => {
    const at = (field: string, problem: string) => issues.push(`${itemLabel(i, m.items)}: ${field}: ${problem}`);
    const seen = firstIndex.get(it.name);
    if (seen !== undefined) at("name", `${JSON.stringify(it.name)} is also the name of item ${seen}`);
    else firstIndex.set(it.name, i);

    const s = it.source;
    if (s.offsetBytes === -1 && s.lv === undefined)
      at("source.offsetBytes", "-1 is for an LV read through device-mapper only");
    if (s.offsetBytes >= 0 && s.offsetBytes + s.sizeBytes > m.device.sizeBytes) {
      at(
        "source",
        `bytes ${s.offsetBytes}..${s.offsetBytes + s.sizeBytes} reach past the device's ${m.device.sizeBytes} bytes`,
      );
    }

    if (it.kind === "skipped") {
      for (const f of OBJECT_FIELDS) if (it[f] !== undefined) at(f, "a skipped item has no object");
      if (it.reason === undefined) at("reason", "missing (a skipped item says why its bytes are not kept)");
      return;
    }
    keyAndSizeIssues(it, itemKey(it.name, it.kind), it.kind, at);
    if (it.files !== undefined && it.kind !== "tar") at("files", "only a tar item has members");
    partIssues(it, at);
  });
  issues.push(...totalsIssues(m));
  return issues;
}

type At = (field: string, problem: string) => void;

/** The object's key is the one its name and kind produce, and its sizes and SHA-256 are recorded. */
function keyAndSizeIssues(it: StoredObject, want: string, kind: string, at: At): void {
  if (it.key === undefined) at("key", "missing");
  else if (it.key !== want)
    at("key", `${describe(it.key)} is not ${JSON.stringify(want)}, the key of a ${kind} item of that name`);
  for (const f of ["compressedBytes", "uncompressedBytes", "sha256"] as const)
    if (it[f] === undefined) at(f, "missing");
}

/** The part count agrees with the size and part size, and with the part count S3's checksum names. */
function partIssues(it: StoredObject, at: At): void {
  if (it.parts !== undefined && it.partSize !== undefined && it.compressedBytes !== undefined) {
    const parts = Math.max(1, Math.ceil(it.compressedBytes / it.partSize));
    if (parts !== it.parts) {
      at(
        "parts",
        `${it.parts}, but ${it.compressedBytes} compressed bytes in parts of ${it.partSize} bytes are ${parts} part(s)`,
      );
    }
  }
  if (it.s3ChecksumSHA256 !== undefined) {
    let named: number | undefined;
    try {
      named = parseS3Sha256(it.s3ChecksumSHA256).parts;
    } catch (e) {
      at("s3ChecksumSHA256", (e as Error).message);
      return;
    }
    if (named !== undefined && it.parts !== undefined && named !== it.parts) {
      at("s3ChecksumSHA256", `names ${named} parts, the item says ${it.parts}`);
    }
  }
}

function totalsIssues(m: { items: readonly StoredObject[]; totals: Manifest["totals"] }): string[] {
  const issues: string[] = [];
  for (const f of ["uncompressedBytes", "compressedBytes"] as const) {
    const sum = m.items.reduce((a, it) => a + (it[f] ?? 0), 0);
    if (m.totals[f] !== sum) issues.push(`totals.${f}: ${m.totals[f]}, but the items add up to ${sum}`);
  }
  return issues;
}

function rangeIssues(m: Manifest): string[] {
  if (m.version === 1) return m.ranges === undefined ? [] : ["ranges: a version 1 manifest has none"];
  if (m.ranges === undefined) return ["ranges: missing (a version 2 manifest accounts for every byte of the device)"];
  const issues: string[] = [];
  const byName = new Map(m.items.map((it, i) => [it.name, i] as const));
  const rangesOf = new Map<string, number[]>();
  const ranges = m.ranges as z.infer<typeof rangeSchema>[];
  let end = 0;
  ranges.forEach((r, i) => {
    const at = (problem: string) =>
      issues.push(`range ${i} (bytes ${r.offsetBytes}..${r.offsetBytes + r.sizeBytes}): ${problem}`);
    if (r.offsetBytes > end) at(`offsetBytes: bytes ${end}..${r.offsetBytes} before it are in no range`);
    if (r.offsetBytes < end) at(`offsetBytes: overlaps the range before it, which ends at byte ${end}`);
    end = Math.max(end, r.offsetBytes + r.sizeBytes);
    if (r.use === "unallocated") {
      if (r.item !== undefined) at("item: an unallocated range belongs to no item");
      if (r.reason === undefined) at("reason: missing (an unallocated range says what it is)");
      return;
    }
    if (r.item === undefined) {
      at("item: missing");
      return;
    }
    const idx = byName.get(r.item);
    if (idx === undefined) {
      at(`item: no item is named ${JSON.stringify(r.item)}`);
      return;
    }
    rangesOf.set(r.item, [...(rangesOf.get(r.item) ?? []), i]);
    const s = m.items[idx]!.source;
    if (s.lv !== undefined) {
      at(`item: ${JSON.stringify(r.item)} is an LV, which lies inside its PV's range`);
      return;
    }
    if (s.offsetBytes !== r.offsetBytes || s.sizeBytes !== r.sizeBytes) {
      at(`item: ${JSON.stringify(r.item)} has bytes ${s.offsetBytes}..${s.offsetBytes + s.sizeBytes}, not these`);
    }
  });
  if (end !== m.device.sizeBytes) {
    issues.push(
      end < m.device.sizeBytes
        ? `ranges: bytes ${end}..${m.device.sizeBytes} of the device are in no range`
        : `ranges: reach byte ${end}, past the device's ${m.device.sizeBytes} bytes`,
    );
  }
  const pvRanges = ranges.filter(
    (r) => r.item !== undefined && m.items[byName.get(r.item) ?? -1]?.source.fsType === "lvm2-pv",
  );
  m.items.forEach((it, i) => {
    const s = it.source;
    if (s.lv !== undefined) {
      const inPv = pvRanges.some(
        (r) => s.offsetBytes >= r.offsetBytes && s.offsetBytes + s.sizeBytes <= r.offsetBytes + r.sizeBytes,
      );
      if (s.offsetBytes >= 0 && !inPv)
        issues.push(`${itemLabel(i, m.items)}: source: an LV outside every LVM PV range of the device`);
      return;
    }
    const found = rangesOf.get(it.name) ?? [];
    if (found.length === 0) issues.push(`${itemLabel(i, m.items)}: source: its bytes are in no range of the device`);
    else if (found.length > 1) issues.push(`${itemLabel(i, m.items)}: source: in ranges ${found.join(" and ")}`);
  });
  return issues;
}
