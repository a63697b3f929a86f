/**
 * What the dashboard and the alarms of a pipeline watch (dashboard.ts, alarms.ts), and the one
 * way both name a metric. A pipeline metric (core/metrics.ts) is named only through its
 * definition, with exactly its dimensions; an AWS metric (AWS/States, AWS/SQS, AWS/Lambda)
 * only with a dimension value that is a Terraform reference to this stack's own resource.
 */
import { dimensionsOf, METRICS_NAMESPACE, type MetricDefinition } from "../../core/metrics";
import type { Workflow } from "../../core/workflows";

/** The resources of one pipeline stack that are watched. Values are Terraform references. */
export interface MonitoredPipeline {
  /** Pipeline stack name: the Pipeline dimension of the pipeline's metrics. */
  readonly pipeline: string;
  readonly region: string;
  /** config.name: prefix of the dashboard and alarm names. */
  readonly name: string;
  readonly dispatcherArn: string;
  /** The child state machines deployed, by workflow. */
  readonly childArns: Readonly<Partial<Record<Workflow, string>>>;
  /** Name of the intake queue's dead-letter queue. */
  readonly deadLetterQueueName: string;
  /** The pipeline's Lambda functions by role (starter, verify, janitor; reconciler, dump-password, drill when deployed). */
  readonly functionNames: Readonly<Record<string, string>>;
  /** Resource types the janitor sweeps (ebs always; dynamodb when the DynamoDB export is on). */
  readonly janitorTypes: readonly Workflow[];
  /** Whether the scheduled reconciler is deployed (config reconciler.enabled). */
  readonly reconciler: boolean;
}

/** CloudWatch's metric array: namespace, name, dimension pairs (the dashboard's `metrics` entries). */
export type MetricArray = [string, string, ...string[]];

export interface MetricRef {
  readonly namespace: string;
  readonly name: string;
  readonly dimensions: Readonly<Record<string, string>>;
  readonly statistic: string;
  /** Whose metric it is, for the README (e.g. "dispatcher", "ebs"). @default none */
  readonly of?: string;
}

/** A pipeline metric with its own dimensions (e.g. `{ ResourceType: "ebs" }`). */
export function pipelineMetric(
  p: MonitoredPipeline,
  def: MetricDefinition,
  extra: Readonly<Record<string, string>> = {},
): MetricRef {
  return {
    namespace: METRICS_NAMESPACE,
    name: def.name,
    dimensions: dimensionsOf(def, p.pipeline, extra),
    statistic: def.statistic,
  };
}

/** AWS/States metrics of one state machine (dimension StateMachineArn). */
export function stateMachineMetric(arn: string, name: string, of: string, statistic = "Sum"): MetricRef {
  return { namespace: "AWS/States", name, dimensions: { StateMachineArn: arn }, statistic, of };
}

export function queueMetric(queueName: string, name: string, statistic = "Maximum"): MetricRef {
  return { namespace: "AWS/SQS", name, dimensions: { QueueName: queueName }, statistic };
}

export function lambdaMetric(functionName: string, name: string, statistic = "Sum"): MetricRef {
  return { namespace: "AWS/Lambda", name, dimensions: { FunctionName: functionName }, statistic };
}

export function metricArray(m: MetricRef): MetricArray {
  return [m.namespace, m.name, ...Object.entries(m.dimensions).flat()];
}
