import { createHash } from "node:crypto";
import { checkManifest, isExportKey, ManifestError, ManifestItem, parseManifest } from "../../core/manifest";
import { GiB, MALFORMED, swapItem, tarItem, validManifest } from "../helpers/malformed-manifests";
import { manifestOf } from "../helpers/manifest";

const FILE = "s3://archive/ebs/vol-1/manifest.json";
const sha = createHash("sha256").update("p1").digest("base64");

function manifestWith(extra: Partial<ManifestItem>): string {
  return JSON.stringify(manifestOf([tarItem(extra)], { device: { path: "/dev/nvme1n1", sizeBytes: GiB } }));
}

function problem(json: string, opts = {}): string {
  try {
    parseManifest(json, FILE, opts);
  } catch (e) {
    expect(e).toBeInstanceOf(ManifestError);
    expect((e as ManifestError).file).toBe(FILE);
    return (e as Error).message;
  }
  throw new Error("the manifest was accepted");
}

describe("parseManifest: a valid manifest", () => {
  it("reads a manifest whose items and ranges account for the device", () => {
    const m = parseManifest(validManifest(), FILE);
    expect(m.items.map((i) => i.name)).toEqual(["p1", "p2"]);
    expect(m.ranges).toEqual([
      { offsetBytes: 0, sizeBytes: GiB, use: "item", item: "p1" },
      { offsetBytes: GiB, sizeBytes: GiB, use: "item", item: "p2" },
    ]);
  });

  it("reads unallocated ranges between items, and LVs inside their PV's range", () => {
    const pv = swapItem({
      name: "p1",
      reason: "LVM physical volume",
      source: { path: "/dev/x1", fsType: "lvm2-pv", offsetBytes: 1 << 20, sizeBytes: GiB },
    });
    const lv = tarItem({
      name: "vg0-root",
      key: "vg0-root.tar.zst",
      source: { path: "/dev/loop3", lv: "vg0/root", fsType: "ext4", offsetBytes: 2 << 20, sizeBytes: 1 << 20 },
    });
    const dm = tarItem({
      name: "vg0-data",
      key: "vg0-data.tar.zst",
      source: { path: "/dev/mapper/vg0-data", lv: "vg0/data", fsType: "xfs", offsetBytes: -1, sizeBytes: 1 << 20 },
    });
    const json = JSON.stringify(manifestOf([pv, lv, dm], { device: { path: "/dev/x", sizeBytes: 2 * GiB } }));
    expect(parseManifest(json, FILE).ranges!.map((r) => r.use)).toEqual(["unallocated", "item", "unallocated"]);
    const outside = tarItem({ ...lv, source: { ...lv.source, offsetBytes: GiB + (2 << 20) } });
    expect(problem(JSON.stringify(manifestOf([pv, outside], { device: { path: "/dev/x", sizeBytes: 2 * GiB } })))).toBe(
      `invalid manifest ${FILE}: item 1 ("vg0-root"): source: an LV outside every LVM PV range of the device`,
    );
  });

  it("checks an object as well as a string (the worker checks its own manifest before writing it)", () => {
    expect(checkManifest(JSON.parse(validManifest()), FILE).version).toBe(2);
  });
});

describe("parseManifest refuses a malformed manifest, naming the file, the item and the field", () => {
  it.each(MALFORMED.map((c) => [c.title, c] as const))("%s", (_t, c) => {
    expect(problem(c.json)).toBe(`invalid manifest ${FILE}: ${c.issue}`);
  });

  it("refuses what is not JSON or not a manifest", () => {
    expect(problem("{ not json")).toMatch(new RegExp(`^invalid manifest ${FILE}: not JSON \\(`));
    expect(problem("null")).toBe(`invalid manifest ${FILE}: not a backup-actions manifest (tool missing)`);
    expect(problem(validManifest((m) => ((m as Record<string, unknown>).tool = "other")))).toBe(
      `invalid manifest ${FILE}: not a backup-actions manifest (tool "other")`,
    );
  });

  it("refuses unknown fields (a strict schema: a field it does not know is not silently trusted)", () => {
    expect(problem(validManifest((m) => ((m.items[0] as unknown as Record<string, unknown>).path = "/etc")))).toBe(
      `invalid manifest ${FILE}: item 0 ("p1"): unknown field path`,
    );
  });

  it("lists every problem it finds", () => {
    const json = validManifest((m) => {
      (m.items[0] as unknown as Record<string, unknown>).kind = "zip";
      (m.items[1] as unknown as Record<string, unknown>).name = "../x";
    });
    expect(problem(json)).toBe(
      `invalid manifest ${FILE}: item 0 ("p1"): kind: "zip" is not one of "tar", "img", "skipped"; ` +
        'item 1 ("../x"): name: "../x" is not a single safe path component (1 to 128 of A-Z a-z 0-9 _ . + -, not starting with "." or "-")',
    );
  });
});

describe("version 1 manifests (no byte ranges)", () => {
  const v1 = validManifest((m) => {
    (m as { version: number }).version = 1;
    delete m.ranges;
  });

  it("are refused unless the reader accepts them", () => {
    expect(problem(v1)).toBe(
      `invalid manifest ${FILE}: version: 1 is not one this reader accepts (2) (version 1 has no byte ranges to account for the device)`,
    );
    expect(parseManifest(v1, FILE, { acceptVersion1: true }).ranges).toBeUndefined();
  });

  it("are checked like version 2 otherwise", () => {
    const bad = validManifest((m) => {
      (m as { version: number }).version = 1;
      delete m.ranges;
      (m.items[0] as unknown as Record<string, unknown>).key = "../../p1.tar.zst";
    });
    expect(problem(bad, { acceptVersion1: true })).toBe(
      `invalid manifest ${FILE}: item 0 ("p1"): key: "../../p1.tar.zst" is not "p1.tar.zst", the key of a tar item of that name`,
    );
    expect(
      problem(
        validManifest((m) => ((m as { version: number }).version = 1)),
        { acceptVersion1: true },
      ),
    ).toBe(`invalid manifest ${FILE}: ranges: a version 1 manifest has none`);
  });

  it("an unknown version is refused", () => {
    expect(
      problem(
        validManifest((m) => ((m as { version: number }).version = 3)),
        { acceptVersion1: true },
      ),
    ).toBe(`invalid manifest ${FILE}: version: 3 is not one this reader accepts (1, 2)`);
  });
});

describe("parseManifest and s3ChecksumSHA256", () => {
  it("reads a manifest without the field", () => {
    expect(parseManifest(manifestWith({}), FILE).items[0]!.s3ChecksumSHA256).toBeUndefined();
  });

  it("reads the composite and the plain form", () => {
    expect(parseManifest(manifestWith({ s3ChecksumSHA256: `${sha}-1` }), FILE).items[0]!.s3ChecksumSHA256).toBe(
      `${sha}-1`,
    );
    expect(parseManifest(manifestWith({ s3ChecksumSHA256: sha }), FILE).items[0]!.s3ChecksumSHA256).toBe(sha);
  });

  it("rejects a value that is not an S3 SHA-256 checksum", () => {
    expect(problem(manifestWith({ s3ChecksumSHA256: "d41d8cd98f00b204e9800998ecf8427e" }))).toBe(
      `invalid manifest ${FILE}: item 0 ("p1"): s3ChecksumSHA256: "d41d8cd98f00b204e9800998ecf8427e" is not a base64 SHA-256 optionally followed by -<parts>`,
    );
    expect(problem(manifestWith({ s3ChecksumSHA256: 7 as unknown as string }))).toBe(
      `invalid manifest ${FILE}: item 0 ("p1"): s3ChecksumSHA256: 7 is not a base64 SHA-256 optionally followed by -<parts>`,
    );
  });

  it("rejects a composite whose part count differs from the item's parts", () => {
    expect(problem(manifestWith({ s3ChecksumSHA256: `${sha}-3`, parts: 1 }))).toBe(
      `invalid manifest ${FILE}: item 0 ("p1"): s3ChecksumSHA256: names 3 parts, the item says 1`,
    );
  });
});

describe("isExportKey: what a re-run of an export may clean up under its prefix", () => {
  it.each([
    ["manifest.json", true],
    ["p1.tar.zst", true],
    ["vg0-root.img.zst", true],
    ["gap-0.img.zst", true],
    ["other/p1.tar.zst", false],
    ["../p1.tar.zst", false],
    ["p1.tar.zst.bak", false],
    ["notes.txt", false],
  ])("%s: %s", (key, owned) => {
    expect(isExportKey(key)).toBe(owned);
  });
});
