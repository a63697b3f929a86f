import { createHash, randomBytes } from "node:crypto";
import { compositeSha256, CompositeSha256, parseS3Sha256 } from "../../core/s3-checksum";

const b64 = (b: Buffer) => createHash("sha256").update(b).digest("base64");

describe("compositeSha256", () => {
  it("equals what real S3 answered for a 3-part SHA256 upload", () => {
    // Reported against S3 in eu-west-1 (floci-io/floci#3083): the UploadPart answers of three parts
    // (5 MiB, 5 MiB, 1 MiB), then CompleteMultipartUpload and HeadObject both gave the composite below.
    const parts = [
      "lcKa6Boe7a167tUCN5C4OaFygGSYD8MBnBARTrdL+1w=",
      "gHjhbUT4oo2tSCtSZJdlKi+jeNXJT+VImqdPXsXvkOc=",
      "4l9PQ3zOPZ0oGFvknFX+J4zZwE4WMzO+l3r8XrbWOeM=",
    ];
    expect(compositeSha256(parts)).toBe("rVWtNbadtsaKXJAcgWPWjifHzJaXde/iV4jaJAOdivc=-3");
  });

  it("is the SHA-256 of the concatenated binary digests, in part order, with the part count", () => {
    const parts = [randomBytes(100), randomBytes(100)];
    const digests = parts.map((p) => createHash("sha256").update(p).digest());
    expect(compositeSha256(parts.map(b64))).toBe(
      `${createHash("sha256").update(Buffer.concat(digests)).digest("base64")}-2`,
    );
    expect(compositeSha256(parts.map(b64).reverse())).not.toBe(compositeSha256(parts.map(b64)));
  });

  it("refuses no parts and a part checksum that is not a base64 SHA-256", () => {
    expect(() => compositeSha256([])).toThrow("a multipart object has at least one part");
    expect(() => compositeSha256(["abc="])).toThrow('not a base64 SHA-256: "abc="');
  });
});

describe("CompositeSha256 (recomputing from the bytes)", () => {
  const data = randomBytes(10_000);
  const composite = (partSize: number) => {
    const parts: string[] = [];
    for (let off = 0; off < data.length; off += partSize) parts.push(b64(data.subarray(off, off + partSize)));
    return compositeSha256(parts);
  };

  it.each([
    ["parts of 4096 bytes, the last shorter", 4096],
    ["parts that divide the object exactly", 2500],
    ["one part", 10_000],
    ["one part larger than the object", 1 << 20],
  ])("%s, whatever the chunking of the stream", (_what, partSize) => {
    for (const chunk of [1, 777, 4096, 10_000]) {
      const h = new CompositeSha256(partSize);
      for (let off = 0; off < data.length; off += chunk) h.update(data.subarray(off, off + chunk));
      expect(h.digest()).toBe(composite(partSize));
    }
  });

  it("an empty object is one empty part, as the uploader sends it", () => {
    expect(new CompositeSha256(8).digest()).toBe(compositeSha256([b64(Buffer.alloc(0))]));
  });
});

describe("parseS3Sha256", () => {
  const sha = b64(Buffer.from("x"));
  it("accepts the plain and the composite form and returns the part count", () => {
    expect(parseS3Sha256(sha)).toEqual({});
    expect(parseS3Sha256(`${sha}-1`)).toEqual({ parts: 1 });
    expect(parseS3Sha256(`${sha}-10000`)).toEqual({ parts: 10000 });
  });
  it.each([
    [`${sha}-0`, `"${sha}-0" names 0 parts (1..10000)`],
    [`${sha}-10001`, `"${sha}-10001" names 10001 parts (1..10000)`],
    [`${sha}-01`, `"${sha}-01" names 01 parts (1..10000)`],
    [sha.slice(1), `"${sha.slice(1)}" is not a base64 SHA-256 optionally followed by -<parts>`],
    [createHash("sha256").update("x").digest("hex"), `is not a base64 SHA-256`],
    [42, "42 is not a base64 SHA-256 optionally followed by -<parts>"],
  ])("rejects %p", (value, message) => {
    expect(() => parseS3Sha256(value)).toThrow(message);
  });
});

describe("checksum inputs that are not what they claim (from the mutation run's survivors)", () => {
  it("refuses a part checksum that decodes to 32 bytes but is not in canonical base64", () => {
    // The last character's low bits are ignored by Node's decoder: "...=" with a different last
    // character decodes to the same 32 bytes, so it is not the checksum S3 returned.
    const canonical = b64(Buffer.from("part"));
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    const sibling = canonical.slice(0, 42) + alphabet[alphabet.indexOf(canonical[42]!) ^ 1]! + "=";
    expect(Buffer.from(sibling, "base64")).toEqual(Buffer.from(canonical, "base64"));
    expect(() => compositeSha256([sibling])).toThrow(`not a base64 SHA-256: ${JSON.stringify(sibling)}`);
  });

  it("refuses a checksum that is not a string even when it prints as one (a one-element array from JSON)", () => {
    const value = [b64(Buffer.from("x"))];
    expect(() => parseS3Sha256(value)).toThrow("is not a base64 SHA-256");
  });

  it("refuses a part size that is not a positive integer, and takes a part size of 1 byte", () => {
    for (const bad of [0, -1, 1.5, NaN, 2 ** 53]) {
      expect(() => new CompositeSha256(bad)).toThrow(new RangeError(`invalid part size: ${bad}`));
    }
    const one = new CompositeSha256(1);
    one.update(Buffer.from("ab"));
    expect(one.digest()).toBe(compositeSha256([b64(Buffer.from("a")), b64(Buffer.from("b"))]));
  });
});
