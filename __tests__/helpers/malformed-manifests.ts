/**
 * Malformed manifests and the exact problem each reader must name (after "invalid manifest <file>: ").
 * Shared by the core parser's tests, `backup-actions verify` and the verify Lambda, so that all three
 * refuse the same manifests with the same words.
 */
import { createHash } from "node:crypto";
import type { Manifest, ManifestItem } from "../../core/manifest";
import { manifestOf } from "./manifest";

export const GiB = 1 << 30;
const hex = (s: string) => createHash("sha256").update(s).digest("hex");

/** A well-formed tar item p1 over the first GiB; p2 a skipped (swap) GiB after it. */
export function tarItem(extra: Partial<ManifestItem> = {}): ManifestItem {
  return {
    name: "p1",
    kind: "tar",
    source: { path: "/dev/nvme1n1p1", fsType: "ext4", offsetBytes: 0, sizeBytes: GiB },
    key: "p1.tar.zst",
    uncompressedBytes: 300,
    compressedBytes: 100,
    sha256: hex("p1"),
    partSize: 8 << 20,
    parts: 1,
    ...extra,
  };
}

export function swapItem(extra: Partial<ManifestItem> = {}): ManifestItem {
  return {
    name: "p2",
    kind: "skipped",
    reason: "swap space",
    source: { path: "/dev/nvme1n1p2", fsType: "swap", offsetBytes: GiB, sizeBytes: GiB },
    ...extra,
  };
}

/** A valid manifest of p1 and p2 on a 2 GiB device; `change` edits its JSON form. */
export function validManifest(change: (m: Record<string, unknown> & Manifest) => void = () => undefined): string {
  const m = manifestOf([tarItem(), swapItem()], { device: { path: "/dev/nvme1n1", sizeBytes: 2 * GiB } }) as Record<
    string,
    unknown
  > &
    Manifest;
  change(m);
  return JSON.stringify(m);
}

export interface MalformedCase {
  title: string;
  json: string;
  /** The problem, exactly as the reader words it after the file. */
  issue: string;
}

const item = (m: Manifest, i: number) => m.items[i] as unknown as Record<string, unknown>;

export const MALFORMED: MalformedCase[] = [
  {
    title: "unknown kind",
    json: validManifest((m) => (item(m, 0).kind = "zip")),
    issue: 'item 0 ("p1"): kind: "zip" is not one of "tar", "img", "skipped"',
  },
  {
    title: "missing name",
    json: validManifest((m) => delete item(m, 0).name),
    issue: "item 0 (no name): name: missing",
  },
  {
    title: "null items",
    json: validManifest((m) => ((m as Record<string, unknown>).items = null)),
    issue: "items: expected array, got null",
  },
  {
    title: "a null item",
    json: validManifest((m) => ((m.items as unknown[])[1] = null)),
    issue: "item 1 (no name): expected object, got null",
  },
  ...["../../etc", "..", ".", "a/b", "-rf", "nul\u0000byte", "", "x".repeat(129), ".hidden", "sp ace"].map((name) => ({
    title: `name ${JSON.stringify(name)}`,
    json: validManifest((m) => (item(m, 0).name = name)),
    issue:
      `item 0 (${JSON.stringify(name)}): name: ${JSON.stringify(name)} is not a single safe path component ` +
      '(1 to 128 of A-Z a-z 0-9 _ . + -, not starting with "." or "-")',
  })),
  {
    title: "duplicate names",
    json: validManifest((m) => (item(m, 1).name = "p1")),
    issue: 'item 1 ("p1"): name: "p1" is also the name of item 0',
  },
  {
    title: "a key that is not the item's",
    json: validManifest((m) => (item(m, 0).key = "../p1.tar.zst")),
    issue: 'item 0 ("p1"): key: "../p1.tar.zst" is not "p1.tar.zst", the key of a tar item of that name',
  },
  {
    title: "the key of another kind",
    json: validManifest((m) => (item(m, 0).kind = "img")),
    issue: 'item 0 ("p1"): key: "p1.tar.zst" is not "p1.img.zst", the key of a img item of that name',
  },
  {
    title: "an exported item without a key",
    json: validManifest((m) => delete item(m, 0).key),
    issue: 'item 0 ("p1"): key: missing',
  },
  {
    title: "a skipped item with an object",
    json: validManifest((m) => (item(m, 1).key = "p2.img.zst")),
    issue: 'item 1 ("p2"): key: a skipped item has no object',
  },
  {
    title: "negative size",
    json: validManifest((m) => (item(m, 0).compressedBytes = -1)),
    issue: 'item 0 ("p1"): compressedBytes: -1 is below 0',
  },
  {
    title: "fractional size",
    json: validManifest((m) => (item(m, 0).uncompressedBytes = 1.5)),
    issue: 'item 0 ("p1"): uncompressedBytes: expected int, got 1.5',
  },
  {
    title: "parts that cannot hold the compressed bytes",
    json: validManifest((m) => (item(m, 0).parts = 3)),
    issue: 'item 0 ("p1"): parts: 3, but 100 compressed bytes in parts of 8388608 bytes are 1 part(s)',
  },
  {
    title: "totals that are not the sum of the items",
    json: validManifest((m) => (m.totals.compressedBytes = 99)),
    issue: "totals.compressedBytes: 99, but the items add up to 100",
  },
  {
    title: "an item reaching past the device",
    json: validManifest((m) => (m.device.sizeBytes = GiB + 1)),
    issue: 'item 1 ("p2"): source: bytes 1073741824..2147483648 reach past the device\'s 1073741825 bytes',
  },
  {
    title: "ranges with a gap",
    json: validManifest((m) => m.ranges!.splice(0, 1)),
    issue:
      "range 0 (bytes 1073741824..2147483648): offsetBytes: bytes 0..1073741824 before it are in no range; " +
      'item 0 ("p1"): source: its bytes are in no range of the device',
  },
  {
    title: "overlapping ranges",
    json: validManifest((m) => (m.ranges![1]!.offsetBytes = GiB - 512)),
    issue:
      "range 1 (bytes 1073741312..2147483136): offsetBytes: overlaps the range before it, which ends at byte 1073741824; " +
      'range 1 (bytes 1073741312..2147483136): item: "p2" has bytes 1073741824..2147483648, not these; ' +
      "ranges: bytes 2147483136..2147483648 of the device are in no range",
  },
  {
    title: "ranges short of the device's end",
    json: validManifest((m) => {
      m.device.sizeBytes = 3 * GiB;
    }),
    issue: "ranges: bytes 2147483648..3221225472 of the device are in no range",
  },
  {
    title: "an item in no range",
    json: validManifest(
      (m) => (m.ranges![1] = { offsetBytes: GiB, sizeBytes: GiB, use: "unallocated", reason: "zero" }),
    ),
    issue: 'item 1 ("p2"): source: its bytes are in no range of the device',
  },
  {
    title: "a range naming no item",
    json: validManifest((m) => (m.ranges![0] = { offsetBytes: 0, sizeBytes: GiB, use: "item", item: "p9" })),
    issue:
      'range 0 (bytes 0..1073741824): item: no item is named "p9"; item 0 ("p1"): source: its bytes are in no range of the device',
  },
  {
    title: "version 2 without ranges",
    json: validManifest((m) => delete m.ranges),
    issue: "ranges: missing (a version 2 manifest accounts for every byte of the device)",
  },
];
