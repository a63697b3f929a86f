/**
 * Recovery point ARNs as AWS Backup writes them. The format says what the recovery
 * point is (an EBS snapshot, an RDS or Aurora snapshot, a DynamoDB backup, or a
 * recovery point that only AWS Backup knows, e.g. in a logically air-gapped vault).
 *
 *   EBS       arn:aws:ec2:<region>::snapshot/snap-<hex>                (no account)
 *   RDS       arn:aws:rds:<region>:<account>:snapshot:awsbackup:job-<id>
 *   Aurora    arn:aws:rds:<region>:<account>:cluster-snapshot:awsbackup:job-<id>
 *   DynamoDB  arn:aws:dynamodb:<region>:<account>:table/<table>/backup/<id>
 *   generic   arn:aws:backup:<region>:<account>:recovery-point:<id>
 *
 * `aws` stands for the partition of the region (arn:aws-us-gov:…, arn:aws-cn:…); an ARN whose
 * partition is not its region's is none of these formats.
 */
import { partitionOf, PARTITIONS } from "./partition";

export type RecoveryPointKind =
  "ebs-snapshot" | "rds-snapshot" | "rds-cluster-snapshot" | "dynamodb-backup" | "backup-recovery-point";

export interface RecoveryPointArn {
  readonly arn: string;
  readonly kind: RecoveryPointKind;
  readonly partition: string;
  readonly region: string;
  /** Absent in EBS snapshot ARNs. */
  readonly account: string | null;
  /** The recovery point's own id: `snap-…`, `awsbackup:job-…`, the backup id, the uuid. */
  readonly id: string;
}

// longest first, so that "aws" does not claim the start of "aws-cn"
const PARTITION = `(${[...PARTITIONS].sort((a, b) => b.length - a.length).join("|")})`;
const REGION = "([a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\\d)";
const ACCOUNT = "(\\d{12})";

const FORMATS: ReadonlyArray<{ kind: RecoveryPointKind; pattern: RegExp; hasAccount: boolean }> = [
  {
    kind: "ebs-snapshot",
    pattern: new RegExp(`^arn:${PARTITION}:ec2:${REGION}::snapshot/(snap-[0-9a-f]{8,17})$`),
    hasAccount: false,
  },
  {
    kind: "rds-snapshot",
    pattern: new RegExp(`^arn:${PARTITION}:rds:${REGION}:${ACCOUNT}:snapshot:([A-Za-z0-9:-]{1,255})$`),
    hasAccount: true,
  },
  {
    kind: "rds-cluster-snapshot",
    pattern: new RegExp(`^arn:${PARTITION}:rds:${REGION}:${ACCOUNT}:cluster-snapshot:([A-Za-z0-9:-]{1,255})$`),
    hasAccount: true,
  },
  {
    kind: "dynamodb-backup",
    pattern: new RegExp(
      `^arn:${PARTITION}:dynamodb:${REGION}:${ACCOUNT}:table/([A-Za-z0-9_.-]{3,255}/backup/[0-9A-Za-z-]{1,64})$`,
    ),
    hasAccount: true,
  },
  {
    kind: "backup-recovery-point",
    pattern: new RegExp(`^arn:${PARTITION}:backup:${REGION}:${ACCOUNT}:recovery-point:([A-Za-z0-9:_-]{1,255})$`),
    hasAccount: true,
  },
];

/** Parses a recovery point ARN; `undefined` when it is none of the known formats. */
export function parseRecoveryPointArn(arn: string): RecoveryPointArn | undefined {
  for (const format of FORMATS) {
    const m = format.pattern.exec(arn);
    if (!m) continue;
    const [, partition, region, third, fourth] = m;
    if (partitionOf(region!) !== partition) return undefined;
    return format.hasAccount
      ? { arn, kind: format.kind, partition: partition!, region: region!, account: third!, id: fourth! }
      : { arn, kind: format.kind, partition: partition!, region: region!, account: null, id: third! };
  }
  return undefined;
}

export interface BackupVaultArn {
  readonly region: string;
  readonly account: string;
  /** Everything after `:backup-vault:` (vault names may contain `/`, e.g. `aws/backup/...`). */
  readonly name: string;
}

// The account is read leniently (any digits) so that a wrong account is reported as
// "not deployed" rather than as an unreadable ARN.
const VAULT_ARN = new RegExp(`^arn:${PARTITION}:backup:${REGION}:(\\d+):backup-vault:(.+)$`);

export function parseBackupVaultArn(arn: string): BackupVaultArn | undefined {
  const m = VAULT_ARN.exec(arn);
  return m ? { region: m[2]!, account: m[3]!, name: m[4]! } : undefined;
}
