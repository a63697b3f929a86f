/**
 * The interface VPC endpoints a network stack creates in `endpoints` egress mode, by key, and who needs
 * each: the network stack creates them (stacks/constructs/interface-endpoints.ts) and `backup-actions cost`
 * prices them, from this one table. Every one costs per hour per AZ, so a network gets only those its
 * pipelines' workers call: the Lambdas and state machines run outside the VPC, and S3 and DynamoDB go
 * through the free gateway endpoints.
 *
 * No `sts` endpoint: a Batch job's role credentials come from the ECS agent (over `ecs-agent`), not from
 * STS, and nothing in the VPC assumes a role (AWS Batch's VPC endpoint considerations list ECS, ECR and
 * CloudWatch Logs for EC2 jobs, and Secrets Manager or SSM only where jobs read them).
 */
import type { ReadPath } from "./worker-job";
import { databaseExportFormatOf, hasDump, type WorkflowSwitch } from "./workflows";

/**
 * Endpoint key → service suffix (`com.amazonaws.<region>.<suffix>`), who calls it, and when a network
 * needs it. `cn`: in the China regions (aws-cn) the service's endpoint service name starts with
 * `cn.com.amazonaws` instead, as `aws ec2 describe-vpc-endpoint-services` lists it there (the same
 * table as InterfaceVpcEndpointAwsService in aws-cdk-lib/aws-ec2/lib/vpc-endpoint.ts).
 */
export const INTERFACE_ENDPOINTS = {
  ecr_api: { service: "ecr.api", why: "Batch pulls the worker image (manifest API)", cn: true, when: "always" },
  ecr_dkr: {
    service: "ecr.dkr",
    why: "Batch pulls the worker image (layers come from S3 via the gateway endpoint)",
    cn: true,
    when: "always",
  },
  ecs: { service: "ecs", why: "the ECS agent on Batch hosts registers and gets tasks", when: "always" },
  ecs_agent: { service: "ecs-agent", why: "ECS agent communication (and the job role's credentials)", when: "always" },
  ecs_telemetry: { service: "ecs-telemetry", why: "ECS agent telemetry", when: "always" },
  logs: { service: "logs", why: "container logs and embedded-metric-format metrics", when: "always" },
  ec2: { service: "ec2", why: "the worker attaches and detaches the restored volume", cn: true, when: "always" },
  ssm: {
    service: "ssm",
    why: "the native-dump job reads the temporary database's password parameter",
    when: "nativeDumps",
  },
  ebs: {
    service: "ebs",
    why: "the worker reads snapshot blocks through the EBS direct APIs",
    when: "directRead",
  },
} as const;

export type InterfaceEndpointKey = keyof typeof INTERFACE_ENDPOINTS;

/** What the pipelines of a network run, as far as their workers' API calls go. */
export interface InterfaceEndpointNeeds {
  /** worker.readPath: "direct" reads snapshots through the EBS direct APIs. */
  readonly readPath: ReadPath;
  /** Whether an RDS or Aurora native dump (format "dump" or "both") is deployed. */
  readonly nativeDumps: boolean;
}

/** The endpoints a network with these needs creates, in the table's order. */
export function interfaceEndpointKeys(needs: InterfaceEndpointNeeds): InterfaceEndpointKey[] {
  const wanted = { always: true, nativeDumps: needs.nativeDumps, directRead: needs.readPath === "direct" };
  return (Object.keys(INTERFACE_ENDPOINTS) as InterfaceEndpointKey[]).filter(
    (key) => wanted[INTERFACE_ENDPOINTS[key].when],
  );
}

/** The needs of a config (its `worker.readPath` and `exports`): the network stack and `backup-actions cost` both ask this. */
export function interfaceEndpointKeysOf(config: {
  readonly worker: { readonly readPath: ReadPath };
  readonly exports: { readonly rds: WorkflowSwitch; readonly aurora: WorkflowSwitch };
}): InterfaceEndpointKey[] {
  const formats = [config.exports.rds, config.exports.aurora].map(databaseExportFormatOf);
  return interfaceEndpointKeys({
    readPath: config.worker.readPath,
    nativeDumps: formats.some((f) => f !== undefined && hasDump(f)),
  });
}
