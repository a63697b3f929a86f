/**
 * The Lambdas' metrics (core/metrics.ts definitions) through Powertools Metrics: the logic
 * counts into a `MetricsRecorder`, the handler publishes once per invocation. Values are
 * summed per metric and dimension set, and each dimension set becomes one EMF line on stdout
 * (Powertools' `publishStoredMetrics`), which CloudWatch Logs turns into metrics.
 */
import { Metrics } from "@aws-lambda-powertools/metrics";
import type { MetricUnit } from "@aws-lambda-powertools/metrics";

type PowertoolsUnit = (typeof MetricUnit)[keyof typeof MetricUnit];
import { RuntimeConfigError } from "./errors";
import {
  dimensionsOf,
  METRICS_NAMESPACE,
  PIPELINE_DIMENSION,
  PIPELINE_ENV,
  SERVICE_DIMENSION,
  serviceOf,
  type MetricDefinition,
  type MetricSource,
} from "./metrics";

/** What the logic sees: count a metric (with its own dimensions, core/metrics.ts). */
export interface MetricsRecorder {
  add(metric: MetricDefinition, value: number, dimensions?: Readonly<Record<string, string>>): void;
}

/** Ignores everything: for logic called without metrics (the CLI, tests that do not look). */
export const NO_METRICS: MetricsRecorder = { add: () => undefined };

export class LambdaMetrics implements MetricsRecorder {
  private readonly pending = new Map<string, { dims: Record<string, string>; values: Map<MetricDefinition, number> }>();

  constructor(
    private readonly source: MetricSource,
    private readonly pipeline: string,
    private readonly metrics: Metrics,
  ) {}

  add(metric: MetricDefinition, value: number, dimensions: Readonly<Record<string, string>> = {}): void {
    if (metric.source !== this.source)
      throw new Error(`metric ${metric.name} belongs to the ${metric.source}, not the ${this.source}`);
    const all = dimensionsOf(metric, this.pipeline, dimensions);
    const { [SERVICE_DIMENSION]: _service, [PIPELINE_DIMENSION]: _pipeline, ...own } = all;
    const key = JSON.stringify(Object.entries(own).sort());
    let group = this.pending.get(key);
    if (!group) this.pending.set(key, (group = { dims: own, values: new Map() }));
    group.values.set(metric, (group.values.get(metric) ?? 0) + value);
  }

  /** One EMF line per dimension set; nothing when nothing was counted. */
  publish(): void {
    for (const { dims, values } of this.pending.values()) {
      for (const [k, v] of Object.entries(dims)) this.metrics.addDimension(k, v);
      for (const [metric, value] of values) this.metrics.addMetric(metric.name, metric.unit as PowertoolsUnit, value);
      this.metrics.publishStoredMetrics();
    }
    this.pending.clear();
  }
}

/** The metrics of one Lambda; the Pipeline dimension comes from its environment (set by the stack). */
export function lambdaMetrics(source: MetricSource, env: NodeJS.ProcessEnv = process.env): LambdaMetrics {
  const pipeline = env[PIPELINE_ENV];
  if (!pipeline) throw new RuntimeConfigError(`${PIPELINE_ENV} is not set: the metrics' Pipeline dimension`);
  const metrics = new Metrics({
    namespace: METRICS_NAMESPACE,
    serviceName: serviceOf(source),
    defaultDimensions: { [PIPELINE_DIMENSION]: pipeline },
  });
  return new LambdaMetrics(source, pipeline, metrics);
}
