import { once } from "node:events";
import { Cleanup } from "./cleanup";
import { log } from "./log";
import { ManifestItem } from "../../core/manifest";
import { checkAgainstManifest, readBack, ReadbackResult, spawnConsumer } from "./readback";
import { checkFits, condemn, DeviceWriter, OpenDevice, openDeviceExclusive } from "./restore-device";
import {
  checkItemNames,
  EXCLUSIVE_CREATE,
  finishTarget,
  ItemSlot,
  PreparedTarget,
  prepareTarget,
  RestoreKind,
  RestoreRefusedError,
} from "./restore-target";
import { SparseFileWriter } from "./sparse-writer";
import { ObjectStore } from "./store";
import { ManifestCheck, readManifest } from "./verify";
import { BackupActionsError } from "../../core/errors";

export interface RestoreOptions {
  store: ObjectStore;
  /**
   * Directory that receives DIR/<item>/ (tar) and DIR/<item>.img (img): new or empty (see `force`).
   * Not used with `device`.
   */
  to?: string;
  /** Only these items (by name). */
  items?: string[];
  /** Write the (single) img item to this block device instead of a file. */
  device?: string;
  /**
   * `to` may hold other entries. They are never replaced or followed: an item whose entry exists fails.
   * @default false
   */
  force?: boolean;
  /** Tamper evidence: refuses the manifest before any object is read (see cli/manifest-trust.ts). */
  checkManifest?: ManifestCheck;
  /** Progress bar on a TTY, plain lines otherwise. */
  tty?: boolean;
  /**
   * Undo steps for a signal (the CLI runs them on SIGTERM/SIGINT): the item being written is
   * removed (its tar killed first), or the device is said to be untrustworthy and its start zeroed.
   */
  cleanup?: Cleanup;
}

/** A restore that failed after restoring some items (they passed every check and stay). */
export class RestoreFailedError extends BackupActionsError {
  override readonly name: string = "RestoreFailedError";
  constructor(
    message: string,
    readonly restored: readonly RestoredItem[],
  ) {
    super(message);
  }
}

export interface RestoredItem {
  name: string;
  kind: "tar" | "img";
  path: string;
  bytes: number;
}

/**
 * tar flags that reproduce owners by number, modes (incl. setuid), xattrs and ACLs. GNU tar's own
 * defaults keep every member inside `-C`: it strips a leading `/` from member and hard link names,
 * skips members whose name holds `..`, and creates a symlink whose target is absolute or holds `..`
 * only at the end of the extraction (a placeholder until then), so no later member is written
 * through it. `-P`/`--absolute-names` must never be added here; tar runs in a fresh, empty staging
 * directory, so links left by other items or already in the target are out of its reach.
 */
export const TAR_EXTRACT_ARGS = [
  "--extract",
  "--file=-",
  "--numeric-owner",
  "--same-owner",
  "--same-permissions",
  "--xattrs",
  "--xattrs-include=*",
  "--acls",
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
      process.stderr.write(
        `\r${item.name} [${"#".repeat(fill)}${" ".repeat(width - fill)}] ${pct.toFixed(1)}% ${rate.toFixed(1)} MiB/s${done >= total ? "\n" : ""}`,
      );
    } else {
      log.info(`restore ${item.name}: ${pct.toFixed(1)}% of ${total} compressed bytes, ${rate.toFixed(1)} MiB/s`);
    }
  };
}

/** Selects the items to restore; refuses unknown names, and names or entries that are not safe. */
function chooseItems(
  items: readonly ManifestItem[],
  wanted: readonly string[] | undefined,
  url: string,
): ManifestItem[] {
  let chosen = items.filter((i) => i.kind !== "skipped");
  if (wanted?.length) {
    const unknown = wanted.filter((n) => !items.some((i) => i.name === n));
    if (unknown.length)
      throw new Error(`no item named ${unknown.join(", ")} (items: ${items.map((i) => i.name).join(", ")})`);
    chosen = chosen.filter((i) => wanted.includes(i.name));
  }
  for (const it of chosen) {
    if (it.kind !== "tar" && it.kind !== "img")
      throw new RestoreRefusedError(
        `${url}: item ${JSON.stringify(it.name)} has unknown kind ${JSON.stringify(it.kind)}`,
      );
    const sizes = [it.compressedBytes, it.uncompressedBytes];
    if (!sizes.every((n) => Number.isSafeInteger(n) && n! >= 0)) {
      throw new RestoreRefusedError(
        `${url}: item ${JSON.stringify(it.name)} records no usable compressedBytes/uncompressedBytes: restore checks sizes before writing`,
      );
    }
  }
  checkItemNames(chosen as { name: string; kind: RestoreKind }[], url);
  return chosen;
}

/** The object's size (HEAD / stat) must be the recorded one before a byte of it is streamed. */
async function checkObjectSizes(store: ObjectStore, items: readonly ManifestItem[]): Promise<void> {
  for (const it of items) {
    const size = await store.size(it.key!);
    if (size === undefined) throw new RestoreRefusedError(`item ${it.name}: object ${it.key} is missing`);
    if (size !== it.compressedBytes)
      throw new RestoreRefusedError(
        `item ${it.name}: object ${it.key} has ${size} bytes, the manifest says ${it.compressedBytes}`,
      );
  }
}

/**
 * Restores items of an export. Before anything is written: the manifest is checked (`checkManifest`),
 * every item's name and sizes, every object's size, and the target (or the device: exclusive, large
 * enough). Each item is then streamed into its own staging place (decompression stops at the recorded
 * size) and moved into place only after its SHA-256, S3 checksum and sizes matched; a failed item
 * leaves nothing behind and stops the restore (items restored before it stay, they passed).
 */
export async function restoreExport(o: RestoreOptions): Promise<RestoredItem[]> {
  const manifest = await readManifest(o.store, o.checkManifest);
  const items = chooseItems(manifest.items, o.items, o.store.url);
  if (o.device) {
    if (o.to !== undefined) throw new RestoreRefusedError("--device and --to exclude each other");
    if (items.length !== 1 || items[0].kind !== "img") {
      throw new Error(
        `--device writes one img item: choose it with --item (img items: ${
          items
            .filter((i) => i.kind === "img")
            .map((i) => i.name)
            .join(", ") || "none"
        })`,
      );
    }
    await checkObjectSizes(o.store, items);
    return [await restoreToDevice(o, items[0])];
  }
  if (o.to === undefined) throw new RestoreRefusedError("restore needs a target directory (--to) or --device");
  await checkObjectSizes(o.store, items);
  const target = await prepareTarget(o.to, o.force ?? false);
  let finished = false;
  // runs last on a signal: after the unfinished item is removed
  o.cleanup?.add(`finish ${target.dir}`, async () => {
    if (!finished) await finishTarget(target);
  });
  const out: RestoredItem[] = [];
  try {
    for (const it of items) {
      try {
        out.push(await restoreItem(o, target, it));
      } catch (e) {
        const kept = out.length
          ? ` (restored before it, checked and kept: ${out.map((r) => `${r.name} -> ${r.path}`).join(", ")})`
          : "";
        throw new RestoreFailedError(`${(e as Error).message}${kept}`, out);
      }
    }
  } finally {
    finished = true;
    await finishTarget(target);
  }
  return out;
}

async function restoreItem(o: RestoreOptions, target: PreparedTarget, it: ManifestItem): Promise<RestoredItem> {
  const kind = it.kind as RestoreKind;
  const slot = await ItemSlot.open(target, it.name, kind);
  let r: ReadbackResult;
  let settled = false;
  try {
    const onBytes = progressPrinter(it, o.tty ?? false);
    const consumer =
      kind === "tar"
        ? spawnConsumer("tar", [...TAR_EXTRACT_ARGS, "-C", slot.staging])
        : // a file keeps zero runs as holes; created new (never through a link), readable by root only
          { writable: new SparseFileWriter(slot.staging, EXCLUSIVE_CREATE, 0o600) };
    o.cleanup?.add(`remove the unfinished ${slot.final}`, async () => {
      if (settled) return;
      if ("process" in consumer && consumer.process.exitCode === null && consumer.process.signalCode === null) {
        const exited = once(consumer.process, "exit");
        consumer.process.kill("SIGKILL");
        await exited;
      }
      await slot.discard();
    });
    r = await readBack(o.store, it, consumer, onBytes);
    const problems = checkAgainstManifest(it, r);
    if (problems.length) {
      throw new Error(
        `restore of ${it.name} FAILED, nothing of it was kept (${slot.final} not created): ${problems.join("; ")}`,
      );
    }
    await slot.commit();
  } catch (e) {
    await slot.discard();
    throw e;
  } finally {
    settled = true;
  }
  log.info(`restored ${it.name} (${it.kind}) -> ${slot.final}: ${r.decompressedBytes} bytes, SHA-256 verified`);
  return { name: it.name, kind, path: slot.final, bytes: r.decompressedBytes };
}

async function restoreToDevice(o: RestoreOptions, it: ManifestItem): Promise<RestoredItem> {
  const dev: OpenDevice = await openDeviceExclusive(o.device!);
  try {
    checkFits(dev, it);
    const writable = new DeviceWriter(dev);
    let settled = false;
    o.cleanup?.add(`report ${dev.path} as untrustworthy`, async () => {
      if (!settled)
        log.error(`restore of ${it.name} onto ${dev.path} INTERRUPTED: ${await condemn(dev, writable.written)}`);
    });
    const r = await readBack(o.store, it, { writable }, progressPrinter(it, o.tty ?? false));
    const problems = checkAgainstManifest(it, r);
    if (problems.length === 0)
      await dev.handle.sync().catch((e: Error) => problems.push(`flushing ${dev.path}: ${e.message}`));
    if (problems.length) {
      const state = await condemn(dev, writable.written);
      throw new Error(`restore of ${it.name} onto ${dev.path} FAILED: ${problems.join("; ")}. ${state}`);
    }
    settled = true;
    log.info(`restored ${it.name} (img) -> ${dev.path}: ${r.decompressedBytes} bytes, SHA-256 verified`);
    return { name: it.name, kind: "img", path: dev.path, bytes: r.decompressedBytes };
  } finally {
    await dev.handle.close();
  }
}
