/**
 * A bucket's objects as the checks of exports that are not ours read them (core/export-objects.ts):
 * lists, whole objects, byte ranges (Parquet footers) and HeadObject's size and ETag. Keys are full keys.
 */
import { GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import type { Readable } from "node:stream";
import { type ExportObjects, isMissingObject } from "../../core/export-objects";

export function s3ExportObjects(s3: S3Client, bucket: string): ExportObjects {
  return {
    async list(prefix) {
      const out: { key: string; size: number }[] = [];
      let token: string | undefined;
      do {
        const page = await s3.send(
          new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }),
        );
        for (const o of page.Contents ?? []) out.push({ key: o.Key!, size: o.Size ?? 0 });
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return out;
    },
    async readText(key) {
      try {
        const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
        return await out.Body!.transformToString("utf8");
      } catch (err) {
        if (isMissingObject(err)) return undefined;
        throw err;
      }
    },
    async readRange(key, start, end) {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key, Range: `bytes=${start}-${end - 1}` }));
      const bytes = await out.Body!.transformToByteArray();
      return bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength) as ArrayBuffer;
    },
    async stat(key) {
      try {
        const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: key }));
        return { size: head.ContentLength ?? 0, etag: (head.ETag ?? "").replace(/"/g, "") };
      } catch (err) {
        if (isMissingObject(err)) return undefined;
        throw err;
      }
    },
    async read(key) {
      const out = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }));
      return out.Body as Readable;
    },
    urlOf: (key) => `s3://${bucket}/${key}`,
  };
}
