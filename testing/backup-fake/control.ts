/**
 * Test-side helpers for the AWS Backup fake's control endpoints (seeding,
 * fault injection, inspection). The fake's URL comes from
 * AWS_ENDPOINT_URL_BACKUP, set by jest global setup.
 */
import type { DeletionOutcome, RecoveryPoint, RecoveryPointSeed, VaultSeed } from "./store";

export type { DeletionOutcome, RecoveryPoint, RecoveryPointSeed, VaultSeed };

export interface FaultSeed {
  /** Operation name, e.g. "DeleteRecoveryPoint". */
  operation: string;
  /** Error code, e.g. "ServiceUnavailableException" or "ThrottlingException". */
  code: string;
  message: string;
  /** @default the code's status from the API reference, else 400 */
  status?: number;
  /** Only requests for this recovery point / resource ARN fail. @default every request */
  arn?: string;
  /** @default 1 */
  count?: number;
}

function fakeUrl(): string {
  const url = process.env.AWS_ENDPOINT_URL_BACKUP;
  if (!url) throw new Error("AWS_ENDPOINT_URL_BACKUP is not set: the Backup fake is started by jest globalSetup");
  return url;
}

async function call<T>(method: "GET" | "POST", path: string, body?: unknown): Promise<T> {
  const response = await fetch(`${fakeUrl()}/_fake/${path}`, {
    method,
    ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { "content-type": "application/json" } }),
  });
  const text = await response.text();
  if (!response.ok) throw new Error(`Backup fake ${method} /_fake/${path} answered ${response.status}: ${text}`);
  return JSON.parse(text) as T;
}

export async function seedRecoveryPoints(points: RecoveryPointSeed[]): Promise<RecoveryPoint[]> {
  return (await call<{ RecoveryPoints: RecoveryPoint[] }>("POST", "recovery-points", { RecoveryPoints: points }))
    .RecoveryPoints;
}

export async function seedVaults(vaults: VaultSeed[]): Promise<void> {
  await call("POST", "backup-vaults", { BackupVaults: vaults });
}

export async function injectFaults(faults: FaultSeed[]): Promise<void> {
  await call("POST", "faults", { Faults: faults });
}

/**
 * How accepted deletions end (default for all: DELETED after one DescribeRecoveryPoint that still
 * answers DELETING). One without RecoveryPointArn applies to every recovery point without its own.
 */
export async function setDeletionOutcomes(outcomes: DeletionOutcome[]): Promise<void> {
  await call("POST", "deletion-outcomes", { DeletionOutcomes: outcomes });
}

/** Everything the fake holds, e.g. to assert that a recovery point was (not) deleted. */
export async function storedRecoveryPoints(): Promise<RecoveryPoint[]> {
  return (await call<{ RecoveryPoints: RecoveryPoint[] }>("GET", "recovery-points")).RecoveryPoints;
}

export async function resetBackupFake(): Promise<void> {
  await call("POST", "reset");
}
