/** Manifests for tests: the items under test, the rest filled with plausible fixed values. */
import { MANIFEST_VERSION, type DeviceRange, type Manifest, type ManifestItem } from "../../core/manifest";

/**
 * The ranges that account for a device holding `items` where their sources say: one range per
 * item that is not an LV, the bytes between them unallocated. Items must not overlap.
 */
export function rangesOf(items: readonly ManifestItem[], deviceBytes: number): DeviceRange[] {
  const ranges: DeviceRange[] = [];
  let end = 0;
  const placed = items
    .filter((i) => i.source.lv === undefined)
    .sort((a, b) => a.source.offsetBytes - b.source.offsetBytes);
  for (const it of placed) {
    const { offsetBytes, sizeBytes } = it.source;
    if (offsetBytes > end)
      ranges.push({ offsetBytes: end, sizeBytes: offsetBytes - end, use: "unallocated", reason: "test: all zero" });
    if (sizeBytes > 0) ranges.push({ offsetBytes, sizeBytes, use: "item", item: it.name });
    end = offsetBytes + sizeBytes;
  }
  if (end < deviceBytes)
    ranges.push({ offsetBytes: end, sizeBytes: deviceBytes - end, use: "unallocated", reason: "test: all zero" });
  return ranges;
}

/**
 * A version 2 manifest of `items`: the device is as large as `overrides.device` says (default
 * 1 GiB, or as far as the items reach), totals and ranges follow from the items unless overridden.
 */
export function manifestOf(items: ManifestItem[], overrides: Partial<Manifest> = {}): Manifest {
  const compressed = items.reduce((n, i) => n + (i.compressedBytes ?? 0), 0);
  const uncompressed = items.reduce((n, i) => n + (i.uncompressedBytes ?? 0), 0);
  const reach = Math.max(0, ...items.map((i) => i.source.offsetBytes + i.source.sizeBytes));
  const device = overrides.device ?? { path: "/dev/nvme1n1", sizeBytes: Math.max(1 << 30, reach) };
  return {
    version: MANIFEST_VERSION,
    tool: "backup-actions",
    device,
    partitionTable: { type: null, partitions: [] },
    items,
    ranges: rangesOf(items, device.sizeBytes),
    compression: { tool: "zstd", level: 3 },
    tools: {},
    startedAt: "2026-11-26T00:00:00Z",
    finishedAt: "2026-11-26T00:01:00Z",
    seconds: 60,
    bytesPerSecond: 1,
    totals: { uncompressedBytes: uncompressed, compressedBytes: compressed },
    ...overrides,
  };
}
