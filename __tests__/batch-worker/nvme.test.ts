import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { findNvmeDevice, nvmeSerialFor, waitForNvmeDevice } from "../../batch-worker/src/nvme";

/** A fake /dev/disk/by-id + /sys/block tree: two EBS volumes and the root disk. */
function fakeTree(opts: { links: boolean }) {
  const root = mkdtempSync(path.join(os.tmpdir(), "nvme-test-"));
  const roots = {
    byIdDir: path.join(root, "dev/disk/by-id"),
    sysBlockDir: path.join(root, "sys/block"),
    devDir: path.join(root, "dev"),
  };
  mkdirSync(roots.byIdDir, { recursive: true });
  const disks: Record<string, string> = {
    nvme0n1: "vol0aaaaaaaaaaaaaaaa",
    nvme1n1: "vol0123456789abcdef0",
    nvme2n1: "vol0fedcba987654321",
  };
  for (const [name, serial] of Object.entries(disks)) {
    mkdirSync(path.join(roots.sysBlockDir, name, "device"), { recursive: true });
    // the kernel pads the serial with spaces
    writeFileSync(path.join(roots.sysBlockDir, name, "device", "serial"), `${serial}      \n`);
    writeFileSync(path.join(roots.devDir, name), "");
    if (opts.links) symlinkSync(`../../${name}`, path.join(roots.byIdDir, `nvme-Amazon_Elastic_Block_Store_${serial}`));
  }
  return { root, roots };
}

describe("NVMe device lookup by EBS serial", () => {
  let cleanup: string[] = [];
  afterEach(() => {
    cleanup.forEach((d) => rmSync(d, { recursive: true, force: true }));
    cleanup = [];
  });

  it("derives the serial from the volume id", () => {
    expect(nvmeSerialFor("vol-0123456789abcdef0")).toBe("vol0123456789abcdef0");
    expect(() => nvmeSerialFor("/dev/xvdf")).toThrow(/not an EBS volume id/);
  });

  it("follows the udev by-id link and confirms it through sysfs", async () => {
    const { root, roots } = fakeTree({ links: true });
    cleanup.push(root);
    await expect(findNvmeDevice("vol-0123456789abcdef0", roots)).resolves.toBe(path.join(roots.devDir, "nvme1n1"));
    await expect(findNvmeDevice("vol-0fedcba987654321", roots)).resolves.toBe(path.join(roots.devDir, "nvme2n1"));
  });

  it("does not trust a by-id link whose target carries another serial", async () => {
    const { root, roots } = fakeTree({ links: false });
    cleanup.push(root);
    // a stale link pointing at the wrong namespace: the sysfs scan must still find the right one
    symlinkSync("../../nvme2n1", path.join(roots.byIdDir, "nvme-Amazon_Elastic_Block_Store_vol0123456789abcdef0"));
    await expect(findNvmeDevice("vol-0123456789abcdef0", roots)).resolves.toBe(path.join(roots.devDir, "nvme1n1"));
  });

  it("finds the device through sysfs when udev links are absent", async () => {
    const { root, roots } = fakeTree({ links: false });
    cleanup.push(root);
    await expect(findNvmeDevice("vol-0123456789abcdef0", roots)).resolves.toBe(path.join(roots.devDir, "nvme1n1"));
  });

  it("returns undefined for a volume that is not attached, and waiting times out with the serial", async () => {
    const { root, roots } = fakeTree({ links: true });
    cleanup.push(root);
    await expect(findNvmeDevice("vol-0999999999999999a", roots)).resolves.toBeUndefined();
    await expect(waitForNvmeDevice("vol-0999999999999999a", { roots, timeoutMs: 50, intervalMs: 10 })).rejects.toThrow(
      /vol0999999999999999a/,
    );
  });

  it("waits until the device appears", async () => {
    const { root, roots } = fakeTree({ links: true });
    cleanup.push(root);
    const later = "vol-0bbbbbbbbbbbbbbbb";
    setTimeout(() => {
      mkdirSync(path.join(roots.sysBlockDir, "nvme3n1", "device"), { recursive: true });
      writeFileSync(path.join(roots.sysBlockDir, "nvme3n1", "device", "serial"), "vol0bbbbbbbbbbbbbbbb\n");
    }, 50);
    await expect(waitForNvmeDevice(later, { roots, timeoutMs: 2000, intervalMs: 10 })).resolves.toBe(
      path.join(roots.devDir, "nvme3n1"),
    );
  });
});
