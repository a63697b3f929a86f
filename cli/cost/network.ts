/**
 * The interface endpoints the network stack creates in `endpoints` egress mode, by key.
 * cli/ may not import stacks/, so the list is repeated here; __tests__/cli/cost.test.ts
 * fails when it differs from the keys of INTERFACE_ENDPOINTS in
 * stacks/constructs/interface-endpoints.ts.
 */
export const NETWORK_INTERFACE_ENDPOINTS = [
  "ecr_api",
  "ecr_dkr",
  "ecs",
  "ecs_agent",
  "ecs_telemetry",
  "logs",
  "ec2",
  "sts",
  "ssm",
] as const;
