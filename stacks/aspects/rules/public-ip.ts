import {
  Element,
  Inventory,
  block,
  blocks,
  describe,
  isRecord,
  literalBool,
  referencedLogicalId,
  strings,
} from "../inventory";
import { EgressMode, Violation } from "../types";
import { Rule, violation } from "./rule";

/**
 * Rule 7: in the `endpoints` and `nat` egress modes nothing gets a public IP address. In `public`
 * mode public IPs are the point (and rule `sg-open-ingress` keeps inbound closed), so the rule is
 * off. Elastic IPs are allowed in `nat` mode only when a NAT gateway uses them.
 */
export const noPublicIp: Rule = ({ inventory, options }) => {
  const mode = options.egress;
  if (mode === "public") return [];
  const found = (element: Element, what: string) =>
    violation("no-public-ip", element, `${what}; egress mode "${mode}" allows no public IPs`);
  return [
    ...inventory
      .resources("aws_subnet")
      .flatMap((subnet) => notTrue(subnet, "map_public_ip_on_launch", subnet.config.map_public_ip_on_launch, found)),
    ...inventory
      .resources("aws_instance")
      .flatMap((instance) =>
        notTrue(instance, "associate_public_ip_address", instance.config.associate_public_ip_address, found),
      ),
    ...inventory
      .resources("aws_launch_template")
      .flatMap((template) =>
        blocks(template.config.network_interfaces).flatMap((ni, i) =>
          notTrue(
            template,
            `network_interfaces[${i}].associate_public_ip_address`,
            ni.associate_public_ip_address,
            found,
          ),
        ),
      ),
    ...inventory
      .resources("aws_ecs_service")
      .flatMap((service) =>
        notTrue(
          service,
          "network_configuration.assign_public_ip",
          block(service.config.network_configuration).assign_public_ip,
          found,
        ),
      ),
    ...inventory.resources("aws_batch_job_definition").flatMap((definition) => fargatePublicIp(definition, found)),
    ...inventory
      .resources("aws_lb")
      .flatMap((lb) =>
        literalBool(lb.config.internal) === true
          ? []
          : [found(lb, `the load balancer is internet-facing (internal is ${describe(lb.config.internal)})`)],
      ),
    ...elasticIps(inventory, mode, found),
  ];
};

type Found = (element: Element, what: string) => Violation;

function notTrue(element: Element, attribute: string, value: unknown, found: Found): Violation[] {
  const literal = literalBool(value);
  if (literal === false || value === undefined || value === null) return [];
  return [found(element, literal === true ? `${attribute} is true` : `${attribute} is ${describe(value)}`)];
}

function elasticIps(inventory: Inventory, mode: EgressMode, found: Found): Violation[] {
  const usedByNat = new Set(
    inventory
      .resources("aws_nat_gateway")
      .flatMap((nat) => [nat.config.allocation_id, ...strings(nat.config.secondary_allocation_ids)])
      .map((ref) => referencedLogicalId(ref, "aws_eip", ["id", "allocation_id"]))
      .filter((id): id is string => id !== undefined),
  );
  return inventory.resources("aws_eip").flatMap((eip) => {
    if (mode === "nat" && usedByNat.has(eip.logicalId)) return [];
    return [
      found(
        eip,
        mode === "nat"
          ? "an Elastic IP not used by any aws_nat_gateway is a public IP"
          : "an Elastic IP is a public IP",
      ),
    ];
  });
}

/** Fargate jobs get a public IP from `networkConfiguration.assignPublicIp` in the container JSON. */
function fargatePublicIp(definition: Element, found: Found): Violation[] {
  if (!strings(definition.config.platform_capabilities).includes("FARGATE")) return [];
  const properties = definition.config.container_properties;
  if (typeof properties !== "string") return [];
  let parsed: unknown;
  try {
    parsed = JSON.parse(properties);
  } catch {
    return [
      found(
        definition,
        "container_properties is not JSON at synth, so networkConfiguration.assignPublicIp cannot be checked",
      ),
    ];
  }
  const assign =
    isRecord(parsed) && isRecord(parsed.networkConfiguration) ? parsed.networkConfiguration.assignPublicIp : undefined;
  return assign === "ENABLED"
    ? [found(definition, 'container_properties networkConfiguration.assignPublicIp is "ENABLED"')]
    : [];
}
