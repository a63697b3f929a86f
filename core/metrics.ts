/**
 * The pipeline's own CloudWatch metrics: one namespace, every metric name, its unit, who emits
 * it and its dimensions, defined once. The Lambdas emit them with Powertools Metrics
 * (core/lambda-metrics.ts); the Batch worker, which is not a Lambda, prints the same embedded
 * metric format (EMF) lines itself (`emfRecord`): its stdout goes to CloudWatch Logs through
 * the awslogs driver, and CloudWatch extracts metrics from any log line with an `_aws` block.
 * The dashboard and the alarms (stacks/constructs/dashboard.ts, alarms.ts) reference metrics
 * only through these definitions, so a metric cannot be renamed on one side only.
 *
 * Every metric carries the dimensions `service` (Powertools' default dimension, the emitter:
 * `backup-actions-<source>`) and `Pipeline` (the pipeline stack name, `pipeline-<account>-<region>`),
 * plus the metric's own `dimensions`. CloudWatch identifies a metric by its full dimension set:
 * a query must name exactly these.
 */

export const METRICS_NAMESPACE = "BackupActions";

/** Environment variable carrying the Pipeline dimension's value (set on every Lambda and the worker job). */
export const PIPELINE_ENV = "BACKUP_ACTIONS_PIPELINE";

export const SERVICE_DIMENSION = "service";
export const PIPELINE_DIMENSION = "Pipeline";
/** A workflow of core/workflows.ts: ebs, rds, aurora, dynamodb. */
export const RESOURCE_TYPE_DIMENSION = "ResourceType";
/** A DROP_REASONS value. */
export const REASON_DIMENSION = "Reason";

export type MetricDimension = typeof RESOURCE_TYPE_DIMENSION | typeof REASON_DIMENSION;
/** The CloudWatch units these metrics use (names as CloudWatch and Powertools spell them). */
export type MetricUnitName = "Count" | "Bytes" | "Seconds" | "None";
/** Who emits a metric; its `service` dimension is `backup-actions-<source>`. */
export type MetricSource = "starter" | "verify" | "janitor" | "worker" | "reconciler" | "drill";

export interface MetricDefinition {
  readonly name: string;
  readonly unit: MetricUnitName;
  readonly source: MetricSource;
  /** Dimensions besides `service` and `Pipeline`. */
  readonly dimensions: readonly MetricDimension[];
  /** The statistic the dashboard and alarms read. */
  readonly statistic: "Sum" | "Average" | "Maximum";
  readonly description: string;
}

/**
 * Why the starter dropped an event. A bounded set, since each value is a metric of its own;
 * the exact reason (free text) is on the log line.
 */
export const DROP_REASONS = {
  /** The SQS message body is not JSON. */
  notJson: "NotJson",
  /** The classifier skipped it: not COMPLETED, another vault, an export switched off, … */
  notExportable: "NotExportable",
} as const;
export type DropReason = (typeof DROP_REASONS)[keyof typeof DROP_REASONS];

const RT = [RESOURCE_TYPE_DIMENSION] as const;

export const METRICS = {
  starterEventsReceived: {
    name: "StarterEventsReceived",
    unit: "Count",
    source: "starter",
    dimensions: [],
    statistic: "Sum",
    description: "AWS Backup events the starter received from the intake queue",
  },
  starterEventsDropped: {
    name: "StarterEventsDropped",
    unit: "Count",
    source: "starter",
    dimensions: [REASON_DIMENSION],
    statistic: "Sum",
    description: "Events the starter dropped, by reason (DROP_REASONS)",
  },
  starterExecutionsStarted: {
    name: "StarterExecutionsStarted",
    unit: "Count",
    source: "starter",
    dimensions: RT,
    statistic: "Sum",
    description: "Dispatcher executions the starter started (duplicates not counted)",
  },
  archivesVerified: {
    name: "ArchivesVerified",
    unit: "Count",
    source: "verify",
    dimensions: RT,
    statistic: "Sum",
    description: "Archives the verify Lambda found complete",
  },
  archivesFailedVerification: {
    name: "ArchivesFailedVerification",
    unit: "Count",
    source: "verify",
    dimensions: RT,
    statistic: "Sum",
    description: "Archives the verify Lambda found incomplete or altered",
  },
  bytesVerified: {
    name: "BytesVerified",
    unit: "Bytes",
    source: "verify",
    dimensions: RT,
    statistic: "Sum",
    description: "Bytes of the archives that verified (what was archived, every resource type)",
  },
  janitorResourcesRemoved: {
    name: "JanitorResourcesRemoved",
    unit: "Count",
    source: "janitor",
    dimensions: RT,
    statistic: "Sum",
    description: "Leaked volumes (ebs) and temporary tables (dynamodb) the janitor deleted",
  },
  janitorRemovalsFailed: {
    name: "JanitorRemovalsFailed",
    unit: "Count",
    source: "janitor",
    dimensions: RT,
    statistic: "Sum",
    description: "Leaked resources the janitor could not delete",
  },
  workerBytesIn: {
    name: "WorkerBytesIn",
    unit: "Bytes",
    source: "worker",
    dimensions: RT,
    statistic: "Sum",
    description: "Bytes the worker read and archived, before compression",
  },
  workerBytesOut: {
    name: "WorkerBytesOut",
    unit: "Bytes",
    source: "worker",
    dimensions: RT,
    statistic: "Sum",
    description: "Bytes the worker uploaded to the archive, compressed",
  },
  workerCompressionRatio: {
    name: "WorkerCompressionRatio",
    unit: "None",
    source: "worker",
    dimensions: RT,
    statistic: "Average",
    description: "Bytes in / bytes out of one export",
  },
  workerDuration: {
    name: "WorkerDuration",
    unit: "Seconds",
    source: "worker",
    dimensions: RT,
    statistic: "Maximum",
    description: "Seconds from the start of one export to its manifest",
  },
  workerThroughput: {
    name: "WorkerThroughputMiBps",
    unit: "None",
    source: "worker",
    dimensions: RT,
    statistic: "Average",
    description: "MiB/s of one export (bytes in over its duration)",
  },
  reconcilerMissingFound: {
    name: "ReconcilerMissingFound",
    unit: "Count",
    source: "reconciler",
    dimensions: [],
    statistic: "Sum",
    description: "COMPLETED recovery points the reconciler found missing from the ledger",
  },
  reconcilerExecutionsStarted: {
    name: "ReconcilerExecutionsStarted",
    unit: "Count",
    source: "reconciler",
    dimensions: RT,
    statistic: "Sum",
    description:
      "Dispatcher executions the reconciler started for missing recovery points (already running not counted)",
  },
  reconcilerRetentionTooShort: {
    name: "ReconcilerRetentionTooShort",
    unit: "Count",
    source: "reconciler",
    dimensions: [],
    statistic: "Sum",
    description:
      "Missing recovery points the reconciler did not start: AWS Backup deletes them before an export could finish",
  },
  drillFailed: {
    name: "DrillFailed",
    unit: "Count",
    source: "drill",
    dimensions: [],
    statistic: "Sum",
    description: "Archives the restore drill could not restore and verify",
  },
} as const satisfies Record<string, MetricDefinition>;

export type MetricKey = keyof typeof METRICS;

/** The `service` dimension's value of a source: what Powertools' Logger and Metrics of that Lambda use. */
export function serviceOf(source: MetricSource): string {
  return `backup-actions-${source}`;
}

/** Every dimension name of a metric, as CloudWatch identifies it. */
export function dimensionNamesOf(def: MetricDefinition): string[] {
  return [SERVICE_DIMENSION, PIPELINE_DIMENSION, ...def.dimensions];
}

/** Every dimension of a metric with its value: `extra` must name exactly the metric's own dimensions. */
export function dimensionsOf(
  def: MetricDefinition,
  pipeline: string,
  extra: Readonly<Record<string, string>> = {},
): Record<string, string> {
  const want = [...def.dimensions].sort().join(",");
  const got = Object.keys(extra).sort().join(",");
  if (want !== got) throw new Error(`metric ${def.name} takes dimensions [${want}], got [${got}]`);
  return { [SERVICE_DIMENSION]: serviceOf(def.source), [PIPELINE_DIMENSION]: pipeline, ...extra };
}

/**
 * One EMF record in the layout Powertools Metrics prints: `_aws` (timestamp, namespace, the one
 * dimension set, the metric definitions), then the dimension values, then the metric values.
 * All metrics of one record share their dimensions and source.
 */
export function emfRecord(
  pipeline: string,
  values: ReadonlyArray<{ readonly metric: MetricDefinition; readonly value: number }>,
  extra: Readonly<Record<string, string>> = {},
  timestamp = Date.now(),
): Record<string, unknown> {
  if (values.length === 0) throw new Error("an EMF record needs at least one metric");
  const first = values[0]!.metric;
  const dims = dimensionsOf(first, pipeline, extra);
  for (const { metric, value } of values) {
    if (metric.source !== first.source || metric.dimensions.join() !== first.dimensions.join())
      throw new Error(`metric ${metric.name} cannot share an EMF record with ${first.name}: other dimensions`);
    if (!Number.isFinite(value)) throw new Error(`metric ${metric.name}: ${value} is not a finite number`);
  }
  return {
    _aws: {
      Timestamp: timestamp,
      CloudWatchMetrics: [
        {
          Namespace: METRICS_NAMESPACE,
          Dimensions: [Object.keys(dims)],
          Metrics: values.map(({ metric }) => ({ Name: metric.name, Unit: metric.unit })),
        },
      ],
    },
    ...dims,
    ...Object.fromEntries(values.map(({ metric, value }) => [metric.name, value])),
  };
}
