import { constants as fsConstants, promises as fs, realpathSync } from "node:fs";
import path from "node:path";
import { BackupActionsError } from "../../core/errors";

/** Why the device given to export-volume cannot be exported (checked before the target is touched). */
export class SourceDeviceError extends BackupActionsError {
  override readonly name: string = "SourceDeviceError";
}

/** "major:minor" of a device number as the kernel encodes it (new_encode_dev). */
export function majorMinor(rdev: bigint): string {
  const major = ((rdev >> 8n) & 0xfffn) | ((rdev >> 32n) & ~0xfffn);
  const minor = (rdev & 0xffn) | ((rdev >> 12n) & ~0xffn);
  return `${major}:${minor}`;
}

/** The device, its partitions and everything stacked on them (device-mapper holders), as sysfs directories. */
async function family(sysDir: string, seen = new Set<string>()): Promise<Set<string>> {
  const real = await fs.realpath(sysDir);
  if (seen.has(real)) return seen;
  seen.add(real);
  const entries = await fs.readdir(real).catch(() => [] as string[]);
  for (const e of entries) {
    const sub = path.join(real, e);
    // a partition is a sub-directory with a "partition" file
    if (
      await fs.stat(path.join(sub, "partition")).then(
        () => true,
        () => false,
      )
    )
      await family(sub, seen);
  }
  for (const h of await fs.readdir(path.join(real, "holders")).catch(() => [] as string[])) {
    await family(path.join(real, "holders", h), seen);
  }
  return seen;
}

export interface Mount {
  majorMinor: string;
  mountPoint: string;
  options: string[];
  fsType: string;
  source: string;
}

/** Parses /proc/self/mountinfo (proc(5)): octal escapes in paths are decoded. */
export function parseMountInfo(text: string): Mount[] {
  const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
  const out: Mount[] = [];
  for (const line of text.split("\n")) {
    if (!line) continue;
    const f = line.split(" ");
    const sep = f.indexOf("-", 6);
    if (sep < 0) continue;
    out.push({
      majorMinor: f[2]!,
      mountPoint: unescape(f[4]!),
      options: f[5]!.split(","),
      fsType: f[sep + 1]!,
      source: unescape(f[sep + 2]!),
    });
  }
  return out;
}

function realOr(p: string): string {
  try {
    return realpathSync(p);
  } catch {
    return p;
  }
}

/**
 * Checks the device an export reads: it exists, is a block device, and neither it, its partitions
 * nor a device stacked on them (an active LV) is mounted read-write: a live filesystem changes
 * while it is read, and its archive would not be a consistent copy (a file could read as empty).
 * A read-only mount is fine (the worker mounts read-only too). A device that the kernel reports
 * busy (EBUSY on an exclusive open) with no mount here to explain it is refused too: mountinfo
 * shows only this mount namespace, and a worker in a container does not see the host's mounts.
 */
export async function checkSourceDevice(device: string, mountInfo?: string): Promise<void> {
  let st;
  try {
    st = await fs.stat(device, { bigint: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new SourceDeviceError(`--device ${device}: ${code === "ENOENT" ? "no such device" : (e as Error).message}`);
  }
  if (!st.isBlockDevice()) throw new SourceDeviceError(`--device ${device} is not a block device`);
  const dirs = await family(`/sys/dev/block/${majorMinor(st.rdev)}`);
  const numbers = new Set<string>();
  const nodes = new Set<string>([realOr(device)]);
  for (const d of dirs) {
    const dev = await fs.readFile(path.join(d, "dev"), "utf8").catch(() => "");
    if (dev.trim()) numbers.add(dev.trim());
    nodes.add(`/dev/${path.basename(d)}`);
  }
  // the kernel's answer for every mount namespace: a mounted filesystem (or swap, an active LV) holds
  // the device and its disk exclusively, so an exclusive open fails with EBUSY
  const busy = await fs.open(device, fsConstants.O_RDONLY | fsConstants.O_EXCL).then(
    (fh) => fh.close().then(() => false),
    (e: NodeJS.ErrnoException) => {
      if (e.code === "EBUSY") return true;
      throw new SourceDeviceError(`--device ${device}: cannot open it: ${e.message}`);
    },
  );
  const mounts = parseMountInfo(mountInfo ?? (await fs.readFile("/proc/self/mountinfo", "utf8")));
  let mountedHere = false;
  for (const m of mounts) {
    const ours = numbers.has(m.majorMinor) || (m.source.startsWith("/dev/") && nodes.has(realOr(m.source)));
    if (ours) mountedHere = true;
    if (ours && m.options.includes("rw")) {
      throw new SourceDeviceError(
        `--device ${device}: ${m.source} is mounted read-write at ${m.mountPoint} (${m.fsType}); ` +
          "an archive of a live filesystem is not a consistent copy: unmount it (or export a volume made from a snapshot)",
      );
    }
  }
  if (busy && !mountedHere) {
    throw new SourceDeviceError(
      `--device ${device} is in use (an exclusive open fails: EBUSY) but mounted nowhere in this mount namespace: ` +
        "a filesystem mounted elsewhere (the host, another container), swap or an active LV holds it; " +
        "an archive of a live device is not a consistent copy",
    );
  }
}
