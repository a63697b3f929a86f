import { createWriteStream, promises as fs, statSync } from "node:fs";
import path from "node:path";
import { log } from "./log";
import { ManifestItem } from "../../core/manifest";
import { checkAgainstManifest, readBack, spawnConsumer } from "./readback";
import { SparseFileWriter } from "./sparse-writer";
import { ObjectStore } from "./store";
import { readManifest } from "./verify";

export interface RestoreOptions {
  store: ObjectStore;
  /** Directory that receives DIR/<item>/ (tar) and DIR/<item>.img (img). */
  to: string;
  /** Only these items (by name). */
  items?: string[];
  /** Write the (single) img item to this block device instead of a file. */
  device?: string;
  /** Progress bar on a TTY, plain lines otherwise. */
  tty?: boolean;
}

export interface RestoredItem {
  name: string;
  kind: "tar" | "img";
  path: string;
  bytes: number;
}

/** tar flags that reproduce owners by number, modes (incl. setuid), xattrs and ACLs. */
export const TAR_EXTRACT_ARGS = [
  "--extract", "--file=-", "--numeric-owner", "--same-owner", "--same-permissions", "--xattrs", "--xattrs-include=*", "--acls",
];

function progressPrinter(item: ManifestItem, tty: boolean): (n: number) => void {
  const total = item.compressedBytes ?? 0;
  const t0 = Date.now();
  let done = 0;
  let lastPrint = 0;
  return (n) => {
    done += n;
    const now = Date.now();
    if (now - lastPrint < (tty ? 200 : 10_000) && done < total) return;
    lastPrint = now;
    const pct = total ? (100 * done) / total : 100;
    const rate = done / 2 ** 20 / Math.max((now - t0) / 1000, 0.001);
    if (tty) {
      const width = 30;
      const fill = Math.round((pct / 100) * width);
      process.stderr.write(`\r${item.name} [${"#".repeat(fill)}${" ".repeat(width - fill)}] ${pct.toFixed(1)}% ${rate.toFixed(1)} MiB/s${done >= total ? "\n" : ""}`);
    } else {
      log.info(`restore ${item.name}: ${pct.toFixed(1)}% of ${total} compressed bytes, ${rate.toFixed(1)} MiB/s`);
    }
  };
}

/**
 * Restores items of an export. The object's SHA-256 and sizes are checked while it streams; a
 * mismatch fails the item (and the command) even though its bytes were already written, and says so.
 */
export async function restoreExport(o: RestoreOptions): Promise<RestoredItem[]> {
  const manifest = await readManifest(o.store);
  let items = manifest.items.filter((i) => i.kind !== "skipped");
  if (o.items?.length) {
    const unknown = o.items.filter((n) => !manifest.items.some((i) => i.name === n));
    if (unknown.length) throw new Error(`no item named ${unknown.join(", ")} (items: ${manifest.items.map((i) => i.name).join(", ")})`);
    items = items.filter((i) => o.items!.includes(i.name));
  }
  if (o.device) {
    if (items.length !== 1 || items[0].kind !== "img") {
      throw new Error(`--device writes one img item: choose it with --item (img items: ${items.filter((i) => i.kind === "img").map((i) => i.name).join(", ") || "none"})`);
    }
    if (!statSync(o.device).isBlockDevice()) throw new Error(`${o.device} is not a block device`);
  }
  await fs.mkdir(o.to, { recursive: true });
  const out: RestoredItem[] = [];
  for (const it of items) {
    const onBytes = progressPrinter(it, o.tty ?? false);
    let target: string;
    let r;
    if (it.kind === "tar") {
      target = path.join(o.to, it.name);
      await fs.mkdir(target, { recursive: true });
      r = await readBack(o.store, it, spawnConsumer("tar", [...TAR_EXTRACT_ARGS, "-C", target]), onBytes);
    } else {
      target = o.device ?? path.join(o.to, `${it.name}.img`);
      // a device is written in full (r+: never truncated or created); a file keeps zero runs as holes
      const writable = o.device ? createWriteStream(target, { flags: "r+" }) : new SparseFileWriter(target);
      r = await readBack(o.store, it, { writable }, onBytes);
    }
    const problems = checkAgainstManifest(it, r);
    if (problems.length) throw new Error(`restore of ${it.name} into ${target} FAILED (its contents cannot be trusted): ${problems.join("; ")}`);
    log.info(`restored ${it.name} (${it.kind}) -> ${target}: ${r.decompressedBytes} bytes, SHA-256 verified`);
    out.push({ name: it.name, kind: it.kind as "tar" | "img", path: target, bytes: r.decompressedBytes });
  }
  return out;
}
