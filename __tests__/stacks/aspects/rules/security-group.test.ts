import { TerraformVariable } from "cdktf";
import { DefaultSecurityGroup } from "@cdktf/provider-aws/lib/default-security-group";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SecurityGroupRule } from "@cdktf/provider-aws/lib/security-group-rule";
import { Vpc } from "@cdktf/provider-aws/lib/vpc";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import { newStack, violationsOf } from "../helpers";

describe("security group ingress", () => {
  it("passes ingress from the VPC range, another group, and open egress", () => {
    const stack = newStack();
    const vpc = new Vpc(stack, "vpc", { cidrBlock: "10.0.0.0/16" });
    const worker = new SecurityGroup(stack, "worker", {
      vpcId: vpc.id,
      egress: [{ fromPort: 0, toPort: 0, protocol: "-1", cidrBlocks: ["0.0.0.0/0"], ipv6CidrBlocks: ["::/0"] }],
    });
    const endpoint = new SecurityGroup(stack, "endpoint", {
      vpcId: vpc.id,
      ingress: [{ fromPort: 443, toPort: 443, protocol: "tcp", cidrBlocks: [vpc.cidrBlock] }],
    });
    new VpcSecurityGroupIngressRule(stack, "from-worker", {
      securityGroupId: endpoint.id,
      referencedSecurityGroupId: worker.id,
      ipProtocol: "tcp",
      fromPort: 443,
      toPort: 443,
    });
    new SecurityGroupRule(stack, "egress-rule", { type: "egress", securityGroupId: worker.id, protocol: "-1", fromPort: 0, toPort: 0, cidrBlocks: ["0.0.0.0/0"] });
    expect(violationsOf(stack)).toEqual([]);
  });

  it("fails inline ingress from 0.0.0.0/0 and ::/0, naming each block", () => {
    const stack = newStack();
    new SecurityGroup(stack, "sg", {
      ingress: [
        { fromPort: 22, toPort: 22, protocol: "tcp", cidrBlocks: ["10.0.0.0/8", "0.0.0.0/0"] },
        { fromPort: 0, toPort: 0, protocol: "-1", ipv6CidrBlocks: ["::/0"] },
      ],
    });
    expect(violationsOf(stack)).toEqual([
      { rule: "sg-open-ingress", path: "test/sg", message: "ingress[0] (tcp 22) is open to 0.0.0.0/0" },
      { rule: "sg-open-ingress", path: "test/sg", message: "ingress[1] (all traffic) is open to ::/0" },
    ]);
  });

  it("fails the default security group opened to the internet", () => {
    const stack = newStack();
    new DefaultSecurityGroup(stack, "default", { ingress: [{ fromPort: 80, toPort: 81, protocol: "tcp", cidrBlocks: ["0.0.0.0/0"] }] });
    expect(violationsOf(stack)).toEqual([{ rule: "sg-open-ingress", path: "test/default", message: "ingress[0] (tcp 80-81) is open to 0.0.0.0/0" }]);
  });

  it("fails an aws_security_group_rule of type ingress from 0.0.0.0/0", () => {
    const stack = newStack();
    const sg = new SecurityGroup(stack, "sg", {});
    new SecurityGroupRule(stack, "ssh", { type: "ingress", securityGroupId: sg.id, protocol: "tcp", fromPort: 22, toPort: 22, cidrBlocks: ["0.0.0.0/0"] });
    expect(violationsOf(stack)).toEqual([{ rule: "sg-open-ingress", path: "test/ssh", message: "ingress (tcp 22) is open to 0.0.0.0/0" }]);
  });

  it.each([
    [{ cidrIpv4: "0.0.0.0/0" }, "0.0.0.0/0"],
    [{ cidrIpv6: "::/0" }, "::/0"],
  ])("fails an aws_vpc_security_group_ingress_rule open to %j", (source, cidr) => {
    const stack = newStack();
    const sg = new SecurityGroup(stack, "sg", {});
    new VpcSecurityGroupIngressRule(stack, "https", { securityGroupId: sg.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, ...source });
    expect(violationsOf(stack)).toEqual([{ rule: "sg-open-ingress", path: "test/https", message: `ingress (tcp 443) is open to ${cidr}` }]);
  });

  it("fails a CIDR taken from a variable, which could be anything", () => {
    const stack = newStack();
    const sg = new SecurityGroup(stack, "sg", {});
    const cidr = new TerraformVariable(stack, "cidr", { type: "string" });
    new VpcSecurityGroupIngressRule(stack, "https", { securityGroupId: sg.id, ipProtocol: "tcp", fromPort: 443, toPort: 443, cidrIpv4: cidr.stringValue });
    expect(violationsOf(stack)).toEqual([
      { rule: "sg-open-ingress", path: "test/https", message: "ingress (tcp 443) allows ${var.cidr}, which cannot be checked at synth" },
    ]);
  });
});
