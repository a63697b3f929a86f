/**
 * Where restore writes, and how it stays there. Restore runs as root and reproduces owners and
 * modes, so whatever the archive says must not decide a path outside `--to`. The manifest is
 * checked by its schema too; these checks do not rely on it (defence in depth):
 *
 * - every item name is one safe path component (SAFE_ITEM_NAME), and no two items share an entry;
 * - the target is new or empty (`force`: may hold other entries, which are never replaced or
 *   followed); it is not a symbolic link nor writable by group or others, and it stays mode 0700
 *   until the restore ends;
 * - each item first reserves its entry (tar: `mkdir` of `<item>/`, img: an `O_EXCL|O_NOFOLLOW` create
 *   of `<item>.img`), so an existing entry, a symlink included, is refused, never followed;
 * - its bytes go to a fresh staging entry (`.restore-<entry>-XXXXXX`, a name no item can have) and
 *   are renamed over the reservation only after every check passed; a failed item removes both.
 */
import { randomBytes } from "node:crypto";
import { constants, promises as fs } from "node:fs";
import path from "node:path";
import { BackupActionsError } from "../../core/errors";

/**
 * A name restore accepts: letters, digits, `_` first (never `.`, so never `.`, `..` or a staging
 * name), then letters, digits and `._+-`; no `/`, no NUL, at most 200 characters (the entry adds
 * `.img`). Partition (`p1`), LVM (`vg0-root`) and disk names all fit.
 */
export const SAFE_ITEM_NAME = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,199}$/;

/** A restore refused because of what the archive or the target holds; nothing was written. */
export class RestoreRefusedError extends BackupActionsError {
  override readonly name: string = "RestoreRefusedError";
}

export type RestoreKind = "tar" | "img";

/** The directory entry an item is restored to: `<name>` (tar) or `<name>.img` (img). */
export function entryOf(name: string, kind: RestoreKind): string {
  return kind === "tar" ? name : `${name}.img`;
}

/**
 * Checks the items' names before anything is written: each a SAFE_ITEM_NAME, and no two with the
 * same entry (duplicates, or a tar item `a.img` beside an img item `a`). Throws naming every bad one.
 */
export function checkItemNames(items: readonly { name: unknown; kind: RestoreKind }[], manifestUrl: string): void {
  const problems: string[] = [];
  const seen = new Map<string, number>();
  items.forEach((it, i) => {
    const where = `items[${i}].name`;
    if (typeof it.name !== "string" || !SAFE_ITEM_NAME.test(it.name)) {
      problems.push(
        `${where} ${JSON.stringify(it.name)} is not a single safe path component (${SAFE_ITEM_NAME.source})`,
      );
      return;
    }
    const entry = entryOf(it.name, it.kind);
    const first = seen.get(entry);
    if (first !== undefined)
      problems.push(`${where} ${JSON.stringify(it.name)} would be restored to ${entry}, as items[${first}] is`);
    else seen.set(entry, i);
  });
  if (problems.length) throw new RestoreRefusedError(`${manifestUrl}: refusing to restore: ${problems.join("; ")}`);
}

export interface PreparedTarget {
  readonly dir: string;
  /** True when restore created the directory (it is removed again if nothing was restored). */
  readonly created: boolean;
  /** Mode the directory gets when the restore ends (0755 when created, else its mode before). */
  readonly finalMode: number;
}

/**
 * Makes `dir` the restore target: created 0700 when absent (its parents as `mkdir -p` would), or an
 * existing directory that is not a symbolic link and is empty unless `force`; set to 0700 until
 * `finishTarget`.
 */
export async function prepareTarget(dir: string, force: boolean): Promise<PreparedTarget> {
  const abs = path.resolve(dir);
  const st = await fs.lstat(abs).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined;
    throw e;
  });
  if (st === undefined) {
    await fs.mkdir(path.dirname(abs), { recursive: true });
    await fs.mkdir(abs, { mode: 0o700 }); // EEXIST if someone raced us: refused, not followed
    await fs.chmod(abs, 0o700); // mkdir's mode is cut by the umask
    return { dir: abs, created: true, finalMode: 0o755 };
  }
  if (st.isSymbolicLink())
    throw new RestoreRefusedError(`--to ${dir} is a symbolic link: restore never follows one; give the real directory`);
  if (!st.isDirectory()) throw new RestoreRefusedError(`--to ${dir} exists and is not a directory`);
  if (st.mode & 0o022) {
    // others could rename restore's entries and put links in their place between its steps
    throw new RestoreRefusedError(
      `--to ${dir} is writable by other users (mode ${(st.mode & 0o7777).toString(8)}): restore into a directory only its owner can write`,
    );
  }
  const entries = await fs.readdir(abs);
  if (entries.length > 0 && !force) {
    const shown = entries.slice(0, 5).join(", ") + (entries.length > 5 ? ", …" : "");
    throw new RestoreRefusedError(
      `--to ${dir} is not empty (${shown}): restore into a new or empty directory, or pass --force`,
    );
  }
  await fs.chmod(abs, 0o700);
  return { dir: abs, created: false, finalMode: st.mode & 0o7777 };
}

/** Gives the target its final mode; removes it when restore created it and nothing is in it. */
export async function finishTarget(t: PreparedTarget): Promise<void> {
  const left = await fs.readdir(t.dir).catch((e: NodeJS.ErrnoException) => {
    if (e.code === "ENOENT") return undefined; // finished already (a signal's cleanup ran first)
    throw e;
  });
  if (left === undefined) return;
  // a signal's cleanup and the failing restore may both get here: whichever removes it second finds it gone
  const gone = (e: NodeJS.ErrnoException) => {
    if (e.code !== "ENOENT") throw e;
  };
  if (t.created && left.length === 0) await fs.rmdir(t.dir).catch(gone);
  else await fs.chmod(t.dir, t.finalMode).catch(gone);
}

/** `O_CREAT|O_EXCL|O_NOFOLLOW`: a new file or nothing; an existing name, a symlink included, fails with EEXIST. */
export const EXCLUSIVE_CREATE = constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW;

/** One item's place in the target: reserved, staged, then committed or discarded. */
export class ItemSlot {
  /** The entry the item ends up as. */
  readonly final: string;
  /** Where its bytes are written until they are checked. */
  staging = "";

  private constructor(
    target: PreparedTarget,
    readonly name: string,
    readonly kind: RestoreKind,
  ) {
    this.final = path.join(target.dir, entryOf(name, kind));
  }

  /** Reserves the item's entry and creates its staging place (a 0700 directory, or a name for an image). */
  static async open(target: PreparedTarget, name: string, kind: RestoreKind): Promise<ItemSlot> {
    const slot = new ItemSlot(target, name, kind);
    const entry = entryOf(name, kind);
    try {
      if (kind === "tar") await fs.mkdir(slot.final, { mode: 0o700 });
      else await (await fs.open(slot.final, EXCLUSIVE_CREATE, 0o600)).close();
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === "EEXIST") {
        throw new RestoreRefusedError(
          `${target.dir} already holds ${entry}: restore never replaces or follows an existing entry`,
        );
      }
      throw e;
    }
    const stagingBase = path.join(target.dir, `.restore-${entry}-`);
    if (kind === "tar") {
      slot.staging = await fs.mkdtemp(stagingBase); // mode 0700, a new directory
    } else {
      // the image writer creates it with EXCLUSIVE_CREATE; a name taken by anything is refused there
      slot.staging = stagingBase + randomBytes(6).toString("hex");
    }
    return slot;
  }

  /** Moves the checked bytes into place: rename over the reservation (an empty directory, or empty file). */
  async commit(): Promise<void> {
    await fs.rename(this.staging, this.final);
  }

  /** Removes the staging place and the reservation: a failed item leaves nothing behind. Never follows links. */
  async discard(): Promise<void> {
    await fs.rm(this.staging, { recursive: true, force: true });
    await fs.rm(this.final, { recursive: true, force: true });
  }
}
