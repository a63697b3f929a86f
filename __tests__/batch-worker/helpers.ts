import { CreateBucketCommand, ListMultipartUploadsCommand, S3Client } from "@aws-sdk/client-s3";
import { randomBytes } from "node:crypto";
import { makeS3Client } from "../../batch-worker/src/store";

export { describeWithPrereqs } from "../../testing/prereq";
export { motoMissing } from "../../testing/moto/availability";

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
