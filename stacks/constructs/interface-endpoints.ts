/**
 * Interface VPC endpoints as data: one keyed map, one loop (the shape of
 * terraform-aws-modules/vpc-endpoints). Later features add keys, not copies.
 */
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { Construct } from "constructs";

/** Endpoint key → service suffix (`com.amazonaws.<region>.<suffix>`) and who needs it. */
export const INTERFACE_ENDPOINTS = {
  ecr_api: { service: "ecr.api", why: "Batch pulls the worker image (manifest API)" },
  ecr_dkr: { service: "ecr.dkr", why: "Batch pulls the worker image (layers come from S3 via the gateway endpoint)" },
  ecs: { service: "ecs", why: "the ECS agent on Batch hosts registers and gets tasks" },
  ecs_agent: { service: "ecs-agent", why: "ECS agent communication" },
  ecs_telemetry: { service: "ecs-telemetry", why: "ECS agent telemetry" },
  logs: { service: "logs", why: "container logs and embedded-metric-format metrics" },
  ec2: { service: "ec2", why: "the worker attaches and detaches the restored volume" },
  sts: { service: "sts", why: "task role credentials (regional STS)" },
  ssm: { service: "ssm", why: "parameters read by the workers" },
} as const;

export type InterfaceEndpointKey = keyof typeof INTERFACE_ENDPOINTS;

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
        serviceName: `com.amazonaws.${props.region}.${INTERFACE_ENDPOINTS[key].service}`,
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
