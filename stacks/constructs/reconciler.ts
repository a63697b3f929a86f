/**
 * The reconciler, on a schedule: lists the COMPLETED recovery points of the watched vaults, looks
 * each up in the ledger and starts this region's dispatcher for those whose AWS Backup event was
 * lost, under the starter's execution name (core/reconcile.ts, lambdas/reconciler; README
 * "Reconciling lost events"). Its grants are exactly the calls core/reconcile.ts makes:
 * ListRecoveryPointsByBackupVault on each watched vault, GetItem on the ledger (and its key through
 * DynamoDB), StartExecution on this pipeline's dispatcher.
 */
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { LambdaPermission } from "@cdktf/provider-aws/lib/lambda-permission";
import { Construct } from "constructs";
import type { PipelineContext } from "./context";
import type { IntakeConfig } from "../../core/intake-config";
import { INTAKE_CONFIG_ENV, intakeConfigOf } from "../../core/intake-config";
import { publishOutcomeEvents } from "./outcome-events-grant";
import { DEFAULT_GRACE_MINUTES, reconcilerEnvironment } from "../../core/reconciler-contract";
import { LambdaFunction } from "./lambda-function";
import type { PolicyStatement } from "./policy-document";

export interface ReconcilerProps {
  /** Name, account, region, partition and key of the pipeline. */
  readonly context: PipelineContext;
  /** What the starter classifies with: deployed accounts and regions, watched vaults, workflows switched on. */
  readonly config: IntakeConfig;
  /** This region's dispatcher (the only machine it starts), its archive bucket and placement count. */
  readonly dispatcher: {
    readonly stateMachineArn: string;
    readonly archiveBucket: string;
    readonly placementCount: number;
  };
  readonly ledgerTableName: string;
  readonly ledgerTableArn: string;
  /** The ledger's KMS key: GetItem then needs kms:Decrypt on it through DynamoDB. @default the AWS owned key (no grant) */
  readonly ledgerKmsKeyArn?: string;
  /** Hours between runs (config reconciler.intervalHours). */
  readonly intervalHours: number;
  /** Days each run looks back (config reconciler.lookBackDays); must cover more than the interval. */
  readonly lookBackDays: number;
  /** A missing recovery point AWS Backup deletes sooner than this is reported, not started. */
  readonly minRetentionHours: number;
  /** Recovery points younger than this are left to their event. @default 60 (core/reconciler-contract.ts) */
  readonly graceMinutes?: number;
  /** Seconds. @default 300 */
  readonly timeout?: number;
}

export class Reconciler extends Construct {
  public readonly lambda: LambdaFunction;
  public readonly schedule: CloudwatchEventRule;

  constructor(scope: Construct, id: string, props: ReconcilerProps) {
    super(scope, id);
    const graceMinutes = props.graceMinutes ?? DEFAULT_GRACE_MINUTES;
    const timeout = props.timeout ?? 300;
    if (!Number.isInteger(props.intervalHours) || props.intervalHours < 1)
      throw new Error(
        `Reconciler: intervalHours must be a whole number of hours, 1 or more (got ${props.intervalHours})`,
      );
    if (!(props.lookBackDays * 24 > props.intervalHours))
      throw new Error(
        `Reconciler: lookBackDays (${props.lookBackDays}) must cover more than intervalHours (${props.intervalHours})`,
      );
    if (!(props.minRetentionHours >= 0))
      throw new Error(`Reconciler: minRetentionHours must be 0 or more (got ${props.minRetentionHours})`);
    const { partition, region, accountId } = props.context;
    const vaultArns = props.config.backupVaults.map(
      (vault) => `arn:${partition}:backup:${region}:${accountId}:backup-vault:${vault}`,
    );

    const statements: PolicyStatement[] = [
      { sid: "ListWatchedVaults", actions: ["backup:ListRecoveryPointsByBackupVault"], resources: vaultArns },
      { sid: "ReadLedger", actions: ["dynamodb:GetItem"], resources: [props.ledgerTableArn] },
      ...(props.ledgerKmsKeyArn
        ? [
            {
              sid: "LedgerKeyThroughDynamoDb",
              actions: ["kms:Decrypt"],
              resources: [props.ledgerKmsKeyArn],
              condition: [
                { test: "StringEquals", variable: "kms:ViaService", values: [`dynamodb.${region}.amazonaws.com`] },
              ],
            },
          ]
        : []),
      { sid: "StartOwnDispatcher", actions: ["states:StartExecution"], resources: [props.dispatcher.stateMachineArn] },
      // Recovery Point Missed (docs/events.md)
      publishOutcomeEvents("PublishMissedEvents", { partition, region, accountId }),
    ];

    this.lambda = new LambdaFunction(this, "function", {
      entry: "reconciler",
      functionName: `${props.context.name}-reconciler`,
      description: "Starts the exports of COMPLETED recovery points whose AWS Backup event was lost",
      accountId,
      region,
      kmsKeyArn: props.context.kmsKeyArn,
      timeout,
      environment: {
        [INTAKE_CONFIG_ENV]: JSON.stringify(intakeConfigOf(props.config)),
        ...reconcilerEnvironment({
          pipelineName: props.context.name,
          ledgerTable: props.ledgerTableName,
          dispatcherArn: props.dispatcher.stateMachineArn,
          archiveBucket: props.dispatcher.archiveBucket,
          placementCount: props.dispatcher.placementCount,
          lookBackDays: props.lookBackDays,
          graceMinutes,
          minRetentionHours: props.minRetentionHours,
        }),
      },
      statements,
    });

    this.schedule = new CloudwatchEventRule(this, "schedule", {
      name: `${props.context.name}-reconciler`,
      description: "Runs the reconciler of lost AWS Backup events",
      scheduleExpression: `rate(${props.intervalHours} ${props.intervalHours === 1 ? "hour" : "hours"})`,
    });
    new CloudwatchEventTarget(this, "target", { rule: this.schedule.name, arn: this.lambda.function.arn });
    new LambdaPermission(this, "invoke", {
      action: "lambda:InvokeFunction",
      functionName: this.lambda.function.functionName,
      principal: "events.amazonaws.com",
      sourceArn: this.schedule.arn,
    });
  }
}
