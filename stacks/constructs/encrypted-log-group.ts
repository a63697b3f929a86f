import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";

/** The retention periods CloudWatch Logs accepts (PutRetentionPolicy); anything else fails at apply. */
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653,
] as const;

export interface EncryptedLogGroupProps {
  /** Log group name, e.g. `/aws/vpc/flow-logs/<vpc>`. */
  readonly name: string;
  /**
   * ARN of the KMS key that encrypts the log data. Its key policy must allow the
   * `logs.<region>.amazonaws.com` principal to use it, scoped by `kms:EncryptionContext:aws:logs:arn`.
   */
  readonly kmsKeyArn: string;
  /** Days to keep log events; one of LOG_RETENTION_DAYS. @default 90 */
  readonly retentionInDays?: number;
  /** Tags on the log group, in addition to the provider's default tags. @default none */
  readonly tags?: Record<string, string>;
}

/** A CloudWatch log group that expires its events and is encrypted with a customer managed key. */
export class EncryptedLogGroup extends Construct {
  public readonly logGroup: CloudwatchLogGroup;

  constructor(scope: Construct, id: string, props: EncryptedLogGroupProps) {
    super(scope, id);
    const retentionInDays = props.retentionInDays ?? 90;
    if (!(LOG_RETENTION_DAYS as readonly number[]).includes(retentionInDays)) {
      throw new Error(
        `EncryptedLogGroup ${this.node.path}: retentionInDays must be one of ${LOG_RETENTION_DAYS.join(", ")} (got ${retentionInDays})`,
      );
    }
    this.logGroup = new CloudwatchLogGroup(this, "this", {
      name: props.name,
      kmsKeyId: props.kmsKeyArn,
      retentionInDays,
      tags: props.tags,
    });
  }
}
