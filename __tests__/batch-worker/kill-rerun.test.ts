import { GetObjectCommand, ListMultipartUploadsCommand, ListPartsCommand, S3Client } from "@aws-sdk/client-s3";
import { ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import path from "node:path";
import { makeS3Client } from "../../batch-worker/src/store";
import { describeWithPrereqs, incompleteUploads, motoMissing, newBucket } from "./helpers";
// At merge: import from "../../testing/fixtures/disks".
import { createDiskFixture, diskPrerequisites } from "../../testing/fixtures/disks";

const BIN = path.join(__dirname, "../../cli/bin.js");

function cli(args: string[]): {
  child: ChildProcess;
  done: Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>;
} {
  const child = spawn(process.execPath, [BIN, ...args], { stdio: ["ignore", "pipe", "pipe"], env: process.env });
  let stderr = "";
  child.stderr!.on("data", (b: Buffer) => (stderr += b.toString()));
  child.stdout!.resume();
  const done = new Promise<{ code: number | null; signal: NodeJS.Signals | null; stderr: string }>((resolve) =>
    child.on("close", (code, signal) => resolve({ code, signal, stderr })),
  );
  return { child, done };
}

/** Resolves once some multipart upload under the bucket has at least one uploaded part. */
async function firstPartUploaded(client: S3Client, bucket: string, exited: () => boolean): Promise<void> {
  while (!exited()) {
    const r = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
    for (const u of r.Uploads ?? []) {
      const parts = await client.send(new ListPartsCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
      if ((parts.Parts ?? []).length > 0) return;
    }
    await new Promise((res) => setTimeout(res, 20));
  }
  throw new Error("the export finished before its first part was seen: it was not killed mid-upload");
}

describeWithPrereqs(
  "an export killed mid-upload, then run again",
  [...motoMissing(), ...diskPrerequisites().missing],
  () => {
    jest.setTimeout(180_000);

    it("leaves no incomplete multipart upload after the rerun, and the rerun's manifest verifies", async () => {
      const client = makeS3Client();
      const bucket = await newBucket(client);
      const url = `s3://${bucket}/ebs/killed/`;
      // 62 MiB of random data: 8 parts of 8 MiB uploaded one at a time, long enough to be caught mid-way
      const fx = await createDiskFixture("random", { sizeMiB: 64 });
      try {
        const first = cli(["export-volume", "--device", fx.device, "--to", url, "--concurrency", "1"]);
        let exited = false;
        void first.done.then(() => (exited = true));
        await firstPartUploaded(client, bucket, () => exited);
        first.child.kill("SIGKILL");
        const killed = await first.done;
        expect(killed.signal).toBe("SIGKILL");
        // the killed run left an incomplete upload and no manifest
        expect(await incompleteUploads(bucket, client)).toEqual(["ebs/killed/p1.img.zst"]);
        await expect(
          client.send(new GetObjectCommand({ Bucket: bucket, Key: "ebs/killed/manifest.json" })),
        ).rejects.toMatchObject({ name: "NoSuchKey" });

        const rerun = await cli(["export-volume", "--device", fx.device, "--to", url, "--concurrency", "2"]).done;
        expect(rerun.stderr).toMatch(/aborted 1 incomplete multipart upload/);
        expect(rerun.code).toBe(0);
        expect(await incompleteUploads(bucket, client)).toEqual([]);

        const verify = await cli(["verify", url]).done;
        expect(verify.stderr).toMatch(/verify p1 \(img, p1\.img\.zst\): OK/);
        expect(verify.code).toBe(0);
      } finally {
        await fx.cleanup();
      }
    });

    it("SIGTERM mid-upload runs the cleanup, leaves nothing of the disk mounted, and exits 143", async () => {
      const client = makeS3Client();
      const bucket = await newBucket(client);
      const fx = await createDiskFixture("random", { sizeMiB: 64 });
      try {
        const run = cli([
          "export-volume",
          "--device",
          fx.device,
          "--to",
          `s3://${bucket}/ebs/term/`,
          "--concurrency",
          "1",
        ]);
        let exited = false;
        void run.done.then(() => (exited = true));
        await firstPartUploaded(client, bucket, () => exited);
        run.child.kill("SIGTERM");
        const r = await run.done;
        expect(r.stderr).toMatch(/received SIGTERM: cleaning up/);
        expect(r.code).toBe(143);
        // nothing of this disk is mounted any more (other tests may have mounts of their own meanwhile)
        const mounted = readFileSync("/proc/self/mounts", "utf8")
          .split("\n")
          .map((l) => l.split(" ")[0]);
        expect(mounted.filter((src) => src === fx.device || src.startsWith(`${fx.device}p`))).toEqual([]);
      } finally {
        await fx.cleanup();
      }
    });
  },
);
