/**
 * Notifications: one KMS-encrypted SNS topic for export outcomes (the dispatcher
 * publishes SUCCEEDED / SKIPPED / UNSUPPORTED / FAILED), an optional email subscription, and a
 * backstop rule that reports dispatcher executions that end without reaching their own
 * notification (TIMED_OUT, ABORTED) twice: to the topic, and as an "Export Timed Out" / "Export
 * Aborted" event on the default bus (docs/events.md) through the backstop state machine
 * (stacks/workflows/backstop.ts), which EventBridge starts with a role of its own. The pipeline's
 * CloudWatch alarms (alarms.ts) publish to the topic too; its key must let CloudWatch use it (pipeline-key.ts).
 */
import { CloudwatchEventRule } from "@cdktf/provider-aws/lib/cloudwatch-event-rule";
import { CloudwatchEventTarget } from "@cdktf/provider-aws/lib/cloudwatch-event-target";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { SnsTopicSubscription } from "@cdktf/provider-aws/lib/sns-topic-subscription";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Construct } from "constructs";
import { publishOutcomeEvents } from "./outcome-events-grant";
import { backstopDefinition } from "../workflows/backstop";
import type { PipelineContext } from "./context";
import { StateMachine } from "./state-machine";
import { PolicyDocument } from "./policy-document";

export interface NotificationsProps {
  /** Name, account, region, partition and key of the pipeline. */
  readonly context: PipelineContext;
  /** Subscribed by email (the address must confirm). @default none */
  readonly email?: string;
  /** Dispatcher whose abnormal ends are reported by the backstop rule. */
  readonly dispatcherStateMachineArn: string;
}

export class Notifications extends Construct {
  public readonly topic: SnsTopic;
  /** Publishes "Export Timed Out" / "Export Aborted" for the dispatcher executions the rule reports. */
  public readonly backstop: StateMachine;

  constructor(scope: Construct, id: string, props: NotificationsProps) {
    super(scope, id);
    this.topic = new SnsTopic(this, "topic", {
      name: `${props.context.name}-notifications`,
      kmsMasterKeyId: props.context.kmsKeyArn,
    });
    if (props.email) {
      new SnsTopicSubscription(this, "email", { topicArn: this.topic.arn, protocol: "email", endpoint: props.email });
    }

    const endedAbnormally = new CloudwatchEventRule(this, "dispatcher-ended-abnormally", {
      name: `${props.context.name}-dispatcher-ended-abnormally`,
      description: "Dispatcher executions that timed out or were aborted: no notification of their own",
      eventPattern: JSON.stringify({
        source: ["aws.states"],
        "detail-type": ["Step Functions Execution Status Change"],
        detail: { status: ["TIMED_OUT", "ABORTED"], stateMachineArn: [props.dispatcherStateMachineArn] },
      }),
    });
    new CloudwatchEventTarget(this, "backstop-target", {
      rule: endedAbnormally.name,
      arn: this.topic.arn,
      inputTransformer: {
        inputPaths: { status: "$.detail.status", execution: "$.detail.executionArn", input: "$.detail.input" },
        inputTemplate: '{"status": <status>, "execution": <execution>, "input": <input>}',
      },
    });

    const { name, accountId, region, partition } = props.context;
    this.backstop = new StateMachine(this, "backstop", {
      name: `${name}-backstop`,
      accountId,
      region,
      kmsKeyArn: props.context.kmsKeyArn,
      statements: [publishOutcomeEvents("PublishOutcomeEvents", { partition, region, accountId })],
      definition: backstopDefinition({ partition, pipelineName: name }),
    });
    // EventBridge starts the backstop with this role (a Step Functions target needs one).
    const ruleAssume = new PolicyDocument(this, "backstop-rule-assume", {
      statement: [
        {
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
          // As every role of the pipeline (stacks/constructs/state-machine.ts): this account's EventBridge only.
          condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [accountId] }],
        },
      ],
    });
    const ruleRole = new IamRole(this, "backstop-rule-role", {
      name: `${name}-backstop-rule-${region}`,
      assumeRolePolicy: ruleAssume.json,
    });
    const ruleGrant = new PolicyDocument(this, "backstop-rule-policy", {
      statement: [{ sid: "StartBackstop", actions: ["states:StartExecution"], resources: [this.backstop.arn] }],
    });
    const ruleRolePolicy = new IamRolePolicy(this, "backstop-rule-role-policy", {
      role: ruleRole.name,
      policy: ruleGrant.json,
    });
    new CloudwatchEventTarget(this, "backstop-events-target", {
      rule: endedAbnormally.name,
      targetId: "backstop-events",
      arn: this.backstop.stateMachine.arn,
      roleArn: ruleRole.arn,
      dependsOn: [ruleRolePolicy],
    });

    const policy = new PolicyDocument(this, "topic-policy", {
      statement: [
        {
          sid: "OwnerManages",
          principals: [
            { type: "AWS", identifiers: [`arn:${props.context.partition}:iam::${props.context.accountId}:root`] },
          ],
          actions: [
            "sns:Publish",
            "sns:Subscribe",
            "sns:GetTopicAttributes",
            "sns:SetTopicAttributes",
            "sns:ListSubscriptionsByTopic",
          ],
          resources: [this.topic.arn],
        },
        {
          sid: "BackstopRulePublishes",
          principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
          actions: ["sns:Publish"],
          resources: [this.topic.arn],
          condition: [{ test: "ArnEquals", variable: "aws:SourceArn", values: [endedAbnormally.arn] }],
        },
        {
          // The pipeline's alarms (alarms.ts, named `<name>-*`) notify this topic.
          sid: "CloudWatchAlarmsPublish",
          principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
          actions: ["sns:Publish"],
          resources: [this.topic.arn],
          condition: [
            { test: "StringEquals", variable: "aws:SourceAccount", values: [props.context.accountId] },
            {
              test: "ArnLike",
              variable: "aws:SourceArn",
              values: [
                `arn:${props.context.partition}:cloudwatch:${props.context.region}:${props.context.accountId}:alarm:${props.context.name}-*`,
              ],
            },
          ],
        },
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          principals: [{ type: "*", identifiers: ["*"] }],
          actions: ["sns:Publish"],
          resources: [this.topic.arn],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
      ],
    });
    new SnsTopicPolicy(this, "policy", { arn: this.topic.arn, policy: policy.json });
  }
}
