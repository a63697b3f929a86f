/**
 * export-volume checks the device before it touches the target, refuses a bucket's root, and
 * cleans up only its own earlier uploads (issue 9, item 4).
 */
import { CreateMultipartUploadCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { MANIFEST_NAME } from "../../core/manifest";
import { exportVolume } from "../../batch-worker/src/export-volume";
import { checkSourceDevice, majorMinor, parseMountInfo } from "../../batch-worker/src/source-device";
import { FileStore, makeS3Client, S3Store } from "../../batch-worker/src/store";
import { createDiskFixture, diskPrerequisites, DiskFixture } from "../../testing/fixtures/disks";
import { mount, unmount } from "../../testing/fixtures/mounts";
import { describeWithPrereqs, incompleteUploads, motoMissing, newBucket } from "./helpers";

describe("source device: mountinfo and device numbers", () => {
  it("parses /proc/self/mountinfo lines, decoding escaped paths", () => {
    const line = "36 35 259:3 / /mnt/with\\040space rw,noatime shared:1 - ext4 /dev/loop3p1 rw,errors=remount-ro";
    expect(parseMountInfo(`${line}\n`)).toEqual([
      {
        majorMinor: "259:3",
        mountPoint: "/mnt/with space",
        options: ["rw", "noatime"],
        fsType: "ext4",
        source: "/dev/loop3p1",
      },
    ]);
  });

  it("decodes major and minor as the kernel encodes them", () => {
    expect(majorMinor(0x0703n)).toBe("7:3");
    expect(majorMinor((259n << 8n) | 5n)).toBe("259:5");
    expect(majorMinor((259n << 8n) | (0x12300n << 12n) | 0x45n)).toBe(`259:${0x12345}`); // glibc makedev(259, 0x12345)
  });
});

describeWithPrereqs("export-volume checks the device before it touches the target", diskPrerequisites().missing, () => {
  let work: string;
  beforeAll(async () => {
    work = await fs.mkdtemp(path.join(os.tmpdir(), "export-safety-"));
  });
  afterAll(() => fs.rm(work, { recursive: true, force: true }));

  /** A target holding a good earlier export's manifest, which a refused export must leave as it was. */
  async function targetWithManifest(name: string): Promise<FileStore> {
    const store = new FileStore(path.join(work, name));
    await store.put(MANIFEST_NAME, '{"earlier":"export"}\n');
    return store;
  }
  const manifestOf = async (store: FileStore) => fs.readFile(path.join(store.dir, MANIFEST_NAME), "utf8");

  it("a device that does not exist", async () => {
    const store = await targetWithManifest("missing");
    await expect(exportVolume({ device: "/dev/does-not-exist", store })).rejects.toThrow(
      "--device /dev/does-not-exist: no such device",
    );
    await expect(manifestOf(store)).resolves.toBe('{"earlier":"export"}\n');
  });

  it("a path that is not a block device", async () => {
    const store = await targetWithManifest("not-block");
    const file = path.join(work, "disk.img");
    await fs.writeFile(file, Buffer.alloc(4096));
    await expect(exportVolume({ device: file, store })).rejects.toThrow(`--device ${file} is not a block device`);
    await expect(manifestOf(store)).resolves.toBe('{"earlier":"export"}\n');
  });

  describe("a filesystem mounted read-write is an error, not a raw image of a live filesystem", () => {
    let fx: DiskFixture;
    let mnt: string;
    afterEach(async () => {
      await unmount(mnt).catch(() => undefined);
      await fx?.cleanup();
    });

    it("on the whole device", async () => {
      fx = await createDiskFixture("ext4");
      mnt = await fx.makeMountpoint("rw");
      await mount(fx.device, mnt, "ext4", "rw");
      const store = await targetWithManifest("rw-disk");
      await expect(exportVolume({ device: fx.device, store })).rejects.toThrow(
        `--device ${fx.device}: ${fx.device} is mounted read-write at ${mnt} (ext4); an archive of a live filesystem is not a consistent copy`,
      );
      await expect(manifestOf(store)).resolves.toBe('{"earlier":"export"}\n');
      // read-only, the same device exports
      await unmount(mnt);
      await mount(fx.device, mnt, "ext4", "ro,noload");
      const m = await exportVolume({
        device: fx.device,
        store: new FileStore(path.join(work, "ro-disk")),
        concurrency: 1,
      });
      expect(m.items.map((i) => [i.name, i.kind])).toEqual([["disk", "tar"]]);
    });

    it("on one of its partitions (through FUSE: ntfs-3g)", async () => {
      fx = await createDiskFixture("ntfs");
      const p1 = fx.volumes[0]!.device!;
      mnt = await fx.makeMountpoint("rw");
      await mount(p1, mnt, "ntfs-3g", "rw");
      const store = await targetWithManifest("rw-part");
      await expect(exportVolume({ device: fx.device, store })).rejects.toThrow(
        `--device ${fx.device}: ${p1} is mounted read-write at ${mnt} (fuseblk)`,
      );
      await expect(manifestOf(store)).resolves.toBe('{"earlier":"export"}\n');
    });
  });

  it("a filesystem mounted read-write in another mount namespace (the host, another container)", async () => {
    // GIVEN ext4 mounted read-write where this process's mountinfo does not show it
    const fx = await createDiskFixture("ext4");
    const mnt = await fx.makeMountpoint("elsewhere");
    const holder = spawn(
      "unshare",
      [
        "--mount",
        "--propagation",
        "private",
        "--",
        "sh",
        "-c",
        `mount -t ext4 -o rw ${fx.device} ${mnt} && echo mounted && exec sleep 120`,
      ],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    try {
      await new Promise<void>((resolve, reject) => {
        holder.stdout!.on("data", (b: Buffer) => b.toString().includes("mounted") && resolve());
        holder.on("exit", (code) => reject(new Error(`unshare exited ${code} before mounting`)));
      });
      const here = await fs.readFile("/proc/self/mountinfo", "utf8");
      expect(here).not.toContain(mnt);
      const store = await targetWithManifest("elsewhere");
      // WHEN exported THEN refused, the earlier export's manifest untouched
      await expect(exportVolume({ device: fx.device, store })).rejects.toThrow(
        `--device ${fx.device} is in use (an exclusive open fails: EBUSY) but mounted nowhere in this mount namespace`,
      );
      await expect(manifestOf(store)).resolves.toBe('{"earlier":"export"}\n');
    } finally {
      const gone = new Promise((r) => holder.once("close", r));
      holder.kill("SIGKILL"); // the namespace, and its mount, go with its last process
      await gone;
      await fx.cleanup();
    }
  });

  it("checkSourceDevice passes a device nothing has mounted", async () => {
    const fx = await createDiskFixture("zero");
    try {
      await expect(checkSourceDevice(fx.device)).resolves.toBeUndefined();
    } finally {
      await fx.cleanup();
    }
  });
});

describeWithPrereqs(
  "export-volume and other exports in the same bucket (moto S3)",
  [...motoMissing(), ...diskPrerequisites().missing],
  () => {
    let client: S3Client;
    let bucket: string;
    beforeAll(async () => {
      client = makeS3Client();
      bucket = await newBucket(client);
    });

    it("refuses the bucket's root as a target, touching nothing", async () => {
      await client.send(new PutObjectCommand({ Bucket: bucket, Key: MANIFEST_NAME, Body: "{}" }));
      await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key: "p1.tar.zst" }));
      await expect(exportVolume({ device: "/dev/whatever", store: new S3Store(client, bucket, "") })).rejects.toThrow(
        `--to s3://${bucket}/: an export needs a prefix of its own (s3://BUCKET/PREFIX/), not the bucket's root`,
      );
      expect(await incompleteUploads(bucket, client)).toEqual(["p1.tar.zst"]);
    });

    it("aborts only its own earlier multipart uploads: item keys directly under its prefix", async () => {
      const keys = [
        "ebs/a/p1.tar.zst",
        "ebs/a/nested/p1.tar.zst",
        "ebs/ab/p1.tar.zst",
        "ebs/a/notes.bin",
        "ebs/b/disk.img.zst",
      ];
      for (const Key of keys) await client.send(new CreateMultipartUploadCommand({ Bucket: bucket, Key }));
      const fx = await createDiskFixture("zero");
      try {
        await exportVolume({ device: fx.device, store: new S3Store(client, bucket, "ebs/a/"), concurrency: 1 });
      } finally {
        await fx.cleanup();
      }
      expect((await incompleteUploads(bucket, client)).sort()).toEqual(
        ["p1.tar.zst", "ebs/a/nested/p1.tar.zst", "ebs/ab/p1.tar.zst", "ebs/a/notes.bin", "ebs/b/disk.img.zst"].sort(),
      );
    });
  },
);
