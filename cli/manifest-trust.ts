/**
 * Tamper evidence for `verify` and `restore`. Whoever can write the archive bucket can rewrite a
 * manifest and every checksum in it consistently, so the manifest's own checksums prove nothing
 * about who wrote it. What the pipeline recorded cannot be rewritten from the bucket: the ledger
 * item of the recovery point holds the SHA-256 of the manifest the verify step read (`sha256`,
 * core/ledger.ts), and the operator may know it too (`--expect-manifest-sha256`). Both are compared
 * with the manifest's bytes before the manifest is used and before any object is read.
 */
import { DynamoDBClient, GetItemCommand } from "@aws-sdk/client-dynamodb";
import type { ManifestCheck } from "../batch-worker/src";
import { LEDGER_PARTITION_KEY } from "../core/ledger";
import { parseRecoveryPointArn } from "../core/recovery-point-arn";
import { ebsRecoveryPointArnOf } from "../core/s3-layout";
import { UsageError } from "./args";
import { BackupActionsError } from "../core/errors";

/** The manifest is not the one expected or recorded: refused, nothing read or written. */
export class ManifestMismatchError extends BackupActionsError {
  override readonly name: string = "ManifestMismatchError";
}

export interface TrustOptions {
  /** The export's URL (`s3://bucket/prefix/` or `file:///dir/`). */
  readonly url: string;
  /** Hex SHA-256 the operator expects (from the ledger, a ticket, a notification). */
  readonly expectSha256?: string;
  /** Ledger table to compare with. */
  readonly ledgerTable?: string;
  /** Ledger key; derived from an EBS archive URL when absent. */
  readonly recoveryPointArn?: string;
  /** For tests; by default a client in the recovery point's region. */
  readonly dynamodb?: DynamoDBClient;
  /** Where the "not compared" warning and the manifest's SHA-256 go. */
  readonly warn: (line: string) => void;
}

const HEX64 = /^[0-9a-fA-F]{64}$/;

/** Checks the options and returns the check to run on the manifest's SHA-256. */
export function manifestCheck(o: TrustOptions): ManifestCheck {
  if (o.expectSha256 !== undefined && !HEX64.test(o.expectSha256)) {
    throw new UsageError(`--expect-manifest-sha256 must be 64 hexadecimal characters, got "${o.expectSha256}"`);
  }
  let arn: string | undefined;
  if (o.ledgerTable !== undefined) {
    arn = o.recoveryPointArn ?? recoveryPointOfUrl(o.url);
    if (!parseRecoveryPointArn(arn)) throw new UsageError(`--recovery-point-arn ${arn} is not a recovery point ARN`);
  } else if (o.recoveryPointArn !== undefined) {
    throw new UsageError("--recovery-point-arn needs --ledger-table");
  }
  return async (sha256) => {
    o.warn(`manifest.json SHA-256 ${sha256}`);
    if (o.expectSha256 !== undefined && o.expectSha256.toLowerCase() !== sha256) {
      throw new ManifestMismatchError(
        `manifest.json at ${o.url} has SHA-256 ${sha256}, --expect-manifest-sha256 says ${o.expectSha256.toLowerCase()}: refusing it (nothing was read or written)`,
      );
    }
    if (arn !== undefined) await compareWithLedger(o, arn, sha256);
    if (o.expectSha256 === undefined && arn === undefined) {
      o.warn(
        "manifest.json was not compared with the ledger (--ledger-table) or a known SHA-256 (--expect-manifest-sha256): " +
          "the checksums it lists prove the bytes match the manifest, not that the pipeline wrote them",
      );
    }
  };
}

function recoveryPointOfUrl(url: string): string {
  const m = /^s3:\/\/[^/]+\/(.*)$/.exec(url);
  const arn = m ? ebsRecoveryPointArnOf(m[1]!) : undefined;
  if (!arn) {
    throw new UsageError(
      `cannot tell the recovery point from ${url} (not an ebs/<account>/<region>/…/<snapshot>/ archive prefix): pass --recovery-point-arn`,
    );
  }
  return arn;
}

async function compareWithLedger(o: TrustOptions, arn: string, sha256: string): Promise<void> {
  const region = parseRecoveryPointArn(arn)!.region;
  const ddb = o.dynamodb ?? new DynamoDBClient({ region });
  let item;
  try {
    ({ Item: item } = await ddb.send(
      new GetItemCommand({
        TableName: o.ledgerTable,
        Key: { [LEDGER_PARTITION_KEY]: { S: arn } },
        ConsistentRead: true,
      }),
    ));
  } catch (e) {
    throw new ManifestMismatchError(
      `cannot read the ledger ${o.ledgerTable} (${region}) for ${arn}: ${(e as Error).message}; refusing to trust the manifest unchecked`,
    );
  }
  const where = `ledger ${o.ledgerTable} (${region})`;
  if (!item)
    throw new ManifestMismatchError(
      `${where} has no record of ${arn}: the pipeline never exported it, so ${o.url} is not its archive`,
    );
  const status = item.status?.S;
  if (status !== "SUCCEEDED")
    throw new ManifestMismatchError(
      `${where} records ${arn} as ${status ?? "without a status"}, not SUCCEEDED: no verified manifest was recorded`,
    );
  const recordedUrl = item.archiveUrl?.S;
  if (recordedUrl !== undefined && withSlash(recordedUrl) !== withSlash(o.url)) {
    throw new ManifestMismatchError(`${where} records ${arn} at ${recordedUrl}, not at ${o.url}`);
  }
  const recorded = item.sha256?.S;
  if (!recorded) throw new ManifestMismatchError(`${where} records no manifest SHA-256 for ${arn}`);
  if (recorded.toLowerCase() !== sha256) {
    throw new ManifestMismatchError(
      `manifest.json at ${o.url} has SHA-256 ${sha256}, ${where} recorded ${recorded} for ${arn}: ` +
        "the archive was changed after the pipeline verified it; refusing it (nothing was read or written)",
    );
  }
  o.warn(`manifest.json matches the SHA-256 ${where} recorded for ${arn}`);
}

function withSlash(url: string): string {
  return url.endsWith("/") ? url : `${url}/`;
}
