/**
 * S3's SHA-256 checksums as the worker records them in the manifest (`s3ChecksumSHA256`) and as
 * S3 reports them (HeadObject/GetObject with ChecksumMode ENABLED, CompleteMultipartUpload):
 *
 * - an object written by one PutObject: the base64 SHA-256 of its bytes (ChecksumType FULL_OBJECT);
 * - a multipart object uploaded with ChecksumAlgorithm SHA256 (SHA-256 has no FULL_OBJECT type for
 *   multipart uploads, so ChecksumType is COMPOSITE): the base64 SHA-256 of the concatenated binary
 *   SHA-256 digests of its parts in part order, followed by `-<number of parts>`. It depends on the
 *   part size, so it is not the SHA-256 of the object.
 */
import { createHash, Hash } from "node:crypto";
/** S3 multipart limit: at most 10,000 parts per object. */
export const MAX_PARTS = 10_000;

/** A base64 SHA-256 (32 bytes: 43 characters and one `=`), optionally followed by `-<parts>`. */
const S3_SHA256 = /^[A-Za-z0-9+/]{43}=(?:-([0-9]{1,5}))?$/;

/** The composite checksum of a multipart object whose parts, in order, have these base64 SHA-256s. */
export function compositeSha256(partSha256Base64: readonly string[]): string {
  if (partSha256Base64.length === 0) throw new RangeError("a multipart object has at least one part");
  const h = createHash("sha256");
  for (const p of partSha256Base64) {
    const digest = Buffer.from(p, "base64");
    if (digest.length !== 32 || digest.toString("base64") !== p)
      throw new Error(`not a base64 SHA-256: ${JSON.stringify(p)}`);
    h.update(digest);
  }
  return `${h.digest("base64")}-${partSha256Base64.length}`;
}

/**
 * Checks the shape of an S3 SHA-256 checksum. Returns the number of parts it names (undefined for
 * the plain form), or throws with what is wrong.
 */
export function parseS3Sha256(value: unknown): { parts?: number } {
  const m = typeof value === "string" ? S3_SHA256.exec(value) : null;
  if (!m) throw new Error(`${JSON.stringify(value)} is not a base64 SHA-256 optionally followed by -<parts>`);
  if (m[1] === undefined) return {};
  const parts = Number(m[1]);
  if (parts < 1 || parts > MAX_PARTS || String(parts) !== m[1])
    throw new Error(`${JSON.stringify(value)} names ${m[1]} parts (1..${MAX_PARTS})`);
  return { parts };
}

/**
 * Recomputes an object's composite checksum from its bytes, given the part size it was uploaded
 * with: every part but the last has `partSize` bytes; an empty object was one empty part (what the
 * uploader sends).
 */
export class CompositeSha256 {
  private readonly digests: string[] = [];
  private part: Hash | undefined;
  private fill = 0;

  constructor(private readonly partSize: number) {
    if (!Number.isSafeInteger(partSize) || partSize < 1) throw new RangeError(`invalid part size: ${partSize}`);
  }

  update(chunk: Buffer): void {
    for (let off = 0; off < chunk.length;) {
      this.part ??= createHash("sha256");
      const n = Math.min(this.partSize - this.fill, chunk.length - off);
      this.part.update(chunk.subarray(off, off + n));
      this.fill += n;
      off += n;
      if (this.fill === this.partSize) this.endPart();
    }
  }

  /** The composite checksum `<base64>-<parts>`; call once, after the last byte. */
  digest(): string {
    if (this.part || this.digests.length === 0) this.endPart();
    return compositeSha256(this.digests);
  }

  private endPart(): void {
    this.digests.push((this.part ?? createHash("sha256")).digest("base64"));
    this.part = undefined;
    this.fill = 0;
  }
}
