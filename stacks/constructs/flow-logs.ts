/** VPC flow logs into a KMS-encrypted log group with retention. */
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { DataAwsIamPolicyDocument } from "@cdktf/provider-aws/lib/data-aws-iam-policy-document";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { Construct } from "constructs";

export interface FlowLogsProps {
  readonly vpcId: string;
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  /** @default 365 */
  readonly retentionDays?: number;
  /** @default "ALL" */
  readonly trafficType?: "ACCEPT" | "REJECT" | "ALL";
}

export class FlowLogs extends Construct {
  public readonly logGroup: CloudwatchLogGroup;
  public readonly key: KmsKey;

  constructor(scope: Construct, id: string, props: FlowLogsProps) {
    super(scope, id);
    const retentionDays = props.retentionDays ?? 365;
    const trafficType = props.trafficType ?? "ALL";
    const logGroupName = `/${props.name}/vpc-flow-logs`;
    const logGroupArn = `arn:aws:logs:${props.region}:${props.accountId}:log-group:${logGroupName}`;

    const keyPolicy = new DataAwsIamPolicyDocument(this, "key-policy", {
      statement: [
        {
          sid: "AccountAdministers",
          principals: [{ type: "AWS", identifiers: [`arn:aws:iam::${props.accountId}:root`] }],
          actions: ["kms:*"],
          resources: ["*"],
        },
        {
          sid: "LogsEncryptsThisLogGroup",
          principals: [{ type: "Service", identifiers: [`logs.${props.region}.amazonaws.com`] }],
          actions: ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"],
          resources: ["*"],
          condition: [{ test: "ArnEquals", variable: "kms:EncryptionContext:aws:logs:arn", values: [logGroupArn] }],
        },
      ],
    });
    this.key = new KmsKey(this, "key", {
      description: `${props.name} VPC flow logs`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: keyPolicy.json,
    });
    this.logGroup = new CloudwatchLogGroup(this, "log-group", {
      name: logGroupName,
      retentionInDays: retentionDays,
      kmsKeyId: this.key.arn,
    });

    const assume = new DataAwsIamPolicyDocument(this, "assume", {
      statement: [
        {
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["vpc-flow-logs.amazonaws.com"] }],
          condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [props.accountId] }],
        },
      ],
    });
    const role = new IamRole(this, "role", { name: `${props.name}-flow-logs-${props.region}`, assumeRolePolicy: assume.json });
    const write = new DataAwsIamPolicyDocument(this, "write", {
      statement: [
        {
          actions: ["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
          resources: [this.logGroup.arn, `${this.logGroup.arn}:*`],
        },
      ],
    });
    new IamRolePolicy(this, "role-policy", { role: role.id, name: "write-flow-logs", policy: write.json });

    new FlowLog(this, "flow-log", {
      vpcId: props.vpcId,
      trafficType,
      logDestinationType: "cloud-watch-logs",
      logDestination: this.logGroup.arn,
      iamRoleArn: role.arn,
      maxAggregationInterval: 600,
    });
  }
}
