import { promises as fs } from "node:fs";
import path from "node:path";
import { run, runOk } from "./exec";
import { Cleanup } from "./cleanup";

/**
 * Read-only mount commands per filesystem. Options that prevent any write to the device even when
 * the filesystem is dirty (it usually is: the snapshot was taken from a running machine):
 * XFS norecovery (and nouuid: the same UUID may be mounted on the host), ext3/4 noload (skip the
 * journal), btrfs rescue=nologreplay. NTFS goes through ntfs-3g (FUSE), or the kernel's ntfs3.
 */
export function mountCommands(fsType: string, dev: string, dir: string): [string, string[]][] {
  const m = (type: string, opts: string): [string, string[]] => ["mount", ["-t", type, "-o", opts, dev, dir]];
  switch (fsType) {
    case "xfs":
      return [m("xfs", "ro,nouuid,norecovery")];
    case "ext4":
    case "ext3":
      return [m(fsType, "ro,noload")];
    case "ext2":
      return [m("ext2", "ro")];
    case "ntfs":
      return [["ntfs-3g", ["-o", "ro", dev, dir]], m("ntfs3", "ro")];
    case "vfat":
      return [m("vfat", "ro")];
    case "btrfs":
      return [m("btrfs", "ro,rescue=nologreplay"), m("btrfs", "ro")];
    default:
      return [m(fsType, "ro")];
  }
}

export type MountResult = { ok: true; dir: string } | { ok: false; reason: string };

/** Mounts `dev` read-only at a new directory under `root`; the unmount is registered in `cleanup`. */
export async function mountReadOnly(
  fsType: string,
  dev: string,
  root: string,
  name: string,
  cleanup: Cleanup,
): Promise<MountResult> {
  const dir = path.join(root, name);
  await fs.mkdir(dir, { recursive: true });
  const errors: string[] = [];
  for (const [cmd, args] of mountCommands(fsType, dev, dir)) {
    const r = await run(cmd, args).catch((e: Error) => ({ code: -1, stderr: e.message }));
    if (r.code === 0) {
      cleanup.add(`umount ${dir}`, () => unmount(dir));
      return { ok: true, dir };
    }
    errors.push(`${cmd} ${args.join(" ")}: ${r.stderr.trim()}`);
  }
  await fs.rmdir(dir).catch(() => undefined);
  return { ok: false, reason: errors.join("; ") };
}

/** Unmounts; retries a busy mount lazily so cleanup never hangs the job. */
export async function unmount(dir: string): Promise<void> {
  const r = await run("umount", [dir]);
  if (r.code !== 0) await runOk("umount", ["-l", dir]);
  await fs.rmdir(dir).catch(() => undefined);
}

/** Bytes in use on a mounted filesystem (for percent done and ETA). */
export async function usedBytes(dir: string): Promise<number> {
  const s = await fs.statfs(dir);
  return (s.blocks - s.bfree) * s.bsize;
}
