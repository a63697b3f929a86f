/** Manifests for tests: the items under test, the rest filled with plausible fixed values. */
import type { Manifest, ManifestItem } from "../../batch-worker/src/manifest";

export function manifestOf(items: ManifestItem[], overrides: Partial<Manifest> = {}): Manifest {
  const compressed = items.reduce((n, i) => n + (i.compressedBytes ?? 0), 0);
  const uncompressed = items.reduce((n, i) => n + (i.uncompressedBytes ?? 0), 0);
  return {
    version: 1,
    tool: "backup-actions",
    device: { path: "/dev/nvme1n1", sizeBytes: 1 << 30 },
    partitionTable: { type: null, partitions: [] },
    items,
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
