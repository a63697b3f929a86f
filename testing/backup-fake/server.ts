/**
 * A small HTTP server that speaks the AWS Backup restJson1 protocol for the
 * operations backup-actions uses, so the real @aws-sdk/client-backup can be
 * pointed at it through AWS_ENDPOINT_URL_BACKUP. moto has no Backup API.
 *
 * Operations (paths and query names from the SDK's own schema):
 *   GET    /backup-vaults/{BackupVaultName}/recovery-points/{RecoveryPointArn}  DescribeRecoveryPoint
 *   DELETE /backup-vaults/{BackupVaultName}/recovery-points/{RecoveryPointArn}  DeleteRecoveryPoint
 *   GET    /backup-vaults/{BackupVaultName}/recovery-points                     ListRecoveryPointsByBackupVault
 *   GET    /tags/{ResourceArn}                                                   ListTags
 * Test-only control endpoints (never part of the AWS API):
 *   POST /_fake/reset                     forget everything
 *   POST /_fake/backup-vaults             {"BackupVaults": [VaultSeed...]}
 *   POST /_fake/recovery-points           {"RecoveryPoints": [RecoveryPointSeed...]}
 *   GET  /_fake/recovery-points           {"RecoveryPoints": [...]} everything stored, for assertions
 *   POST /_fake/faults                    {"Faults": [{operation, code, message, status?, arn?, count?}]}
 *   POST /_fake/deletion-outcomes         {"DeletionOutcomes": [{RecoveryPointArn?, Outcome, DescribesWhileDeleting?, StatusMessage?}]}
 */
import { randomUUID } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { BackupServiceError, invalidParameter, missingParameter } from "./errors";
import { paginate } from "./pagination";
import { BackupStore, checkMaxResults, toEpochSeconds, VAULT_NAME_PATTERN, type RecoveryPoint } from "./store";

/** DescribeRecoveryPointOutput members (the SDK schema's order). */
const DESCRIBE_FIELDS = [
  "RecoveryPointArn",
  "BackupVaultName",
  "BackupVaultArn",
  "SourceBackupVaultArn",
  "ResourceArn",
  "ResourceType",
  "CreatedBy",
  "IamRoleArn",
  "Status",
  "StatusMessage",
  "CreationDate",
  "InitiationDate",
  "CompletionDate",
  "BackupSizeInBytes",
  "CalculatedLifecycle",
  "Lifecycle",
  "EncryptionKeyArn",
  "IsEncrypted",
  "StorageClass",
  "LastRestoreTime",
  "ParentRecoveryPointArn",
  "CompositeMemberIdentifier",
  "IsParent",
  "ResourceName",
  "VaultType",
  "IndexStatus",
  "IndexStatusMessage",
  "EncryptionKeyType",
  "ScanResults",
] as const satisfies ReadonlyArray<keyof RecoveryPoint>;

/** RecoveryPointByBackupVault members: no StorageClass/ScanResults, AggregatedScanResult instead. */
const LIST_ITEM_FIELDS = [
  ...DESCRIBE_FIELDS.filter((f) => f !== "StorageClass" && f !== "ScanResults"),
  "AggregatedScanResult",
] as const satisfies ReadonlyArray<keyof RecoveryPoint>;

const pick = (point: RecoveryPoint, fields: ReadonlyArray<keyof RecoveryPoint>): Record<string, unknown> =>
  Object.fromEntries(fields.filter((f) => point[f] !== undefined).map((f) => [f, point[f]]));

interface Request {
  method: string;
  segments: string[];
  query: URLSearchParams;
  headers: http.IncomingHttpHeaders;
  body: string;
}

interface Reply {
  status: number;
  body?: unknown;
}

export interface BackupFake {
  readonly url: string;
  readonly port: number;
  readonly store: BackupStore;
  close(): Promise<void>;
}

export interface BackupFakeOptions {
  /** @default "127.0.0.1" */
  readonly host?: string;
  /** @default 0 (an ephemeral port) */
  readonly port?: number;
}

function vaultName(raw: string): string {
  if (!VAULT_NAME_PATTERN.test(raw)) {
    throw invalidParameter(`BackupVaultName ${raw} does not match ${VAULT_NAME_PATTERN}`, "BackupVaultName");
  }
  return raw;
}

function arnParam(raw: string | undefined, name: string): string {
  if (raw === undefined || raw === "") throw missingParameter(name);
  if (!/^arn:aws[a-z-]*:[a-z0-9-]+:/.test(raw)) throw invalidParameter(`${name} ${raw} is not a valid ARN`, name);
  return raw;
}

function dateQuery(query: URLSearchParams, name: string): number | undefined {
  const raw = query.get(name);
  if (raw === null) return undefined;
  try {
    return toEpochSeconds(/^\d+(\.\d+)?$/.test(raw) ? Number(raw) : raw, name);
  } catch {
    throw invalidParameter(`${name} ${raw} is not a valid timestamp`, name);
  }
}

function requireSigned(req: Request): void {
  if (!req.headers.authorization) {
    throw new BackupServiceError("MissingAuthenticationTokenException", "Missing Authentication Token");
  }
}

function listRecoveryPoints(store: BackupStore, name: string, query: URLSearchParams): Reply {
  const maxResults = checkMaxResults(query.get("maxResults"));
  const filters = {
    resourceArn: query.get("resourceArn"),
    resourceType: query.get("resourceType"),
    backupPlanId: query.get("backupPlanId"),
    parentRecoveryPointArn: query.get("parentRecoveryPointArn"),
    createdBefore: dateQuery(query, "createdBefore"),
    createdAfter: dateQuery(query, "createdAfter"),
  };
  if (filters.resourceType !== null && !/^[a-zA-Z0-9\-_.]{1,50}$/.test(filters.resourceType)) {
    throw invalidParameter(`resourceType ${filters.resourceType} is not valid`, "ByResourceType");
  }
  const points = store
    .recoveryPointsIn(name)
    .filter(
      (p) =>
        (filters.resourceArn === null || p.ResourceArn === filters.resourceArn) &&
        (filters.resourceType === null || p.ResourceType === filters.resourceType) &&
        (filters.backupPlanId === null || p.CreatedBy?.BackupPlanId === filters.backupPlanId) &&
        (filters.parentRecoveryPointArn === null || p.ParentRecoveryPointArn === filters.parentRecoveryPointArn) &&
        (filters.createdBefore === undefined || p.CreationDate < filters.createdBefore) &&
        (filters.createdAfter === undefined || p.CreationDate > filters.createdAfter),
    )
    // Newest first, ARN as tie-break, so pages are stable across calls.
    .sort((a, b) => b.CreationDate - a.CreationDate || a.RecoveryPointArn.localeCompare(b.RecoveryPointArn));
  const page = paginate(points, `rp:${name}:${JSON.stringify(filters)}`, maxResults, query.get("nextToken"));
  return {
    status: 200,
    body: {
      RecoveryPoints: page.items.map((p) => pick(p, LIST_ITEM_FIELDS)),
      ...(page.nextToken ? { NextToken: page.nextToken } : {}),
    },
  };
}

function listTags(store: BackupStore, resourceArn: string, query: URLSearchParams): Reply {
  const maxResults = checkMaxResults(query.get("maxResults"));
  const entries = Object.entries(store.tagsOf(resourceArn)).sort(([a], [b]) => a.localeCompare(b));
  const page = paginate(entries, `tags:${resourceArn}`, maxResults, query.get("nextToken"));
  return {
    status: 200,
    body: { Tags: Object.fromEntries(page.items), ...(page.nextToken ? { NextToken: page.nextToken } : {}) },
  };
}

function parseJson(body: string): Record<string, unknown> {
  try {
    const parsed: unknown = body === "" ? {} : JSON.parse(body);
    if (parsed && typeof parsed === "object" && !Array.isArray(parsed)) return parsed as Record<string, unknown>;
  } catch {
    // fall through to the error below
  }
  throw new BackupServiceError("InvalidRequestException", "control request body must be a JSON object", 400);
}

function listOf(body: Record<string, unknown>, key: string): unknown[] {
  const value = body[key];
  if (!Array.isArray(value))
    throw new BackupServiceError("InvalidRequestException", `control request needs an array "${key}"`, 400);
  return value;
}

/** Test-only endpoints under /_fake/. Seeding errors answer 400 with the reason. */
function control(store: BackupStore, req: Request): Reply {
  const route = `${req.method} ${req.segments.slice(1).join("/")}`;
  const seed = <T>(fn: () => T): T => {
    try {
      return fn();
    } catch (error) {
      if (error instanceof BackupServiceError) throw error;
      throw new BackupServiceError("InvalidRequestException", (error as Error).message, 400);
    }
  };
  switch (route) {
    case "POST reset":
      store.reset();
      return { status: 200, body: {} };
    case "POST backup-vaults":
      return {
        status: 200,
        body: {
          BackupVaults: seed(() => listOf(parseJson(req.body), "BackupVaults").map((v) => store.addVault(v as never))),
        },
      };
    case "POST recovery-points":
      return {
        status: 200,
        body: {
          RecoveryPoints: seed(() =>
            listOf(parseJson(req.body), "RecoveryPoints").map((p) => store.addRecoveryPoint(p as never)),
          ),
        },
      };
    case "GET recovery-points":
      return { status: 200, body: { RecoveryPoints: store.allRecoveryPoints() } };
    case "POST deletion-outcomes":
      seed(() => listOf(parseJson(req.body), "DeletionOutcomes").forEach((o) => store.setDeletionOutcome(o as never)));
      return { status: 200, body: {} };
    case "POST faults":
      seed(() => listOf(parseJson(req.body), "Faults").forEach((f) => store.addFault(f as never)));
      return { status: 200, body: {} };
    default:
      return { status: 404, body: { message: `unknown control endpoint ${req.method} /${req.segments.join("/")}` } };
  }
}

export function route(store: BackupStore, req: Request): Reply {
  const [root, name, kind, arn, ...rest] = req.segments;
  if (root === "_fake") return control(store, req);
  if (root === "backup-vaults" && name !== undefined && kind === "recovery-points" && rest.length === 0) {
    requireSigned(req);
    const vault = vaultName(name);
    if (arn === undefined || arn === "") {
      if (req.method !== "GET") throw unknownOperation(req);
      store.takeFault("ListRecoveryPointsByBackupVault", undefined);
      return listRecoveryPoints(store, vault, req.query);
    }
    const pointArn = arnParam(arn, "RecoveryPointArn");
    if (req.method === "GET") {
      store.takeFault("DescribeRecoveryPoint", pointArn);
      return { status: 200, body: pick(store.describeRecoveryPoint(vault, pointArn), DESCRIBE_FIELDS) };
    }
    if (req.method === "DELETE") {
      store.takeFault("DeleteRecoveryPoint", pointArn);
      store.deleteRecoveryPoint(vault, pointArn, Date.now() / 1000);
      return { status: 200 };
    }
  }
  if (root === "tags" && req.method === "GET" && kind === undefined) {
    requireSigned(req);
    const resourceArn = arnParam(name, "ResourceArn");
    store.takeFault("ListTags", resourceArn);
    return listTags(store, resourceArn, req.query);
  }
  throw unknownOperation(req);
}

function unknownOperation(req: Request): BackupServiceError {
  return new BackupServiceError(
    "UnknownOperationException",
    `the AWS Backup fake does not implement ${req.method} /${req.segments.join("/")} (see testing/backup-fake/server.ts)`,
    404,
  );
}

/** Splits the raw path before decoding, so %2F inside an ARN label stays inside its segment. */
function segmentsOf(rawPath: string): string[] {
  const segments = rawPath
    .replace(/^\/+/, "")
    .split("/")
    .map((s) => decodeURIComponent(s));
  // "/x/" and "/x" address the same resource (the API reference writes list paths with a trailing slash).
  if (segments.length > 1 && segments[segments.length - 1] === "") segments.pop();
  return segments;
}

function send(res: http.ServerResponse, reply: Reply, requestId: string, errorType?: string): void {
  const headers: Record<string, string> = { "x-amzn-RequestId": requestId };
  if (errorType) headers["x-amzn-ErrorType"] = errorType;
  if (reply.body === undefined) {
    res.writeHead(reply.status, { ...headers, "content-length": "0" }).end();
    return;
  }
  const payload = JSON.stringify(reply.body);
  res
    .writeHead(reply.status, {
      ...headers,
      "content-type": "application/json",
      "content-length": String(Buffer.byteLength(payload)),
    })
    .end(payload);
}

export function handler(store: BackupStore): http.RequestListener {
  return (req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const requestId = randomUUID();
      const url = new URL(req.url ?? "/", "http://fake");
      try {
        const reply = route(store, {
          method: req.method ?? "GET",
          segments: segmentsOf(url.pathname),
          query: url.searchParams,
          headers: req.headers,
          body: Buffer.concat(chunks).toString("utf8"),
        });
        send(res, reply, requestId);
      } catch (error) {
        const serviceError =
          error instanceof BackupServiceError
            ? error
            : new BackupServiceError(
                "ServiceUnavailableException",
                `backup fake internal error: ${(error as Error).message}`,
                500,
              );
        send(res, { status: serviceError.status, body: serviceError.body() }, requestId, serviceError.code);
      }
    });
  };
}

export async function startBackupFake(options: BackupFakeOptions = {}): Promise<BackupFake> {
  const store = new BackupStore();
  const server = http.createServer(handler(store));
  // Keep-alive sockets from SDK clients must not hold close() open.
  server.keepAliveTimeout = 1000;
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host ?? "127.0.0.1", () => resolve());
  });
  const { address, port } = server.address() as AddressInfo;
  return {
    url: `http://${address}:${port}`,
    port,
    store,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.closeAllConnections();
        server.close((error) => (error ? reject(error) : resolve()));
      }),
  };
}
