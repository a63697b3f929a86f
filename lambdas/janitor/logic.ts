/**
 * The janitor: deletes restored volumes that the pipeline leaked — volumes carrying the
 * pipeline tag that are not attached and at least as old as the longest allowed export
 * plus a margin. A volume younger than that may still belong to a running export and
 * is never touched. Reports what it deleted (log lines; the handler publishes the counts as the
 * `JanitorResourcesRemoved` metric, core/metrics.ts). Scheduled, so no
 * event names a recovery point: each line about a volume carries the volume and the
 * recovery point it was restored from (its tag), or `recoveryPointId: "unknown"`.
 */
import type { Logger } from "@aws-lambda-powertools/logger";
import { DeleteVolumeCommand, DescribeVolumesCommand, EC2Client, Volume } from "@aws-sdk/client-ec2";
import { RuntimeConfigError } from "../../core/errors";
import { shortIdOf } from "../../core/execution-name";
import { RECOVERY_POINT_TAG_KEY } from "../../core/tags";

export interface JanitorDeps {
  readonly ec2: EC2Client;
  readonly now: () => Date;
  readonly logger: Logger;
}

export interface JanitorOptions {
  /** Tag key and value every volume the pipeline restores carries. */
  readonly pipelineTag: { readonly key: string; readonly value: string };
  /** A volume is leaked once it is this old or older (longest export + margin). */
  readonly maxAgeHours: number;
}

export interface JanitorReport {
  readonly deleted: string[];
  readonly kept: Array<{ volumeId: string; reason: string }>;
  readonly failed: Array<{ volumeId: string; error: string }>;
}

export async function runJanitor(deps: JanitorDeps, opts: JanitorOptions): Promise<JanitorReport> {
  if (!(opts.maxAgeHours > 0)) throw new RuntimeConfigError(`maxAgeHours must be positive (got ${opts.maxAgeHours})`);
  const cutoff = deps.now().getTime() - opts.maxAgeHours * 3600_000;
  const report: JanitorReport = { deleted: [], kept: [], failed: [] };

  const { logger } = deps;
  for await (const volume of taggedVolumes(deps.ec2, opts.pipelineTag)) {
    const volumeId = volume.VolumeId!;
    const recoveryPointArn = tagValue(volume, RECOVERY_POINT_TAG_KEY);
    // The starter's keys: recoveryPointId on every line ("unknown" when the tag is missing), the ARN when known.
    logger.appendKeys({
      volumeId,
      recoveryPointId: recoveryPointArn ? shortIdOf(recoveryPointArn) : "unknown",
      recoveryPointArn,
    });
    const created = volume.CreateTime?.getTime() ?? Number.POSITIVE_INFINITY;
    const attached = (volume.Attachments ?? []).some((a) => a.State !== "detached");
    if (attached || volume.State === "in-use") {
      report.kept.push({ volumeId, reason: "attached" });
    } else if (created > cutoff) {
      report.kept.push({ volumeId, reason: `younger than ${opts.maxAgeHours} h` });
    } else if (volume.State !== "available" && volume.State !== "error") {
      report.kept.push({ volumeId, reason: `state ${volume.State}` });
    } else {
      try {
        await deps.ec2.send(new DeleteVolumeCommand({ VolumeId: volumeId }));
        report.deleted.push(volumeId);
        logger.info("deleted leaked volume", { createTime: volume.CreateTime?.toISOString() });
      } catch (err) {
        report.failed.push({ volumeId, error: (err as Error).name });
        logger.error("could not delete leaked volume", err as Error);
      }
    }
    logger.removeKeys(["volumeId", "recoveryPointId", "recoveryPointArn"]);
  }

  // The counts are metrics too: the handler publishes them (core/metrics.ts JanitorResourcesRemoved).
  logger.info("janitor run finished", {
    deleted: report.deleted,
    failed: report.failed.length,
    kept: report.kept.length,
  });
  return report;
}

async function* taggedVolumes(ec2: EC2Client, tag: { key: string; value: string }): AsyncGenerator<Volume> {
  let NextToken: string | undefined;
  do {
    const page = await ec2.send(
      new DescribeVolumesCommand({
        Filters: [{ Name: `tag:${tag.key}`, Values: [tag.value] }],
        MaxResults: 200,
        NextToken,
      }),
    );
    yield* page.Volumes ?? [];
    NextToken = page.NextToken;
  } while (NextToken);
}

function tagValue(volume: Volume, key: string): string | undefined {
  return volume.Tags?.find((t) => t.Key === key)?.Value;
}
