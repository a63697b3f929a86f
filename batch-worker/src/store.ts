import { createReadStream, promises as fs } from "node:fs";
import path from "node:path";
import { Readable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CompletedPart,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { instrumented } from "../../core/aws-client-hook";
import { Target } from "../../core/s3-url";

/** A part's bytes: in memory, or spooled to a file (large parts, see upload.ts). */
export type PartBody = Buffer | { path: string; length: number };

/** One multipart upload in progress. Parts may be uploaded concurrently and out of order. */
export interface MultipartWriter {
  /**
   * `offset` is where the part starts in the object (all parts but the last have the same size).
   * `sha256Base64` is the part's SHA-256. May be called again for the same part after a failure (a retry).
   */
  uploadPart(partNumber: number, body: PartBody, sha256Base64: string, offset: number): Promise<void>;
  /**
   * `s3ChecksumSHA256` is S3's composite SHA-256 of the parts sent (`<base64>-<parts>`, see
   * manifest.ts); a store that is told another checksum on completion fails.
   */
  complete(s3ChecksumSHA256: string): Promise<void>;
  abort(): Promise<void>;
}

/**
 * An object the compressor writes itself (a local file): the producer writes the bytes in order from
 * offset 0 to `fd`, and the worker reads them back to hash them (see upload.ts followUpload). Nothing
 * is visible under the key before complete().
 */
export interface DirectWriter {
  /** The file descriptor a child process gets as its stdout. */
  readonly fd: number;
  /** Reads up to `length` bytes at `position` into `buf`; fewer (0 at the end) when the producer has not written them yet. */
  read(buf: Buffer, length: number, position: number): Promise<number>;
  /** Flushes the bytes to disk and makes the object visible under its key. */
  complete(): Promise<void>;
  /** Removes what was written. */
  abort(): Promise<void>;
}

/**
 * Where exports are written and read back: S3 (bucket + prefix) or a local directory. Keys are
 * relative to the prefix / directory. Both behave the same for the worker, verify and restore.
 */
export interface ObjectStore {
  readonly url: string;
  createMultipart(key: string): Promise<MultipartWriter>;
  /**
   * A writer the compressor may write to directly, sparing the worker a copy of every byte through
   * a pipe and into part buffers; undefined when the store has none (S3: the worker uploads parts).
   */
  openDirect?(key: string): Promise<DirectWriter | undefined>;
  put(key: string, body: Buffer | string): Promise<void>;
  /** The object's bytes as a stream; rejects when it does not exist. */
  get(key: string): Promise<Readable>;
  /** Object size in bytes, or undefined when it does not exist. */
  size(key: string): Promise<number | undefined>;
  /** Size and S3's ETag (without quotes; a directory has none), or undefined when the object does not exist. */
  head(key: string): Promise<{ size: number; etag?: string } | undefined>;
  /** Bytes [start, end) of the object (a Parquet footer); rejects when it does not exist. */
  getRange(key: string, start: number, end: number): Promise<Buffer>;
  /** Every object whose key (relative to the prefix / directory) starts with `prefix`, sorted by key. */
  list(prefix: string): Promise<{ key: string; size: number }[]>;
  delete(key: string): Promise<void>;
  /**
   * Aborts the incomplete multipart uploads (earlier, interrupted runs) whose key, relative to the
   * prefix, `owned` accepts; uploads of anyone else under the prefix are left alone. Returns how many.
   */
  abortStaleUploads(owned: (key: string) => boolean): Promise<number>;
}

function endpointOverridden(): boolean {
  return Boolean(process.env.AWS_ENDPOINT_URL_S3 || process.env.AWS_ENDPOINT_URL);
}

/**
 * The SDK reads AWS_ENDPOINT_URL / AWS_ENDPOINT_URL_S3 itself. Emulators (moto) need path-style
 * addressing, and we send our own per-part SHA-256, so the SDK's default CRC32 on every request is
 * turned off (it would also force streaming uploads into aws-chunked encoding).
 */
export function makeS3Client(): S3Client {
  return instrumented(
    new S3Client({
      forcePathStyle: endpointOverridden(),
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    }),
  );
}

export class S3Store implements ObjectStore {
  readonly url: string;
  constructor(
    private readonly client: S3Client,
    readonly bucket: string,
    readonly prefix: string,
  ) {
    this.url = `s3://${bucket}/${prefix}`;
  }

  async createMultipart(key: string): Promise<MultipartWriter> {
    const Key = this.prefix + key;
    const { UploadId } = await this.client.send(
      // SHA-256 has only the COMPOSITE type for multipart uploads; named so the recorded form is explicit
      new CreateMultipartUploadCommand({
        Bucket: this.bucket,
        Key,
        ChecksumAlgorithm: "SHA256",
        ChecksumType: "COMPOSITE",
        ContentType: "application/zstd",
      }),
    );
    if (!UploadId) throw new Error(`CreateMultipartUpload for ${Key} returned no UploadId`);
    const parts: CompletedPart[] = [];
    const { client, bucket } = this;
    return {
      async uploadPart(PartNumber, body, sha256Base64) {
        const r = await client.send(
          new UploadPartCommand({
            Bucket: bucket,
            Key,
            UploadId,
            PartNumber,
            Body: Buffer.isBuffer(body) ? body : createReadStream(body.path),
            ContentLength: body.length,
            ChecksumAlgorithm: "SHA256",
            ChecksumSHA256: sha256Base64,
          }),
        );
        // S3 verifies ChecksumSHA256 against the bytes it received and rejects the part on mismatch;
        // an answer carrying a different checksum would mean a broken emulator or proxy.
        if (r.ChecksumSHA256 && r.ChecksumSHA256 !== sha256Base64) {
          throw new Error(
            `part ${PartNumber} of ${Key}: S3 reports checksum ${r.ChecksumSHA256}, sent ${sha256Base64}`,
          );
        }
        // a retried part replaces its earlier entry
        parts.splice(0, parts.length, ...parts.filter((p) => p.PartNumber !== PartNumber), {
          PartNumber,
          ETag: r.ETag,
          ChecksumSHA256: sha256Base64,
        });
      },
      async complete(s3ChecksumSHA256) {
        parts.sort((a, b) => a.PartNumber! - b.PartNumber!);
        const r = await client.send(
          new CompleteMultipartUploadCommand({ Bucket: bucket, Key, UploadId, MultipartUpload: { Parts: parts } }),
        );
        // S3 answers with the composite it computed from the parts it stored (moto 5.2 answers none).
        // Another value means the object is not what was sent: fail the export, never record it, and
        // delete exactly the version just written (in a versioned bucket an earlier export's version of
        // the key becomes current again; no delete marker hides it).
        if (r.ChecksumSHA256 && r.ChecksumSHA256 !== s3ChecksumSHA256) {
          const what = `${Key}: CompleteMultipartUpload reports checksum ${r.ChecksumSHA256}, the ${parts.length} part(s) sent make ${s3ChecksumSHA256}`;
          const version = r.VersionId ? ` (version ${r.VersionId})` : "";
          try {
            await client.send(new DeleteObjectCommand({ Bucket: bucket, Key, VersionId: r.VersionId }));
          } catch (e) {
            throw new Error(
              `${what}; the object${version} could not be deleted and is not what was sent: ${(e as Error).message}`,
            );
          }
          throw new Error(`${what}; the object${version} was deleted`);
        }
      },
      async abort() {
        await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key, UploadId }));
      },
    };
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Body: body }));
  }

  async get(key: string): Promise<Readable> {
    const r = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
    return r.Body as Readable;
  }

  async size(key: string): Promise<number | undefined> {
    return (await this.head(key))?.size;
  }

  async head(key: string): Promise<{ size: number; etag?: string } | undefined> {
    try {
      const r = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
      return { size: r.ContentLength ?? 0, etag: (r.ETag ?? "").replace(/"/g, "") };
    } catch (e) {
      const err = e as { name?: string; $metadata?: { httpStatusCode?: number } };
      if (err.name === "NotFound" || err.$metadata?.httpStatusCode === 404) return undefined;
      throw e;
    }
  }

  async getRange(key: string, start: number, end: number): Promise<Buffer> {
    const r = await this.client.send(
      new GetObjectCommand({ Bucket: this.bucket, Key: this.prefix + key, Range: `bytes=${start}-${end - 1}` }),
    );
    return Buffer.from(await r.Body!.transformToByteArray());
  }

  async list(prefix: string): Promise<{ key: string; size: number }[]> {
    const out: { key: string; size: number }[] = [];
    let ContinuationToken: string | undefined;
    do {
      const page = await this.client.send(
        new ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.prefix + prefix, ContinuationToken }),
      );
      for (const o of page.Contents ?? []) out.push({ key: o.Key!.slice(this.prefix.length), size: o.Size ?? 0 });
      ContinuationToken = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (ContinuationToken);
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await this.client.send(new DeleteObjectCommand({ Bucket: this.bucket, Key: this.prefix + key }));
  }

  async abortStaleUploads(owned: (key: string) => boolean): Promise<number> {
    let n = 0;
    let KeyMarker: string | undefined;
    let UploadIdMarker: string | undefined;
    for (;;) {
      const r = await this.client.send(
        new ListMultipartUploadsCommand({ Bucket: this.bucket, Prefix: this.prefix, KeyMarker, UploadIdMarker }),
      );
      for (const u of r.Uploads ?? []) {
        if (!u.Key?.startsWith(this.prefix) || !owned(u.Key.slice(this.prefix.length))) continue;
        await this.client.send(
          new AbortMultipartUploadCommand({ Bucket: this.bucket, Key: u.Key, UploadId: u.UploadId }),
        );
        n++;
      }
      if (!r.IsTruncated) return n;
      KeyMarker = r.NextKeyMarker;
      UploadIdMarker = r.NextUploadIdMarker;
    }
  }
}

const PARTIAL = ".partial";

/**
 * A local directory with the same semantics: a multipart upload is a `<key>.partial` file written
 * at part offsets and renamed into place on completion, so a crashed run never leaves a file that
 * looks complete.
 */
export class FileStore implements ObjectStore {
  readonly url: string;
  /**
   * @param direct whether openDirect() hands zstd the `.partial` file (the default); false makes the
   * worker write the file from its part buffers, like an upload (tests of the upload path use it).
   */
  constructor(
    readonly dir: string,
    private readonly direct = true,
  ) {
    this.url = `file://${dir}/`;
  }

  async openDirect(key: string): Promise<DirectWriter | undefined> {
    if (!this.direct) return undefined;
    // read and write: zstd writes through its copy of the descriptor, the worker reads back through this one
    const { fh, complete, abort } = await this.openPartial(key, "w+");
    return {
      fd: fh.fd,
      async read(buf, length, position) {
        return (await fh.read(buf, 0, length, position)).bytesRead;
      },
      complete,
      abort,
    };
  }

  /**
   * `<key>.partial`, opened with `flags`: complete() flushes it to disk and renames it to the key (a reader
   * never sees a half-written object), abort() removes it; both close it once.
   */
  private async openPartial(key: string, flags: string) {
    const final = this.file(key);
    const partial = final + PARTIAL;
    await fs.mkdir(path.dirname(final), { recursive: true });
    const fh = await fs.open(partial, flags);
    let closed = false;
    const close = async () => {
      if (!closed) {
        closed = true;
        await fh.close();
      }
    };
    return {
      fh,
      async complete() {
        await fh.sync();
        await close();
        await fs.rename(partial, final);
      },
      async abort() {
        await close();
        await fs.rm(partial, { force: true });
      },
    };
  }

  private file(key: string): string {
    const p = path.resolve(this.dir, key);
    if (!p.startsWith(path.resolve(this.dir) + path.sep)) throw new Error(`key escapes the target directory: ${key}`);
    return p;
  }

  async createMultipart(key: string): Promise<MultipartWriter> {
    const { fh, complete, abort } = await this.openPartial(key, "w");
    return {
      async uploadPart(_n, body, _sha, offset) {
        if (Buffer.isBuffer(body)) {
          for (let done = 0; done < body.length;)
            done += (await fh.write(body, done, body.length - done, offset + done)).bytesWritten;
          return;
        }
        let pos = offset;
        for await (const c of createReadStream(body.path, { highWaterMark: 4 * 1024 * 1024 })) {
          const b = c as Buffer;
          for (let done = 0; done < b.length;)
            done += (await fh.write(b, done, b.length - done, pos + done)).bytesWritten;
          pos += b.length;
        }
      },
      complete,
      abort,
    };
  }

  async put(key: string, body: Buffer | string): Promise<void> {
    const final = this.file(key);
    await fs.mkdir(path.dirname(final), { recursive: true });
    // write-then-rename: a reader never sees a half-written manifest
    await fs.writeFile(final + PARTIAL, body);
    await fs.rename(final + PARTIAL, final);
  }

  async get(key: string): Promise<Readable> {
    const f = this.file(key);
    await fs.access(f);
    return createReadStream(f, { highWaterMark: 4 * 1024 * 1024 });
  }

  async size(key: string): Promise<number | undefined> {
    try {
      return (await fs.stat(this.file(key))).size;
    } catch {
      return undefined;
    }
  }

  async head(key: string): Promise<{ size: number } | undefined> {
    const size = await this.size(key);
    return size === undefined ? undefined : { size };
  }

  async getRange(key: string, start: number, end: number): Promise<Buffer> {
    const fh = await fs.open(this.file(key), "r");
    try {
      const b = Buffer.alloc(end - start);
      let done = 0;
      while (done < b.length) {
        const { bytesRead } = await fh.read(b, done, b.length - done, start + done);
        if (bytesRead === 0) throw new Error(`${this.url}${key} ends at byte ${start + done}, before ${end}`);
        done += bytesRead;
      }
      return b;
    } finally {
      await fh.close();
    }
  }

  /** Regular files only, and no `.partial` file (an upload in progress is no object). */
  async list(prefix: string): Promise<{ key: string; size: number }[]> {
    const out: { key: string; size: number }[] = [];
    const walk = async (dir: string, rel: string): Promise<void> => {
      let entries;
      try {
        entries = await fs.readdir(dir, { withFileTypes: true });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") return;
        throw e;
      }
      for (const e of entries) {
        const key = rel + e.name;
        if (e.isDirectory()) {
          if (prefix.startsWith(key + "/") || (key + "/").startsWith(prefix))
            await walk(path.join(dir, e.name), key + "/");
        } else if (e.isFile() && key.startsWith(prefix) && !key.endsWith(PARTIAL))
          out.push({ key, size: (await fs.stat(path.join(dir, e.name))).size });
      }
    };
    await walk(this.dir, "");
    return out.sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  async delete(key: string): Promise<void> {
    await fs.rm(this.file(key), { force: true });
  }

  async abortStaleUploads(owned: (key: string) => boolean): Promise<number> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch {
      return 0;
    }
    const stale = names.filter((n) => n.endsWith(PARTIAL) && owned(n.slice(0, -PARTIAL.length)));
    for (const n of stale) await fs.rm(path.join(this.dir, n), { force: true });
    return stale.length;
  }
}

export function openStore(target: Target): ObjectStore {
  return target.kind === "s3" ? new S3Store(makeS3Client(), target.bucket, target.prefix) : new FileStore(target.dir);
}
