/**
 * The janitor, on a schedule: deletes restored volumes this pipeline leaked (tagged,
 * unattached, older than the longest export plus a margin), the DynamoDB child's temporary tables and
 * the native dump's temporary instances, clusters and password parameters. See lambdas/janitor.
 */
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { Construct } from "constructs";
import type { PipelineContext } from "./context";
import { janitorEnvironment } from "../../core/janitor-contract";
import { TEMPORARY_DB_PREFIX } from "../../core/rds-identifier";
import { LambdaFunction } from "./lambda-function";

export interface JanitorProps {
  /** Name, account, region, partition and key of the pipeline. */
  readonly context: PipelineContext;
  readonly pipelineTag: { readonly key: string; readonly value: string };
  /** Condition key the delete permission also requires, when configured. @default none */
  readonly securityTag?: string;
  /** A tagged volume older than this is leaked. */
  readonly maxAgeHours: number;
  /** @default "rate(6 hours)" */
  readonly schedule?: string;
  /** Name prefix of the DynamoDB child's temporary tables, swept too. @default no table sweep */
  readonly tablePrefix?: string;
  /** SSM path of the native dump's password parameters: its instances, clusters and parameters are swept too. @default no database sweep */
  readonly dumpParameterPath?: string;
}

export class Janitor extends Construct {
  public readonly lambda: LambdaFunction;

  constructor(scope: Construct, id: string, props: JanitorProps) {
    super(scope, id);
    if (!(props.maxAgeHours > 0)) throw new Error(`Janitor: maxAgeHours must be positive (got ${props.maxAgeHours})`);
    const schedule = props.schedule ?? "rate(6 hours)";
    const tagConditions = [
      { test: "StringEquals", variable: `aws:ResourceTag/${props.pipelineTag.key}`, values: [props.pipelineTag.value] },
      ...(props.securityTag
        ? [{ test: "StringEquals", variable: `aws:ResourceTag/${props.securityTag}`, values: ["true"] }]
        : []),
    ];

    this.lambda = new LambdaFunction(this, "function", {
      entry: "janitor",
      functionName: `${props.context.name}-janitor`,
      description: "Deletes restored volumes, temporary tables and databases the pipeline leaked",
      accountId: props.context.accountId,
      region: props.context.region,
      kmsKeyArn: props.context.kmsKeyArn,
      timeout: 300,
      environment: janitorEnvironment({
        pipelineTag: props.pipelineTag,
        maxAgeHours: props.maxAgeHours,
        tablePrefix: props.tablePrefix,
        dumpParameterPath: props.dumpParameterPath,
      }),
      statements: [
        ...(props.tablePrefix ? tableSweepStatements(props.context, props.tablePrefix) : []),
        ...(props.dumpParameterPath ? databaseSweepStatements(props.context, props.dumpParameterPath) : []),
        // DescribeVolumes supports no resource-level permission.
        { sid: "FindVolumes", actions: ["ec2:DescribeVolumes"], resources: ["*"] },
        {
          sid: "DeleteOnlyThisPipelinesVolumes",
          actions: ["ec2:DeleteVolume"],
          resources: [`arn:${props.context.partition}:ec2:${props.context.region}:${props.context.accountId}:volume/*`],
          condition: tagConditions,
        },
      ],
    });

    const rule = new CloudwatchEventRule(this, "schedule", {
      name: `${props.context.name}-janitor`,
      scheduleExpression: schedule,
    });
    new CloudwatchEventTarget(this, "target", { rule: rule.name, arn: this.lambda.function.arn });
    new LambdaPermission(this, "invoke", {
      action: "lambda:InvokeFunction",
      functionName: this.lambda.function.functionName,
      principal: "events.amazonaws.com",
      sourceArn: rule.arn,
    });
  }
}

/** The table sweep (lambdas/janitor/tables.ts): ListTables has no resource-level permission; the rest only the prefix. */
function tableSweepStatements(context: PipelineContext, tablePrefix: string) {
  const tables = `arn:${context.partition}:dynamodb:${context.region}:${context.accountId}:table/${tablePrefix}*`;
  return [
    { sid: "FindTempTables", actions: ["dynamodb:ListTables"], resources: ["*"] },
    {
      sid: "DeleteOnlyTempTables",
      actions: ["dynamodb:DescribeTable", "dynamodb:ListTagsOfResource", "dynamodb:DeleteTable"],
      resources: [tables],
    },
  ];
}

/**
 * The database sweep (lambdas/janitor/databases.ts): listing needs the describe actions on every db and
 * cluster of the region (SAR-rds); deletes only the dump branch's temporary ones (dump-*) and parameters.
 */
function databaseSweepStatements(context: PipelineContext, parameterPath: string) {
  const rds = (type: string, id: string) =>
    `arn:${context.partition}:rds:${context.region}:${context.accountId}:${type}:${id}`;
  return [
    {
      sid: "FindTemporaryDatabases",
      actions: ["rds:DescribeDBInstances", "rds:DescribeDBClusters"],
      resources: [rds("db", "*"), rds("cluster", "*")],
    },
    {
      sid: "DeleteOnlyTemporaryDatabases",
      actions: ["rds:DeleteDBInstance", "rds:DeleteDBCluster"],
      resources: [rds("db", `${TEMPORARY_DB_PREFIX}*`), rds("cluster", `${TEMPORARY_DB_PREFIX}*`)],
    },
    // DescribeParameters supports no resource-level permission.
    { sid: "FindDumpPasswords", actions: ["ssm:DescribeParameters"], resources: ["*"] },
    {
      sid: "DeleteDumpPasswords",
      actions: ["ssm:DeleteParameter"],
      resources: [`arn:${context.partition}:ssm:${context.region}:${context.accountId}:parameter${parameterPath}*`],
    },
  ];
}
