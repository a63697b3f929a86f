/**
 * The worker's end-of-export metrics (core/metrics.ts): bytes in and out, compression ratio,
 * duration and throughput of one export, as one EMF line on stdout in the layout Powertools
 * Metrics prints. In AWS Batch stdout goes to the job's CloudWatch Logs group (awslogs
 * driver), where CloudWatch extracts the metrics; the worker needs no cloudwatch:PutMetricData.
 */
import { emfRecord, METRICS, PIPELINE_ENV, RESOURCE_TYPE_DIMENSION } from "../../core/metrics";
import type { Workflow } from "../../core/workflows";
import { log } from "./log";
import { emfWanted } from "./progress";

export interface ExportTotals {
  readonly uncompressedBytes: number;
  readonly compressedBytes: number;
  readonly seconds: number;
}

/** The EMF line of one finished export. */
export function exportMetricsLine(
  totals: ExportTotals,
  pipeline: string,
  resourceType: Workflow,
  now = Date.now(),
): string {
  const seconds = Math.max(totals.seconds, 0.001);
  return JSON.stringify(
    emfRecord(
      pipeline,
      [
        { metric: METRICS.workerBytesIn, value: totals.uncompressedBytes },
        { metric: METRICS.workerBytesOut, value: totals.compressedBytes },
        {
          metric: METRICS.workerCompressionRatio,
          value: totals.compressedBytes > 0 ? round(totals.uncompressedBytes / totals.compressedBytes) : 0,
        },
        { metric: METRICS.workerDuration, value: round(totals.seconds) },
        { metric: METRICS.workerThroughput, value: round(totals.uncompressedBytes / 2 ** 20 / seconds) },
      ],
      { [RESOURCE_TYPE_DIMENSION]: resourceType },
      now,
    ),
  );
}

/**
 * Prints the line when metrics are wanted (emfWanted: in AWS Batch) and the job names its
 * pipeline ($BACKUP_ACTIONS_PIPELINE, set by the job definition); a run without it (the CLI by
 * hand) says so once instead of inventing a dimension.
 */
export function reportExportMetrics(totals: ExportTotals, resourceType: Workflow, env = process.env): void {
  if (!emfWanted(env)) return;
  const pipeline = env[PIPELINE_ENV];
  if (!pipeline) {
    log.warn(`${PIPELINE_ENV} is not set: no export metrics`);
    return;
  }
  log.raw(exportMetricsLine(totals, pipeline, resourceType));
}

const round = (n: number) => Math.round(n * 100) / 100;
