/**
 * Limits of one EBS export that follow from the volume: how long it takes to read, and how much
 * memory its part buffers need. config/rules.ts checks the config against them; the job
 * definition passes the part-buffer budget to the worker, which never spools parts to disk.
 */
import { GIB, MIB, partSizeFor } from "./part-size";

/** Memory kept for everything but part buffers: Node (~150 MiB measured), tar, and zstd per thread. */
export const WORKER_BASE_RESERVE_MIB = 1024;
export const WORKER_RESERVE_PER_VCPU_MIB = 128;

/** MiB of a job's memory the uploader may use for part buffers (the rest is the reserve above). */
export function partBufferBudgetMiB(memoryMiB: number, vcpus: number): number {
  return memoryMiB - WORKER_BASE_RESERVE_MIB - WORKER_RESERVE_PER_VCPU_MIB * vcpus;
}

/** Part size (MiB) the worker uses for a device of `volumeGiB`. */
export function partSizeMiBFor(volumeGiB: number): number {
  return partSizeFor(volumeGiB * GIB) / MIB;
}

/**
 * The uploader holds at most `concurrency` parts (it fills one only while a slot is free); it needs
 * at least two (fill one while the other uploads) to keep the pipe moving.
 */
export const MIN_PART_BUFFERS = 2;

export interface VolumeRates {
  readonly throughputMiBps: number;
  readonly initializationRateMiBps?: number;
}

/**
 * The rate the config guarantees for reading the restored volume: its gp3 throughput, or the
 * provisioned initialization rate when that is lower. Without an initialization rate, blocks are
 * loaded lazily from S3 on first read, which is slower by an amount AWS does not publish: then the
 * throughput is only an upper bound (README, "Limits").
 */
export function readRateMiBps(volume: VolumeRates): number {
  return volume.initializationRateMiBps === undefined
    ? volume.throughputMiBps
    : Math.min(volume.throughputMiBps, volume.initializationRateMiBps);
}

/** Margin on the read time: 25 % (compression stalls, upload retries) plus an hour (start, attach, manifest). */
export const TIMEOUT_MARGIN_FACTOR = 1.25;
export const TIMEOUT_MARGIN_HOURS = 1;

/** Hours to read `volumeGiB` at `rateMiBps`. */
export function readHours(volumeGiB: number, rateMiBps: number): number {
  return (volumeGiB * 1024) / rateMiBps / 3600;
}

/** The smallest Batch attempt timeout (whole hours) that exports `volumeGiB` at `rateMiBps`. */
export function requiredTimeoutHours(volumeGiB: number, rateMiBps: number): number {
  return Math.ceil(readHours(volumeGiB, rateMiBps) * TIMEOUT_MARGIN_FACTOR + TIMEOUT_MARGIN_HOURS);
}
