import { createHash } from "node:crypto";
import { ManifestItem, parseManifest } from "../../batch-worker/src/manifest";
import { manifestOf } from "../helpers/manifest";

const sha = createHash("sha256").update("p1").digest("base64");

function manifestWith(extra: Partial<ManifestItem>): string {
  const item: ManifestItem = {
    name: "p1",
    kind: "tar",
    source: { path: "/dev/nvme1n1p1", fsType: "ext4", offsetBytes: 0, sizeBytes: 1 << 30 },
    key: "p1.tar.zst",
    compressedBytes: 100,
    sha256: createHash("sha256").update("p1").digest("hex"),
    partSize: 8 << 20,
    parts: 1,
    ...extra,
  };
  return JSON.stringify(manifestOf([item], { totals: { uncompressedBytes: 0, compressedBytes: 100 } }));
}

describe("parseManifest and s3ChecksumSHA256", () => {
  it("reads a manifest written before the field existed", () => {
    expect(parseManifest(manifestWith({})).items[0]!.s3ChecksumSHA256).toBeUndefined();
  });

  it("reads the composite and the plain form", () => {
    expect(parseManifest(manifestWith({ s3ChecksumSHA256: `${sha}-1` })).items[0]!.s3ChecksumSHA256).toBe(`${sha}-1`);
    expect(parseManifest(manifestWith({ s3ChecksumSHA256: sha })).items[0]!.s3ChecksumSHA256).toBe(sha);
  });

  it("rejects a value that is not an S3 SHA-256 checksum", () => {
    expect(() => parseManifest(manifestWith({ s3ChecksumSHA256: "d41d8cd98f00b204e9800998ecf8427e" }))).toThrow(
      'manifest item p1: s3ChecksumSHA256 "d41d8cd98f00b204e9800998ecf8427e" is not a base64 SHA-256 optionally followed by -<parts>',
    );
    expect(() => parseManifest(manifestWith({ s3ChecksumSHA256: 7 as unknown as string }))).toThrow(
      "manifest item p1: s3ChecksumSHA256 7 is not a base64 SHA-256",
    );
  });

  it("rejects a composite whose part count differs from the item's parts", () => {
    expect(() => parseManifest(manifestWith({ s3ChecksumSHA256: `${sha}-3`, parts: 2 }))).toThrow(
      "manifest item p1: s3ChecksumSHA256 names 3 parts, the item says 2",
    );
  });
});
