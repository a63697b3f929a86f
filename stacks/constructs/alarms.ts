/**
 * The pipeline's alarms: data (`alarmSpecs`), one aws_cloudwatch_metric_alarm each, named
 * `<name>-<id>`, notifying the pipeline's SNS topic when they go into ALARM and back to OK.
 * Missing data is "notBreaching" for all of them: every watched metric has data only when
 * something happened (an execution, a message, a janitor run), so no data means all is well.
 */
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { Construct } from "constructs";
import { METRICS, RESOURCE_TYPE_DIMENSION } from "../../core/metrics";
import {
  lambdaMetric,
  type MetricRef,
  type MonitoredPipeline,
  pipelineMetric,
  queueMetric,
  stateMachineMetric,
} from "./monitored";

/** Seconds each alarm evaluates (one period). */
export const ALARM_PERIOD_SECONDS = 300;

/** An alarm on a metric math expression references at most 10 metrics, a hard limit (CloudWatch "Limits"). */
export const ALARM_MAX_METRICS = 10;

export interface AlarmSpec {
  /** `<name>-<id>` is the alarm's name. */
  readonly id: string;
  readonly description: string;
  /** One metric, or several summed (SUM([...]) metric math). */
  readonly metrics: readonly MetricRef[];
  readonly comparison: "GreaterThanThreshold" | "GreaterThanOrEqualToThreshold";
  readonly threshold: number;
}

export function alarmSpecs(p: MonitoredPipeline): AlarmSpec[] {
  const children = Object.entries(p.childArns);
  return [
    {
      id: "dlq-not-empty",
      description: "Events in the intake dead-letter queue: they were not started; inspect and redrive",
      metrics: [queueMetric(p.deadLetterQueueName, "ApproximateNumberOfMessagesVisible")],
      comparison: "GreaterThanThreshold",
      threshold: 0,
    },
    {
      id: "export-failed",
      description: "A dispatcher execution failed: an export, its verification or its ledger update",
      metrics: [stateMachineMetric(p.dispatcherArn, "ExecutionsFailed", "dispatcher")],
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: 1,
    },
    {
      id: "export-timed-out",
      description: "A dispatcher execution timed out (its TimeoutSeconds: the longest export plus verify and delete)",
      metrics: [stateMachineMetric(p.dispatcherArn, "ExecutionsTimedOut", "dispatcher")],
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: 1,
    },
    // An export that runs longer than the configured bound. Step Functions has no "running for"
    // metric; instead each child's TimeoutSeconds is that bound, from config (worker.timeoutHours ×
    // worker.spotRetries + 1 h, childTimeoutSeconds in pipeline-stack.ts), and so is the
    // dispatcher's RunChild Task timeout. Whichever fires first, the child ends TIMED_OUT (its own
    // timeout) or ABORTED (the dispatcher's Task gave up and stopped it): both are counted. An
    // operator's StopExecution of a child counts too, which is worth a notification as well.
    ...(children.length > 0
      ? [
          {
            id: "export-overran",
            description: "An export ran longer than its configured bound (a child timed out or was stopped)",
            metrics: children.flatMap(([type, arn]) => [
              stateMachineMetric(arn, "ExecutionsTimedOut", type),
              stateMachineMetric(arn, "ExecutionsAborted", type),
            ]),
            comparison: "GreaterThanOrEqualToThreshold" as const,
            threshold: 1,
          },
        ]
      : []),
    {
      id: "janitor-removed",
      description: "The janitor deleted leaked resources: some export did not clean up after itself",
      metrics: p.janitorTypes.map((t) =>
        pipelineMetric(p, METRICS.janitorResourcesRemoved, { [RESOURCE_TYPE_DIMENSION]: t }),
      ),
      comparison: "GreaterThanThreshold",
      threshold: 0,
    },
    // The scheduled reconciler (lambdas/reconciler) emits ReconcilerMissingFound on every run; the
    // restore drill is built separately, and its alarm stays OK (notBreaching) until it emits DrillFailed.
    {
      id: "recovery-point-missed",
      description: "The reconciler found COMPLETED recovery points that no event had started",
      metrics: [pipelineMetric(p, METRICS.reconcilerMissingFound)],
      comparison: "GreaterThanThreshold",
      threshold: 0,
    },
    // A Lambda that fails has no other alarm when nothing waits on it: the scheduled reconciler, janitor
    // and drill run alone (a reconciler that fails every run would hide every missed recovery point).
    // The starter's and the state machines' Lambdas count too: quicker than their DLQ or failed export.
    {
      id: "function-errors",
      description: `A Lambda function of the pipeline failed (its log group says why): ${Object.keys(p.functionNames).join(", ")}`,
      metrics: Object.values(p.functionNames).map((fn) => lambdaMetric(fn, "Errors")),
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: 1,
    },
    {
      id: "drill-failed",
      description: "The restore drill could not restore and verify an archive",
      metrics: [pipelineMetric(p, METRICS.drillFailed)],
      comparison: "GreaterThanOrEqualToThreshold",
      threshold: 1,
    },
  ];
}

export interface AlarmsProps {
  readonly monitored: MonitoredPipeline;
  /** SNS topic the alarms notify (ALARM and OK). Its policy must let CloudWatch publish. */
  readonly topicArn: string;
}

export class Alarms extends Construct {
  public readonly alarms: Record<string, CloudwatchMetricAlarm> = {};

  constructor(scope: Construct, id: string, props: AlarmsProps) {
    super(scope, id);
    for (const spec of alarmSpecs(props.monitored)) {
      if (spec.metrics.length === 0) continue;
      if (spec.metrics.length > ALARM_MAX_METRICS)
        throw new Error(
          `alarm ${props.monitored.name}-${spec.id} would sum ${spec.metrics.length} metrics; CloudWatch allows ` +
            `${ALARM_MAX_METRICS} in one metric math alarm`,
        );
      const common = {
        alarmName: `${props.monitored.name}-${spec.id}`,
        alarmDescription: spec.description,
        comparisonOperator: spec.comparison,
        threshold: spec.threshold,
        evaluationPeriods: 1,
        treatMissingData: "notBreaching",
        alarmActions: [props.topicArn],
        okActions: [props.topicArn],
      };
      const [only] = spec.metrics;
      this.alarms[spec.id] =
        spec.metrics.length === 1
          ? new CloudwatchMetricAlarm(this, spec.id, {
              ...common,
              namespace: only!.namespace,
              metricName: only!.name,
              dimensions: { ...only!.dimensions },
              statistic: only!.statistic,
              period: ALARM_PERIOD_SECONDS,
            })
          : new CloudwatchMetricAlarm(this, spec.id, {
              ...common,
              metricQuery: [
                ...spec.metrics.map((m, i) => ({
                  id: `m${i + 1}`,
                  returnData: false,
                  metric: {
                    namespace: m.namespace,
                    metricName: m.name,
                    dimensions: { ...m.dimensions },
                    stat: m.statistic,
                    period: ALARM_PERIOD_SECONDS,
                  },
                })),
                {
                  id: "total",
                  // SUM of an array adds the series point by point, a missing point counting as none.
                  expression: `SUM([${spec.metrics.map((_, i) => `m${i + 1}`).join(", ")}])`,
                  label: spec.description,
                  returnData: true,
                },
              ],
            });
    }
  }
}
