import { CreateBucketCommand, ListMultipartUploadsCommand, S3Client } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { makeS3Client } from "../../batch-worker/src/store";

/**
 * Local copy of the shared jest helper `describeWithPrereqs` (testing/prereq.ts, same signature):
 * under CI=true a missing prerequisite fails; otherwise the block is skipped with a message naming it.
 * At merge this import switches to testing/prereq.
 */
export function describeWithPrereqs(name: string, missing: string[], fn: () => void): void {
  if (missing.length === 0) {
    describe(name, fn);
    return;
  }
  const list = missing.join("; ");
  if (process.env.CI === "true") {
    describe(name, () => {
      test("prerequisites are present (CI=true)", () => {
        throw new Error(`missing prerequisite(s) for "${name}": ${list}`);
      });
    });
    return;
  }
  console.warn(`skipping "${name}": missing prerequisite(s): ${list}`);
  describe.skip(name, fn);
}

/** The moto server comes from the jest globalSetup (or a developer's own moto_server). */
export function motoMissing(): string[] {
  return process.env.AWS_ENDPOINT_URL ? [] : ["moto S3 endpoint (AWS_ENDPOINT_URL is not set; the jest globalSetup starts moto)"];
}

export async function newBucket(client: S3Client = makeS3Client()): Promise<string> {
  const bucket = `worker-test-${randomBytes(6).toString("hex")}`;
  await client.send(new CreateBucketCommand({ Bucket: bucket }));
  return bucket;
}

export async function incompleteUploads(bucket: string, client: S3Client = makeS3Client()): Promise<string[]> {
  const r = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket }));
  return (r.Uploads ?? []).map((u) => u.Key!);
}

export async function* chunks(data: Buffer, size: number): AsyncGenerator<Buffer> {
  for (let off = 0; off < data.length; off += size) yield data.subarray(off, off + size);
}
