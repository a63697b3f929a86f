/**
 * Interface VPC endpoints as data: one keyed map (core/interface-endpoints.ts), one loop (the shape of
 * terraform-aws-modules/vpc-endpoints). Later features add keys, not copies.
 */
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { Construct } from "constructs";
import { INTERFACE_ENDPOINTS, type InterfaceEndpointKey } from "../../core/interface-endpoints";
import { partitionOf } from "../../core/partition";

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
  /** Which endpoints to create (core/interface-endpoints.ts interfaceEndpointKeys). */
  readonly keys: readonly InterfaceEndpointKey[];
}

export class InterfaceEndpoints extends Construct {
  public readonly endpoints: Readonly<Record<string, VpcEndpoint>>;

  constructor(scope: Construct, id: string, props: InterfaceEndpointsProps) {
    super(scope, id);
    if (props.subnetIds.length === 0) throw new Error("InterfaceEndpoints: subnetIds must not be empty");

    const endpoints: Record<string, VpcEndpoint> = {};
    for (const key of props.keys) {
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
