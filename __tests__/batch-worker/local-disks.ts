/**
 * A minimal local implementation of the disk fixture contract (testing/fixtures/disks.ts, built by
 * the test bench in parallel). It covers four of the seven layouts so the worker's tests run on this
 * branch; at merge the tests import the shared module instead (one line) and cover all seven.
 */
import { execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";

export type FixtureName = "ext4" | "gpt-amazon-linux" | "mbr-ext4-swap" | "lvm" | "ntfs" | "random" | "zero";
/** The layouts this local stand-in builds. */
export const FIXTURE_NAMES: readonly FixtureName[] = ["ext4", "mbr-ext4-swap", "random", "zero"];

export interface Capabilities { ownership: boolean; modes: boolean; symlinks: boolean; hardlinks: boolean; xattrs: boolean; acls: boolean }
const POSIX: Capabilities = { ownership: true, modes: true, symlinks: true, hardlinks: true, xattrs: true, acls: true };

export interface TreeEntry {
  path: string; type: "file" | "dir" | "symlink"; mode: number; uid: number; gid: number;
  size?: number; sha256?: string; target?: string; xattrs?: Record<string, string>; nlink?: number; acl?: string;
}
export interface FixtureVolume {
  name: string;
  fsType: "ext4" | "xfs" | "vfat" | "ntfs" | "swap" | "bios-boot" | "lvm2-pv" | null;
  label?: string; uuid?: string; offsetBytes: number; sizeBytes: number;
  tree: TreeEntry[] | null; rawSha256?: string; capabilities: Capabilities;
}
export interface DiskFixture {
  name: FixtureName; imagePath: string; device: string; sizeBytes: number;
  partitionTable: "gpt" | "dos" | null; volumes: FixtureVolume[]; cleanup(): Promise<void>;
}

const MiB = 1024 * 1024;
const sh = (cmd: string, args: string[], input?: string) => execFileSync(cmd, args, { input, stdio: ["pipe", "pipe", "pipe"] }).toString();

export function diskPrerequisites(): { ok: boolean; missing: string[] } {
  const missing: string[] = [];
  if (process.getuid?.() !== 0) missing.push("root privileges (loop devices, mount)");
  if (!existsSync("/dev/loop-control")) missing.push("loop devices (/dev/loop-control)");
  for (const [tool, pkg] of [["mkfs.ext4", "e2fsprogs"], ["mkswap", "util-linux"], ["sfdisk", "fdisk"], ["losetup", "mount"], ["setfattr", "attr"], ["getfattr", "attr"], ["setfacl", "acl"], ["getfacl", "acl"], ["zstd", "zstd"]]) {
    try {
      sh("sh", ["-c", `command -v ${tool} || test -x /usr/sbin/${tool} || test -x /sbin/${tool}`]);
    } catch {
      missing.push(`${tool} (Debian package ${pkg})`);
    }
  }
  return { ok: missing.length === 0, missing };
}

/** Deterministic-enough content: random, text-like, sparse, special modes, links, xattrs, an ACL. */
async function populate(root: string): Promise<void> {
  const w = (p: string, data: Buffer | string) => fs.writeFile(path.join(root, p), data);
  await fs.mkdir(path.join(root, "etc/app"), { recursive: true });
  await fs.mkdir(path.join(root, "home/user/.cache"), { recursive: true });
  await w("etc/app/config.txt", "key = value\n".repeat(5000));
  await w("home/user/random.bin", randomBytes(3 * MiB));
  await w("home/user/empty", "");
  await w("home/user/weird name\nwith newline ü", "x");
  for (let i = 0; i < 200; i++) await w(`home/user/.cache/f${i}`, `small file ${i}\n`);
  const sparse = await fs.open(path.join(root, "home/user/sparse.img"), "w");
  await sparse.write("start", 0);
  await sparse.write("end", 8 * MiB);
  await sparse.close();
  await fs.link(path.join(root, "etc/app/config.txt"), path.join(root, "etc/app/config.hardlink"));
  await fs.symlink("../etc/app/config.txt", path.join(root, "home/cfg"));
  await fs.symlink("/nonexistent/target", path.join(root, "home/dangling"));
  await fs.lchown(path.join(root, "home/user"), 1000, 1000);
  await fs.lchown(path.join(root, "home/user/random.bin"), 1000, 100);
  await fs.lchown(path.join(root, "home/cfg"), 1234, 5678);
  await w("etc/app/setuid", "#!/bin/sh\n");
  await fs.chmod(path.join(root, "etc/app/setuid"), 0o4755);
  await fs.chmod(path.join(root, "home/user/.cache"), 0o1777);
  await fs.chmod(path.join(root, "home/user/empty"), 0o600);
  sh("setfattr", ["-n", "user.origin", "-v", "fixture", path.join(root, "etc/app/config.txt")]);
  sh("setfattr", ["-n", "user.bin", "-v", "0sAAEC/w==", path.join(root, "home/user/random.bin")]);
  sh("setfacl", ["-m", "u:1001:r--", path.join(root, "home/user/random.bin")]);
}

export async function hashTree(root: string, caps: Capabilities = POSIX): Promise<TreeEntry[]> {
  const out: TreeEntry[] = [];
  const walk = async (rel: string): Promise<void> => {
    for (const name of (await fs.readdir(path.join(root, rel))).sort()) {
      const p = rel ? `${rel}/${name}` : name;
      const abs = path.join(root, p);
      const st = await fs.lstat(abs);
      const e: TreeEntry = { path: p, type: "file", mode: caps.modes ? st.mode & 0o7777 : 0, uid: caps.ownership ? st.uid : 0, gid: caps.ownership ? st.gid : 0 };
      if (st.isSymbolicLink()) {
        out.push({ ...e, type: "symlink", target: await fs.readlink(abs) });
        continue;
      }
      if (caps.xattrs) {
        const x = sh("getfattr", ["-h", "-d", "-e", "base64", "-m", "^user\\.", "--absolute-names", abs]);
        const kv = [...x.matchAll(/^(user\.[^=]+)=0s(.*)$/gm)].map((m) => [m[1], m[2]]);
        if (kv.length) e.xattrs = Object.fromEntries(kv);
      }
      if (caps.acls) {
        const acl = sh("getfacl", ["-c", "-p", "-E", abs]).trim().split("\n").filter(Boolean).join(",");
        if (acl.split(",").length > 3) e.acl = acl;
      }
      if (st.isDirectory()) {
        out.push({ ...e, type: "dir" });
        await walk(p);
      } else {
        const sha = createHash("sha256").update(await fs.readFile(abs)).digest("hex");
        out.push({ ...e, size: st.size, sha256: sha, ...(caps.hardlinks && st.nlink > 1 ? { nlink: st.nlink } : {}) });
      }
    }
  };
  await walk("");
  return out;
}

async function fileRangeSha(file: string, offset: number, size: number): Promise<string> {
  const fh = await fs.open(file, "r");
  const h = createHash("sha256");
  const buf = Buffer.alloc(4 * MiB);
  for (let done = 0; done < size; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, size - done), offset + done);
    h.update(buf.subarray(0, bytesRead));
    done += bytesRead;
  }
  await fh.close();
  return h.digest("hex");
}

/** Makes an ext4 filesystem on a byte range of the image, fills it, returns its volume description. */
async function ext4At(image: string, dir: string, name: string, offset: number, size: number): Promise<FixtureVolume> {
  const loop = sh("losetup", ["--find", "--show", "--offset", String(offset), "--sizelimit", String(size), image]).trim();
  const mnt = path.join(dir, `mnt-${name}`);
  try {
    sh("mkfs.ext4", ["-q", "-F", "-L", `fx-${name}`, loop]);
    await fs.mkdir(mnt);
    sh("mount", [loop, mnt]);
    try {
      await populate(mnt);
      const tree = await hashTree(mnt);
      const uuid = sh("blkid", ["-p", "-s", "UUID", "-o", "value", loop]).trim();
      return { name, fsType: "ext4", label: `fx-${name}`, uuid, offsetBytes: offset, sizeBytes: size, tree, capabilities: POSIX };
    } finally {
      sh("umount", [mnt]);
    }
  } finally {
    sh("losetup", ["-d", loop]);
  }
}

export async function createDiskFixture(name: FixtureName, opts: { dir?: string; sizeMiB?: number } = {}): Promise<DiskFixture> {
  if (!FIXTURE_NAMES.includes(name)) throw new Error(`local stand-in fixtures cover ${FIXTURE_NAMES.join(", ")}, not ${name}`);
  const dir = await fs.mkdtemp(path.join(opts.dir ?? os.tmpdir(), `worker-fixture-${name}-`));
  const imagePath = path.join(dir, "disk.img");
  const sizeBytes = (opts.sizeMiB ?? (name === "zero" ? 16 : name === "random" ? 24 : 64)) * MiB;
  await fs.writeFile(imagePath, "");
  await fs.truncate(imagePath, sizeBytes);
  let volumes: FixtureVolume[] = [];
  let partitionTable: DiskFixture["partitionTable"] = null;
  if (name === "ext4") {
    volumes = [await ext4At(imagePath, dir, "disk", 0, sizeBytes)];
  } else if (name === "zero") {
    volumes = [{ name: "disk", fsType: null, offsetBytes: 0, sizeBytes, tree: null, rawSha256: await fileRangeSha(imagePath, 0, sizeBytes), capabilities: POSIX }];
  } else if (name === "random") {
    partitionTable = "gpt";
    // one partition filling the disk (1 MiB for the table in front, 1 MiB for the backup GPT behind)
    const size = sizeBytes - 2 * MiB;
    sh("sfdisk", ["-q", imagePath], `label: gpt\nstart=2048, size=${size / 512}, type=L\n`);
    const fh = await fs.open(imagePath, "r+");
    for (let off = 0; off < size; off += 4 * MiB) await fh.write(randomBytes(Math.min(4 * MiB, size - off)), 0, Math.min(4 * MiB, size - off), MiB + off);
    await fh.close();
    volumes = [{ name: "p1", fsType: null, offsetBytes: MiB, sizeBytes: size, tree: null, rawSha256: await fileRangeSha(imagePath, MiB, size), capabilities: POSIX }];
  } else {
    // MBR: p1 ext4 24 MiB, p2 swap 8 MiB, p3 extended holding the logical p5 ext4
    partitionTable = "dos";
    sh("sfdisk", ["-q", imagePath], "label: dos\nstart=2048, size=49152, type=83\nstart=51200, size=16384, type=82\nstart=67584, type=5\nstart=69632, type=83\n");
    const parts = JSON.parse(sh("sfdisk", ["-J", imagePath])).partitiontable.partitions as { start: number; size: number }[];
    const p5 = parts[3];
    const swapLoop = sh("losetup", ["--find", "--show", "--offset", String(51200 * 512), "--sizelimit", String(16384 * 512), imagePath]).trim();
    try {
      sh("mkswap", ["-q", swapLoop]);
    } finally {
      sh("losetup", ["-d", swapLoop]);
    }
    volumes = [
      await ext4At(imagePath, dir, "p1", 2048 * 512, 49152 * 512),
      { name: "p2", fsType: "swap", offsetBytes: 51200 * 512, sizeBytes: 16384 * 512, tree: null, capabilities: POSIX },
      await ext4At(imagePath, dir, "p5", p5.start * 512, p5.size * 512),
    ];
  }
  const device = sh("losetup", ["--find", "--show", "--partscan", imagePath]).trim();
  let cleaned = false;
  return {
    name, imagePath, device, sizeBytes, partitionTable, volumes,
    async cleanup() {
      if (cleaned) return;
      cleaned = true;
      // the worker detaches its own loop devices; detach any it left (a killed run) before ours
      const listed = JSON.parse(sh("losetup", ["-J", "-l"]) || '{"loopdevices":[]}').loopdevices as { name: string; "back-file": string }[];
      for (const l of listed) {
        if (l.name !== device && (l["back-file"] === device || l["back-file"]?.startsWith(dir))) {
          try { sh("umount", ["-l", l.name]); } catch { /* not mounted */ }
          try { sh("losetup", ["-d", l.name]); } catch { /* already gone */ }
        }
      }
      try { sh("losetup", ["-d", device]); } catch { /* already gone */ }
      await fs.rm(dir, { recursive: true, force: true });
    },
  };
}
