import { BatchJobDefinition } from "@cdktf/provider-aws/lib/batch-job-definition";
import { Eip } from "@cdktf/provider-aws/lib/eip";
import { EcsService } from "@cdktf/provider-aws/lib/ecs-service";
import { Instance } from "@cdktf/provider-aws/lib/instance";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { Lb } from "@cdktf/provider-aws/lib/lb";
import { NatGateway } from "@cdktf/provider-aws/lib/nat-gateway";
import { Subnet } from "@cdktf/provider-aws/lib/subnet";
import { TerraformIterator, TerraformStack, TerraformVariable } from "cdktf";
import { newStack, violationsOf } from "../helpers";

/** One of each thing that can carry a public IP, all asking for one. */
function publicEverything(): TerraformStack {
  const stack = newStack();
  const subnet = new Subnet(stack, "subnet", { vpcId: "vpc-1", cidrBlock: "10.0.0.0/24", mapPublicIpOnLaunch: true });
  new LaunchTemplate(stack, "lt", {
    metadataOptions: { httpTokens: "required" },
    networkInterfaces: [{ associatePublicIpAddress: "true", subnetId: subnet.id }],
  });
  new Instance(stack, "vm", {
    ami: "ami-12345678",
    instanceType: "t3.micro",
    associatePublicIpAddress: true,
    metadataOptions: { httpTokens: "required" },
  });
  new EcsService(stack, "svc", { name: "svc", networkConfiguration: { subnets: [subnet.id], assignPublicIp: true } });
  new BatchJobDefinition(stack, "job", {
    name: "job",
    type: "container",
    platformCapabilities: ["FARGATE"],
    containerProperties: JSON.stringify({ image: "x", networkConfiguration: { assignPublicIp: "ENABLED" } }),
  });
  new Lb(stack, "lb", { subnets: [subnet.id] });
  new Eip(stack, "eip", { domain: "vpc" });
  return stack;
}

describe("no public IPs", () => {
  it.each(["endpoints", "nat"] as const)("fails every kind of public IP in egress mode %s", (egress) => {
    const suffix = `; egress mode "${egress}" allows no public IPs`;
    expect(violationsOf(publicEverything(), egress)).toEqual(
      [
        [
          "test/eip",
          egress === "nat"
            ? "an Elastic IP not used by any aws_nat_gateway is a public IP"
            : "an Elastic IP is a public IP",
        ],
        ["test/job", 'container_properties networkConfiguration.assignPublicIp is "ENABLED"'],
        ["test/lb", "the load balancer is internet-facing (internal is not set)"],
        ["test/lt", "network_interfaces[0].associate_public_ip_address is true"],
        ["test/subnet", "map_public_ip_on_launch is true"],
        ["test/svc", "network_configuration.assign_public_ip is true"],
        ["test/vm", "associate_public_ip_address is true"],
      ].map(([path, message]) => ({ rule: "no-public-ip", path, message: `${message}${suffix}` })),
    );
  });

  it("allows public IPs in egress mode public", () => {
    expect(violationsOf(publicEverything(), "public")).toEqual([]);
  });

  it("passes private subnets, templates without public addresses, and an internal load balancer", () => {
    const stack = newStack();
    const subnet = new Subnet(stack, "subnet", {
      vpcId: "vpc-1",
      cidrBlock: "10.0.0.0/24",
      mapPublicIpOnLaunch: false,
    });
    new LaunchTemplate(stack, "lt", {
      metadataOptions: { httpTokens: "required" },
      networkInterfaces: [{ associatePublicIpAddress: "false" }],
    });
    new Lb(stack, "lb", { internal: true, subnets: [subnet.id] });
    new BatchJobDefinition(stack, "job", {
      name: "job",
      type: "container",
      platformCapabilities: ["FARGATE"],
      containerProperties: JSON.stringify({ image: "x", networkConfiguration: { assignPublicIp: "DISABLED" } }),
    });
    expect(violationsOf(stack, "endpoints")).toEqual([]);
  });

  it("allows the Elastic IP of a NAT gateway in egress mode nat only", () => {
    const stack = newStack();
    const eip = new Eip(stack, "nat-eip", { domain: "vpc" });
    new NatGateway(stack, "nat", { allocationId: eip.id, subnetId: "subnet-1" });
    expect(violationsOf(stack, "nat")).toEqual([]);
    expect(violationsOf(stack, "endpoints")).toEqual([
      {
        rule: "no-public-ip",
        path: "test/nat-eip",
        message: 'an Elastic IP is a public IP; egress mode "endpoints" allows no public IPs',
      },
    ]);
  });

  it("checks the content of a dynamic block as one more instance of the block", () => {
    const stack = newStack();
    const subnets = new TerraformVariable(stack, "subnets", { type: "list(string)" });
    const subnet = TerraformIterator.fromList(subnets.listValue);
    new LaunchTemplate(stack, "lt", {
      metadataOptions: { httpTokens: "required" },
      networkInterfaces: subnet.dynamic({ subnet_id: subnet.value, associate_public_ip_address: "true" }),
    });
    expect(violationsOf(stack, "nat")).toEqual([
      {
        rule: "no-public-ip",
        path: "test/lt",
        message: 'network_interfaces[0].associate_public_ip_address is true; egress mode "nat" allows no public IPs',
      },
    ]);
  });
});
