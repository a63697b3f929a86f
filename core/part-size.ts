/**
 * S3 multipart limits: at most 10,000 parts, each 5 MiB..5 GiB (the last may be smaller).
 * 10,000 x 5 GiB = 48.8 TiB is therefore the largest object a multipart upload can produce.
 */
import { MAX_PARTS } from "./s3-checksum";

export { MAX_PARTS };
export const MIB = 1024 * 1024;
export const GIB = 1024 * MIB;
export const TIB = 1024 * GIB;
export const MIN_PART_SIZE = 8 * MIB;
export const MAX_PART_SIZE = 5 * GIB;

/**
 * Worst-case size of the compressed stream for `sourceBytes` of input.
 * - zstd's bound for incompressible input is n + n/256 (+ a few bytes per block/frame): ZSTD_compressBound.
 * - tar adds a 512-byte header per member and pads each file to 512 bytes. A filesystem spends at
 *   least one 4 KiB block per non-empty file, so padding + headers stay well under 1/256 of the
 *   device for incompressible contents (tiny files are headers and zero padding, which compress).
 * We allow 1/128 in total plus 1 MiB for frame headers, the tar end-of-archive blocks and rounding.
 */
export function worstCaseCompressedBytes(sourceBytes: number): number {
  return sourceBytes + Math.ceil(sourceBytes / 128) + MIB;
}

/**
 * Part size for a stream read from a device (or partition) of `deviceBytes`: the smallest whole
 * number of MiB such that 10,000 parts hold the worst case, clamped to [8 MiB, 5 GiB].
 * Above ~48.4 TiB even 5 GiB parts cannot hold incompressible data; see `fitsWorstCase`.
 */
export function partSizeFor(deviceBytes: number): number {
  if (!Number.isFinite(deviceBytes) || deviceBytes < 0) throw new RangeError(`invalid device size: ${deviceBytes}`);
  const perPart = Math.ceil(worstCaseCompressedBytes(deviceBytes) / MAX_PARTS);
  const mib = Math.ceil(perPart / MIB) * MIB;
  return Math.min(MAX_PART_SIZE, Math.max(MIN_PART_SIZE, mib));
}

/** True when `partSize` x 10,000 parts can hold the worst-case stream of a `deviceBytes` device. */
export function fitsWorstCase(deviceBytes: number, partSize = partSizeFor(deviceBytes)): boolean {
  return partSize * MAX_PARTS >= worstCaseCompressedBytes(deviceBytes);
}
