/**
 * A Step Functions state machine from a typed JSONPath definition: its own role (the
 * statements the definition's tasks need plus log delivery and X-Ray), logging of ALL
 * events with execution data to a KMS-encrypted log group, and X-Ray tracing.
 */
import { stateMachineRoleName } from "../../core/role-names";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { SfnStateMachine } from "@cdktf/provider-aws/lib/sfn-state-machine";
import { Construct } from "constructs";
import { stateMachineArn } from "../../core/state-machines";
import type { StateMachineDefinition } from "../workflows/asl";
import { EncryptedLogGroup } from "./encrypted-log-group";
import { PolicyDocument, PolicyStatement } from "./policy-document";

export interface StateMachineProps {
  /** Name of the state machine (also names its role and log group). */
  readonly name: string;
  readonly definition: StateMachineDefinition;
  /** What the definition's Tasks call; the role gets exactly these plus logging and tracing. */
  readonly statements: readonly PolicyStatement[];
  readonly accountId: string;
  readonly region: string;
  /** Key for the log group. */
  readonly kmsKeyArn: string;
  /** @default 90 */
  readonly logRetentionDays?: number;
}

export class StateMachine extends Construct {
  public readonly stateMachine: SfnStateMachine;
  public readonly role: IamRole;
  /** ARN the machine will have; known before it exists, so definitions can refer to each other. */
  public readonly arn: string;

  constructor(scope: Construct, id: string, props: StateMachineProps) {
    super(scope, id);
    if (props.statements.length === 0) throw new Error(`StateMachine ${props.name}: statements must not be empty`);
    this.arn = stateMachineArn(props.accountId, props.region, props.name);

    // The /aws/vendedlogs/ prefix keeps CloudWatch Logs resource policies small.
    const logs = new EncryptedLogGroup(this, "logs", {
      name: `/aws/vendedlogs/states/${props.name}`,
      kmsKeyArn: props.kmsKeyArn,
      retentionInDays: props.logRetentionDays ?? 90,
    });

    const assume = new PolicyDocument(this, "assume", {
      statement: [
        {
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["states.amazonaws.com"] }],
          condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: [props.accountId] }],
        },
      ],
    });
    this.role = new IamRole(this, "role", {
      name: stateMachineRoleName(props.name, props.region),
      assumeRolePolicy: assume.json,
    });
    const policy = new PolicyDocument(this, "policy", {
      statement: [
        ...props.statements,
        {
          sid: "LogDelivery",
          // These CloudWatch Logs delivery actions support no resource-level permission.
          actions: [
            "logs:CreateLogDelivery",
            "logs:GetLogDelivery",
            "logs:UpdateLogDelivery",
            "logs:DeleteLogDelivery",
            "logs:ListLogDeliveries",
            "logs:PutResourcePolicy",
            "logs:DescribeResourcePolicies",
            "logs:DescribeLogGroups",
          ],
          resources: ["*"],
        },
        {
          sid: "XRay",
          actions: [
            "xray:PutTraceSegments",
            "xray:PutTelemetryRecords",
            "xray:GetSamplingRules",
            "xray:GetSamplingTargets",
          ],
          resources: ["*"],
        },
      ],
    });
    new IamRolePolicy(this, "role-policy", { role: this.role.id, name: "tasks", policy: policy.json });

    this.stateMachine = new SfnStateMachine(this, "this", {
      name: props.name,
      type: "STANDARD",
      roleArn: this.role.arn,
      definition: JSON.stringify(props.definition),
      loggingConfiguration: {
        level: "ALL",
        includeExecutionData: true,
        logDestination: `${logs.logGroup.arn}:*`,
      },
      tracingConfiguration: { enabled: true },
    });
  }
}
