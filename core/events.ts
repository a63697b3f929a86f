/**
 * Event classification: the one pure function behind the starter Lambda and
 * `backup-actions plan-event`. Given an EventBridge event and the config it decides
 * "export" (with the workflow and the execution name) or "skip" (with the reason).
 *
 * Where AWS Backup puts things (AWS Backup developer guide, "Monitoring AWS Backup events
 * using Amazon EventBridge", example events):
 * - `Backup Job State Change`: the recovery point ARN is `resources[0]` (the detail has
 *   no `recoveryPointArn`); `detail.state`, `detail.backupVaultName`, `detail.resourceType`;
 *   `detail.backupSizeInBytes` is a string. Account and region are the event's.
 * - `Copy Job State Change`: the new recovery point is `detail.destinationRecoveryPointArn`
 *   (`resources[0]` is the SOURCE recovery point); the vault is the last part of
 *   `detail.destinationBackupVaultArn`, which also gives the destination account and
 *   region; `detail.backupSizeInBytes` is a number. Before COMPLETED,
 *   `destinationRecoveryPointArn` is `{}`.
 *
 * Where the event arrives is not where a copy is (docs/adr/0006-copy-jobs-across-regions-and-accounts.md):
 * AWS Backup sends a copy job's events to the default event bus of the account and region
 * that run the copy job, the SOURCE. So the classifier also takes the pipeline that
 * received the event (`receiver`, by default the event's own `account` and `region`):
 * - a copy into another region of the receiver's account that the config deploys is an
 *   export of THAT region's pipeline (the starter starts that region's dispatcher);
 * - a copy into another account is skipped: the receiving pipeline does not start exports
 *   in other accounts, and the destination account's pipelines never see the event;
 * - a copy delivered in a region without a pipeline reaches no pipeline at all.
 */
import type { IntakeConfigSource } from "./intake-config";
import { executionName } from "./execution-name";
import { parseBackupVaultArn, parseRecoveryPointArn, RecoveryPointKind } from "./recovery-point-arn";
import { SUPPORTED_RESOURCE_TYPES, Workflow } from "./workflows";

export const EVENT_SOURCE = "aws.backup";
export const BACKUP_JOB_STATE_CHANGE = "Backup Job State Change";
export const COPY_JOB_STATE_CHANGE = "Copy Job State Change";
export const DETAIL_TYPES = [BACKUP_JOB_STATE_CHANGE, COPY_JOB_STATE_CHANGE] as const;
export type DetailType = (typeof DETAIL_TYPES)[number];

export { SUPPORTED_RESOURCE_TYPES, WORKFLOWS } from "./workflows";
export type { Workflow } from "./workflows";

/** What `plan-event` prints: exactly these five keys. */
export interface Plan {
  readonly action: "export" | "skip";
  readonly workflow: Workflow | null;
  readonly executionName: string | null;
  readonly recoveryPointArn: string | null;
  readonly reason: string;
}

/** What the starter passes on besides the plan (only known for an export). */
export interface RecoveryPointFacts {
  readonly arn: string;
  readonly id: string;
  readonly kind: RecoveryPointKind;
  readonly workflow: Workflow;
  readonly account: string;
  readonly region: string;
  readonly vault: string;
  readonly resourceType: string;
  readonly resourceArn: string | null;
  readonly sizeBytes: number | null;
}

export interface EventFacts {
  readonly eventId: string | null;
  readonly detailType: DetailType;
  readonly time: string | null;
  readonly jobId: string | null;
}

/** The pipeline an event reached: its account and region. */
export interface Receiver {
  readonly account: string;
  readonly region: string;
}

export interface Classification {
  readonly plan: Plan;
  readonly recoveryPoint: RecoveryPointFacts | null;
  readonly event: EventFacts | null;
}

/** Recovery point formats each workflow can take; `backup-recovery-point` covers logically air-gapped vaults. */
const COMPATIBLE_KINDS: Readonly<Record<Workflow, readonly RecoveryPointKind[]>> = {
  ebs: ["ebs-snapshot", "backup-recovery-point"],
  rds: ["rds-snapshot", "backup-recovery-point"],
  aurora: ["rds-cluster-snapshot", "backup-recovery-point"],
  dynamodb: ["dynamodb-backup", "backup-recovery-point"],
};

/**
 * `receiver`: the pipeline that got the event (the starter passes its own account and
 * region). Without it, the event's `account` and `region`: the event bus AWS delivered it
 * to, which is where a pipeline receives it without any forwarding.
 */
export function classifyEvent(event: unknown, config: IntakeConfigSource, receiver?: Receiver): Plan {
  return analyzeEvent(event, config, receiver).plan;
}

export function analyzeEvent(event: unknown, config: IntakeConfigSource, receiver?: Receiver): Classification {
  // Reads as the checks run: each returns a skip with the first reason that applies.
  let foundArn: string | null = null;
  const skip = (reason: string, facts: EventFacts | null = null): Classification => ({
    plan: { action: "skip", workflow: null, executionName: null, recoveryPointArn: foundArn, reason },
    recoveryPoint: null,
    event: facts,
  });

  if (!isRecord(event)) return skip(`the event is ${describe(event)}, not a JSON object`);
  if (event.source !== EVENT_SOURCE) return skip(`source is ${describe(event.source)}, not "${EVENT_SOURCE}"`);
  const detailType = event["detail-type"];
  if (!isDetailType(detailType)) {
    return skip(
      `detail-type is ${describe(detailType)}, not "${BACKUP_JOB_STATE_CHANGE}" or "${COPY_JOB_STATE_CHANGE}"`,
    );
  }
  const detail = event.detail;
  if (!isRecord(detail)) return skip(`detail is ${describe(detail)}, not an object`);
  const isCopy = detailType === COPY_JOB_STATE_CHANGE;
  const facts: EventFacts = {
    eventId: str(event.id),
    detailType,
    time: str(event.time),
    jobId: str(isCopy ? detail.copyJobId : detail.backupJobId),
  };

  const arnField = isCopy ? "detail.destinationRecoveryPointArn" : "resources[0]";
  const arnValue = isCopy
    ? detail.destinationRecoveryPointArn
    : Array.isArray(event.resources)
      ? event.resources[0]
      : undefined;
  foundArn = typeof arnValue === "string" && arnValue !== "" ? arnValue : null;

  if (detail.state !== "COMPLETED") return skip(`state is ${describe(detail.state)}, not "COMPLETED"`, facts);
  if (typeof event.account !== "string") return skip(`account is ${describe(event.account)}, not a string`, facts);
  if (typeof event.region !== "string") return skip(`region is ${describe(event.region)}, not a string`, facts);
  const delivered: Receiver = { account: event.account, region: event.region };
  const at = receiver ?? delivered;

  // Where the recovery point lives: the event's account and region for a backup job;
  // the destination vault's for a copy job (a copy may cross regions or accounts).
  let account: string;
  let region: string;
  let vault: string;
  if (isCopy) {
    const vaultArn =
      typeof detail.destinationBackupVaultArn === "string"
        ? parseBackupVaultArn(detail.destinationBackupVaultArn)
        : undefined;
    if (!vaultArn)
      return skip(
        `detail.destinationBackupVaultArn is ${describe(detail.destinationBackupVaultArn)}, not a backup vault ARN`,
        facts,
      );
    ({ account, region, name: vault } = vaultArn);
  } else {
    if (typeof detail.backupVaultName !== "string" || detail.backupVaultName === "") {
      return skip(`detail.backupVaultName is ${describe(detail.backupVaultName)}, not a vault name`, facts);
    }
    ({ account, region } = delivered);
    vault = detail.backupVaultName;
  }

  const deployed = config.accounts.find((a) => a.id === account);
  if (!deployed)
    return skip(
      `account ${account} is not deployed by the config (accounts: ${config.accounts.map((a) => a.id).join(", ")})`,
      facts,
    );
  if (!deployed.regions.includes(region)) {
    return skip(
      `region ${region} is not deployed for account ${account} (regions: ${deployed.regions.join(", ")})`,
      facts,
    );
  }
  // A pipeline starts exports in its own account only (ADR 0006).
  if (account !== at.account) {
    return skip(
      isCopy
        ? `the copy is in account ${account} but its event reached account ${at.account}: AWS Backup sends a copy job's events to the account that runs the copy job, ` +
            `and a pipeline exports only its own account's recovery points, so no pipeline exports this copy unless the event is forwarded to an event bus of account ${account}`
        : `the recovery point is in account ${account} but its event reached account ${at.account}: a pipeline exports only its own account's recovery points (account ${account}'s pipeline receives this event on its own bus)`,
      facts,
    );
  }
  if (!deployed.regions.includes(at.region)) {
    return skip(
      `the event reached ${at.account}/${at.region}, where the config deploys no pipeline (regions: ${deployed.regions.join(", ")}), so nothing receives it` +
        (isCopy
          ? `: AWS Backup sends a copy job's events to the source region; deploy a pipeline there or forward the event to the event bus of ${region}`
          : ""),
      facts,
    );
  }
  if (!config.backupVaults.includes(vault))
    return skip(`vault "${vault}" is not watched (backupVaults: ${config.backupVaults.join(", ")})`, facts);

  const resourceType = detail.resourceType;
  if (typeof resourceType !== "string" || !(resourceType in SUPPORTED_RESOURCE_TYPES)) {
    return skip(
      `resource type ${describe(resourceType)} is not supported (${Object.keys(SUPPORTED_RESOURCE_TYPES).join(", ")})`,
      facts,
    );
  }

  if (foundArn === null) return skip(`no recovery point ARN: ${arnField} is ${describe(arnValue)}`, facts);
  const arn = parseRecoveryPointArn(foundArn);
  if (!arn)
    return skip(
      `${arnField} "${foundArn}" is not a recovery point ARN (EBS snapshot, RDS snapshot or cluster snapshot, DynamoDB backup or AWS Backup recovery point)`,
      facts,
    );

  const resourceArn = str(detail.resourceArn);
  const workflow = workflowOf(resourceType, arn.kind, resourceArn);
  if (!COMPATIBLE_KINDS[workflow].includes(arn.kind)) {
    return skip(`${arnField} "${foundArn}" is a ${arn.kind}, which a ${resourceType} backup does not produce`, facts);
  }
  if (arn.region !== region || (arn.account !== null && arn.account !== account)) {
    return skip(
      `${arnField} "${foundArn}" is not in ${account}/${region} where the ${isCopy ? "destination vault" : "event"} is`,
      facts,
    );
  }
  if (config.exports[workflow] === false)
    return skip(`${workflow} exports are switched off (exports.${workflow} is false)`, facts);

  const name = executionName(foundArn, workflow);
  return {
    plan: {
      action: "export",
      workflow,
      executionName: name,
      recoveryPointArn: foundArn,
      reason:
        `${resourceType} recovery point ${arn.id} in vault "${vault}" (${account}/${region}) from a ${detailType}` +
        // From the event only (not from who received it), so every delivery of it, in
        // either region, gives the same execution input.
        (region === delivered.region
          ? ""
          : `; AWS Backup sent the event to ${delivered.region}, the ${region} pipeline exports it`),
    },
    recoveryPoint: {
      arn: foundArn,
      id: arn.id,
      kind: arn.kind,
      workflow,
      account,
      region,
      vault,
      resourceType,
      resourceArn,
      sizeBytes: sizeOf(detail.backupSizeInBytes),
    },
    event: facts,
  };
}

/**
 * AWS Backup reports Aurora clusters as `Aurora`, but an RDS-typed job can still be a
 * cluster: its snapshot is a `cluster-snapshot` and its resource a `:cluster:` ARN.
 */
function workflowOf(resourceType: string, kind: RecoveryPointKind, resourceArn: string | null): Workflow {
  const workflow = SUPPORTED_RESOURCE_TYPES[resourceType]!;
  if (workflow !== "rds") return workflow;
  const clusterResource = resourceArn !== null && /^arn:[^:]+:rds:[^:]*:\d*:cluster:/.test(resourceArn);
  return kind === "rds-cluster-snapshot" || (kind === "backup-recovery-point" && clusterResource) ? "aurora" : "rds";
}

/** `backupSizeInBytes` is a string in backup job events and a number in copy job events. */
function sizeOf(value: unknown): number | null {
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return value;
  if (typeof value === "string" && /^\d{1,15}$/.test(value)) return Number(value);
  return null;
}

function isDetailType(value: unknown): value is DetailType {
  return typeof value === "string" && (DETAIL_TYPES as readonly string[]).includes(value);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function str(value: unknown): string | null {
  return typeof value === "string" && value !== "" ? value : null;
}

/** A short, exact description of a value for a skip reason. */
function describe(value: unknown): string {
  if (value === undefined) return "missing";
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") return Object.keys(value).length === 0 ? "an empty object" : "an object";
  if (typeof value === "string") return JSON.stringify(value.length > 200 ? `${value.slice(0, 200)}…` : value);
  return `${typeof value} ${String(value)}`;
}
