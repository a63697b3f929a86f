/** VPC flow logs into a log group with retention, encrypted with a key of its own. */
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { FlowLog } from "@cdktf/provider-aws/lib/flow-log";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { Construct } from "constructs";
import { movedFrom } from "../moved";
import { EncryptedLogGroup } from "./encrypted-log-group";
import { PolicyDocument } from "./policy-document";

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

  constructor(scope: Construct, id: string, props: FlowLogsProps) {
    super(scope, id);
    const retentionDays = props.retentionDays ?? 365;
    const trafficType = props.trafficType ?? "ALL";
    const logGroupName = `/${props.name}/vpc-flow-logs`;

    const group = new EncryptedLogGroup(this, "log-group", {
      name: logGroupName,
      accountId: props.accountId,
      region: props.region,
      keyDescription: `${props.name} VPC flow logs`,
      retentionInDays: retentionDays,
    });
    this.logGroup = group.logGroup;
    // Before EncryptedLogGroup made them, the log group and its key were this construct's
    // own "log-group" and "key": move them in state, keeping the logs and the key.
    movedFrom(group.logGroup, this, "log-group");
    if (group.key) movedFrom(group.key, this, "key");

    const assume = new PolicyDocument(this, "assume", {
      statement: [
        {
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["vpc-flow-logs.amazonaws.com"] }],
          condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [props.accountId] }],
        },
      ],
    });
    const role = new IamRole(this, "role", {
      name: `${props.name}-flow-logs-${props.region}`,
      assumeRolePolicy: assume.json,
    });
    const write = new PolicyDocument(this, "write", {
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
