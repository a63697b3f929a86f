/**
 * The zip a Lambda function is deployed from, written at synth time so that the same bundle always
 * gives the same bytes: entries sorted by name, every entry dated 1980-01-01 00:00 (the first DOS
 * date), mode 0644, deflated by zlib at level 9, no extra fields. cdktf's own archiver (AssetType.ARCHIVE)
 * records each file's mtime, so every fresh clone zipped other bytes and a committed `cdktf.out` churned;
 * it also zipped in a node process of its own per archive (~0.7 s each).
 *
 * `.gen/lambda-archives/<name>/<bundle hash>/archive.zip` (gitignored), so the synthesized `filename`
 * (`assets/<id>/<hash>/archive.zip`) and `source_code_hash` (the bundle's hash) are what they were.
 */
import { crc32, deflateRawSync } from "node:zlib";
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { REPO_ROOT, type LambdaBundle } from "./lambda-bundle";

export const ARCHIVE_DIR = path.join(REPO_ROOT, ".gen", "lambda-archives");

export interface ZipEntry {
  readonly name: string;
  readonly data: Buffer;
}

/** DOS date of 1980-01-01 (year 0 since 1980, month 1, day 1) and time 00:00:00. */
const DOS_DATE = (0 << 9) | (1 << 5) | 1;
const DOS_TIME = 0;
/** "Made by" Unix (3), zip spec 2.0: readers then take the mode from the external attributes. */
const MADE_BY = (3 << 8) | 20;
const REGULAR_FILE_0644 = (0o100644 << 16) >>> 0;

/** A zip of `entries` whose bytes depend on the names and contents only. */
export function deterministicZip(entries: readonly ZipEntry[]): Buffer {
  const sorted = [...entries].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const { name, data } of sorted) {
    if (name === "" || name.startsWith("/") || name.split("/").includes(".."))
      throw new Error(`deterministicZip: unsafe entry name ${JSON.stringify(name)}`);
    const nameBytes = Buffer.from(name, "utf8");
    const compressed = deflateRawSync(data, { level: 9 });
    const crc = crc32(data);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4); // version needed: deflate
    local.writeUInt16LE(0x0800, 6); // names are UTF-8
    local.writeUInt16LE(8, 8); // deflate
    local.writeUInt16LE(DOS_TIME, 10);
    local.writeUInt16LE(DOS_DATE, 12);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(compressed.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(nameBytes.length, 26);
    local.writeUInt16LE(0, 28);
    locals.push(local, nameBytes, compressed);

    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(MADE_BY, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(0x0800, 8);
    central.writeUInt16LE(8, 10);
    central.writeUInt16LE(DOS_TIME, 12);
    central.writeUInt16LE(DOS_DATE, 14);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(compressed.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(nameBytes.length, 28);
    // extra, comment, disk number, internal attributes: 0
    central.writeUInt32LE(REGULAR_FILE_0644, 38);
    central.writeUInt32LE(offset, 42);
    centrals.push(central, nameBytes);
    offset += local.length + nameBytes.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(sorted.length, 8);
  end.writeUInt16LE(sorted.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, directory, end]);
}

/** Archives of other bundles of the same Lambda older than this are removed (a parallel synth may still copy a newer one). */
const PRUNE_AFTER_MS = 60 * 60 * 1000;

/**
 * The deployable zip of a bundle: written once per bundle hash (under `root`, default ARCHIVE_DIR). Archives of
 * other bundles of the same Lambda are removed once they are an hour old: never at once, because the path a
 * construct names is copied only when the app synthesizes, and another process may be between the two.
 */
export function lambdaArchive(name: string, bundle: LambdaBundle, root = ARCHIVE_DIR): string {
  const dir = path.join(root, name);
  const file = path.join(dir, bundle.hash, "archive.zip");
  if (existsSync(file)) return file;
  const entries = readdirSync(bundle.dir)
    .sort()
    .map((entry) => ({ name: entry, data: readFileSync(path.join(bundle.dir, entry)) }));
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(tmp, deterministicZip(entries));
  renameSync(tmp, file);
  const now = Date.now();
  for (const old of readdirSync(dir)) {
    const at = path.join(dir, old);
    if (old !== bundle.hash && now - statSync(at).mtimeMs > PRUNE_AFTER_MS)
      rmSync(at, { recursive: true, force: true });
  }
  return file;
}
