import { close, ftruncate, open, write } from "node:fs";
import { Writable } from "node:stream";

const ZERO = Buffer.alloc(1024 * 1024);

export function isAllZero(b: Buffer): boolean {
  for (let off = 0; off < b.length; off += ZERO.length) {
    const n = Math.min(ZERO.length, b.length - off);
    if (!b.subarray(off, off + n).equals(ZERO.subarray(0, n))) return false;
  }
  return true;
}

/**
 * Writes a file, leaving all-zero chunks as holes (then sets the length): restoring the image of a
 * mostly empty disk costs the space and time of its data only. Not for block devices, whose old
 * contents must be overwritten with the zeros.
 */
export class SparseFileWriter extends Writable {
  private fd = -1;
  private pos = 0;

  /** `flags`/`mode` as for fs.open (restore passes O_CREAT|O_EXCL|O_NOFOLLOW and 0600). */
  constructor(
    private readonly path: string,
    private readonly flags: string | number = "w",
    private readonly mode: number = 0o666,
  ) {
    super({ highWaterMark: 4 * 1024 * 1024 });
  }

  override _construct(cb: (e?: Error | null) => void): void {
    open(this.path, this.flags, this.mode, (e, fd) => {
      this.fd = fd;
      cb(e);
    });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const start = this.pos;
    this.pos += chunk.length;
    if (isAllZero(chunk)) return cb();
    const step = (done: number): void => {
      if (done === chunk.length) return cb();
      write(this.fd, chunk, done, chunk.length - done, start + done, (e, n) => (e ? cb(e) : step(done + n)));
    };
    step(0);
  }

  override _final(cb: (e?: Error | null) => void): void {
    ftruncate(this.fd, this.pos, cb);
  }

  override _destroy(err: Error | null, cb: (e?: Error | null) => void): void {
    if (this.fd < 0) return cb(err);
    close(this.fd, (e) => cb(err ?? e));
  }
}
