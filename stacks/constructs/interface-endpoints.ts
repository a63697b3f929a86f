/**
 * Interface VPC endpoints as data: one keyed map, one loop (the shape of
 * terraform-aws-modules/vpc-endpoints). Later features add keys, not copies.
 */
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { Construct } from "constructs";
import { partitionOf } from "../../core/partition";

/**
 * Endpoint key → service suffix (`com.amazonaws.<region>.<suffix>`) and who needs it.
 * `cn`: in the China regions (aws-cn) the service's endpoint service name starts with
 * `cn.com.amazonaws` instead, as `aws ec2 describe-vpc-endpoint-services` lists it there
 * (the same table as InterfaceVpcEndpointAwsService in aws-cdk-lib/aws-ec2/lib/vpc-endpoint.ts).
 */
export const INTERFACE_ENDPOINTS = {
  ecr_api: { service: "ecr.api", why: "Batch pulls the worker image (manifest API)", cn: true },
  ecr_dkr: {
    service: "ecr.dkr",
    why: "Batch pulls the worker image (layers come from S3 via the gateway endpoint)",
    cn: true,
  },
  ecs: { service: "ecs", why: "the ECS agent on Batch hosts registers and gets tasks" },
  ecs_agent: { service: "ecs-agent", why: "ECS agent communication" },
  ecs_telemetry: { service: "ecs-telemetry", why: "ECS agent telemetry" },
  logs: { service: "logs", why: "container logs and embedded-metric-format metrics" },
  ec2: { service: "ec2", why: "the worker attaches and detaches the restored volume", cn: true },
  sts: { service: "sts", why: "task role credentials (regional STS)", cn: true },
  ssm: { service: "ssm", why: "parameters read by the workers" },
} as const;

export type InterfaceEndpointKey = keyof typeof INTERFACE_ENDPOINTS;

/** The endpoint service name of `key` in `region`: `com.amazonaws.us-east-1.ec2`, `cn.com.amazonaws.cn-north-1.ec2`. */
export function interfaceEndpointServiceName(key: InterfaceEndpointKey, region: string): string {
  const endpoint = INTERFACE_ENDPOINTS[key];
  const prefix = partitionOf(region) === "aws-cn" && "cn" in endpoint ? "cn.com.amazonaws" : "com.amazonaws";
  return `${prefix}.${region}.${endpoint.service}`;
}

export interface InterfaceEndpointsProps {
  readonly vpcId: string;
  readonly region: string;
  /** Subnets that get an endpoint network interface (one per AZ). */
  readonly subnetIds: string[];
  /** Security group of the endpoints: allows 443 from the workers only. */
  readonly securityGroupId: string;
  /** Which endpoints to create. @default every key of INTERFACE_ENDPOINTS */
  readonly keys?: readonly InterfaceEndpointKey[];
}

export class InterfaceEndpoints extends Construct {
  public readonly endpoints: Readonly<Record<string, VpcEndpoint>>;

  constructor(scope: Construct, id: string, props: InterfaceEndpointsProps) {
    super(scope, id);
    const keys = props.keys ?? (Object.keys(INTERFACE_ENDPOINTS) as InterfaceEndpointKey[]);
    if (props.subnetIds.length === 0) throw new Error("InterfaceEndpoints: subnetIds must not be empty");

    const endpoints: Record<string, VpcEndpoint> = {};
    for (const key of keys) {
      endpoints[key] = new VpcEndpoint(this, key.replace(/_/g, "-"), {
        vpcId: props.vpcId,
        serviceName: interfaceEndpointServiceName(key, props.region),
        vpcEndpointType: "Interface",
        privateDnsEnabled: true,
        subnetIds: props.subnetIds,
        securityGroupIds: [props.securityGroupId],
        tags: { Name: `${key}-endpoint` },
      });
    }
    this.endpoints = endpoints;
  }
}
