import { createHash, createHmac, Hash, Hmac } from "node:crypto";
import { S3Client } from "@aws-sdk/client-s3";
import { SignatureV4 } from "@smithy/signature-v4";
import { observed } from "../../core/aws-client-hook";
import { BackupActionsError } from "../../core/errors";

/**
 * A minimal client of the EBS direct APIs (https://docs.aws.amazon.com/ebs/latest/APIReference/):
 * SigV4-signed REST-JSON over fetch. The AWS SDK's @aws-sdk/client-ebs is not published at the
 * release every other client of the project is pinned to (__tests__/sdk-versions.test.ts), so the
 * few calls the worker makes are written here. Credentials and region come from the SDK's default
 * chain (resolved through an S3 client's configuration), the endpoint from AWS_ENDPOINT_URL_EBS or
 * AWS_ENDPOINT_URL as the SDK would, else https://ebs.<region>.amazonaws.com.
 */

/** An EBS direct API answered with an error: `code` is the error's type (ThrottlingException, …). */
export class EbsApiError extends BackupActionsError {
  override readonly name: string = "EbsApiError";
  constructor(
    readonly operation: string,
    readonly code: string,
    readonly status: number,
    message: string,
  ) {
    super(`${operation}: ${code} (HTTP ${status}): ${message}`);
  }
  /** Throttling, a server fault or a dropped connection: worth another attempt. */
  get retryable(): boolean {
    return (
      this.status === 429 ||
      this.status >= 500 ||
      /Throttling|RequestThrottled|TooManyRequests|InternalServer|ServiceUnavailable/.test(this.code)
    );
  }
}

export interface SnapshotBlock {
  BlockIndex: number;
  BlockToken: string;
}

export interface ListSnapshotBlocksOutput {
  Blocks: SnapshotBlock[];
  NextToken?: string;
  VolumeSize: number;
  BlockSize: number;
}

export interface BlockData {
  data: Buffer;
  /** Base64 SHA-256 of the block, as the API reports it (x-amz-Checksum). */
  checksum: string;
  checksumAlgorithm: string;
}

/** The calls the snapshot reader makes: an interface so a test can wrap the real client to inject faults. */
export interface EbsBlockSource {
  listSnapshotBlocks(snapshotId: string, nextToken?: string): Promise<ListSnapshotBlocksOutput>;
  getSnapshotBlock(snapshotId: string, blockIndex: number, blockToken: string): Promise<BlockData>;
}

type SourceData = string | ArrayBuffer | ArrayBufferView;
const bytes = (d: SourceData): string | Uint8Array =>
  typeof d === "string"
    ? d
    : d instanceof ArrayBuffer
      ? new Uint8Array(d)
      : new Uint8Array(d.buffer, d.byteOffset, d.byteLength);

/** SigV4's hash and HMAC, from node:crypto. */
class NodeSha256 {
  private h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash("sha256") : createHmac("sha256", bytes(secret));
  }
  update(data: SourceData): void {
    this.h.update(bytes(data));
  }
  digest(): Promise<Uint8Array> {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
  reset(): void {
    throw new Error("not supported");
  }
}

export interface EbsDirectOptions {
  region?: string;
  endpoint?: string;
  env?: NodeJS.ProcessEnv;
}

export class EbsDirectClient implements EbsBlockSource {
  private readonly s3: S3Client;
  private signer: Promise<{ signer: SignatureV4; base: URL; region: string }> | undefined;

  constructor(private readonly o: EbsDirectOptions = {}) {
    this.s3 = new S3Client(o.region ? { region: o.region } : {});
  }

  private setup(): Promise<{ signer: SignatureV4; base: URL; region: string }> {
    this.signer ??= (async () => {
      const env = this.o.env ?? process.env;
      const region = this.o.region ?? (await this.s3.config.region());
      const endpoint =
        this.o.endpoint ?? env.AWS_ENDPOINT_URL_EBS ?? env.AWS_ENDPOINT_URL ?? `https://ebs.${region}.amazonaws.com`;
      const signer = new SignatureV4({
        service: "ebs",
        region,
        credentials: () => this.s3.config.credentials(),
        sha256: NodeSha256,
        uriEscapePath: true,
        applyChecksum: true,
      });
      return { signer, base: new URL(endpoint), region };
    })();
    return this.signer;
  }

  /**
   * Sends one signed request; rejects with EbsApiError on an error answer. `input` names the
   * request in the API reference's terms for whoever observes it (core/aws-client-hook.ts).
   */
  async send(
    operation: string,
    method: string,
    path: string,
    o: { query?: Record<string, string>; headers?: Record<string, string>; body?: Buffer | string } = {},
    input: Record<string, unknown> = {},
  ): Promise<Response> {
    const { signer, base, region } = await this.setup();
    return observed({ service: "ebs", operation, region, input }, () =>
      this.sendSigned(signer, base, operation, method, path, o),
    );
  }

  private async sendSigned(
    signer: SignatureV4,
    base: URL,
    operation: string,
    method: string,
    path: string,
    o: { query?: Record<string, string>; headers?: Record<string, string>; body?: Buffer | string },
  ): Promise<Response> {
    const headers: Record<string, string> = { host: base.host, ...o.headers };
    if (o.body !== undefined && typeof o.body === "string") headers["content-type"] = "application/json";
    const signed = await signer.sign({
      method,
      protocol: base.protocol,
      hostname: base.hostname,
      port: base.port ? Number(base.port) : undefined,
      path,
      query: o.query ?? {},
      headers,
      body: o.body,
    });
    const url = new URL(path, base);
    for (const [k, v] of Object.entries(o.query ?? {})) url.searchParams.set(k, v);
    const sent = { ...signed.headers };
    delete sent.host;
    let res: Response;
    try {
      res = await fetch(url, { method, headers: sent, body: o.body });
    } catch (e) {
      // a dropped connection is a server-side fault for retrying purposes
      throw new EbsApiError(operation, "NetworkError", 599, (e as Error).message);
    }
    if (res.ok) return res;
    const text = await res.text();
    let code = res.headers.get("x-amzn-errortype")?.split(":")[0] ?? "";
    let message = text;
    try {
      const j = JSON.parse(text) as { __type?: string; message?: string; Message?: string; code?: string };
      code ||= (j.__type ?? j.code ?? "").split("#").pop() ?? "";
      message = j.message ?? j.Message ?? text;
    } catch {
      // not JSON: keep the text
    }
    throw new EbsApiError(operation, code || `HTTP${res.status}`, res.status, message.slice(0, 500));
  }

  async listSnapshotBlocks(snapshotId: string, nextToken?: string): Promise<ListSnapshotBlocksOutput> {
    const query: Record<string, string> = { maxResults: "10000" };
    if (nextToken) query.pageToken = nextToken;
    const res = await this.send(
      "ListSnapshotBlocks",
      "GET",
      `/snapshots/${encodeURIComponent(snapshotId)}/blocks`,
      {
        query,
      },
      { SnapshotId: snapshotId },
    );
    return (await res.json()) as ListSnapshotBlocksOutput;
  }

  async getSnapshotBlock(snapshotId: string, blockIndex: number, blockToken: string): Promise<BlockData> {
    const res = await this.send(
      "GetSnapshotBlock",
      "GET",
      `/snapshots/${encodeURIComponent(snapshotId)}/blocks/${blockIndex}`,
      { query: { blockToken } },
      { SnapshotId: snapshotId, BlockIndex: blockIndex },
    );
    return {
      data: Buffer.from(await res.arrayBuffer()),
      checksum: res.headers.get("x-amz-checksum") ?? "",
      checksumAlgorithm: res.headers.get("x-amz-checksum-algorithm") ?? "",
    };
  }

  /** Test-bench writer side (StartSnapshot / PutSnapshotBlock / CompleteSnapshot). */
  async startSnapshot(volumeSizeGiB: number, description = ""): Promise<{ SnapshotId: string; BlockSize: number }> {
    const res = await this.send("StartSnapshot", "POST", "/snapshots", {
      body: JSON.stringify({ VolumeSize: volumeSizeGiB, Description: description }),
    });
    return (await res.json()) as { SnapshotId: string; BlockSize: number };
  }

  async putSnapshotBlock(snapshotId: string, blockIndex: number, data: Buffer, checksum?: string): Promise<void> {
    await this.send("PutSnapshotBlock", "PUT", `/snapshots/${encodeURIComponent(snapshotId)}/blocks/${blockIndex}`, {
      headers: {
        "x-amz-data-length": String(data.length),
        "x-amz-checksum": checksum ?? createHash("sha256").update(data).digest("base64"),
        "x-amz-checksum-algorithm": "SHA256",
        "content-type": "application/octet-stream",
      },
      body: data,
    });
  }

  async completeSnapshot(snapshotId: string, changedBlocks: number): Promise<void> {
    await this.send("CompleteSnapshot", "POST", `/snapshots/completion/${encodeURIComponent(snapshotId)}`, {
      headers: { "x-amz-changedblockscount": String(changedBlocks) },
    });
  }

  destroy(): void {
    this.s3.destroy();
  }
}
