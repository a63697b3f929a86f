import { existsSync, statSync } from "node:fs";
import { run, runOk } from "./exec";
import { Cleanup } from "./cleanup";
import { PartitionEntry } from "./manifest";
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

export interface LvmReport {
  vgs: { name: string; uuid?: string; extentSize: number; lvs: { name: string; sizeBytes: number; segType: string }[] }[];
}

export interface DiskLayout {
  device: string;
  sizeBytes: number;
  table: { type: "gpt" | "dos" | null; id?: string; partitions: PartitionEntry[] };
  volumes: Volume[];
  lvm?: LvmReport;
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
    await runOk("losetup", ["--find", "--show", "--read-only", "--offset", String(offset), "--sizelimit", String(size), dev])
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
      ["--config", cfg, "--readonly", "--reportformat", "json", "--units", "b", "--nosuffix", "-o", "pv_name,vg_name,pe_start,vg_extent_size,vg_uuid"],
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
        "--config", cfg, "--readonly", "--segments", "--reportformat", "json", "--units", "b", "--nosuffix",
        "-o", "vg_name,lv_name,lv_size,segtype,seg_start_pe,seg_size_pe,devices", me.vg_name,
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
    const base: Omit<Volume, "devicePath" | "action"> = { name, lv: `${me.vg_name}/${lvName}`, offsetBytes: 0, sizeBytes: size, fsType: null };
    const seg = lvSegs[0];
    const m = /^(.+)\((\d+)\)$/.exec(seg.devices.trim());
    if (lvSegs.length === 1 && seg.segtype === "linear" && m && m[1] === pv) {
      const start = peStart + Number(m[2]) * extent;
      const dev = await attachRange(pv, start, size, cleanup);
      volumes.push({ ...base, devicePath: dev, offsetBytes: pvOffset + start, action: "fs" });
    } else if (dmAvailable) {
      if (!activated) {
        await runOk("vgchange", ["--config", lvmConfig(pv, me.vg_name), "-ay", me.vg_name], { env: LVM_ENV });
        cleanup.add(`vgchange -an ${me.vg_name}`, () => runOk("vgchange", ["--config", cfg, "-an", me.vg_name], { env: LVM_ENV }));
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
  if (pt === GPT_BIOS_BOOT) return { action: "skip", fsType: "bios-boot", reason: "BIOS boot partition (boot loader code, no filesystem)" };
  if (t === "swap" || pt === GPT_LINUX_SWAP || (pt === DOS_SWAP && !t)) return { action: "skip", fsType: "swap", reason: "swap space" };
  if (t === "LVM2_member") return { action: "skip", fsType: "lvm2-pv", reason: "LVM physical volume: exported through its logical volumes" };
  if (!t && (pt === GPT_LINUX_LVM || pt === DOS_LVM)) return { action: "raw", fsType: null, reason: "LVM partition type but no PV label" };
  if (!t) return { action: "raw", fsType: null, reason: "no filesystem recognised" };
  return { action: "fs", fsType: t };
}

/**
 * Reads the disk's layout: partition table (GPT, MBR incl. logical partitions, or none), every
 * partition's filesystem, and the LVs of every LVM PV. Loop devices created on the way are
 * registered in `cleanup`.
 */
export async function inspectDisk(device: string, cleanup: Cleanup): Promise<DiskLayout> {
  const sizeBytes = await deviceSize(device);
  const table = await readPartitionTable(device);
  const volumes: Volume[] = [];
  let lvm: LvmReport | undefined;
  let dm: boolean | undefined;

  const candidates: Omit<Volume, "action" | "fsType">[] = [];
  if (table.type === null) {
    candidates.push({ name: "disk", devicePath: device, offsetBytes: 0, sizeBytes });
  } else {
    for (const p of table.partitions) {
      // the extended partition is only a container for the logical ones, which sfdisk lists too
      if (table.type === "dos" && DOS_EXTENDED.has(p.type)) continue;
      const node = isBlockDevice(p.node) ? p.node : await attachRange(device, p.startBytes, p.sizeBytes, cleanup);
      candidates.push({ name: p.name, devicePath: node, offsetBytes: p.startBytes, sizeBytes: p.sizeBytes, partition: p.number, partType: p.type });
    }
  }

  for (const c of candidates) {
    const pr = await probe(c.devicePath);
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
  log.info(
    `${device}: ${sizeBytes} bytes, partition table ${table.type ?? "none"}; ` +
      volumes.map((v) => `${v.name}=${v.fsType ?? "raw"}/${v.action}`).join(" "),
  );
  return { device, sizeBytes, table, volumes, lvm };
}
