/**
 * export-snapshot against moto's EBS direct APIs (patched as AWS answers, testing/moto/patches.py 11): snapshots are
 * built from the bench's real disk fixtures with StartSnapshot/PutSnapshotBlock (all-zero blocks left out, so the
 * snapshot has unwritten regions), exported through a sparse-file scratch (CLI) and a loop-device scratch, restored
 * with `backup-actions restore` and compared file by file and byte by byte with the fixture. Faults moto cannot
 * produce (throttling, a corrupted body) are injected by a wrapper around the real client.
 */
import { createHash } from "node:crypto";
import { createReadStream, promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { S3Client } from "@aws-sdk/client-s3";
import { runOk } from "../../batch-worker/src/exec";
import { EbsDirectClient } from "../../batch-worker/src/ebs-direct";
import { checkBlankScratch, exportSnapshot, ScratchNotBlankError } from "../../batch-worker/src/export-snapshot";
import { EBS_BLOCK_SIZE } from "../../batch-worker/src/snapshot-reader";
import { makeS3Client, S3Store } from "../../batch-worker/src/store";
import { createDiskFixture, diskPrerequisites, DiskFixture, hashTree } from "../../testing/fixtures/disks";
import { describeWithPrereqs, motoMissing, newBucket } from "./helpers";
import { cli, FaultySource, snapshotOf } from "../helpers/ebs-snapshot";

const GiB = 2 ** 30;

async function sha256(file: string, start: number, size: number): Promise<string> {
  const h = createHash("sha256");
  for await (const c of createReadStream(file, { start, end: start + size - 1 })) h.update(c as Buffer);
  return h.digest("hex");
}

/** The scratch holds the fixture's bytes, zeros after them up to the volume's size. */
async function expectSameBytes(scratch: string, fx: DiskFixture): Promise<void> {
  expect(await sha256(scratch, 0, fx.sizeBytes)).toBe(await sha256(fx.imagePath, 0, fx.sizeBytes));
  const rest = GiB - fx.sizeBytes;
  expect(await sha256(scratch, fx.sizeBytes, rest)).toBe(createHash("sha256").update(Buffer.alloc(rest)).digest("hex"));
}

describeWithPrereqs(
  "export-snapshot (EBS direct APIs on moto)",
  [...motoMissing(), ...diskPrerequisites().missing],
  () => {
    jest.setTimeout(80_000);
    let s3: S3Client;
    let ebs: EbsDirectClient;
    let bucket: string;
    let work: string;
    let fx: DiskFixture;
    let snap: { id: string; written: number };

    beforeAll(async () => {
      s3 = makeS3Client();
      ebs = new EbsDirectClient();
      bucket = await newBucket(s3);
      work = await fs.mkdtemp(path.join(os.tmpdir(), "export-snapshot-"));
      fx = await createDiskFixture("gpt-amazon-linux");
      snap = await snapshotOf(ebs, fx.imagePath);
    });
    afterAll(async () => {
      await fx?.cleanup();
      ebs?.destroy();
      if (work) await fs.rm(work, { recursive: true, force: true });
    });

    it("CLI: a sparse-file scratch holds the fixture's bytes, the archive restores every file as in the fixture", async () => {
      // the snapshot leaves out the all-zero blocks: a region of the disk is unwritten
      expect(snap.written).toBeLessThan(fx.sizeBytes / EBS_BLOCK_SIZE);
      const scratch = path.join(work, "scratch.img");
      const to = `s3://${bucket}/snap-cli/`;
      const r = await cli([
        "export-snapshot",
        "--snapshot",
        snap.id,
        "--scratch",
        scratch,
        "--to",
        to,
        "--rate",
        "2000",
      ]);
      expect({ code: r.code, stderr: r.code === 0 ? "" : r.stderr }).toEqual({ code: 0, stderr: "" });
      expect(r.stderr).toMatch(
        new RegExp(`progress blocks ${snap.written}/${snap.written} \\(100\\.0%\\), [\\d.]+ MiB/s`),
      );
      await expectSameBytes(scratch, fx);
      // unlisted blocks were never written: the file keeps its holes
      const st = await fs.stat(scratch);
      expect(st.size).toBe(GiB);
      // (plus the filesystem's extent metadata)
      expect(st.blocks * 512).toBeLessThanOrEqual(snap.written * EBS_BLOCK_SIZE + 64 * 1024);

      const dir = path.join(work, "restored");
      const back = await cli(["restore", to, "--to", dir]);
      expect({ code: back.code, stderr: back.code === 0 ? "" : back.stderr }).toEqual({ code: 0, stderr: "" });
      for (const v of fx.volumes.filter((x) => x.mountOptions))
        expect({ volume: v.name, tree: await hashTree(path.join(dir, v.name), v.capabilities) }).toEqual({
          volume: v.name,
          tree: v.tree,
        });
    });

    it("a loop-device scratch, with throttled and corrupted blocks retried: the same bytes, a complete export", async () => {
      const backing = path.join(work, "device.img");
      await fs.writeFile(backing, "");
      await fs.truncate(backing, GiB);
      const dev = (await runOk("losetup", ["--find", "--show", backing])).trim();
      try {
        const source = new FaultySource(ebs, (call) => (call === 3 ? "throttle" : call === 5 ? "corrupt" : undefined));
        const store = new S3Store(s3, bucket, "snap-device/");
        const manifest = await exportSnapshot({
          snapshotId: snap.id,
          scratch: dev,
          store,
          source,
          blockConcurrency: 4,
          baseDelayMs: 5,
          concurrency: 2,
        });
        expect(source.calls).toBe(snap.written + 2);
        expect(manifest.device.snapshotId).toBe(snap.id);
        expect(manifest.items.filter((i) => i.kind === "tar").length).toBeGreaterThan(0);
        await expectSameBytes(dev, fx);
      } finally {
        await runOk("losetup", ["-d", dev]);
      }
    });

    it("a block whose checksum stays wrong fails the export, naming the block, and writes no manifest", async () => {
      const store = new S3Store(s3, bucket, "snap-bad/");
      const bad = 0; // the protective MBR and GPT header: written on every fixture
      const source = new FaultySource(ebs, (_call, index) => (index === bad ? "corrupt" : undefined));
      await expect(
        exportSnapshot({
          snapshotId: snap.id,
          scratch: path.join(work, "bad.img"),
          store,
          source,
          maxAttempts: 3,
          baseDelayMs: 1,
        }),
      ).rejects.toThrow(new RegExp(`${snap.id}: block ${bad} failed 3 times, last: checksum mismatch`));
      await expect(store.get("manifest.json")).rejects.toThrow();
    });

    it("a snapshot that does not exist: a clear error, exit 1", async () => {
      const r = await cli([
        "export-snapshot",
        "--snapshot",
        "snap-0123456789abcdef0",
        "--scratch",
        path.join(work, "none.img"),
        "--to",
        `s3://${bucket}/none/`,
      ]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/snap-0123456789abcdef0: no such snapshot \(or not shared with this account\)/);
    });

    /** A loop device over a fresh 1 GiB file, `fill` written to it first; detached afterwards. */
    async function withDevice(fill: (backing: string) => Promise<unknown>, use: (dev: string) => Promise<void>) {
      const backing = path.join(work, `scratch-${Date.now()}.img`);
      await fs.writeFile(backing, "");
      await fs.truncate(backing, GiB);
      await fill(backing);
      const dev = (await runOk("losetup", ["--find", "--show", backing])).trim();
      try {
        await use(dev);
      } finally {
        await runOk("losetup", ["-d", dev]);
        await fs.rm(backing, { force: true });
      }
    }
    const writeAt = async (file: string, at: number, data: Buffer) => {
      const fh = await fs.open(file, "r+");
      await fh.write(data, 0, data.length, at);
      await fh.close();
    };

    it("refuses a scratch device with a filesystem on it, before reading a block, and leaves it as it was", async () => {
      // GIVEN the fixture's disk (a GPT and filesystems) copied onto a device
      await withDevice(
        (backing) =>
          runOk("dd", [`if=${fx.imagePath}`, `of=${backing}`, "bs=1M", "conv=notrunc,sparse", "status=none"]),
        async (dev) => {
          const before = await sha256(dev, 0, fx.sizeBytes);
          const source = new FaultySource(ebs, () => undefined);
          const store = new S3Store(s3, bucket, "snap-not-blank/");
          // WHEN it is given as the scratch
          const run = exportSnapshot({ snapshotId: snap.id, scratch: dev, store, source });
          // THEN a clear refusal; no block was read, nothing written, no manifest
          await expect(run).rejects.toThrow(ScratchNotBlankError);
          await expect(run).rejects.toThrow(
            new RegExp(`--scratch ${dev} is not blank: byte \\d+ is not zero .*Give a new, empty volume`),
          );
          expect(source.calls).toBe(0);
          expect(await sha256(dev, 0, fx.sizeBytes)).toBe(before);
          await expect(store.get("manifest.json")).rejects.toThrow();
        },
      );
    });

    it("refuses a device whose only data is in its last MiB (a GPT backup header, an md superblock)", async () => {
      await withDevice(
        (backing) => writeAt(backing, GiB - 4096, Buffer.from("EFI PART")),
        async (dev) => {
          await expect(
            exportSnapshot({ snapshotId: snap.id, scratch: dev, store: new S3Store(s3, bucket, "snap-tail/") }),
          ).rejects.toThrow(`--scratch ${dev} is not blank: byte ${GiB - 4096} is not zero`);
        },
      );
    });

    it("resumes over its own earlier, partial hydration when told so: the same bytes, a complete export", async () => {
      // GIVEN a device an interrupted attempt wrote the snapshot's first MiB to
      await withDevice(
        async (backing) => {
          const head = Buffer.alloc(2 ** 20);
          const fh = await fs.open(fx.imagePath, "r");
          await fh.read(head, 0, head.length, 0);
          await fh.close();
          await writeAt(backing, 0, head);
        },
        async (dev) => {
          await expect(checkBlankScratch(dev)).rejects.toThrow(ScratchNotBlankError);
          const manifest = await exportSnapshot({
            snapshotId: snap.id,
            scratch: dev,
            resume: true,
            store: new S3Store(s3, bucket, "snap-resume/"),
            concurrency: 2,
          });
          expect(manifest.device.snapshotId).toBe(snap.id);
          await expectSameBytes(dev, fx);
        },
      );
    });
  },
);
