/**
 * Event intake: AWS Backup events → EventBridge rules → encrypted SQS queue (with a DLQ)
 * → the starter Lambda, which starts the dispatcher state machine: this region's, or for a
 * copy job into another region of the account, that region's (ADR 0006).
 *
 * Two rules, one per detail-type, because the vault is in a different place in each:
 * - `Backup Job State Change`: `detail.backupVaultName` is one of the watched vaults;
 * - `Copy Job State Change`: `detail.destinationBackupVaultArn` ends with
 *   `:backup-vault:<watched vault>` (suffix matching: the destination may be in another
 *   account or region than the rule, the classifier checks those against the config).
 * Both require `state` COMPLETED and a resource type that is switched on. The starter
 * classifies again (the same pure function as `plan-event`): the rules only cut the noise.
 *
 * Nothing is lost on the way: EventBridge retries delivery for 24 h and then puts the
 * event into the DLQ; the queue redrives a message to the DLQ after `maxReceiveCount`
 * failed receives; the DLQ keeps messages 14 days.
 */
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { LambdaEventSourceMapping } from "@cdktf/provider-aws/lib/lambda-event-source-mapping";
import { SqsQueue } from "@cdktf/provider-aws/lib/sqs-queue";
import { SqsQueuePolicy } from "@cdktf/provider-aws/lib/sqs-queue-policy";
import { SqsQueueRedriveAllowPolicy } from "@cdktf/provider-aws/lib/sqs-queue-redrive-allow-policy";
import { Construct } from "constructs";
import type { PipelineContext } from "./context";
import { BACKUP_JOB_STATE_CHANGE, COPY_JOB_STATE_CHANGE, EVENT_SOURCE } from "../../core/events";
import { DISPATCHERS_ENV, DispatcherRoutesEnv, expandDispatcherRoutes } from "../../core/dispatcher-routes";
import { INTAKE_CONFIG_ENV, IntakeConfig } from "../../core/intake-config";
import { LambdaFunction } from "./lambda-function";
import { PolicyDocument } from "./policy-document";

export interface EventIntakeProps {
  /** Name, account, region, partition and key of the pipeline. */
  readonly context: PipelineContext;
  /** Accounts, regions, watched vaults and switched-on types (also handed to the starter). */
  readonly config: IntakeConfig;
  /**
   * The dispatchers the starter may start, exactly these: this region's and those of the
   * account's other deployed regions (a copy job's event arrives in its source region),
   * each with its placement count (the execution input names it). Written into the
   * starter's environment as they are; the dispatcher ARNs follow from them.
   */
  readonly routes: DispatcherRoutesEnv;
  /** Seconds. @default 30 */
  readonly starterTimeout?: number;
  /** @default 256 */
  readonly starterMemorySize?: number;
  /** Starter invocations the queue drives at once (SQS event source maximum concurrency, 2-1000). @default 5 */
  readonly maxConcurrency?: number;
  /** Receives before a message moves to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** @default 4 */
  readonly queueRetentionDays?: number;
  /** @default 14 */
  readonly dlqRetentionDays?: number;
  /** @default 365 */
  readonly logRetentionDays?: number;
}

/**
 * `detail.resourceType` values the rules let through. Aurora clusters can be reported
 * as `RDS` (the classifier tells them apart by the ARN), so RDS passes when either RDS or
 * Aurora exports are on.
 */
export function intakeResourceTypes(exportsOn: IntakeConfig["exports"]): string[] {
  const types: string[] = [];
  if (exportsOn.ebs) types.push("EBS");
  if (exportsOn.rds || exportsOn.aurora) types.push("RDS");
  if (exportsOn.aurora) types.push("Aurora");
  if (exportsOn.dynamodb) types.push("DynamoDB");
  return types;
}

export function backupJobPattern(config: IntakeConfig): Record<string, unknown> {
  return {
    source: [EVENT_SOURCE],
    "detail-type": [BACKUP_JOB_STATE_CHANGE],
    detail: {
      state: ["COMPLETED"],
      backupVaultName: [...config.backupVaults],
      resourceType: intakeResourceTypes(config.exports),
    },
  };
}

export function copyJobPattern(config: IntakeConfig): Record<string, unknown> {
  return {
    source: [EVENT_SOURCE],
    "detail-type": [COPY_JOB_STATE_CHANGE],
    detail: {
      state: ["COMPLETED"],
      destinationBackupVaultArn: config.backupVaults.map((vault) => ({ suffix: `:backup-vault:${vault}` })),
      resourceType: intakeResourceTypes(config.exports),
    },
  };
}

const DAY = 86_400;

export class EventIntake extends Construct {
  public readonly queue: SqsQueue;
  public readonly deadLetterQueue: SqsQueue;
  public readonly rules: CloudwatchEventRule[];
  public readonly starter: LambdaFunction;

  constructor(scope: Construct, id: string, props: EventIntakeProps) {
    super(scope, id);
    const starterTimeout = props.starterTimeout ?? 30;
    const starterMemorySize = props.starterMemorySize ?? 256;
    const maxConcurrency = props.maxConcurrency ?? 5;
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    const queueRetentionDays = props.queueRetentionDays ?? 4;
    const dlqRetentionDays = props.dlqRetentionDays ?? 14;
    if (intakeResourceTypes(props.config.exports).length === 0) {
      throw new Error(
        "event intake: every export type (exports.ebs, rds, aurora, dynamodb) is switched off, so there is nothing to take in",
      );
    }
    if (maxConcurrency < 2 || maxConcurrency > 1000)
      throw new Error(`event intake: maxConcurrency must be from 2 to 1000 (got ${maxConcurrency})`);
    const { routes } = props;
    if (
      routes.account !== props.context.accountId ||
      routes.region !== props.context.region ||
      !Object.hasOwn(routes.placements, props.context.region)
    ) {
      throw new Error(
        `event intake: the dispatcher routes are for ${routes.account}/${routes.region}, not this pipeline's ${props.context.accountId}/${props.context.region}`,
      );
    }
    if (routes.name !== props.context.name)
      throw new Error(
        `event intake: the dispatcher routes name the dispatchers of ${routes.name}, not this pipeline's ${props.context.name}`,
      );
    // The ARNs the starter derives from its routes (the same function), so grant and routes are one list.
    const dispatcherArns = Object.values(expandDispatcherRoutes(routes).dispatchers).map((d) => d.stateMachineArn);

    // ── build ──
    this.deadLetterQueue = new SqsQueue(this, "dlq", {
      name: `${props.context.name}-intake-dlq`,
      kmsMasterKeyId: props.context.kmsKeyArn,
      kmsDataKeyReusePeriodSeconds: 300,
      messageRetentionSeconds: dlqRetentionDays * DAY,
    });
    this.queue = new SqsQueue(this, "queue", {
      name: `${props.context.name}-intake`,
      kmsMasterKeyId: props.context.kmsKeyArn,
      kmsDataKeyReusePeriodSeconds: 300,
      messageRetentionSeconds: queueRetentionDays * DAY,
      // AWS's guidance for Lambda event sources: at least six times the function timeout,
      // so a batch being retried by Lambda is not handed to a second invocation.
      visibilityTimeoutSeconds: 6 * starterTimeout,
      redrivePolicy: JSON.stringify({ deadLetterTargetArn: this.deadLetterQueue.arn, maxReceiveCount }),
    });
    new SqsQueueRedriveAllowPolicy(this, "dlq-redrive-allow", {
      queueUrl: this.deadLetterQueue.url,
      redriveAllowPolicy: JSON.stringify({ redrivePermission: "byQueue", sourceQueueArns: [this.queue.arn] }),
    });

    const backupRule = new CloudwatchEventRule(this, "backup-job-rule", {
      name: `${props.context.name}-backup-job-completed`,
      description: "AWS Backup jobs COMPLETED in a watched vault, for a resource type that is exported",
      eventPattern: JSON.stringify(backupJobPattern(props.config)),
    });
    const copyRule = new CloudwatchEventRule(this, "copy-job-rule", {
      name: `${props.context.name}-copy-job-completed`,
      description: "AWS Backup copy jobs COMPLETED into a watched vault, for a resource type that is exported",
      eventPattern: JSON.stringify(copyJobPattern(props.config)),
    });
    this.rules = [backupRule, copyRule];

    this.starter = new LambdaFunction(this, "starter", {
      entry: "starter",
      functionName: `${props.context.name}-starter`,
      description: "Classifies AWS Backup events and starts the dispatcher for each recovery point to export",
      accountId: props.context.accountId,
      region: props.context.region,
      kmsKeyArn: props.context.kmsKeyArn,
      timeout: starterTimeout,
      memorySize: starterMemorySize,
      logRetentionDays: props.logRetentionDays,
      environment: {
        [INTAKE_CONFIG_ENV]: JSON.stringify(props.config),
        [DISPATCHERS_ENV]: JSON.stringify(routes),
      },
      statements: [
        {
          sid: "ConsumeIntakeQueue",
          actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
          resources: [this.queue.arn],
        },
        { sid: "DecryptIntakeMessages", actions: ["kms:Decrypt"], resources: [props.context.kmsKeyArn] },
        { sid: "StartDispatchers", actions: ["states:StartExecution"], resources: dispatcherArns },
      ],
    });

    // ── wire ──
    const ruleArns = this.rules.map((r) => r.arn);
    for (const [key, queue] of [
      ["queue", this.queue],
      ["dlq", this.deadLetterQueue],
    ] as const) {
      const policy = new PolicyDocument(this, `${key}-policy-document`, {
        statement: [
          {
            sid: "EventBridgeFromTheIntakeRulesOnly",
            principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
            actions: ["sqs:SendMessage"],
            resources: [queue.arn],
            condition: [{ test: "ArnEquals", variable: "aws:SourceArn", values: ruleArns }],
          },
          {
            sid: "DenyInsecureTransport",
            effect: "Deny",
            principals: [{ type: "*", identifiers: ["*"] }],
            actions: ["sqs:*"],
            resources: [queue.arn],
            condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
          },
        ],
      });
      new SqsQueuePolicy(this, `${key}-policy`, { queueUrl: queue.url, policy: policy.json });
    }

    for (const [key, rule] of [
      ["backup-job", backupRule],
      ["copy-job", copyRule],
    ] as const) {
      new CloudwatchEventTarget(this, `${key}-target`, {
        rule: rule.name,
        targetId: "intake-queue",
        arn: this.queue.arn,
        deadLetterConfig: { arn: this.deadLetterQueue.arn },
        retryPolicy: { maximumEventAgeInSeconds: DAY, maximumRetryAttempts: 185 },
      });
    }

    new LambdaEventSourceMapping(this, "starter-source", {
      eventSourceArn: this.queue.arn,
      functionName: this.starter.function.arn,
      batchSize: 10,
      functionResponseTypes: ["ReportBatchItemFailures"],
      scalingConfig: { maximumConcurrency: maxConcurrency },
      // Lambda checks the role's SQS permissions when the mapping is created.
      dependsOn: [this.starter.rolePolicy],
    });
  }
}
