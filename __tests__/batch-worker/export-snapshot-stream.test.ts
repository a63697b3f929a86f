/**
 * export-snapshot of a disk where nothing mounts, against moto's EBS direct APIs: its raw images are streamed from the
 * snapshot's blocks into zstd with no scratch (snapshot-stream.ts). The disk is the bench's `random` fixture (a GPT,
 * one partition of random data: no filesystem) with a hole punched into the partition before the snapshot is built,
 * so the snapshot leaves out a region inside the data as well as the volume's tail. The archive is restored with
 * `backup-actions restore` and put back together from the manifest's ranges, then compared byte by byte with the disk;
 * the manifest is the one export-volume writes for the same disk on a loop device.
 */
import { promises as fs } from "node:fs";
import { randomBytes } from "node:crypto";
import os from "node:os";
import path from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { runOk } from "../../batch-worker/src/exec";
import { EbsDirectClient } from "../../batch-worker/src/ebs-direct";
import { exportSnapshot, ScratchNeededError } from "../../batch-worker/src/export-snapshot";
import { exportVolume } from "../../batch-worker/src/export-volume";
import { allZero } from "../../batch-worker/src/inspect";
import { EBS_BLOCK_SIZE } from "../../batch-worker/src/snapshot-reader";
import { makeS3Client, ObjectStore, S3Store } from "../../batch-worker/src/store";
import { Manifest, parseManifest } from "../../core/manifest";
import { createDiskFixture, diskPrerequisites, DiskFixture } from "../../testing/fixtures/disks";
import { sha256Range, writePartitionTable } from "../../testing/fixtures/image";
import { describeWithPrereqs, incompleteUploads, motoMissing, newBucket } from "./helpers";
import { cli, FaultySource, snapshotOf } from "../helpers/ebs-snapshot";

const GiB = 2 ** 30;
const MiB = 2 ** 20;

async function manifestOf(store: ObjectStore): Promise<Manifest> {
  const chunks: Buffer[] = [];
  for await (const c of await store.get("manifest.json")) chunks.push(c as Buffer);
  return parseManifest(Buffer.concat(chunks).toString(), `${store.url}manifest.json`);
}

/** Every range of the manifest holds the disk's bytes: an item's restored image, or zeros where it says unallocated. */
async function expectDiskRestored(m: Manifest, restored: string, disk: string): Promise<void> {
  expect(m.device.sizeBytes).toBe(GiB);
  expect(m.ranges!.reduce((a, r) => a + r.sizeBytes, 0)).toBe(GiB);
  for (const r of m.ranges!) {
    if (r.use === "unallocated") {
      expect({ range: r, zero: await allZero(disk, r.offsetBytes, r.sizeBytes) }).toEqual({ range: r, zero: true });
      continue;
    }
    const img = path.join(restored, `${r.item}.img`);
    expect((await fs.stat(img)).size).toBe(r.sizeBytes);
    expect({ item: r.item, sha256: await sha256Range(img, 0, r.sizeBytes) }).toEqual({
      item: r.item,
      sha256: await sha256Range(disk, r.offsetBytes, r.sizeBytes),
    });
  }
}

/** What of a manifest does not depend on where the bytes were read from or when. */
const comparable = (m: Manifest) => ({
  sizeBytes: m.device.sizeBytes,
  partitionTable: m.partitionTable,
  ranges: m.ranges,
  items: m.items.map((i) => ({
    name: i.name,
    kind: i.kind,
    key: i.key,
    reason: i.reason,
    source: { ...i.source, path: undefined },
    uncompressedBytes: i.uncompressedBytes,
    sha256: i.sha256,
  })),
});

describeWithPrereqs(
  "export-snapshot: a disk where nothing mounts streams from the blocks, no scratch (EBS direct APIs on moto)",
  [...motoMissing(), ...diskPrerequisites().missing],
  () => {
    jest.setTimeout(80_000);
    let s3: S3Client;
    let ebs: EbsDirectClient;
    let bucket: string;
    let work: string;
    let fx: DiskFixture;
    /** The fixture's disk with a hole in its partition, at the volume's size (1 GiB: the rest reads zeros). */
    let disk: string;
    let snap: { id: string; written: number };
    const hole = { offsetBytes: 8 * MiB, sizeBytes: 2 * MiB };

    beforeAll(async () => {
      s3 = makeS3Client();
      ebs = new EbsDirectClient();
      bucket = await newBucket(s3);
      work = await fs.mkdtemp(path.join(os.tmpdir(), "export-snapshot-stream-"));
      fx = await createDiskFixture("random");
      disk = path.join(work, "disk.img");
      await fs.copyFile(fx.imagePath, disk);
      const fh = await fs.open(disk, "r+");
      await fh.write(Buffer.alloc(hole.sizeBytes), 0, hole.sizeBytes, hole.offsetBytes);
      await fh.close();
      await fs.truncate(disk, GiB);
      snap = await snapshotOf(ebs, disk);
    });
    afterAll(async () => {
      await fx?.cleanup();
      ebs?.destroy();
      if (work) await fs.rm(work, { recursive: true, force: true });
    });

    it("CLI without --scratch: raw images streamed from the blocks restore to the disk's bytes, unwritten regions as zeros", async () => {
      // GIVEN a snapshot that leaves out the hole in the partition and everything after the fixture's end
      expect(snap.written).toBeLessThanOrEqual((fx.sizeBytes - hole.sizeBytes) / EBS_BLOCK_SIZE);
      const to = `s3://${bucket}/stream-cli/`;
      // WHEN it is exported with no scratch at all
      const r = await cli(["export-snapshot", "--snapshot", snap.id, "--to", to, "--rate", "2000"]);
      expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
      expect(r.stderr).toMatch(`${snap.id}: ${snap.written} written block(s) of 2048; nothing on it mounts`);
      expect(r.stderr).toMatch("streaming its raw image from the blocks, no scratch");
      // THEN every item is a raw image, and restored they are the disk, byte for byte
      const m = await manifestOf(new S3Store(s3, bucket, "stream-cli/"));
      expect(m.device).toMatchObject({ path: `ebs-direct:${snap.id}`, snapshotId: snap.id });
      expect(m.items.map((i) => [i.name, i.kind])).toEqual(expect.arrayContaining([["p1", "img"]]));
      expect(m.items.every((i) => i.kind === "img")).toBe(true);
      const dir = path.join(work, "restored-cli");
      const back = await cli(["restore", to, "--to", dir]);
      expect({ code: back.code, stderr: back.code === 0 ? "" : back.stderr }).toEqual({ code: 0, stderr: "" });
      await expectDiskRestored(m, dir, disk);
    });

    it("writes the manifest export-volume writes for the same disk on a loop device", async () => {
      const dev = (await runOk("losetup", ["--find", "--show", "--read-only", disk])).trim();
      let fromVolume: Manifest;
      try {
        fromVolume = await exportVolume({ device: dev, store: new S3Store(s3, bucket, "stream-volume/") });
      } finally {
        await runOk("losetup", ["-d", dev]);
      }
      const streamed = await exportSnapshot({
        snapshotId: snap.id,
        store: new S3Store(s3, bucket, "stream-same/"),
        rate: 2000,
      });
      expect(comparable(streamed)).toEqual(comparable(fromVolume));
    });

    it("throttled and corrupted blocks are retried and never reach the archive; a given scratch stays untouched", async () => {
      // GIVEN a blank device as the scratch (as the EBS child's direct branch gives one) and a source that throttles
      // one call and corrupts two (one of them while the probe reads, one while the image streams)
      const backing = path.join(work, "scratch.img");
      await fs.writeFile(backing, "");
      await fs.truncate(backing, GiB);
      const dev = (await runOk("losetup", ["--find", "--show", backing])).trim();
      const faults = new Map<number, "throttle" | "corrupt">([
        [2, "corrupt"],
        [6, "throttle"],
        [20, "corrupt"],
      ]);
      const source = new FaultySource(ebs, (call) => faults.get(call));
      const store = new S3Store(s3, bucket, "stream-faults/");
      try {
        // WHEN it is exported
        const m = await exportSnapshot({
          snapshotId: snap.id,
          scratch: dev,
          store,
          source,
          blockConcurrency: 4,
          baseDelayMs: 5,
          concurrency: 2,
        });
        // THEN every written block was fetched once, every fault cost one more call, the archive restores to the
        // disk, and the scratch is still blank
        expect(source.calls).toBe(snap.written + faults.size);
        const dir = path.join(work, "restored-faults");
        const back = await cli(["restore", store.url, "--to", dir]);
        expect({ code: back.code, stderr: back.code === 0 ? "" : back.stderr }).toEqual({ code: 0, stderr: "" });
        await expectDiskRestored(m, dir, disk);
        expect(await allZero(dev, 0, GiB)).toBe(true);
      } finally {
        await runOk("losetup", ["-d", dev]);
      }
    });

    it("a block that stays corrupt while the image streams fails the export, naming it; no manifest, no upload left", async () => {
      const bad = 20; // inside p1, read by the stream only (the probe reads p1's first and last MiB)
      const source = new FaultySource(ebs, (_call, index) => (index === bad ? "corrupt" : undefined));
      const store = new S3Store(s3, bucket, "stream-bad/");
      await expect(
        exportSnapshot({ snapshotId: snap.id, store, source, maxAttempts: 3, baseDelayMs: 1 }),
      ).rejects.toThrow(new RegExp(`${snap.id}: block ${bad} failed 3 times, last: checksum mismatch`));
      await expect(store.get("manifest.json")).rejects.toThrow();
      expect((await incompleteUploads(bucket, s3)).filter((k) => k.startsWith("stream-bad/"))).toEqual([]);
    });

    it("a legacy MBR disk whose partitions start and end inside blocks: the same bytes back", async () => {
      // GIVEN partitions at sector 63 (as old MBR tools made them) and at an odd sector, filled with random data
      const legacy = path.join(work, "legacy.img");
      await fs.writeFile(legacy, "");
      await fs.truncate(legacy, 24 * MiB);
      await writePartitionTable(
        legacy,
        "label: dos\nstart=63, size=12345, type=da\nstart=20001, size=20000, type=da\n",
      );
      const fh = await fs.open(legacy, "r+");
      await fh.write(randomBytes(12345 * 512), 0, 12345 * 512, 63 * 512);
      await fh.write(randomBytes(20000 * 512), 0, 20000 * 512, 20001 * 512);
      await fh.close();
      await fs.truncate(legacy, GiB);
      const s = await snapshotOf(ebs, legacy);
      // WHEN it is exported with no scratch
      const store = new S3Store(s3, bucket, "stream-legacy/");
      const m = await exportSnapshot({ snapshotId: s.id, store, rate: 2000 });
      // THEN both partitions and the bytes between them are images that restore to the disk's bytes
      expect(m.items.map((i) => i.source.offsetBytes).filter((o) => o! % EBS_BLOCK_SIZE !== 0).length).toBeGreaterThan(
        1,
      );
      const dir = path.join(work, "restored-legacy");
      const back = await cli(["restore", store.url, "--to", dir]);
      expect({ code: back.code, stderr: back.code === 0 ? "" : back.stderr }).toEqual({ code: 0, stderr: "" });
      await expectDiskRestored(m, dir, legacy);
    });

    it("a disk with a filesystem and no scratch: a clear error naming it, before any image is uploaded", async () => {
      const ext4 = await createDiskFixture("ext4");
      try {
        const s = await snapshotOf(ebs, ext4.imagePath);
        const store = new S3Store(s3, bucket, "stream-ext4/");
        const run = exportSnapshot({ snapshotId: s.id, store, rate: 2000 });
        await expect(run).rejects.toThrow(ScratchNeededError);
        await expect(run).rejects.toThrow(
          `${s.id}: needs --scratch: disk holds ext4, which is mounted and archived file by file`,
        );
        await expect(store.get("manifest.json")).rejects.toThrow();
      } finally {
        await ext4.cleanup();
      }
    });
  },
);
