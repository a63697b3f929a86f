import { promises as fs } from "node:fs";
import path from "node:path";

/**
 * EBS volumes appear as NVMe devices whose serial number is the volume id without the dash
 * (vol-0123abcd -> "vol0123abcd"). Device names (/dev/nvme1n1, the /dev/xvdf hint given to
 * AttachVolume) are not stable, so we only ever find the device through that serial.
 */
export function nvmeSerialFor(volumeId: string): string {
  if (!/^vol-[0-9a-f]{8,17}$/.test(volumeId)) throw new Error(`not an EBS volume id: ${volumeId}`);
  return volumeId.replace("-", "");
}

export interface NvmeLookupRoots {
  /** Usually /dev/disk/by-id */
  byIdDir: string;
  /** Usually /sys/block */
  sysBlockDir: string;
  /** Usually /dev */
  devDir: string;
}

export const DEFAULT_ROOTS: NvmeLookupRoots = { byIdDir: "/dev/disk/by-id", sysBlockDir: "/sys/block", devDir: "/dev" };

async function readSerial(sysBlockDir: string, name: string): Promise<string | undefined> {
  try {
    return (await fs.readFile(path.join(sysBlockDir, name, "device", "serial"), "utf8")).trim();
  } catch {
    return undefined;
  }
}

/**
 * Returns the whole-disk device path (/dev/nvmeXnY) of the volume, or undefined when it is not (yet)
 * visible. The udev symlink /dev/disk/by-id/nvme-Amazon_Elastic_Block_Store_<serial> is tried first
 * and its target confirmed through sysfs; when udev links are absent (containers often lack them)
 * every /sys/block/nvme* namespace is checked by serial.
 */
export async function findNvmeDevice(
  volumeId: string,
  roots: NvmeLookupRoots = DEFAULT_ROOTS,
): Promise<string | undefined> {
  const serial = nvmeSerialFor(volumeId);
  const link = path.join(roots.byIdDir, `nvme-Amazon_Elastic_Block_Store_${serial}`);
  try {
    const target = path.resolve(roots.byIdDir, await fs.readlink(link));
    const name = path.basename(target);
    if ((await readSerial(roots.sysBlockDir, name)) === serial) return path.join(roots.devDir, name);
  } catch {
    // no udev link: fall through to the sysfs scan
  }
  let names: string[];
  try {
    names = await fs.readdir(roots.sysBlockDir);
  } catch {
    return undefined;
  }
  for (const name of names.filter((n) => /^nvme\d+n\d+$/.test(n)).sort()) {
    if ((await readSerial(roots.sysBlockDir, name)) === serial) return path.join(roots.devDir, name);
  }
  return undefined;
}

/** Polls findNvmeDevice until the device appears or the timeout passes. */
export async function waitForNvmeDevice(
  volumeId: string,
  opts: { roots?: NvmeLookupRoots; timeoutMs?: number; intervalMs?: number } = {},
): Promise<string> {
  const deadline = Date.now() + (opts.timeoutMs ?? 300_000);
  for (;;) {
    const dev = await findNvmeDevice(volumeId, opts.roots);
    if (dev) return dev;
    if (Date.now() > deadline)
      throw new Error(`volume ${volumeId} did not appear as an NVMe device (serial ${nvmeSerialFor(volumeId)})`);
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 1000));
  }
}
