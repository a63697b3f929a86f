import { existsSync, promises as fs, statSync } from "node:fs";
import { run, runOk } from "./exec";
import { Cleanup } from "./cleanup";
import { DeviceRange, LvmReport, PartitionEntry } from "../../core/manifest";
import { log } from "./log";

/** One thing on the disk that may become a manifest item. */
export interface Volume {
  /** Item name: "p1", "vg0-root", or "disk" for an unpartitioned disk. */
  name: string;
  /** Block device to probe, mount or read (partition node, loop device or dm node). */
  devicePath: string;
  /** Where the bytes lie on the exported device. */
  offsetBytes: number;
  sizeBytes: number;
  partition?: number;
  lv?: string;
  partType?: string;
  fsType: string | null;
  uuid?: string;
  label?: string;
  /** fs: try to mount; raw: image it; skip: record only. */
  action: "fs" | "raw" | "skip";
  reason?: string;
}

export type { LvmReport };

export interface DiskLayout {
  device: string;
  sizeBytes: number;
  table: { type: "gpt" | "dos" | null; id?: string; partitions: PartitionEntry[] };
  volumes: Volume[];
  lvm?: LvmReport;
  /** Every byte of the device, once: in a volume's range (LVs lie inside their PV's) or zero and unallocated. */
  ranges: DeviceRange[];
}

export const GPT_BIOS_BOOT = "21686148-6449-6E6F-744E-656564454649";
const GPT_LINUX_SWAP = "0657FD6D-A4AB-43C4-84E5-0933C84B4F4F";
const GPT_LINUX_LVM = "E6D6D379-F507-44C2-A23C-238F2A3DF928";
const DOS_EXTENDED = new Set(["5", "f", "85"]);
const DOS_SWAP = "82";
const DOS_LVM = "8e";

export async function deviceSize(dev: string): Promise<number> {
  return Number((await runOk("blockdev", ["--getsize64", dev])).trim());
}

export interface Probe {
  type?: string;
  uuid?: string;
  label?: string;
  version?: string;
}

/** Low-level probe of the device's own superblocks (blkid -p ignores the possibly-absent udev cache). */
export async function probe(dev: string): Promise<Probe> {
  const r = await run("blkid", ["-p", "-o", "export", dev]);
  if (r.code === 2) return {}; // nothing recognised
  if (r.code !== 0) throw new Error(`blkid -p ${dev} failed (exit ${r.code}): ${r.stderr.trim()}`);
  const kv = new Map<string, string>();
  for (const l of r.stdout.split("\n")) {
    const i = l.indexOf("=");
    if (i > 0) kv.set(l.slice(0, i), l.slice(i + 1).replace(/\\(.)/g, "$1"));
  }
  return { type: kv.get("TYPE"), uuid: kv.get("UUID"), label: kv.get("LABEL"), version: kv.get("VERSION") };
}

function isBlockDevice(p: string): boolean {
  try {
    return statSync(p).isBlockDevice();
  } catch {
    return false;
  }
}

/**
 * A read-only loop device over a byte range of `dev`. Used when the kernel exposes no partition
 * node (containers without udev, loop devices without partscan) and for LVM LVs without
 * device-mapper. The loop device is detached by `cleanup`.
 */
export async function attachRange(dev: string, offset: number, size: number, cleanup: Cleanup): Promise<string> {
  const loop = (
    await runOk("losetup", [
      "--find",
      "--show",
      "--read-only",
      "--offset",
      String(offset),
      "--sizelimit",
      String(size),
      dev,
    ])
  ).trim();
  cleanup.add(`losetup -d ${loop}`, () => runOk("losetup", ["-d", loop]));
  return loop;
}

interface SfdiskJson {
  partitiontable: {
    label: "gpt" | "dos";
    id?: string;
    sectorsize?: number;
    partitions?: { node: string; start: number; size: number; type: string; uuid?: string; name?: string }[];
  };
}

/** Reads the partition table with sfdisk; null when the disk has none. */
export async function readPartitionTable(dev: string): Promise<DiskLayout["table"]> {
  const r = await run("sfdisk", ["--json", dev]);
  if (r.code !== 0) {
    if (/does not contain a recognized partition table/i.test(r.stderr)) return { type: null, partitions: [] };
    throw new Error(`sfdisk --json ${dev} failed (exit ${r.code}): ${r.stderr.trim()}`);
  }
  const pt = (JSON.parse(r.stdout) as SfdiskJson).partitiontable;
  const sector = pt.sectorsize ?? 512;
  const partitions = (pt.partitions ?? []).map((p): PartitionEntry => {
    const m = /(\d+)$/.exec(p.node);
    if (!m) throw new Error(`cannot tell the partition number of ${p.node}`);
    return {
      name: `p${m[1]}`,
      number: Number(m[1]),
      node: p.node,
      startBytes: p.start * sector,
      sizeBytes: p.size * sector,
      type: pt.label === "gpt" ? p.type.toUpperCase() : p.type.toLowerCase(),
      partUuid: p.uuid,
      partLabel: p.name,
    };
  });
  return { type: pt.label, id: pt.id, partitions };
}

export function deviceMapperAvailable(): Promise<boolean> {
  if (existsSync("/sys/class/misc/device-mapper")) return Promise.resolve(true);
  return run("dmsetup", ["version"]).then(
    (r) => r.code === 0,
    () => false,
  );
}

/** LVM configuration that looks only at `pv` and never at udev or a devices file. */
export function lvmConfig(pv: string, readOnlyVg?: string): string {
  const re = pv.replace(/[|\\^$.*+?()[\]{}]/g, "\\$&");
  return (
    `devices { obtain_device_list_from_udev=0 use_devicesfile=0 filter=["a|^${re}$|","r|.*|"] global_filter=["a|^${re}$|","r|.*|"] } ` +
    `activation { udev_sync=0 udev_rules=0${readOnlyVg ? ` read_only_volume_list=["${readOnlyVg}"]` : ""} }`
  );
}

const LVM_ENV = { ...process.env, LVM_SUPPRESS_FD_WARNINGS: "1" };

interface LvSeg {
  vg_name: string;
  lv_name: string;
  lv_size: string;
  segtype: string;
  seg_start_pe: string;
  seg_size_pe: string;
  devices: string;
}

/**
 * Lists the LVs on one PV and returns them as volumes. Metadata is read with --readonly (no
 * locks, no activation, no writes). A linear LV in one segment is read through a loop device at
 * pe_start + first extent x extent size: this needs no device-mapper, so it is the same code on
 * this machine and in AWS, and cannot clash with a VG of the same name on the host. Other LVs
 * (several segments, striped, thin, raid) need device-mapper: activated read-only when present,
 * otherwise recorded as skipped with the reason.
 */
export async function lvmVolumes(
  pv: string,
  pvOffset: number,
  cleanup: Cleanup,
  dmAvailable: boolean,
): Promise<{ volumes: Volume[]; report: LvmReport["vgs"][number] | undefined }> {
  const cfg = lvmConfig(pv);
  const pvs = JSON.parse(
    await runOk(
      "pvs",
      [
        "--config",
        cfg,
        "--readonly",
        "--reportformat",
        "json",
        "--units",
        "b",
        "--nosuffix",
        "-o",
        "pv_name,vg_name,pe_start,vg_extent_size,vg_uuid",
      ],
      { env: LVM_ENV },
    ),
  ).report[0].pv as { pv_name: string; vg_name: string; pe_start: string; vg_extent_size: string; vg_uuid: string }[];
  const me = pvs.find((p) => p.pv_name === pv);
  if (!me || !me.vg_name) return { volumes: [], report: undefined };
  const peStart = Number(me.pe_start);
  const extent = Number(me.vg_extent_size);
  const segs = JSON.parse(
    await runOk(
      "lvs",
      [
        "--config",
        cfg,
        "--readonly",
        "--segments",
        "--reportformat",
        "json",
        "--units",
        "b",
        "--nosuffix",
        "-o",
        "vg_name,lv_name,lv_size,segtype,seg_start_pe,seg_size_pe,devices",
        me.vg_name,
      ],
      { env: LVM_ENV },
    ),
  ).report[0].seg as LvSeg[];

  const byLv = new Map<string, LvSeg[]>();
  for (const s of segs) byLv.set(s.lv_name, [...(byLv.get(s.lv_name) ?? []), s]);
  const volumes: Volume[] = [];
  const report = { name: me.vg_name, uuid: me.vg_uuid, extentSize: extent, lvs: [] as LvmReport["vgs"][number]["lvs"] };
  let activated = false;
  for (const [lvName, lvSegs] of byLv) {
    const size = Number(lvSegs[0].lv_size);
    const name = `${me.vg_name}-${lvName}`;
    report.lvs.push({ name: lvName, sizeBytes: size, segType: lvSegs.map((s) => s.segtype).join(",") });
    const base: Omit<Volume, "devicePath" | "action"> = {
      name,
      lv: `${me.vg_name}/${lvName}`,
      offsetBytes: 0,
      sizeBytes: size,
      fsType: null,
    };
    const seg = lvSegs[0];
    const m = /^(.+)\((\d+)\)$/.exec(seg.devices.trim());
    if (lvSegs.length === 1 && seg.segtype === "linear" && m && m[1] === pv) {
      const start = peStart + Number(m[2]) * extent;
      const dev = await attachRange(pv, start, size, cleanup);
      volumes.push({ ...base, devicePath: dev, offsetBytes: pvOffset + start, action: "fs" });
    } else if (dmAvailable) {
      if (!activated) {
        await runOk("vgchange", ["--config", lvmConfig(pv, me.vg_name), "-ay", me.vg_name], { env: LVM_ENV });
        cleanup.add(`vgchange -an ${me.vg_name}`, () =>
          runOk("vgchange", ["--config", cfg, "-an", me.vg_name], { env: LVM_ENV }),
        );
        activated = true;
      }
      const dm = `/dev/mapper/${me.vg_name.replace(/-/g, "--")}-${lvName.replace(/-/g, "--")}`;
      // offset -1: the LV's extents are not one contiguous range of the disk
      volumes.push({ ...base, devicePath: dm, offsetBytes: -1, action: "fs" });
    } else {
      volumes.push({
        ...base,
        devicePath: pv,
        action: "skip",
        reason: `LV is ${lvSegs.map((s) => s.segtype).join("+")} in ${lvSegs.length} segment(s): reading it needs device-mapper, which this kernel lacks`,
      });
    }
  }
  return { volumes, report };
}

/** Classifies a probed volume: which ones are exported as files, as images, or only recorded. */
export function classify(v: { partType?: string }, pr: Probe): Pick<Volume, "action" | "reason" | "fsType"> {
  const t = pr.type ?? null;
  const pt = v.partType ?? "";
  if (pt === GPT_BIOS_BOOT)
    return { action: "skip", fsType: "bios-boot", reason: "BIOS boot partition (boot loader code, no filesystem)" };
  if (t === "swap" || pt === GPT_LINUX_SWAP || (pt === DOS_SWAP && !t))
    return { action: "skip", fsType: "swap", reason: "swap space" };
  if (t === "LVM2_member")
    return { action: "skip", fsType: "lvm2-pv", reason: "LVM physical volume: exported through its logical volumes" };
  if (!t && (pt === GPT_LINUX_LVM || pt === DOS_LVM))
    return { action: "raw", fsType: null, reason: "LVM partition type but no PV label" };
  if (!t) return { action: "raw", fsType: null, reason: "no filesystem recognised" };
  return { action: "fs", fsType: t };
}

/** True when `size` bytes of `dev` from `offset` are all zero (read in 1 MiB chunks). */
export async function allZero(dev: string, offset: number, size: number): Promise<boolean> {
  const chunk = 1 << 20;
  const zero = Buffer.alloc(chunk);
  const buf = Buffer.alloc(chunk);
  const fh = await fs.open(dev, "r");
  try {
    for (let done = 0; done < size;) {
      const want = Math.min(chunk, size - done);
      const { bytesRead } = await fh.read(buf, 0, want, offset + done);
      if (bytesRead === 0) throw new Error(`${dev}: read ${offset + done} bytes, expected ${offset + size}`);
      if (!buf.subarray(0, bytesRead).equals(zero.subarray(0, bytesRead))) return false;
      done += bytesRead;
    }
    return true;
  } finally {
    await fh.close();
  }
}

/** The partitions that hold data: an MBR's extended partition is only a container for the logical ones, which sfdisk lists too. */
export function dataPartitions(table: DiskLayout["table"]): PartitionEntry[] {
  return table.partitions.filter((p) => !(table.type === "dos" && DOS_EXTENDED.has(p.type)));
}

/** The spans of [0, size) that no partition covers, each named by its neighbours. */
export interface Gap {
  offsetBytes: number;
  sizeBytes: number;
  /** "before p1", "between p1 and p2", "after p2", "the whole device". */
  where: string;
}

export function gapsBetween(
  parts: readonly { name: string; startBytes: number; sizeBytes: number }[],
  size: number,
): Gap[] {
  const sorted = [...parts].sort((a, b) => a.startBytes - b.startBytes);
  const gaps: Gap[] = [];
  let end = 0;
  let before: string | undefined;
  for (const p of sorted) {
    if (p.startBytes > end) {
      const where = before ? `between ${before} and ${p.name}` : `before ${p.name}`;
      gaps.push({ offsetBytes: end, sizeBytes: p.startBytes - end, where });
    }
    if (p.startBytes + p.sizeBytes > end) {
      end = p.startBytes + p.sizeBytes;
      before = p.name;
    }
  }
  if (end < size) {
    gaps.push({ offsetBytes: end, sizeBytes: size - end, where: before ? `after ${before}` : "the whole device" });
  }
  return gaps;
}

export const GAP_REASON =
  "bytes outside every partition that are not all zero (partition table, boot loader or data): kept as an image";

/**
 * Reads the disk's layout: partition table (GPT, MBR incl. logical partitions, or none), every
 * partition's filesystem, and the LVs of every LVM PV. Loop devices created on the way are
 * registered in `cleanup`.
 *
 * Every byte is accounted for. The whole device is probed first (blkid -p looks for superblocks,
 * not only a partition table): a filesystem made on the whole disk is found even when its boot
 * sector reads as an empty MBR (NTFS, FAT). Bytes outside every partition are read: all zero, they
 * are an `unallocated` range; otherwise a `gap-<offset>` volume exported as an image (the partition
 * table itself, a boot loader in the post-MBR gap, data a table no longer describes).
 */
export async function inspectDisk(device: string, cleanup: Cleanup): Promise<DiskLayout> {
  const sizeBytes = await deviceSize(device);
  let table = await readPartitionTable(device);
  const whole = await probe(device);
  const volumes: Volume[] = [];
  const ranges: DeviceRange[] = [];
  let lvm: LvmReport | undefined;
  let dm: boolean | undefined;

  if (whole.type) {
    if (table.partitions.length > 0) {
      throw new Error(
        `${device}: blkid finds ${whole.type} on the whole device and sfdisk a ${table.type} partition table with ` +
          `${table.partitions.length} partition(s): refusing to guess which of them holds the data`,
      );
    }
    if (table.type !== null) {
      log.info(`${device}: the empty ${table.type} partition table is the boot sector of a whole-device ${whole.type}`);
    }
    table = { type: null, partitions: [] };
  }

  const candidates: Omit<Volume, "action" | "fsType">[] = [];
  if (table.type === null) {
    candidates.push({ name: "disk", devicePath: device, offsetBytes: 0, sizeBytes });
  } else {
    const parts = dataPartitions(table);
    for (const p of parts) {
      const node = isBlockDevice(p.node) ? p.node : await attachRange(device, p.startBytes, p.sizeBytes, cleanup);
      candidates.push({
        name: p.name,
        devicePath: node,
        offsetBytes: p.startBytes,
        sizeBytes: p.sizeBytes,
        partition: p.number,
        partType: p.type,
      });
    }
    for (const g of gapsBetween(parts, sizeBytes)) {
      if (await allZero(device, g.offsetBytes, g.sizeBytes)) {
        const reason = `${g.where}: outside every partition, all zero`;
        ranges.push({ offsetBytes: g.offsetBytes, sizeBytes: g.sizeBytes, use: "unallocated", reason });
        continue;
      }
      const name = `gap-${g.offsetBytes}`;
      const node = await attachRange(device, g.offsetBytes, g.sizeBytes, cleanup);
      const reason = `${g.where}: ${GAP_REASON}`;
      volumes.push({
        name,
        devicePath: node,
        offsetBytes: g.offsetBytes,
        sizeBytes: g.sizeBytes,
        fsType: null,
        action: "raw",
        reason,
      });
    }
  }

  for (const c of candidates) {
    const pr = c.devicePath === device ? whole : await probe(c.devicePath);
    const cls = classify(c, pr);
    volumes.push({ ...c, ...cls, uuid: pr.uuid, label: pr.label });
    if (pr.type === "LVM2_member") {
      dm ??= await deviceMapperAvailable();
      const r = await lvmVolumes(c.devicePath, c.offsetBytes, cleanup, dm);
      if (r.report) (lvm ??= { vgs: [] }).vgs.push(r.report);
      for (const lv of r.volumes) {
        if (lv.action === "skip") {
          volumes.push(lv);
          continue;
        }
        const lp = await probe(lv.devicePath);
        volumes.push({ ...lv, ...classify(lv, lp), uuid: lp.uuid, label: lp.label });
      }
    }
  }
  // LVs lie inside their PV's range
  for (const v of volumes) {
    if (v.lv === undefined)
      ranges.push({ offsetBytes: v.offsetBytes, sizeBytes: v.sizeBytes, use: "item", item: v.name });
  }
  ranges.sort((a, b) => a.offsetBytes - b.offsetBytes);
  volumes.sort((a, b) => (a.name.startsWith("gap-") ? 1 : 0) - (b.name.startsWith("gap-") ? 1 : 0));
  log.info(
    `${device}: ${sizeBytes} bytes, partition table ${table.type ?? "none"}; ` +
      volumes.map((v) => `${v.name}=${v.fsType ?? "raw"}/${v.action}`).join(" "),
  );
  return { device, sizeBytes, table, volumes, lvm, ranges };
}
