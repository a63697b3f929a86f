/**
 * In-memory state of the AWS Backup fake: vaults, recovery points, tags, and
 * injected faults. Field names are the API's own (PascalCase); dates are kept
 * as epoch seconds, which is how restJson1 puts timestamps on the wire.
 */
import { BackupServiceError, invalidParameter, notFound } from "./errors";

export const DEFAULT_ACCOUNT = "123456789012";
export const DEFAULT_REGION = "us-east-1";
const DAY_SECONDS = 86_400;

/** Real API constraint on vault names (API reference, BackupVaultName). */
export const VAULT_NAME_PATTERN = /^[a-zA-Z0-9\-_]{2,50}$/;

export type RecoveryPointStatus =
  "COMPLETED" | "PARTIAL" | "DELETING" | "EXPIRED" | "AVAILABLE" | "STOPPED" | "CREATING";
const STATUSES: ReadonlySet<string> = new Set([
  "COMPLETED",
  "PARTIAL",
  "DELETING",
  "EXPIRED",
  "AVAILABLE",
  "STOPPED",
  "CREATING",
]);
/** States in which AWS Backup is still working on the recovery point: delete is refused. */
const BUSY_STATUSES: ReadonlySet<string> = new Set(["CREATING", "DELETING"]);

export interface Lifecycle {
  MoveToColdStorageAfterDays?: number;
  DeleteAfterDays?: number;
  OptInToArchiveForSupportedResources?: boolean;
  DeleteAfterEvent?: string;
}

export interface RecoveryPointCreator {
  BackupPlanId?: string;
  BackupPlanArn?: string;
  BackupPlanName?: string;
  BackupPlanVersion?: string;
  BackupRuleId?: string;
  BackupRuleName?: string;
  BackupRuleCron?: string;
  BackupRuleTimezone?: string;
}

/** One stored recovery point: the union of DescribeRecoveryPoint's and ListRecoveryPointsByBackupVault's members. */
export interface RecoveryPoint {
  RecoveryPointArn: string;
  BackupVaultName: string;
  BackupVaultArn: string;
  SourceBackupVaultArn?: string;
  ResourceArn: string;
  ResourceType: string;
  CreatedBy?: RecoveryPointCreator;
  IamRoleArn: string;
  Status: RecoveryPointStatus;
  StatusMessage?: string;
  CreationDate: number;
  InitiationDate?: number;
  CompletionDate?: number;
  BackupSizeInBytes?: number;
  CalculatedLifecycle?: { MoveToColdStorageAt?: number; DeleteAt?: number };
  Lifecycle?: Lifecycle;
  EncryptionKeyArn?: string;
  IsEncrypted: boolean;
  StorageClass: "WARM" | "COLD" | "DELETED";
  LastRestoreTime?: number;
  ParentRecoveryPointArn?: string;
  CompositeMemberIdentifier?: string;
  IsParent: boolean;
  ResourceName?: string;
  VaultType: string;
  IndexStatus?: string;
  IndexStatusMessage?: string;
  EncryptionKeyType?: string;
  ScanResults?: Array<{ MalwareScanner?: string; ScanJobState?: string; LastScanTime?: number; Findings?: string[] }>;
  AggregatedScanResult?: { FailedScan?: boolean; Findings?: string[]; LastComputed?: number };
}

export interface Vault {
  BackupVaultName: string;
  BackupVaultArn: string;
  /** Vault Lock minimum retention: recovery points younger than this cannot be deleted. */
  MinRetentionDays?: number;
}

/**
 * How an accepted DeleteRecoveryPoint ends. AWS answers 200 and the recovery point goes to
 * DELETING; it then disappears (DescribeRecoveryPoint: ResourceNotFoundException) or, when AWS
 * Backup cannot carry the deletion out (e.g. it lacks permission on the resource), ends EXPIRED.
 * The fake counts DescribeRecoveryPoint calls instead of time, so executions on a virtual clock
 * see the same sequence every run.
 */
export interface DeletionOutcome {
  /** Only this recovery point; omitted: every recovery point without an outcome of its own. */
  RecoveryPointArn?: string;
  Outcome: "DELETED" | "EXPIRED";
  /** DescribeRecoveryPoint calls that still answer DELETING before the outcome shows. @default 1 */
  DescribesWhileDeleting?: number;
  /** StatusMessage of an EXPIRED recovery point. */
  StatusMessage?: string;
}

interface PendingDeletion {
  outcome: DeletionOutcome;
  remaining: number;
}

/** ARNs of resources under full AWS Backup management: recovery points, vaults and plans of `backup:` itself. */
export const FULLY_MANAGED_ARN =
  /^arn:aws[a-z-]*:backup:[a-z0-9-]+:\d{12}:(recovery-point|backup-vault|backup-plan):.+$/;

export interface Fault {
  operation: string;
  code: string;
  message: string;
  status?: number;
  /** Only requests naming this recovery point (or resource ARN, for ListTags) fail. */
  arn?: string;
  /** How many matching requests fail; default 1. */
  count: number;
}

/** A seeded record: required identity fields, everything else optional; dates as epoch seconds or ISO strings. */
export type RecoveryPointSeed = Partial<Record<keyof RecoveryPoint, unknown>> & {
  RecoveryPointArn: string;
  BackupVaultName: string;
  ResourceArn: string;
  ResourceType: string;
  Tags?: Record<string, string>;
};

export interface VaultSeed {
  BackupVaultName: string;
  Region?: string;
  AccountId?: string;
  MinRetentionDays?: number;
  Tags?: Record<string, string>;
}

const DATE_FIELDS = ["CreationDate", "InitiationDate", "CompletionDate", "LastRestoreTime"] as const;

export function toEpochSeconds(value: unknown, field: string): number {
  if (typeof value === "number" && Number.isFinite(value)) return value;
  if (value instanceof Date) return value.getTime() / 1000;
  if (typeof value === "string") {
    const parsed = Date.parse(value);
    if (!Number.isNaN(parsed)) return parsed / 1000;
  }
  throw new Error(`${field}: expected epoch seconds or an ISO-8601 date, got ${JSON.stringify(value)}`);
}

/** Region and account of an ARN, for deriving the vault ARN of a seeded record. */
function arnScope(arn: string): { region: string; account: string } {
  const parts = arn.split(":");
  return { region: parts[3] || DEFAULT_REGION, account: parts[4] || DEFAULT_ACCOUNT };
}

export function vaultArn(name: string, region: string, account: string): string {
  return `arn:aws:backup:${region}:${account}:backup-vault:${name}`;
}

export class BackupStore {
  private readonly vaults = new Map<string, Vault>();
  private readonly points = new Map<string, RecoveryPoint>();
  private readonly tags = new Map<string, Record<string, string>>();
  private faults: Fault[] = [];
  private readonly outcomes = new Map<string, DeletionOutcome>();
  private readonly pending = new Map<string, PendingDeletion>();

  reset(): void {
    this.vaults.clear();
    this.points.clear();
    this.tags.clear();
    this.faults = [];
    this.outcomes.clear();
    this.pending.clear();
  }

  setDeletionOutcome(seed: DeletionOutcome): void {
    if (seed.Outcome !== "DELETED" && seed.Outcome !== "EXPIRED") {
      throw new Error(`deletion outcome: Outcome must be DELETED or EXPIRED, got ${JSON.stringify(seed.Outcome)}`);
    }
    const describes = seed.DescribesWhileDeleting ?? 1;
    if (!Number.isInteger(describes) || describes < 0) {
      throw new Error(
        `deletion outcome: DescribesWhileDeleting must be an integer >= 0, got ${JSON.stringify(describes)}`,
      );
    }
    this.outcomes.set(seed.RecoveryPointArn ?? "*", { ...seed, DescribesWhileDeleting: describes });
  }

  addVault(seed: VaultSeed): Vault {
    if (!VAULT_NAME_PATTERN.test(seed.BackupVaultName ?? "")) {
      throw new Error(`BackupVaultName ${JSON.stringify(seed.BackupVaultName)} does not match ${VAULT_NAME_PATTERN}`);
    }
    const existing = this.vaults.get(seed.BackupVaultName);
    const vault: Vault = {
      BackupVaultName: seed.BackupVaultName,
      BackupVaultArn:
        existing?.BackupVaultArn ??
        vaultArn(seed.BackupVaultName, seed.Region ?? DEFAULT_REGION, seed.AccountId ?? DEFAULT_ACCOUNT),
      MinRetentionDays: seed.MinRetentionDays ?? existing?.MinRetentionDays,
    };
    this.vaults.set(vault.BackupVaultName, vault);
    if (seed.Tags) this.tags.set(vault.BackupVaultArn, { ...seed.Tags });
    return vault;
  }

  addRecoveryPoint(seed: RecoveryPointSeed): RecoveryPoint {
    for (const field of ["RecoveryPointArn", "BackupVaultName", "ResourceArn", "ResourceType"] as const) {
      if (typeof seed[field] !== "string" || seed[field] === "")
        throw new Error(`recovery point seed: ${field} is required`);
    }
    const scope = arnScope(seed.RecoveryPointArn);
    const vault =
      this.vaults.get(seed.BackupVaultName) ??
      this.addVault({ BackupVaultName: seed.BackupVaultName, Region: scope.region, AccountId: scope.account });
    const status = (seed.Status as string | undefined) ?? "COMPLETED";
    if (!STATUSES.has(status))
      throw new Error(`recovery point seed: Status ${status} is not one of ${[...STATUSES].join(", ")}`);

    const { Tags, ...fields } = seed;
    const point = {
      IamRoleArn: `arn:aws:iam::${scope.account}:role/service-role/AWSBackupDefaultServiceRole`,
      IsEncrypted: false,
      StorageClass: "WARM",
      IsParent: false,
      VaultType: "BACKUP_VAULT",
      ...fields,
      BackupVaultArn: vault.BackupVaultArn,
      Status: status,
      CreationDate:
        seed.CreationDate === undefined ? Date.now() / 1000 : toEpochSeconds(seed.CreationDate, "CreationDate"),
    } as RecoveryPoint;
    for (const field of DATE_FIELDS) {
      if (point[field] !== undefined) point[field] = toEpochSeconds(point[field], field);
    }
    // A seeded CalculatedLifecycle may give its dates as ISO strings too; the wire has epoch seconds.
    if (point.CalculatedLifecycle) {
      const given = point.CalculatedLifecycle as Record<string, unknown>;
      point.CalculatedLifecycle = Object.fromEntries(
        Object.entries(given).map(([k, v]) => [k, toEpochSeconds(v, `CalculatedLifecycle.${k}`)]),
      );
    }
    // The service derives CalculatedLifecycle from Lifecycle and the creation date.
    if (point.Lifecycle && !point.CalculatedLifecycle) {
      const { MoveToColdStorageAfterDays: cold, DeleteAfterDays: del } = point.Lifecycle;
      point.CalculatedLifecycle = {
        ...(cold !== undefined ? { MoveToColdStorageAt: point.CreationDate + cold * DAY_SECONDS } : {}),
        ...(del !== undefined ? { DeleteAt: point.CreationDate + del * DAY_SECONDS } : {}),
      };
    }
    this.points.set(point.RecoveryPointArn, point);
    if (Tags) this.tags.set(point.RecoveryPointArn, { ...Tags });
    return point;
  }

  addFault(fault: Omit<Fault, "count"> & { count?: number }): void {
    this.faults.push({ ...fault, count: fault.count ?? 1 });
  }

  /** Throws the first injected fault matching this request, consuming one use of it. */
  takeFault(operation: string, arn: string | undefined): void {
    const index = this.faults.findIndex((f) => f.operation === operation && (f.arn === undefined || f.arn === arn));
    if (index < 0) return;
    const fault = this.faults[index]!;
    fault.count -= 1;
    if (fault.count <= 0) this.faults.splice(index, 1);
    throw new BackupServiceError(fault.code, fault.message, fault.status);
  }

  vault(name: string): Vault {
    const vault = this.vaults.get(name);
    if (!vault) throw notFound(`Backup vault ${name} does not exist`, name);
    return vault;
  }

  recoveryPoint(vaultName: string, arn: string): RecoveryPoint {
    this.vault(vaultName);
    const point = this.points.get(arn);
    if (!point || point.BackupVaultName !== vaultName) {
      throw notFound(`Recovery point ${arn} does not exist in backup vault ${vaultName}`, arn);
    }
    return point;
  }

  recoveryPointsIn(vaultName: string): RecoveryPoint[] {
    this.vault(vaultName);
    return [...this.points.values()].filter((p) => p.BackupVaultName === vaultName);
  }

  deleteRecoveryPoint(vaultName: string, arn: string, nowSeconds: number): void {
    const point = this.recoveryPoint(vaultName, arn);
    if (BUSY_STATUSES.has(point.Status)) {
      throw new BackupServiceError(
        "InvalidResourceStateException",
        `AWS Backup is already performing an action on recovery point ${arn} (status ${point.Status}). Try again later.`,
        undefined,
        arn,
      );
    }
    const retention = this.vault(vaultName).MinRetentionDays;
    if (retention !== undefined && nowSeconds - point.CreationDate < retention * DAY_SECONDS) {
      throw new BackupServiceError(
        "InvalidRequestException",
        `Recovery point ${arn} cannot be deleted: backup vault ${vaultName} is locked with a minimum retention of ${retention} days`,
        undefined,
        arn,
      );
    }
    // Accepted: AWS answers 200 and works on it asynchronously.
    const outcome = this.outcomes.get(arn) ?? this.outcomes.get("*") ?? { Outcome: "DELETED" };
    point.Status = "DELETING";
    delete point.StatusMessage;
    this.pending.set(arn, { outcome, remaining: outcome.DescribesWhileDeleting ?? 1 });
  }

  /**
   * What DescribeRecoveryPoint sees: a recovery point being deleted answers DELETING for
   * `DescribesWhileDeleting` calls, then is gone (ResourceNotFoundException) or EXPIRED.
   */
  describeRecoveryPoint(vaultName: string, arn: string): RecoveryPoint {
    const deletion = this.pending.get(arn);
    if (deletion && this.points.get(arn)?.BackupVaultName === vaultName) {
      if (deletion.remaining > 0) {
        deletion.remaining -= 1;
      } else {
        this.pending.delete(arn);
        if (deletion.outcome.Outcome === "DELETED") {
          this.points.delete(arn);
          this.tags.delete(arn);
        } else {
          const point = this.points.get(arn)!;
          point.Status = "EXPIRED";
          point.StatusMessage =
            deletion.outcome.StatusMessage ??
            `AWS Backup could not delete recovery point ${arn}: access denied on the resource`;
        }
      }
    }
    return this.recoveryPoint(vaultName, arn);
  }

  allRecoveryPoints(): RecoveryPoint[] {
    return [...this.points.values()];
  }

  /**
   * Tags of a recovery point or vault ARN the fake knows. Like AWS, only for resources under full
   * AWS Backup management (ARN `arn:<partition>:backup:…`): an EBS snapshot, RDS snapshot or classic
   * DynamoDB backup keeps its tags on the resource itself, read with that service's own API.
   */
  tagsOf(resourceArn: string): Record<string, string> {
    if (!FULLY_MANAGED_ARN.test(resourceArn)) {
      throw invalidParameter(
        `Resource ${resourceArn} is not managed fully by AWS Backup: ListTags accepts only ARNs that begin ` +
          "arn:<partition>:backup: (recovery points with full AWS Backup management, backup vaults, backup plans)",
        resourceArn,
      );
    }
    const known =
      this.points.has(resourceArn) || [...this.vaults.values()].some((v) => v.BackupVaultArn === resourceArn);
    if (!known) throw notFound(`Resource ${resourceArn} does not exist`, resourceArn);
    return this.tags.get(resourceArn) ?? {};
  }
}

/** Validates MaxResults like the service: an integer from 1 to 1000. */
export function checkMaxResults(raw: string | null): number | undefined {
  if (raw === null) return undefined;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 1000) {
    throw invalidParameter(`MaxResults must be an integer between 1 and 1000, got ${raw}`, "MaxResults");
  }
  return value;
}
