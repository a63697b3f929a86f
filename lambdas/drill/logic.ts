/**
 * The restore drill's function (stacks/workflows/restore-drill.ts calls it three times):
 * - `sample`: the archives of this drill (core/drill.ts pickDrillSample) from the ledger's SUCCEEDED
 *   records, each with what its objects' storage classes mean: verify it, skip it (objects in
 *   Glacier Flexible Retrieval or Deep Archive, or in an Intelligent-Tiering archive tier: HeadObject
 *   `ArchiveStatus`; `drills.glacier` "skip"), or restore them first
 *   (RestoreObject, Tier Bulk, `drills.glacier` "restore") and say what that costs;
 *   A restore is asked once: an object whose HeadObject `Restore` says a restore is under way, or a restored
 *   copy that lasts at least DRILL_RESTORE_MIN_REMAINING_HOURS more, gets no RestoreObject (a later drill
 *   while an earlier one waits, or a rerun); S3's 409 RestoreAlreadyInProgress (a race) counts as under way;
 * - `restore-status`: whether every archived object of an archive has a restored copy (HeadObject `Restore`);
 * - `report`: counts the results and emits the DrillFailed metric (zero included) the alarm watches.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { HeadObjectCommand, ListObjectsV2Command, RestoreObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import {
  ARCHIVE_STORAGE_CLASSES,
  drillJobName,
  INTELLIGENT_TIERING_ARCHIVE_TIERS,
  DRILL_RESTORE_DAYS,
  DRILL_RESTORE_MIN_REMAINING_HOURS,
  pickDrillSample,
  RESOURCE_TYPE_OF,
  restoreCostUsd,
  restoreStateOf,
  type ArchiveStorageClass,
  type DrillArchive,
  type DrillCandidate,
  type DrillRequest,
  type DrillSettings,
} from "../../core/drill";
import type { MetricsRecorder } from "../../core/lambda-metrics";
import { succeededExports } from "../../core/ledger-query";
import { METRICS } from "../../core/metrics";
import { parseS3Url } from "../../core/s3-url";

export interface DrillDeps {
  readonly ddb: DynamoDBClient;
  readonly s3: S3Client;
  readonly logger: Pick<Logger, "info" | "warn">;
  readonly metrics: MetricsRecorder;
  /** @default Math.random */
  readonly random?: () => number;
  /** @default () => new Date() */
  readonly now?: () => Date;
}

interface ArchivedObject {
  readonly key: string;
  readonly storageClass: ArchiveStorageClass;
  readonly bytes: number;
}

const isArchived = (c: string | undefined): c is ArchiveStorageClass =>
  (ARCHIVE_STORAGE_CLASSES as readonly (string | undefined)[]).includes(c);

/**
 * The archive's objects in an archive storage class: ListObjectsV2 names every object's class; an
 * INTELLIGENT_TIERING object's tier only HeadObject tells (`ArchiveStatus`, absent outside the archive tiers).
 */
async function archivedObjects(s3: S3Client, archiveUrl: string): Promise<ArchivedObject[]> {
  const { bucket, prefix } = parseS3Url(archiveUrl);
  const out: ArchivedObject[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
    for (const o of page.Contents ?? []) {
      if (isArchived(o.StorageClass)) out.push({ key: o.Key!, storageClass: o.StorageClass, bytes: o.Size ?? 0 });
      else if (o.StorageClass === "INTELLIGENT_TIERING") {
        const { ArchiveStatus } = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: o.Key! }));
        if (ArchiveStatus)
          out.push({ key: o.Key!, storageClass: INTELLIGENT_TIERING_ARCHIVE_TIERS[ArchiveStatus], bytes: o.Size ?? 0 });
      }
    }
    token = page.NextContinuationToken;
  } while (token);
  return out;
}

const isIntelligentTiering = (c: ArchiveStorageClass) => c.startsWith("INTELLIGENT_TIERING");

/** A ledger record the drill can verify: one of its workflows, with the archive and manifest hash recorded. */
function candidateOf(r: Record<string, unknown>, workflows: readonly string[]): DrillCandidate | undefined {
  const { recoveryPointArn, workflow, archiveUrl, sha256, startedAt } = r;
  if (typeof workflow !== "string" || !workflows.includes(workflow)) return undefined;
  if (typeof archiveUrl !== "string" || typeof sha256 !== "string" || typeof startedAt !== "string") return undefined;
  return {
    recoveryPointArn: String(recoveryPointArn),
    workflow: workflow as DrillCandidate["workflow"],
    archiveUrl,
    sha256,
    startedAt,
    resourceArn: typeof r.resourceArn === "string" ? r.resourceArn : null,
    bytes: typeof r.bytes === "number" ? r.bytes : null,
  };
}

export async function sampleArchives(deps: DrillDeps, settings: DrillSettings): Promise<{ archives: DrillArchive[] }> {
  const records = await succeededExports(deps.ddb, settings.ledgerTable);
  const candidates = records.flatMap((r) => candidateOf(r as never, settings.workflows) ?? []);
  const sample = pickDrillSample(candidates, settings.sampleSize, deps.random);
  deps.logger.info("drill sample", {
    succeeded: records.length,
    candidates: candidates.length,
    sampled: sample.map((c) => c.recoveryPointArn),
  });
  const archives: DrillArchive[] = [];
  for (const c of sample) {
    const archived = await archivedObjects(deps.s3, c.archiveUrl);
    const cost = restoreCostUsd(archived);
    const classes = [...new Set(archived.map((o) => o.storageClass))].join(", ");
    const common = {
      ...c,
      jobName: drillJobName(c.recoveryPointArn),
      resourceType: RESOURCE_TYPE_OF[c.workflow],
      archivedObjects: archived.length,
      archivedBytes: archived.reduce((n, o) => n + o.bytes, 0),
      restoreCostUsd: cost,
    };
    if (archived.length === 0) {
      archives.push({ ...common, action: "verify", reason: null, restores: null });
    } else if (settings.glacier === "skip") {
      const reason = `${archived.length} object(s) of the archive are in ${classes}: drills.glacier is "skip" (a Bulk restore would cost about $${cost})`;
      deps.logger.warn("drill skips an archived archive", { archiveUrl: c.archiveUrl, reason });
      archives.push({ ...common, action: "skip", reason, restores: null });
    } else {
      const { bucket } = parseS3Url(c.archiveUrl);
      const restores = { requested: 0, inProgress: 0, restored: 0 };
      const now = (deps.now ?? (() => new Date()))();
      for (const o of archived) restores[await restoreOnce(deps.s3, bucket, o, now)]++;
      const kept = archived.every((o) => isIntelligentTiering(o.storageClass))
        ? "back to Frequent Access"
        : `for ${DRILL_RESTORE_DAYS} days`;
      const reason =
        `${archived.length} object(s) of the archive (${common.archivedBytes} bytes) are in ${classes}: ` +
        `Bulk restore ${kept}, about $${cost}; this drill requested ${restores.requested}, ` +
        `found ${restores.inProgress} under way and ${restores.restored} restored`;
      deps.logger.info("drill restores archived objects (Bulk)", {
        archiveUrl: c.archiveUrl,
        objects: archived.length,
        bytes: common.archivedBytes,
        restoreCostUsd: cost,
        ...restores,
      });
      archives.push({ ...common, action: "restore", reason, restores });
    }
  }
  return { archives };
}

/**
 * One archived object's restore, asked at most once: HeadObject first (its `Restore`), then RestoreObject
 * Tier Bulk only where no restore is under way and no restored copy lasts long enough. S3 answers a
 * restore under way with 409 RestoreAlreadyInProgress (RestoreObject API reference, special errors). An
 * Intelligent-Tiering object still in an archive tier has no restored copy: it is restored without Days.
 */
async function restoreOnce(
  s3: S3Client,
  bucket: string,
  object: ArchivedObject,
  now: Date,
): Promise<"requested" | "inProgress" | "restored"> {
  const head = await s3.send(new HeadObjectCommand({ Bucket: bucket, Key: object.key }));
  const state = restoreStateOf(head.Restore);
  if (state.state === "ongoing") return "inProgress";
  const enough = now.getTime() + DRILL_RESTORE_MIN_REMAINING_HOURS * 3600_000;
  const tiering = isIntelligentTiering(object.storageClass);
  if (!tiering && state.state === "restored" && (state.expiry === null || state.expiry.getTime() >= enough))
    return "restored";
  try {
    await s3.send(
      new RestoreObjectCommand({
        Bucket: bucket,
        Key: object.key,
        RestoreRequest: tiering
          ? { GlacierJobParameters: { Tier: "Bulk" } }
          : { Days: DRILL_RESTORE_DAYS, GlacierJobParameters: { Tier: "Bulk" } },
      }),
    );
    return "requested";
  } catch (e) {
    if ((e as { name?: string }).name === "RestoreAlreadyInProgress") return "inProgress";
    throw e;
  }
}

/**
 * Done when every archived object of the archive has a restored copy (HeadObject `Restore: ongoing-request="false", …`)
 * or, Intelligent-Tiering, is back in its Frequent Access tier (no `ArchiveStatus`).
 */
export async function restoreStatus(deps: DrillDeps, archiveUrl: string): Promise<{ done: boolean; pending: number }> {
  const { bucket } = parseS3Url(archiveUrl);
  let pending = 0;
  for (const o of await archivedObjects(deps.s3, archiveUrl)) {
    // an Intelligent-Tiering object listed here is still in its archive tier; restored, it is listed no more
    if (isIntelligentTiering(o.storageClass)) {
      pending++;
      continue;
    }
    const head = await deps.s3.send(new HeadObjectCommand({ Bucket: bucket, Key: o.key }));
    if (restoreStateOf(head.Restore).state !== "restored") pending++;
  }
  return { done: pending === 0, pending };
}

export function report(
  deps: DrillDeps,
  request: Extract<DrillRequest, { action: "report" }>,
): { passed: number; failed: number; skipped: number } {
  const count = (r: string) => request.results.filter((x) => x.result === r).length;
  // A sample or Map that failed as a whole is a drill that did not run: it alarms like a failed archive.
  const failed = count("FAILED") + (request.error ? 1 : 0);
  const out = { passed: count("PASSED"), failed, skipped: count("SKIPPED") };
  deps.metrics.add(METRICS.drillFailed, failed);
  deps.logger.info("drill report", { ...out, error: request.error ?? undefined });
  return out;
}

export async function handleDrill(request: DrillRequest, deps: DrillDeps, settings: DrillSettings): Promise<unknown> {
  switch (request.action) {
    case "sample":
      return sampleArchives(deps, settings);
    case "restore-status":
      return restoreStatus(deps, request.archiveUrl);
    case "report":
      return report(deps, request);
  }
}
