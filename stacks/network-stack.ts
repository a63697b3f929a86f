/**
 * `network-<account>-<region>`: the network every pipeline in that account and region
 * shares. Its outputs are the contract the pipeline stack reads through remote state.
 *
 * Egress modes:
 * - `endpoints` (default): private subnets, no route to the internet; AWS APIs through
 *   gateway (S3, DynamoDB) and interface endpoints.
 * - `nat`: private subnets with a default route through one NAT gateway; no interface
 *   endpoints (the NAT reaches the APIs), gateway endpoints still keep S3 traffic off it.
 * - `public`: public subnets whose instances get public IPs; no inbound rule anywhere.
 */
import { DataAwsAvailabilityZones } from "@cdktf/provider-aws/lib/data-aws-availability-zones";
import { DataAwsSubnet } from "@cdktf/provider-aws/lib/data-aws-subnet";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { InternetGateway } from "@cdktf/provider-aws/lib/internet-gateway";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Route } from "@cdktf/provider-aws/lib/route";
import { RouteTable } from "@cdktf/provider-aws/lib/route-table";
import { RouteTableAssociation } from "@cdktf/provider-aws/lib/route-table-association";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcEndpoint } from "@cdktf/provider-aws/lib/vpc-endpoint";
import { VpcSecurityGroupEgressRule } from "@cdktf/provider-aws/lib/vpc-security-group-egress-rule";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { Fn, TerraformOutput, type TerraformResource, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { zoneNamesOf } from "../config/deployment";
import type { EgressMode, NetworkConfig } from "../config/schema";
import { FlowLogs } from "./constructs/flow-logs";
import type { InterfaceEndpointKey } from "../core/interface-endpoints";
import { InterfaceEndpoints } from "./constructs/interface-endpoints";
import { movedFrom } from "./moved";
import { awsProvider } from "./provider";

export interface NetworkStackProps {
  readonly name: string;
  readonly accountId: string;
  readonly region: string;
  readonly assumeRoleArn?: string;
  readonly network: NetworkConfig;
  /** The interface endpoints its pipelines' workers call (`endpoints` egress mode only). */
  readonly interfaceEndpoints: readonly InterfaceEndpointKey[];
  readonly tags: Record<string, string>;
  /** Retention of the VPC flow logs. @default 365 */
  readonly flowLogRetentionDays?: number;
}

/** Output names: `<resource>_<attr>`. The pipeline stack reads exactly these. */
export const NETWORK_OUTPUTS = {
  vpcId: "vpc_id",
  subnetIds: "subnet_ids",
  subnetAzs: "subnet_availability_zones",
  workerSecurityGroupId: "worker_security_group_id",
  endpointSecurityGroupId: "endpoint_security_group_id",
  s3EndpointId: "s3_endpoint_id",
  s3EndpointPrefixListId: "s3_endpoint_prefix_list_id",
  dynamodbEndpointId: "dynamodb_endpoint_id",
  egressMode: "egress_mode",
} as const;

export class NetworkStack extends TerraformStack {
  public readonly egress: EgressMode;
  public readonly workerSecurityGroup: SecurityGroup;

  constructor(scope: Construct, id: string, props: NetworkStackProps) {
    super(scope, id);
    const net = props.network;
    this.egress = net.egress;
    awsProvider(this, {
      region: props.region,
      accountId: props.accountId,
      assumeRoleArn: props.assumeRoleArn,
      tags: props.tags,
    });

    const { vpcId, subnetIds, subnetAzs, routeTableIds } =
      "vpcId" in net ? this.existingVpc(net) : this.newVpc(props, net);

    // Gateway endpoints are free and keep S3/DynamoDB traffic off NAT and the internet.
    // Named com.amazonaws.<region>.* in China too (only some interface endpoints differ there).
    const gateway = (key: string, service: string) =>
      new VpcEndpoint(this, `${key}-endpoint`, {
        vpcId,
        serviceName: `com.amazonaws.${props.region}.${service}`,
        vpcEndpointType: "Gateway",
        routeTableIds,
        tags: { Name: `${props.name}-${key}` },
      });
    const s3Endpoint = gateway("s3", "s3");
    const dynamodbEndpoint = gateway("dynamodb", "dynamodb");

    // Security groups: nothing from outside ever gets in.
    // Only the Batch workers use this group (no Lambda runs in the VPC). Its description still says
    // "and Lambdas": AWS cannot change a security group's description, so correcting it would replace
    // the group of every deployed network, with the compute environments that use it.
    this.workerSecurityGroup = new SecurityGroup(this, "worker-sg", {
      name: `${props.name}-worker`,
      description: "Batch workers and Lambdas of backup-actions: no inbound, HTTPS out",
      vpcId,
      tags: { Name: `${props.name}-worker` },
    });
    const endpointSg = new SecurityGroup(this, "endpoint-sg", {
      name: `${props.name}-endpoints`,
      description: "Interface endpoints of backup-actions: HTTPS from the workers only",
      vpcId,
      tags: { Name: `${props.name}-endpoints` },
    });
    new VpcSecurityGroupIngressRule(this, "endpoint-https-from-workers", {
      securityGroupId: endpointSg.id,
      description: "HTTPS from the workers",
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
      referencedSecurityGroupId: this.workerSecurityGroup.id,
    });

    if (net.egress === "endpoints") {
      // Only AWS APIs are reachable: the interface endpoints and the gateway prefix lists.
      new VpcSecurityGroupEgressRule(this, "worker-https-to-endpoints", {
        securityGroupId: this.workerSecurityGroup.id,
        description: "HTTPS to the interface endpoints",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        referencedSecurityGroupId: endpointSg.id,
      });
      for (const [key, endpoint] of [
        ["s3", s3Endpoint],
        ["dynamodb", dynamodbEndpoint],
      ] as const) {
        new VpcSecurityGroupEgressRule(this, `worker-https-to-${key}`, {
          securityGroupId: this.workerSecurityGroup.id,
          description: `HTTPS to ${key} through its gateway endpoint`,
          ipProtocol: "tcp",
          fromPort: 443,
          toPort: 443,
          prefixListId: endpoint.prefixListId,
        });
      }
      new InterfaceEndpoints(this, "interface-endpoints", {
        vpcId,
        region: props.region,
        subnetIds: Array.from({ length: net.endpointAzCount }, (_, i) => Fn.element(subnetIds, i)),
        securityGroupId: endpointSg.id,
        keys: props.interfaceEndpoints,
      });
    } else {
      // NAT or public: the APIs are reached over the internet, still HTTPS only.
      new VpcSecurityGroupEgressRule(this, "worker-https-out", {
        securityGroupId: this.workerSecurityGroup.id,
        description: "HTTPS to AWS APIs",
        ipProtocol: "tcp",
        fromPort: 443,
        toPort: 443,
        cidrIpv4: "0.0.0.0/0",
      });
    }

    const out = (name: string, value: unknown, description: string) =>
      new TerraformOutput(this, name, { value, description });
    out(NETWORK_OUTPUTS.vpcId, vpcId, "VPC the pipelines run in.");
    out(NETWORK_OUTPUTS.subnetIds, subnetIds, "Subnets for Batch compute environments, one per availability zone.");
    out(NETWORK_OUTPUTS.subnetAzs, subnetAzs, "Availability zone of each subnet, in the order of subnet_ids.");
    out(
      NETWORK_OUTPUTS.workerSecurityGroupId,
      this.workerSecurityGroup.id,
      "Security group of the Batch workers: no inbound rule.",
    );
    out(NETWORK_OUTPUTS.endpointSecurityGroupId, endpointSg.id, "Security group of the interface endpoints.");
    out(
      NETWORK_OUTPUTS.s3EndpointId,
      s3Endpoint.id,
      "S3 gateway endpoint; the pipeline narrows its policy to its buckets.",
    );
    out(NETWORK_OUTPUTS.s3EndpointPrefixListId, s3Endpoint.prefixListId, "Prefix list of the S3 gateway endpoint.");
    out(NETWORK_OUTPUTS.dynamodbEndpointId, dynamodbEndpoint.id, "DynamoDB gateway endpoint.");
    out(NETWORK_OUTPUTS.egressMode, net.egress, "How the workers reach AWS APIs: endpoints, nat or public.");
  }

  private existingVpc(net: Extract<NetworkConfig, { vpcId: string }>) {
    // Not ours to change: no flow logs, no default-SG takeover, no routes on an existing VPC.
    const subnets = net.subnetIds.map((id, i) => new DataAwsSubnet(this, `existing-subnet-${i}`, { id }));
    return {
      vpcId: net.vpcId,
      subnetIds: net.subnetIds,
      subnetAzs: subnets.map((s) => s.availabilityZone),
      routeTableIds: net.routeTableIds,
    };
  }

  private newVpc(props: NetworkStackProps, net: Extract<NetworkConfig, { vpcCidr: string }>) {
    const name = props.name;
    const vpc = new Vpc(this, "vpc", {
      cidrBlock: net.vpcCidr,
      enableDnsSupport: true, // interface endpoints' private DNS needs both
      enableDnsHostnames: true,
      tags: { Name: name },
    });
    // Take over the default security group and leave it without rules.
    new DefaultSecurityGroup(this, "default-sg-closed", { vpcId: vpc.id, tags: { Name: `${name}-default-closed` } });
    new FlowLogs(this, "flow-logs", {
      vpcId: vpc.id,
      name,
      accountId: props.accountId,
      region: props.region,
      retentionDays: props.flowLogRetentionDays,
    });

    const azs = new DataAwsAvailabilityZones(this, "azs", {
      state: "available",
      filter: [{ name: "opt-in-status", values: ["opt-in-not-required"] }],
    });
    const isPublic = net.egress === "public";
    // Named zones (network.availabilityZones) address each subnet by its zone, moved from its position.
    const zones = zoneNamesOf(net, props.region);
    const key = (i: number) => zones?.[i] ?? String(i);
    const addressedByZone = <T extends TerraformResource>(resource: T, i: number, former: string): T => {
      if (zones) movedFrom(resource, this, `${former}-${i}`);
      return resource;
    };
    // /16 → sixteen /20s: the first azCount are the workers' subnets, the last one
    // holds the NAT gateway in `nat` mode.
    const subnets = Array.from({ length: net.azCount }, (_, i) =>
      addressedByZone(
        new Subnet(this, `subnet-${key(i)}`, {
          vpcId: vpc.id,
          cidrBlock: Fn.cidrsubnet(vpc.cidrBlock, 4, i),
          availabilityZone: zones?.[i] ?? Fn.element(azs.names, i),
          mapPublicIpOnLaunch: isPublic,
          tags: { Name: `${name}-${isPublic ? "public" : "private"}-${i}` },
        }),
        i,
        "subnet",
      ),
    );
    const routeTable = new RouteTable(this, "workers-rt", { vpcId: vpc.id, tags: { Name: `${name}-workers` } });
    subnets.forEach((subnet, i) =>
      addressedByZone(
        new RouteTableAssociation(this, `workers-rt-${key(i)}`, { subnetId: subnet.id, routeTableId: routeTable.id }),
        i,
        "workers-rt",
      ),
    );

    if (net.egress !== "endpoints") {
      const igw = new InternetGateway(this, "igw", { vpcId: vpc.id, tags: { Name: name } });
      if (isPublic) {
        new Route(this, "workers-default-route", {
          routeTableId: routeTable.id,
          destinationCidrBlock: "0.0.0.0/0",
          gatewayId: igw.id,
        });
      } else {
        const natSubnet = new Subnet(this, "nat-subnet", {
          vpcId: vpc.id,
          cidrBlock: Fn.cidrsubnet(vpc.cidrBlock, 4, 15),
          availabilityZone: Fn.element(azs.names, 0),
          mapPublicIpOnLaunch: false,
          tags: { Name: `${name}-nat` },
        });
        const natRt = new RouteTable(this, "nat-rt", { vpcId: vpc.id, tags: { Name: `${name}-nat` } });
        new Route(this, "nat-default-route", {
          routeTableId: natRt.id,
          destinationCidrBlock: "0.0.0.0/0",
          gatewayId: igw.id,
        });
        new RouteTableAssociation(this, "nat-rt-assoc", { subnetId: natSubnet.id, routeTableId: natRt.id });
        const eip = new Eip(this, "nat-eip", { domain: "vpc", tags: { Name: `${name}-nat` } });
        const nat = new NatGateway(this, "nat", {
          allocationId: eip.id,
          subnetId: natSubnet.id,
          tags: { Name: name },
          dependsOn: [igw],
        });
        new Route(this, "workers-default-route", {
          routeTableId: routeTable.id,
          destinationCidrBlock: "0.0.0.0/0",
          natGatewayId: nat.id,
        });
      }
    }

    return {
      vpcId: vpc.id,
      subnetIds: subnets.map((s) => s.id),
      subnetAzs: subnets.map((s) => s.availabilityZone),
      routeTableIds: [routeTable.id],
    };
  }
}
