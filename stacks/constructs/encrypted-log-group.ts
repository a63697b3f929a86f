/**
 * A CloudWatch log group that expires its events and is encrypted with a customer managed
 * key: a key given to it, or one it makes for itself with the one key policy that lets
 * CloudWatch Logs use a key (logsKeyPolicyStatements).
 */
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { Construct } from "constructs";
import { partitionOf } from "../../core/partition";
import { PolicyDocument, PolicyStatement } from "./policy-document";

/** The retention periods CloudWatch Logs accepts (PutRetentionPolicy); anything else fails at apply. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export interface LogsKeyPolicyProps {
  readonly accountId: string;
  /** Region of the log groups: the principal is CloudWatch Logs of this region. */
  readonly region: string;
  /** ARNs of the log groups the key may encrypt (`arn:<partition>:logs:<region>:<account>:log-group:<name>`); `*` matches any characters. */
  readonly logGroupArns: readonly string[];
}

/**
 * Key policy statements for a key that encrypts CloudWatch Logs log groups: the account
 * administers the key (so IAM policies decide for its own principals), and CloudWatch Logs
 * of the region may use it only for the named log groups (the encryption context it sends,
 * `kms:EncryptionContext:aws:logs:arn`, is the log group's ARN).
 */
export function logsKeyPolicyStatements(props: LogsKeyPolicyProps): PolicyStatement[] {
  return [
    {
      sid: "AccountAdministersAndDelegatesToIam",
      principals: [{ type: "AWS", identifiers: [`arn:${partitionOf(props.region)}:iam::${props.accountId}:root`] }],
      actions: ["kms:*"],
      resources: ["*"],
    },
    {
      sid: "LogsEncryptsOnlyTheseLogGroups",
      principals: [{ type: "Service", identifiers: [`logs.${props.region}.amazonaws.com`] }],
      actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
      resources: ["*"],
      condition: [{ test: "ArnLike", variable: "kms:EncryptionContext:aws:logs:arn", values: [...props.logGroupArns] }],
    },
  ];
}

export interface EncryptedLogGroupProps {
  /** Log group name, e.g. `/aws/vpc/flow-logs/<vpc>`. */
  readonly name: string;
  /**
   * ARN of the KMS key that encrypts the log data. Its key policy must let CloudWatch Logs
   * use it for this log group (logsKeyPolicyStatements).
   * @default a key made for this log group alone (`key`); needs accountId and region
   */
  readonly kmsKeyArn?: string;
  /** Account of the log group, named in the policy of the key it makes. @default none: required without kmsKeyArn */
  readonly accountId?: string;
  /** Region of the log group, named in the policy of the key it makes. @default none: required without kmsKeyArn */
  readonly region?: string;
  /** Description of the key it makes. @default `<name> log group` */
  readonly keyDescription?: string;
  /** Days to keep log events; one of LOG_RETENTION_DAYS. @default 90 */
  readonly retentionInDays?: number;
  /** Tags on the log group, in addition to the provider's default tags. @default none */
  readonly tags?: Record<string, string>;
}

export class EncryptedLogGroup extends Construct {
  public readonly logGroup: CloudwatchLogGroup;
  /** The key made for this log group; undefined when kmsKeyArn was given. */
  public readonly key?: KmsKey;
  /** ARN of the key that encrypts the log group, given or made. */
  public readonly kmsKeyArn: string;

  constructor(scope: Construct, id: string, props: EncryptedLogGroupProps) {
    super(scope, id);
    const retentionInDays = props.retentionInDays ?? 90;
    const keyDescription = props.keyDescription ?? `${props.name} log group`;
    if (!(LOG_RETENTION_DAYS as readonly number[]).includes(retentionInDays)) {
      throw new Error(
        `EncryptedLogGroup ${this.node.path}: retentionInDays must be one of ${LOG_RETENTION_DAYS.join(", ")} (got ${retentionInDays})`,
      );
    }
    if (props.kmsKeyArn === undefined && (props.accountId === undefined || props.region === undefined)) {
      throw new Error(
        `EncryptedLogGroup ${this.node.path}: accountId and region are required to make the log group's key when kmsKeyArn is not given`,
      );
    }

    if (props.kmsKeyArn !== undefined) {
      this.kmsKeyArn = props.kmsKeyArn;
    } else {
      const accountId = props.accountId!;
      const region = props.region!;
      const policy = new PolicyDocument(this, "key-policy", {
        statement: logsKeyPolicyStatements({
          accountId,
          region,
          logGroupArns: [`arn:${partitionOf(region)}:logs:${region}:${accountId}:log-group:${props.name}`],
        }),
      });
      this.key = new KmsKey(this, "key", {
        description: keyDescription,
        enableKeyRotation: true,
        deletionWindowInDays: 30,
        policy: policy.json,
      });
      this.kmsKeyArn = this.key.arn;
    }
    this.logGroup = new CloudwatchLogGroup(this, "this", {
      name: props.name,
      kmsKeyId: this.kmsKeyArn,
      retentionInDays,
      tags: props.tags,
    });
  }
}
