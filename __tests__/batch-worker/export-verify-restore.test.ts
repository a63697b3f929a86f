import { GetObjectCommand, HeadObjectCommand, PutObjectCommand, S3Client } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, promises as fs, readFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { exportVolume } from "../../batch-worker/src/export-volume";
import { Manifest } from "../../core/manifest";
import { restoreExport } from "../../batch-worker/src/restore";
import { makeS3Client, S3Store } from "../../batch-worker/src/store";
import { verifyExport } from "../../batch-worker/src/verify";
import { describeWithPrereqs, incompleteUploads, motoMissing, newBucket } from "./helpers";
// At merge: import from "../../testing/fixtures/disks" (same contract, all seven layouts).
import {
  createDiskFixture,
  diskPrerequisites,
  DiskFixture,
  FIXTURE_NAMES,
  FixtureVolume,
  hashTree,
} from "../../testing/fixtures/disks";

async function sha256Range(file: string, start: number, size: number): Promise<string> {
  const h = createHash("sha256");
  if (size > 0) for await (const c of createReadStream(file, { start, end: start + size - 1 })) h.update(c as Buffer);
  return h.digest("hex");
}

/** S3's composite checksum of `data` cut into parts of `partSize`, computed here from the bytes alone. */
function composite(data: Buffer, partSize: number): string {
  const digests: Buffer[] = [];
  for (let off = 0; off < data.length; off += partSize)
    digests.push(
      createHash("sha256")
        .update(data.subarray(off, off + partSize))
        .digest(),
    );
  return `${createHash("sha256").update(Buffer.concat(digests)).digest("base64")}-${digests.length}`;
}

/**
 * Filesystems this kernel (or FUSE) mounts: the worker must archive each of them as files (tar); a raw
 * image is acceptable only for a filesystem that nothing here mounts (vfat on this bench's kernel).
 */
function mountsHere(fsType: string): boolean {
  if (fsType === "ntfs") return existsSync("/dev/fuse"); // ntfs-3g
  const kernel = existsSync("/proc/filesystems") ? readFileSync("/proc/filesystems", "utf8") : "";
  return new RegExp(`\\s${fsType}$`, "m").test(kernel);
}

async function allZero(file: string, start: number, size: number): Promise<boolean> {
  for await (const c of createReadStream(file, { start, end: start + size - 1 }))
    if ((c as Buffer).some((b) => b !== 0)) return false;
  return true;
}

/**
 * Every byte of the device is in the manifest's ranges (the parser checked that they cover it exactly):
 * each unallocated range is zeros on the disk, each gap item restores to exactly the disk's bytes there,
 * and every other range is a fixture volume at the same place.
 */
async function expectEveryByteAccounted(fx: DiskFixture, manifest: Manifest, restoreDir: string): Promise<void> {
  expect(manifest.version).toBe(2);
  for (const r of manifest.ranges!) {
    const where = { offsetBytes: r.offsetBytes, sizeBytes: r.sizeBytes };
    if (r.use === "unallocated") {
      expect({ ...where, zero: await allZero(fx.imagePath, r.offsetBytes, r.sizeBytes) }).toEqual({
        ...where,
        zero: true,
      });
    } else if (r.item.startsWith("gap-")) {
      const item = manifest.items.find((i) => i.name === r.item)!;
      expect({ item: item.name, kind: item.kind, reason: item.reason }).toEqual({
        item: r.item,
        kind: "img",
        reason: expect.stringContaining("not all zero"),
      });
      await expect(sha256File(path.join(restoreDir, `${r.item}.img`))).resolves.toBe(
        await sha256Range(fx.imagePath, r.offsetBytes, r.sizeBytes),
      );
    } else {
      const v = fx.volumes.find((x) => x.name === r.item);
      expect({ item: r.item, offsetBytes: v?.offsetBytes, sizeBytes: v?.sizeBytes }).toEqual({
        item: r.item,
        ...where,
      });
    }
  }
}

async function sha256File(file: string): Promise<string> {
  return sha256Range(file, 0, (await fs.stat(file)).size);
}

/** What the restored form of one fixture volume must look like. */
async function expectRestored(
  fx: DiskFixture,
  v: FixtureVolume,
  manifest: Manifest,
  restoreDir: string,
): Promise<void> {
  const item = manifest.items.find((i) => i.name === v.name);
  expect(item).toBeDefined();
  if (v.fsType === "swap" || v.fsType === "bios-boot" || v.fsType === "lvm2-pv") {
    expect(item!.kind).toBe("skipped");
    return;
  }
  if (v.tree === null) {
    // no filesystem: a raw image, byte for byte
    expect(item!.kind).toBe("img");
    const img = path.join(restoreDir, `${v.name}.img`);
    await expect(sha256File(img)).resolves.toBe(
      v.rawSha256 ?? (await sha256Range(fx.imagePath, v.offsetBytes, v.sizeBytes)),
    );
    return;
  }
  expect(item!.source.fsType).toBe(v.fsType);
  if (v.uuid) expect(item!.source.uuid).toBe(v.uuid);
  if (!mountsHere(v.fsType!)) {
    // a filesystem this kernel cannot mount (vfat here) falls back to a raw image
    expect({ kind: item!.kind, reason: item!.reason }).toEqual({
      kind: "img",
      reason: expect.stringMatching(/did not mount/),
    });
    await expect(sha256File(path.join(restoreDir, `${v.name}.img`))).resolves.toBe(
      await sha256Range(fx.imagePath, v.offsetBytes, v.sizeBytes),
    );
    return;
  }
  expect(item!.kind).toBe("tar");
  // every file's SHA-256, mode, owner, symlink target, xattrs (and ACLs, hardlink counts) as in the source
  expect(await hashTree(path.join(restoreDir, v.name), v.capabilities)).toEqual(v.tree);
  expect(item!.files).toBe(v.tree.length);
}

describeWithPrereqs(
  "export-volume -> verify -> restore on every disk fixture (moto S3)",
  [...motoMissing(), ...diskPrerequisites().missing],
  () => {
    let client: S3Client;
    let bucket: string;
    let work: string;
    jest.setTimeout(180_000);

    beforeAll(async () => {
      client = makeS3Client();
      bucket = await newBucket(client);
      work = await fs.mkdtemp(path.join(os.tmpdir(), "worker-restore-"));
    });
    afterAll(async () => {
      if (work) await fs.rm(work, { recursive: true, force: true });
    });

    it.each(FIXTURE_NAMES.map((n) => [n]))("%s", async (name) => {
      const fx = await createDiskFixture(name);
      try {
        const store = new S3Store(client, bucket, `ebs/${name}/`);
        const manifest = await exportVolume({ device: fx.device, store, concurrency: 2, compressionLevel: 3 });

        expect(manifest.device.sizeBytes).toBe(fx.sizeBytes);
        expect(manifest.partitionTable.type).toBe(fx.partitionTable);
        // the fixture's volumes, and the bytes outside every partition that are not zero (the table, boot code, data)
        expect(
          manifest.items
            .map((i) => i.name)
            .filter((n) => !n.startsWith("gap-"))
            .sort(),
        ).toEqual(fx.volumes.map((v) => v.name).sort());
        expect(manifest.tools.tar).toMatch(/GNU tar/);
        expect(await incompleteUploads(bucket, client)).toEqual([]);
        // every object's recorded checksum is the one S3 (moto) reports for it
        for (const it of manifest.items.filter((i) => i.kind !== "skipped")) {
          const head = await client.send(
            new HeadObjectCommand({ Bucket: bucket, Key: `ebs/${name}/${it.key}`, ChecksumMode: "ENABLED" }),
          );
          expect({ item: it.name, checksum: it.s3ChecksumSHA256 }).toEqual({
            item: it.name,
            checksum: head.ChecksumSHA256,
          });
          expect(it.s3ChecksumSHA256).toMatch(new RegExp(`^[A-Za-z0-9+/]{43}=-${it.parts}$`));
        }

        const report = await verifyExport(store);
        expect(report.items.filter((i) => !i.ok)).toEqual([]);
        expect(report.ok).toBe(true);

        const dir = path.join(work, name);
        await restoreExport({ store, to: dir });
        for (const v of fx.volumes) await expectRestored(fx, v, manifest, dir);
        await expectEveryByteAccounted(fx, manifest, dir);
      } finally {
        await fx.cleanup();
      }
    });

    it("a flipped byte in an object fails verify (and restore)", async () => {
      const fx = await createDiskFixture("ext4");
      try {
        const store = new S3Store(client, bucket, "ebs/corrupt/");
        const manifest = await exportVolume({ device: fx.device, store, concurrency: 2 });
        const item = manifest.items.find((i) => i.kind === "tar")!;
        const key = `ebs/corrupt/${item.key}`;
        const body = Buffer.from(
          await (await client.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body!.transformToByteArray(),
        );
        body[Math.floor(body.length / 2)] ^= 0x01;
        await client.send(new PutObjectCommand({ Bucket: bucket, Key: key, Body: body }));

        const report = await verifyExport(store);
        expect(report.ok).toBe(false);
        const bad = report.items.find((i) => i.name === item.name)!;
        expect(bad.ok).toBe(false);
        expect(bad.problems.join("\n")).toMatch(/SHA-256 [0-9a-f]{64}, manifest says/);
        // the S3 checksum recomputed from the bytes read (parts of the recorded size) differs too
        expect(bad.problems).toContainEqual(
          `S3 checksum ${composite(body, item.partSize!)} (parts of ${item.partSize} bytes), manifest says ${item.s3ChecksumSHA256}`,
        );
        await expect(restoreExport({ store, to: path.join(work, "corrupt") })).rejects.toThrow(/FAILED/);
      } finally {
        await fx.cleanup();
      }
    });
  },
);
