/**
 * The restore drill (README "Restore drills"): its function (lambdas/drill), its state machine
 * (stacks/workflows/restore-drill.ts), and the schedule that starts it with a role of its own. The
 * Batch job is the worker's own job definition and job role, which already read the archive prefixes
 * a drill verifies (ebs/, and rds/ and aurora/ with the native dump): no grant of the worker changes.
 */
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Construct } from "constructs";
import { drillEnvironment, type DrillGlacierMode } from "../../core/drill";
import { LEDGER_RECENT_INDEX } from "../../core/ledger";
import { publishOutcomeEvents } from "./outcome-events-grant";
import type { Workflow } from "../../core/workflows";
import { restoreDrillDefinition } from "../workflows/restore-drill";
import type { PipelineContext } from "./context";
import { LambdaFunction } from "./lambda-function";
import { PolicyDocument, type PolicyStatement } from "./policy-document";
import { StateMachine } from "./state-machine";

export interface RestoreDrillProps {
  readonly context: PipelineContext;
  /** EventBridge schedule expression (config `drills.schedule`). */
  readonly schedule: string;
  /** Archives drilled besides the newest of each type (config `drills.sampleSize`). */
  readonly sampleSize: number;
  /** Archived (Glacier) objects: skip the archive or restore them (Bulk) first (config `drills.glacier`). */
  readonly glacier: DrillGlacierMode;
  /**
   * A drilled native dump is also restored into a scratch server by the verify job (config `drills.restoreDumps`).
   * @default false
   */
  readonly restoreDumps?: boolean;
  /** Workflows whose archives the worker's verify reads (core/drill.ts drillableWorkflows); at least one. */
  readonly workflows: readonly Workflow[];
  readonly ledgerTableArn: string;
  readonly ledgerTableName: string;
  readonly archiveBucketArn: string;
  readonly jobDefinitionName: string;
  readonly jobQueueArn: string;
  readonly pipelineTag: { readonly key: string; readonly value: string };
}

export class RestoreDrill extends Construct {
  public readonly lambda: LambdaFunction;
  public readonly stateMachine: StateMachine;
  public readonly rule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: RestoreDrillProps) {
    super(scope, id);
    if (props.workflows.length === 0)
      throw new Error(`RestoreDrill ${this.node.path}: workflows must name at least one archive type to verify`);
    const { name, accountId, region, partition, kmsKeyArn } = props.context;
    const prefixes = props.workflows.map((w) => `${w}/`);
    const objects = prefixes.map((p) => `${props.archiveBucketArn}/${p}*`);

    this.lambda = new LambdaFunction(this, "function", {
      entry: "drill",
      functionName: `${name}-drill`,
      description: "Restore drill: picks the archives to re-verify, restores Glacier objects, reports the result",
      accountId,
      region,
      kmsKeyArn,
      timeout: 300,
      environment: drillEnvironment({
        ledgerTable: props.ledgerTableName,
        sampleSize: props.sampleSize,
        glacier: props.glacier,
        workflows: props.workflows,
      }),
      statements: [
        {
          sid: "ReadSucceededExports",
          actions: ["dynamodb:Query"],
          resources: [`${props.ledgerTableArn}/index/${LEDGER_RECENT_INDEX.name}`],
        },
        {
          // ListObjectsV2 names each object's storage class; only the drilled types' prefixes.
          sid: "FindArchivedObjects",
          actions: ["s3:ListBucket"],
          resources: [props.archiveBucketArn],
          condition: [{ test: "StringLike", variable: "s3:prefix", values: prefixes.map((p) => `${p}*`) }],
        },
        // HeadObject (its Restore header, an Intelligent-Tiering object's ArchiveStatus) needs s3:GetObject.
        { sid: "CheckRestores", actions: ["s3:GetObject"], resources: objects },
        ...(props.glacier === "restore"
          ? [{ sid: "RestoreArchivedObjects", actions: ["s3:RestoreObject"], resources: objects }]
          : []),
      ],
    });

    const statements: PolicyStatement[] = [
      {
        sid: "DrillFunction",
        actions: ["lambda:InvokeFunction"],
        resources: [this.lambda.function.arn, `${this.lambda.function.arn}:*`],
      },
      { sid: "RecordResults", actions: ["dynamodb:UpdateItem"], resources: [props.ledgerTableArn] },
      {
        sid: "RunVerify",
        actions: ["batch:SubmitJob"],
        resources: [
          props.jobQueueArn,
          `arn:${partition}:batch:${region}:${accountId}:job-definition/${props.jobDefinitionName}:*`,
          `arn:${partition}:batch:${region}:${accountId}:job/*`,
        ],
      },
      { sid: "FollowVerify", actions: ["batch:DescribeJobs", "batch:TerminateJob"], resources: ["*"] },
      {
        sid: "SyncIntegrationRule",
        actions: ["events:PutTargets", "events:PutRule", "events:DescribeRule"],
        resources: [`arn:${partition}:events:${region}:${accountId}:rule/StepFunctionsGetEventsForBatchJobsRule`],
      },
      publishOutcomeEvents("PublishDrillFailed", { partition, region, accountId }),
    ];
    this.stateMachine = new StateMachine(this, "machine", {
      name: `${name}-restore-drill`,
      accountId,
      region,
      kmsKeyArn,
      statements,
      definition: restoreDrillDefinition({
        partition,
        drillFunctionArn: this.lambda.function.arn,
        jobDefinitionName: props.jobDefinitionName,
        jobQueueArn: props.jobQueueArn,
        ledgerTableName: props.ledgerTableName,
        pipelineName: name,
        pipelineTag: props.pipelineTag,
        restoreDumps: props.restoreDumps ?? false,
      }),
    });

    // EventBridge starts the drill with this role (a Step Functions target needs one).
    const assume = new PolicyDocument(this, "schedule-assume", {
      statement: [
        {
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
          condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] }],
        },
      ],
    });
    const role = new IamRole(this, "schedule-role", {
      name: `${name}-drill-schedule-${region}`,
      assumeRolePolicy: assume.json,
    });
    const grant = new PolicyDocument(this, "schedule-policy", {
      statement: [{ sid: "StartDrill", actions: ["states:StartExecution"], resources: [this.stateMachine.arn] }],
    });
    const rolePolicy = new IamRolePolicy(this, "schedule-role-policy", { role: role.name, policy: grant.json });
    this.rule = new CloudwatchEventRule(this, "schedule", {
      name: `${name}-restore-drill`,
      description: "Starts the restore drill",
      scheduleExpression: props.schedule,
    });
    new CloudwatchEventTarget(this, "target", {
      rule: this.rule.name,
      targetId: "restore-drill",
      arn: this.stateMachine.stateMachine.arn,
      roleArn: role.arn,
      input: "{}",
      dependsOn: [rolePolicy],
    });
  }
}
