import { readFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CONFIG_PATH, loadConfig } from "../../config/load";
import { dimensionNamesOf, METRICS, METRICS_NAMESPACE } from "../../core/metrics";
import { alarmSpecs } from "../../stacks/constructs/alarms";
import { dashboardWidgets } from "../../stacks/constructs/dashboard";
import { MONITORING_BEGIN, MONITORING_END, monitoringReadmeBlock } from "../../stacks/monitoring-doc";
import { documentBlocks } from "../../testing/policy-documents";
import { compose, synth, testConfig } from "../helpers/synth";

const stack = compose(testConfig()).pipelines[0]!;
const out = synth(stack);
const resources = out.tf.resource as Record<string, Record<string, unknown>>;

/** `${aws_x.id.attr}` → whether the stack has resource aws_x.id. */
function referencesOwnResource(value: string, type: string, attr: string): boolean {
  const m = /^\$\{([a-z0-9_]+)\.([^.}]+)\.([a-z_]+)\}$/.exec(value);
  return m !== null && m[1] === type && m[3] === attr && resources[type]?.[m[2]!] !== undefined;
}

/** Where an AWS metric's dimension must point: a resource of this stack. */
const AWS_DIMENSIONS: Record<string, [string, string, string]> = {
  "AWS/States": ["StateMachineArn", "aws_sfn_state_machine", "arn"],
  "AWS/SQS": ["QueueName", "aws_sqs_queue", "name"],
  "AWS/Lambda": ["FunctionName", "aws_lambda_function", "function_name"],
};

/** Fails unless the metric is a defined pipeline metric with exactly its dimensions, or an AWS metric of our own resource. */
function expectKnownMetric(namespace: string, name: string, dimensions: Record<string, string>): void {
  if (namespace === METRICS_NAMESPACE) {
    const def = Object.values(METRICS).find((m) => m.name === name);
    expect(def ? name : `undefined metric ${name}`).toBe(name);
    expect(Object.keys(dimensions).sort()).toEqual(dimensionNamesOf(def!).sort());
    expect(dimensions.Pipeline).toBe("pipeline-111111111111-us-east-1");
    expect(dimensions.service).toBe(`backup-actions-${def!.source}`);
    return;
  }
  const [dim, type, attr] = AWS_DIMENSIONS[namespace] ?? [];
  expect(dim ? namespace : `unexpected namespace ${namespace}`).toBe(namespace);
  expect(Object.keys(dimensions)).toEqual([dim]);
  expect(referencesOwnResource(dimensions[dim!]!, type!, attr!) ? "own" : dimensions[dim!]).toBe("own");
}

describe("dashboard", () => {
  const dashboard = out.only("aws_cloudwatch_dashboard");
  const body = JSON.parse(dashboard.dashboard_body);

  it("is one per pipeline stack, named after the pipeline, with the widgets of dashboardWidgets in order", () => {
    expect(dashboard.dashboard_name).toBe("backup-actions-pipeline");
    expect(body.widgets.map((w: any) => w.properties.title)).toEqual([
      "Exports started",
      "Exports succeeded",
      "Exports failed or timed out",
      "Intake events",
      "Bytes archived",
      "Compression ratio",
      "Worker throughput",
      "Export duration",
      "Dead-letter queue depth",
      "Janitor removals",
      "Reconciler",
      "Lambda errors",
    ]);
    expect(body.widgets.map((w: any) => w.properties.title)).toEqual(
      dashboardWidgets(stack.monitored).map((w) => w.title),
    );
    for (const w of body.widgets) {
      expect(w).toMatchObject({ type: "metric", width: 12, height: 6, properties: { region: "us-east-1" } });
      expect(w.properties.metrics.length).toBeGreaterThan(0);
    }
  });

  it("references only defined pipeline metrics and this stack's own state machines, queue and functions", () => {
    let count = 0;
    for (const w of body.widgets)
      for (const entry of w.properties.metrics) {
        const options = entry.at(-1);
        const [namespace, name, ...pairs] = entry.slice(0, -1) as string[];
        const dimensions = Object.fromEntries(pairs.flatMap((_, i) => (i % 2 ? [] : [[pairs[i], pairs[i + 1]]])));
        expectKnownMetric(namespace!, name!, dimensions);
        expect(["Sum", "Average", "Maximum"]).toContain(options.stat);
        count++;
      }
    expect(count).toBeGreaterThan(20);
  });

  it("shows each deployed child's executions, the dispatcher's failures and the DLQ depth", () => {
    const started = body.widgets[0].properties.metrics.map((m: any[]) => [m[1], m[3], m[4].label]);
    const sfn = Object.keys(out.resources("aws_sfn_state_machine"));
    const ebs = sfn.find((k) => k.startsWith("workflows_ebs_"));
    expect(started).toContainEqual(["ExecutionsStarted", `\${aws_sfn_state_machine.${ebs}.arn}`, "ebs"]);
    const failed = body.widgets[2].properties.metrics.map((m: any[]) => [m[1], m[3]]);
    const dispatcher = sfn.find((k) => k.startsWith("workflows_dispatcher_"));
    expect(failed).toContainEqual(["ExecutionsFailed", `\${aws_sfn_state_machine.${dispatcher}.arn}`]);
    const dlq = Object.keys(out.resources("aws_sqs_queue")).find((k) => k.startsWith("event-intake_dlq_"));
    expect(body.widgets[8].properties.metrics).toEqual([
      [
        "AWS/SQS",
        "ApproximateNumberOfMessagesVisible",
        "QueueName",
        `\${aws_sqs_queue.${dlq}.name}`,
        { stat: "Maximum", label: "visible" },
      ],
    ]);
  });
});

describe("the reconciler on the dashboard", () => {
  const widget = (tf: any, title: string) =>
    JSON.parse(Object.values<any>(tf.resource.aws_cloudwatch_dashboard)[0].dashboard_body).widgets.find(
      (w: any) => w.properties.title === title,
    );
  const reconciler = Object.keys(out.resources("aws_lambda_function")).find((k) => k.startsWith("reconciler_"));

  it("shows what it found, what it left for retention and what it started by type, and its Lambda errors", () => {
    const lines = widget(out.tf, "Reconciler").properties.metrics.map((m: any[]) => [m[1], m.at(-1).label]);
    expect(lines).toEqual([
      ["ReconcilerMissingFound", "found missing"],
      ["ReconcilerRetentionTooShort", "not started: retention too short"],
      ...["ebs", "rds", "aurora", "dynamodb"].map((t) => ["ReconcilerExecutionsStarted", `started ${t}`]),
    ]);
    expect(widget(out.tf, "Lambda errors").properties.metrics).toContainEqual([
      "AWS/Lambda",
      "Errors",
      "FunctionName",
      `\${aws_lambda_function.${reconciler}.function_name}`,
      { stat: "Sum", label: "reconciler" },
    ]);
  });

  it("with reconciler.enabled false: no reconciler widget and no reconciler line among the Lambda errors", () => {
    const off = synth(compose(testConfig({ reconciler: { enabled: false } })).pipelines[0]!).tf as any;
    expect(widget(off, "Reconciler")).toBeUndefined();
    expect(widget(off, "Lambda errors").properties.metrics.map((m: any[]) => m.at(-1).label)).toEqual([
      "starter",
      "verify",
      "janitor",
      "dump-password",
    ]);
  });

  it("with drills.enabled: the drill's function among the Lambda errors and in the function-errors alarm", () => {
    const on = synth(compose(testConfig({ drills: { enabled: true } })).pipelines[0]!).tf as any;
    expect(widget(on, "Lambda errors").properties.metrics.map((m: any[]) => m.at(-1).label)).toContain("drill");
    const alarm = Object.values<any>(on.resource.aws_cloudwatch_metric_alarm).find((a) =>
      a.alarm_name.endsWith("-function-errors"),
    );
    const drillFunction = Object.keys(on.resource.aws_lambda_function).find((k) => k.startsWith("drill_"));
    expect(drillFunction).toBeDefined();
    expect(alarm.metric_query.map((q: any) => q.metric?.dimensions.FunctionName)).toContain(
      `\${aws_lambda_function.${drillFunction}.function_name}`,
    );
  });
});

describe("alarms", () => {
  const alarms = Object.values<any>(out.resources("aws_cloudwatch_metric_alarm"));
  const byName = Object.fromEntries(alarms.map((a) => [a.alarm_name, a]));
  const topic = Object.keys(out.resources("aws_sns_topic")).find((k) => k.startsWith("notifications_topic_"));
  const sfn = Object.keys(out.resources("aws_sfn_state_machine"));
  const dispatcherArn = `\${aws_sfn_state_machine.${sfn.find((k) => k.startsWith("workflows_dispatcher_"))}.arn}`;

  it("are the alarms of alarmSpecs, each notifying the topic on ALARM and OK, missing data not breaching", () => {
    expect(Object.keys(byName).sort()).toEqual(
      [
        "dlq-not-empty",
        "export-failed",
        "export-timed-out",
        "export-overran",
        "janitor-removed",
        "recovery-point-missed",
        "function-errors",
        "drill-failed",
      ]
        .map((id) => `backup-actions-${id}`)
        .sort(),
    );
    expect(alarms).toHaveLength(alarmSpecs(stack.monitored).length);
    for (const a of alarms) {
      expect(a.alarm_actions).toEqual([`\${aws_sns_topic.${topic}.arn}`]);
      expect(a.ok_actions).toEqual([`\${aws_sns_topic.${topic}.arn}`]);
      expect(a.treat_missing_data).toBe("notBreaching");
      expect(a.evaluation_periods).toBe(1);
    }
  });

  it("watch each metric with its threshold", () => {
    const summary = (a: any) => [a.namespace, a.metric_name, a.statistic, a.comparison_operator, a.threshold];
    expect(summary(byName["backup-actions-dlq-not-empty"])).toEqual([
      "AWS/SQS",
      "ApproximateNumberOfMessagesVisible",
      "Maximum",
      "GreaterThanThreshold",
      0,
    ]);
    expect(byName["backup-actions-dlq-not-empty"].dimensions.QueueName).toMatch(
      /^\$\{aws_sqs_queue\.event-intake_dlq_/,
    );
    expect(summary(byName["backup-actions-export-failed"])).toEqual([
      "AWS/States",
      "ExecutionsFailed",
      "Sum",
      "GreaterThanOrEqualToThreshold",
      1,
    ]);
    expect(byName["backup-actions-export-failed"].dimensions).toEqual({ StateMachineArn: dispatcherArn });
    expect(summary(byName["backup-actions-export-timed-out"])).toEqual([
      "AWS/States",
      "ExecutionsTimedOut",
      "Sum",
      "GreaterThanOrEqualToThreshold",
      1,
    ]);
    expect(byName["backup-actions-export-timed-out"].dimensions).toEqual({ StateMachineArn: dispatcherArn });
    expect(summary(byName["backup-actions-recovery-point-missed"])).toEqual([
      "BackupActions",
      "ReconcilerMissingFound",
      "Sum",
      "GreaterThanThreshold",
      0,
    ]);
    expect(summary(byName["backup-actions-drill-failed"])).toEqual([
      "BackupActions",
      "DrillFailed",
      "Sum",
      "GreaterThanOrEqualToThreshold",
      1,
    ]);
    // metric math: the children's timeouts and aborts; the janitor's removals of every type it sweeps
    const overran = byName["backup-actions-export-overran"];
    expect([overran.comparison_operator, overran.threshold]).toEqual(["GreaterThanOrEqualToThreshold", 1]);
    // The backstop (notifications) reports the dispatcher's abnormal ends; it is no export child.
    const children = sfn.filter(
      (k) => !k.startsWith("workflows_dispatcher_") && !k.startsWith("notifications_backstop_"),
    );
    expect(
      overran.metric_query
        .filter((q: any) => q.metric)
        .map((q: any) => q.metric.metric_name)
        .sort(),
    ).toEqual(children.flatMap(() => ["ExecutionsAborted", "ExecutionsTimedOut"]).sort());
    expect(overran.metric_query.at(-1)).toMatchObject({ id: "total", return_data: true });
    expect(overran.metric_query.at(-1).expression).toMatch(/^SUM\(\[m1(, m\d+)+\]\)$/);
    // metric math: every Lambda function's Errors (the stack's functions, each once)
    const functionErrors = byName["backup-actions-function-errors"];
    expect([functionErrors.comparison_operator, functionErrors.threshold]).toEqual([
      "GreaterThanOrEqualToThreshold",
      1,
    ]);
    const functionNames = Object.keys(out.resources("aws_lambda_function")).map(
      (key) => `\${aws_lambda_function.${key}.function_name}`,
    );
    const watched = functionErrors.metric_query.filter((q: any) => q.metric);
    expect(watched.map((q: any) => [q.metric.namespace, q.metric.metric_name, q.metric.stat])).toEqual(
      functionNames.map(() => ["AWS/Lambda", "Errors", "Sum"]),
    );
    expect(watched.map((q: any) => q.metric.dimensions.FunctionName).sort()).toEqual([...functionNames].sort());
    const janitor = byName["backup-actions-janitor-removed"];
    expect([janitor.comparison_operator, janitor.threshold]).toEqual(["GreaterThanThreshold", 0]);
    expect(janitor.metric_query.filter((q: any) => q.metric).map((q: any) => q.metric.dimensions.ResourceType)).toEqual(
      ["ebs", "dynamodb", "rds"],
    );
  });

  it("reference only defined pipeline metrics and this stack's own resources", () => {
    for (const a of alarms) {
      const metrics = a.metric_query
        ? a.metric_query.filter((q: any) => q.metric).map((q: any) => q.metric)
        : [{ namespace: a.namespace, metric_name: a.metric_name, dimensions: a.dimensions }];
      for (const m of metrics) expectKnownMetric(m.namespace, m.metric_name, m.dimensions);
    }
  });
});

describe("the alarms' way to the encrypted topic", () => {
  const docs = documentBlocks(out.tf);

  it("the topic policy lets CloudWatch publish, for this account's alarms of this pipeline only", () => {
    const policy = Object.entries(docs).find(([k]) => k.startsWith("notifications_topic-policy_"))![1];
    const st = policy.statement.find((s: any) => s.sid === "CloudWatchAlarmsPublish");
    expect(st).toMatchObject({
      principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
      actions: ["sns:Publish"],
    });
    expect(st.condition).toEqual([
      { test: "StringEquals", variable: "aws:SourceAccount", values: ["111111111111"] },
      {
        test: "ArnLike",
        variable: "aws:SourceArn",
        values: ["arn:aws:cloudwatch:us-east-1:111111111111:alarm:backup-actions-*"],
      },
    ]);
    // and every alarm's name fits that pattern
    for (const a of Object.values<any>(out.resources("aws_cloudwatch_metric_alarm")))
      expect(a.alarm_name).toMatch(/^backup-actions-/);
  });

  it("the topic's key (the pipeline key) lets CloudWatch encrypt for it", () => {
    const topic = out.only("aws_sns_topic");
    const [keyId] = Object.keys(out.resources("aws_kms_key")).filter((k) => k.startsWith("pipeline-key_"));
    expect(topic.kms_master_key_id).toBe(`\${aws_kms_key.${keyId}.arn}`);
    const policy = Object.entries(docs).find(([k]) => k.startsWith("pipeline-key_policy_"))![1];
    const st = policy.statement.find((s: any) => s.sid === "CloudWatchAlarmsUseTopicKey");
    expect(st).toEqual({
      sid: "CloudWatchAlarmsUseTopicKey",
      principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
      actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
      resources: ["*"],
      condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: ["111111111111"] }],
    });
  });
});

describe("metrics' Pipeline dimension", () => {
  it("every Lambda and the worker job are told their pipeline", () => {
    for (const fn of Object.values<any>(out.resources("aws_lambda_function")))
      expect(fn.environment.variables.BACKUP_ACTIONS_PIPELINE).toBe("pipeline-111111111111-us-east-1");
    const job = JSON.parse(out.only("aws_batch_job_definition").container_properties);
    expect(job.environment).toContainEqual({
      name: "BACKUP_ACTIONS_PIPELINE",
      value: "pipeline-111111111111-us-east-1",
    });
  });
});

describe("README", () => {
  it("lists the dashboard's widgets and the alarms of config/default.json as the constructs define them", () => {
    const readme = readFileSync(join(__dirname, "../../README.md"), "utf8");
    const begin = readme.indexOf(MONITORING_BEGIN);
    const end = readme.indexOf(MONITORING_END);
    expect(begin).toBeGreaterThan(0);
    const documented = readme.slice(begin + MONITORING_BEGIN.length, end).trim();
    const pipeline = compose(loadConfig(DEFAULT_CONFIG_PATH)).pipelines[0]!;
    // `npm run docs:monitoring` rewrites the block
    expect(documented).toBe(monitoringReadmeBlock(pipeline.monitored));
  });
});
