/**
 * `restore --device`: an image onto a block device. A device cannot be staged, so everything that
 * can be checked is checked before the first byte is written, and a failure afterwards says that
 * the device's contents are not to be trusted.
 *
 * - The device is opened `O_WRONLY|O_EXCL`: on Linux an exclusive open of a block device fails with
 *   EBUSY while it is mounted, is part of a RAID/LVM/dm device, or is held open exclusively by
 *   another program; the descriptor is kept (and so is the claim) until the restore ends.
 * - It must be a block device (checked on the open descriptor) at least as large as the image's
 *   recorded `uncompressedBytes` (`blockdev --getsize64`, the BLKGETSIZE64 ioctl); decompression stops
 *   at that size, so the device's end is never reached.
 */
import { constants, promises as fs } from "node:fs";
import type { FileHandle } from "node:fs/promises";
import { Writable } from "node:stream";
import { runOk } from "./exec";
import { RestoreRefusedError } from "./restore-target";

/** What is zeroed at the start of a device whose restore failed: enough to remove any filesystem's primary superblock. */
export const WIPE_BYTES = 1024 * 1024;

export interface OpenDevice {
  readonly path: string;
  readonly handle: FileHandle;
  readonly sizeBytes: number;
}

/** Opens `dev` exclusively for writing and reads its size; refuses (nothing written) when it is in use or not a block device. */
export async function openDeviceExclusive(dev: string): Promise<OpenDevice> {
  let handle: FileHandle;
  try {
    handle = await fs.open(dev, constants.O_WRONLY | constants.O_EXCL);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EBUSY") {
      throw new RestoreRefusedError(
        `--device ${dev} is in use (EBUSY: mounted, part of an LVM/RAID/dm device, or opened exclusively by another program): ` +
          `refusing to write to it; unmount it (see findmnt, lsblk) and try again`,
      );
    }
    if (code === "ENOENT") throw new RestoreRefusedError(`--device ${dev} does not exist`);
    throw new RestoreRefusedError(`--device ${dev} cannot be opened for writing: ${(e as Error).message}`);
  }
  try {
    if (!(await handle.stat()).isBlockDevice()) throw new RestoreRefusedError(`--device ${dev} is not a block device`);
    const sizeBytes = Number((await runOk("blockdev", ["--getsize64", dev])).trim());
    if (!Number.isSafeInteger(sizeBytes))
      throw new RestoreRefusedError(`--device ${dev}: blockdev --getsize64 answered no size`);
    return { path: dev, handle, sizeBytes };
  } catch (e) {
    await handle.close();
    throw e;
  }
}

/** Refuses an image the device cannot hold, before anything is written. */
export function checkFits(d: OpenDevice, item: { name: string; uncompressedBytes?: number }): void {
  const need = item.uncompressedBytes;
  if (need === undefined || !Number.isSafeInteger(need) || need < 0) {
    throw new RestoreRefusedError(
      `item ${item.name}: the manifest records no uncompressedBytes, so it cannot be checked against --device ${d.path}`,
    );
  }
  if (need > d.sizeBytes) {
    throw new RestoreRefusedError(
      `item ${item.name} is ${need} bytes, --device ${d.path} holds ${d.sizeBytes}: refusing to write an image larger than the device`,
    );
  }
}

/**
 * After a failed restore that wrote to the device: zeroes its first WIPE_BYTES so that no
 * filesystem on it is mounted by accident, flushes, and returns what to tell the user.
 */
export async function condemn(d: OpenDevice, bytesWritten: number): Promise<string> {
  if (bytesWritten === 0) return `nothing was written to ${d.path}`;
  const n = Math.min(WIPE_BYTES, d.sizeBytes);
  try {
    await d.handle.write(Buffer.alloc(n), 0, n, 0);
    await d.handle.sync();
    return (
      `${bytesWritten} bytes were written to ${d.path} before the failure: ITS CONTENTS ARE NOT TRUSTWORTHY; ` +
      `its first ${n} bytes were zeroed so that nothing mounts it by accident`
    );
  } catch (e) {
    return `${bytesWritten} bytes were written to ${d.path} before the failure: ITS CONTENTS ARE NOT TRUSTWORTHY (zeroing its start failed too: ${(e as Error).message})`;
  }
}

/**
 * Writes the image from offset 0 through the exclusive descriptor (zeros too: the device's old
 * contents must go). A plain Writable: the descriptor stays open whatever happens to the stream,
 * so the claim on the device holds until the restore has said what state it left.
 */
export class DeviceWriter extends Writable {
  /** Bytes written to the device so far. */
  written = 0;

  constructor(private readonly d: OpenDevice) {
    super({ highWaterMark: 4 * 1024 * 1024 });
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (e?: Error | null) => void): void {
    const step = async () => {
      for (let done = 0; done < chunk.length;) {
        const { bytesWritten } = await this.d.handle.write(chunk, done, chunk.length - done, this.written);
        if (bytesWritten === 0) throw new Error(`${this.d.path}: no space at offset ${this.written}`);
        done += bytesWritten;
        this.written += bytesWritten;
      }
    };
    step().then(() => cb(), cb);
  }
}
