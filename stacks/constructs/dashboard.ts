/**
 * The pipeline's CloudWatch dashboard (`<name>-pipeline`): its widgets are data
 * (`dashboardWidgets`), built into `dashboard_body` JSON at synth; every metric refers to this
 * stack's own resources through Terraform references, or to the pipeline's metrics through
 * their definitions (core/metrics.ts). The README's widget list is checked against this one.
 */
import { CloudwatchDashboard } from "@cdktf/provider-aws/lib/cloudwatch-dashboard";
import { Construct } from "constructs";
import { DROP_REASONS, METRICS, REASON_DIMENSION, RESOURCE_TYPE_DIMENSION } from "../../core/metrics";
import type { Workflow } from "../../core/workflows";
import {
  lambdaMetric,
  metricArray,
  type MetricRef,
  type MonitoredPipeline,
  pipelineMetric,
  queueMetric,
  stateMachineMetric,
} from "./monitored";

export interface Widget {
  readonly title: string;
  readonly lines: ReadonlyArray<{ readonly metric: MetricRef; readonly label: string }>;
  /** Y axis label. */
  readonly unit: string;
}

/** Seconds each data point of the dashboard covers. */
export const DASHBOARD_PERIOD_SECONDS = 300;

/** The widgets, in order; each line one metric. */
export function dashboardWidgets(p: MonitoredPipeline): Widget[] {
  const children = Object.entries(p.childArns) as Array<[Workflow, string]>;
  const machines: Array<[string, string]> = [["dispatcher", p.dispatcherArn], ...children];
  const byType = (name: string) =>
    children.map(([type, arn]) => ({ metric: stateMachineMetric(arn, name, type), label: type }));
  const types = children.map(([type]) => type);
  const rt = (type: Workflow) => ({ [RESOURCE_TYPE_DIMENSION]: type });
  // The worker archives EBS volumes; database dumps do not report metrics yet.
  const workerTypes = types.filter((t) => t === "ebs");
  return [
    { title: "Exports started", unit: "Count", lines: byType("ExecutionsStarted") },
    { title: "Exports succeeded", unit: "Count", lines: byType("ExecutionsSucceeded") },
    {
      title: "Exports failed or timed out",
      unit: "Count",
      lines: [
        ...byType("ExecutionsFailed").map((l) => ({ ...l, label: `${l.label} failed` })),
        ...byType("ExecutionsTimedOut").map((l) => ({ ...l, label: `${l.label} timed out` })),
        { metric: stateMachineMetric(p.dispatcherArn, "ExecutionsFailed", "dispatcher"), label: "dispatcher failed" },
        {
          metric: stateMachineMetric(p.dispatcherArn, "ExecutionsTimedOut", "dispatcher"),
          label: "dispatcher timed out",
        },
      ],
    },
    {
      title: "Intake events",
      unit: "Count",
      lines: [
        { metric: pipelineMetric(p, METRICS.starterEventsReceived), label: "received" },
        ...Object.values(DROP_REASONS).map((reason) => ({
          metric: pipelineMetric(p, METRICS.starterEventsDropped, { [REASON_DIMENSION]: reason }),
          label: `dropped: ${reason}`,
        })),
        ...types.map((t) => ({
          metric: pipelineMetric(p, METRICS.starterExecutionsStarted, rt(t)),
          label: `started ${t}`,
        })),
      ],
    },
    {
      title: "Bytes archived",
      unit: "Bytes",
      lines: [
        ...types.map((t) => ({ metric: pipelineMetric(p, METRICS.bytesVerified, rt(t)), label: `${t} verified` })),
        ...workerTypes.map((t) => ({
          metric: pipelineMetric(p, METRICS.workerBytesOut, rt(t)),
          label: `${t} uploaded by the worker`,
        })),
      ],
    },
    {
      title: "Compression ratio",
      unit: "in / out",
      lines: workerTypes.map((t) => ({ metric: pipelineMetric(p, METRICS.workerCompressionRatio, rt(t)), label: t })),
    },
    {
      title: "Worker throughput",
      unit: "MiB/s",
      lines: workerTypes.map((t) => ({ metric: pipelineMetric(p, METRICS.workerThroughput, rt(t)), label: t })),
    },
    {
      title: "Export duration",
      unit: "Milliseconds",
      lines: machines.map(([label, arn]) => ({
        metric: stateMachineMetric(arn, "ExecutionTime", label, "Maximum"),
        label,
      })),
    },
    {
      title: "Dead-letter queue depth",
      unit: "Messages",
      lines: [{ metric: queueMetric(p.deadLetterQueueName, "ApproximateNumberOfMessagesVisible"), label: "visible" }],
    },
    {
      title: "Janitor removals",
      unit: "Count",
      lines: p.janitorTypes.flatMap((t) => [
        { metric: pipelineMetric(p, METRICS.janitorResourcesRemoved, rt(t)), label: `${t} removed` },
        { metric: pipelineMetric(p, METRICS.janitorRemovalsFailed, rt(t)), label: `${t} not removable` },
      ]),
    },
    {
      title: "Reconciler",
      unit: "Count",
      lines: p.reconciler
        ? [
            { metric: pipelineMetric(p, METRICS.reconcilerMissingFound), label: "found missing" },
            {
              metric: pipelineMetric(p, METRICS.reconcilerRetentionTooShort),
              label: "not started: retention too short",
            },
            ...types.map((t) => ({
              metric: pipelineMetric(p, METRICS.reconcilerExecutionsStarted, rt(t)),
              label: `started ${t}`,
            })),
          ]
        : [],
    },
    {
      title: "Lambda errors",
      unit: "Count",
      lines: Object.entries(p.functionNames).map(([label, fn]) => ({ metric: lambdaMetric(fn, "Errors"), label })),
    },
  ].filter((w) => w.lines.length > 0);
}

/** The `dashboard_body` document: two widgets a row, 12 by 6 grid units each. */
export function dashboardBody(p: MonitoredPipeline): Record<string, unknown> {
  return {
    widgets: dashboardWidgets(p).map((w, i) => ({
      type: "metric",
      x: (i % 2) * 12,
      y: Math.floor(i / 2) * 6,
      width: 12,
      height: 6,
      properties: {
        title: w.title,
        region: p.region,
        view: "timeSeries",
        stacked: false,
        period: DASHBOARD_PERIOD_SECONDS,
        yAxis: { left: { label: w.unit, showUnits: false, min: 0 } },
        metrics: w.lines.map(({ metric, label }) => [...metricArray(metric), { stat: metric.statistic, label }]),
      },
    })),
  };
}

export interface DashboardProps {
  readonly monitored: MonitoredPipeline;
}

export class Dashboard extends Construct {
  public readonly dashboard: CloudwatchDashboard;

  constructor(scope: Construct, id: string, props: DashboardProps) {
    super(scope, id);
    this.dashboard = new CloudwatchDashboard(this, "this", {
      dashboardName: `${props.monitored.name}-pipeline`,
      dashboardBody: JSON.stringify(dashboardBody(props.monitored)),
    });
  }
}
