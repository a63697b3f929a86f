/**
 * The pipeline's KMS key, created when the config names none (`kmsKeyArn`). Rotation on.
 * Its policy lets in exactly:
 * - the account (so IAM policies decide for the pipeline's own roles: the starter's
 *   kms:Decrypt on the queue, the workers' S3 encryption) and CloudWatch Logs of this
 *   region, only for this pipeline's log groups (`/aws/lambda/<name>-*`, `/<name>/*`,
 *   `/aws/vendedlogs/states/<name>-*`): the statements of every key that
 *   encrypts log groups (logsKeyPolicyStatements);
 * - EventBridge, to put events into the encrypted intake queue and its DLQ (SQS asks
 *   KMS on the sender's behalf for GenerateDataKey; Decrypt is needed for the same call);
 * - CloudWatch, whose alarms publish to the encrypted notification topic (SNS asks KMS on the
 *   publisher's behalf, as SQS does). Which alarms may publish is the topic policy's
 *   condition (notifications.ts); the key admits the service for this account only.
 * A key named by the config (`kmsKeyArn`) needs the same statements (README, "Dashboard and alarms").
 */
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { Construct } from "constructs";
import { partitionOf } from "../../core/partition";
import { logsKeyPolicyStatements } from "./encrypted-log-group";
import { PolicyDocument } from "./policy-document";

export interface PipelineKeyProps {
  /** config.name: the alias, and the prefix of the log groups the key may encrypt. */
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  /** @default 30 */
  readonly deletionWindowInDays?: number;
}

/** Log group ARN patterns of one pipeline; other constructs name their log groups to fit. */
export function pipelineLogGroupArns(name: string, accountId: string, region: string): string[] {
  const prefix = `arn:${partitionOf(region)}:logs:${region}:${accountId}:log-group:`;
  return [`${prefix}/aws/lambda/${name}-*`, `${prefix}/${name}/*`, `${prefix}/aws/vendedlogs/states/${name}-*`];
}

export class PipelineKey extends Construct {
  public readonly key: KmsKey;
  public readonly arn: string;

  constructor(scope: Construct, id: string, props: PipelineKeyProps) {
    super(scope, id);
    const deletionWindowInDays = props.deletionWindowInDays ?? 30;

    const policy = new PolicyDocument(this, "policy", {
      statement: [
        ...logsKeyPolicyStatements({
          accountId: props.accountId,
          region: props.region,
          logGroupArns: pipelineLogGroupArns(props.name, props.accountId, props.region),
        }),
        {
          sid: "EventBridgeSendsToEncryptedQueues",
          principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
          actions: ["kms:GenerateDataKey", "kms:Decrypt"],
          resources: ["*"],
        },
        {
          sid: "CloudWatchAlarmsUseTopicKey",
          principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
          actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
          resources: ["*"],
          condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [props.accountId] }],
        },
      ],
    });
    this.key = new KmsKey(this, "key", {
      description: `${props.name} pipeline: queues, log groups, archive`,
      enableKeyRotation: true,
      deletionWindowInDays,
      policy: policy.json,
    });
    new KmsAlias(this, "alias", { name: `alias/${props.name}-pipeline`, targetKeyId: this.key.keyId });
    this.arn = this.key.arn;
  }
}
