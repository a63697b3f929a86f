import { formatTarget, parseS3Url, parseTarget, TargetUrlError } from "../../core/s3-url";

describe("parseTarget", () => {
  it("parses s3 URLs and normalises the prefix to end in /", () => {
    expect(parseTarget("s3://my-archive/ebs/123/")).toEqual({ kind: "s3", bucket: "my-archive", prefix: "ebs/123/" });
    expect(parseTarget("s3://my-archive/ebs/123")).toEqual({ kind: "s3", bucket: "my-archive", prefix: "ebs/123/" });
    expect(parseTarget("s3://my-archive")).toEqual({ kind: "s3", bucket: "my-archive", prefix: "" });
  });

  it("parses file URLs", () => {
    expect(parseTarget("file:///var/tmp/out/")).toEqual({ kind: "file", dir: "/var/tmp/out" });
  });

  it("rejects other schemes and bad buckets with a clear message", () => {
    expect(() => parseTarget("/tmp/out")).toThrow(
      new TargetUrlError("unsupported target /tmp/out: expected s3://BUCKET/PREFIX/ or file:///DIR/"),
    );
    expect(() => parseTarget("s3://Bad_Bucket/x/")).toThrow(/invalid S3 bucket name/);
    expect(() => parseTarget("s3://bucket//x/")).toThrow(/must not start with/);
  });

  it("rejects a file URL with a host (not a local directory), naming it", () => {
    expect(() => parseTarget("file://backup-host/var/tmp/out/")).toThrow(TargetUrlError);
    expect(() => parseTarget("file://backup-host/var/tmp/out/")).toThrow(
      /^invalid file URL file:\/\/backup-host\/var\/tmp\/out\/: /,
    );
  });

  it("its errors are TargetUrlErrors by name too (what logs and the CLI print)", () => {
    expect(() => parseTarget("/tmp/out")).toThrow(expect.objectContaining({ name: "TargetUrlError" }));
  });
});

describe("parseS3Url", () => {
  it("splits bucket and prefix and ends the prefix with a slash", () => {
    expect(parseS3Url("s3://archive-b/ebs/1/x")).toEqual({ bucket: "archive-b", prefix: "ebs/1/x/" });
    expect(parseS3Url("s3://archive-b/")).toEqual({ bucket: "archive-b", prefix: "" });
  });

  it("refuses anything but an S3 URL, naming it", () => {
    expect(() => parseS3Url("file:///tmp/x/")).toThrow(
      new TargetUrlError('not an s3://bucket/prefix/ URL: "file:///tmp/x/"'),
    );
    // not parseTarget's message, which would offer file:// to the verify Lambda
    expect(() => parseS3Url("https://archive-b/x/")).toThrow(
      new TargetUrlError('not an s3://bucket/prefix/ URL: "https://archive-b/x/"'),
    );
    expect(() => parseS3Url("s3://Bad_Bucket/x/")).toThrow(/invalid S3 bucket name in s3:\/\/Bad_Bucket\/x\//);
  });
});

describe("formatTarget", () => {
  it("writes back what parseTarget read", () => {
    for (const url of ["s3://my-archive/ebs/123/", "s3://my-archive/", "file:///var/tmp/out/"])
      expect(formatTarget(parseTarget(url))).toBe(url);
  });
});
