import { parseTarget, TargetUrlError } from "../../batch-worker/src/s3url";

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
    expect(() => parseTarget("/tmp/out")).toThrow(new TargetUrlError("unsupported target /tmp/out: expected s3://BUCKET/PREFIX/ or file:///DIR/"));
    expect(() => parseTarget("s3://Bad_Bucket/x/")).toThrow(/invalid S3 bucket name/);
    expect(() => parseTarget("s3://bucket//x/")).toThrow(/must not start with/);
  });
});
