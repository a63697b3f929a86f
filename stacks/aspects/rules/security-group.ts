import { Element, blocks, describe, isExpression, strings } from "../inventory";
import { Violation } from "../types";
import { Rule, violation } from "./rule";

/**
 * Rule 6: no security group accepts traffic from the whole internet. Covers the three ways the
 * provider expresses ingress: inline `ingress` blocks (also on the default security group),
 * `aws_security_group_rule` of type ingress, and `aws_vpc_security_group_ingress_rule`.
 */
export const sgOpenIngress: Rule = ({ inventory }) => [
  ...["aws_security_group", "aws_default_security_group"].flatMap((type) =>
    inventory.resources(type).flatMap(inlineIngress),
  ),
  ...inventory
    .resources("aws_security_group_rule")
    .filter((rule) => rule.config.type === "ingress")
    .flatMap((rule) =>
      openSources(rule, `ingress (${ports(rule.config.protocol, rule.config.from_port, rule.config.to_port)})`, [
        ...strings(rule.config.cidr_blocks),
        ...strings(rule.config.ipv6_cidr_blocks),
      ]),
    ),
  ...inventory
    .resources("aws_vpc_security_group_ingress_rule")
    .flatMap((rule) =>
      openSources(rule, `ingress (${ports(rule.config.ip_protocol, rule.config.from_port, rule.config.to_port)})`, [
        ...strings(rule.config.cidr_ipv4),
        ...strings(rule.config.cidr_ipv6),
      ]),
    ),
];

function inlineIngress(group: Element): Violation[] {
  const ingress = group.config.ingress;
  // A for-expression (TerraformIterator.dynamic on this attribute) only Terraform can expand.
  if (isExpression(ingress)) return [violation("sg-open-ingress", group, `ingress is ${describe(ingress)}`)];
  return blocks(ingress).flatMap((rule, i) =>
    openSources(group, `ingress[${i}] (${ports(rule.protocol, rule.from_port, rule.to_port)})`, [
      ...strings(rule.cidr_blocks),
      ...strings(rule.ipv6_cidr_blocks),
    ]),
  );
}

function openSources(element: Element, what: string, cidrs: string[]): Violation[] {
  return cidrs.flatMap((cidr) => {
    if (isExpression(cidr)) {
      // A reference to another resource's CIDR (a VPC, a subnet) is the VPC's own range. Anything
      // else (a variable, a function) could be 0.0.0.0/0 and cannot be checked before apply.
      return isAttributeReference(cidr)
        ? []
        : [violation("sg-open-ingress", element, `${what} allows ${cidr}, which cannot be checked at synth`)];
    }
    // Any /0 is the whole address family, however the address part is spelled (0.0.0.0/0, ::/0, 0::/0).
    return /\/0$/.test(cidr.trim()) ? [violation("sg-open-ingress", element, `${what} is open to ${cidr}`)] : [];
  });
}

function isAttributeReference(value: string): boolean {
  return /^\$\{(data\.)?aws_[a-z0-9_]+\.[A-Za-z0-9_-]+(\[[^\]]*\])?\.[a-z0-9_]+\}$/.test(value);
}

function ports(protocol: unknown, from: unknown, to: unknown): string {
  if (protocol === "-1" || protocol === -1 || protocol === "all") return "all traffic";
  if (from === undefined && to === undefined) return String(protocol);
  return from === to || to === undefined ? `${protocol} ${from}` : `${protocol} ${from}-${to}`;
}
