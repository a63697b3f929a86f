/**
 * Batch on Spot for the EBS worker, one lane per availability zone: a managed Spot
 * compute environment, optionally an on-demand one behind it, and a job queue. The
 * EBS state machine creates the restored volume in the AZ of the queue it submits to
 * (a volume attaches only to an instance in its own AZ), so each queue is pinned to
 * exactly one subnet and its AZ is an output next to its ARN.
 *
 * The subnets arrive from the network stack's remote state as a token list, unknown
 * at synth; the lanes are `azCount` plain resources indexed with `element(list, i)`
 * (clearer in a plan than a `count` iterator, and each lane has its own address).
 */
import { BatchComputeEnvironment } from "@cdktf/provider-aws/lib/batch-compute-environment";
import { BatchJobQueue } from "@cdktf/provider-aws/lib/batch-job-queue";
import { IamInstanceProfile } from "@cdktf/provider-aws/lib/iam-instance-profile";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { LaunchTemplate } from "@cdktf/provider-aws/lib/launch-template";
import { Fn, type TerraformResource, Token } from "cdktf";
import { Construct } from "constructs";
import { movedFrom } from "../moved";
import type { PipelineContext } from "./context";
import { PolicyDocument } from "./policy-document";

export interface BatchSpotProps {
  /** Name, account, region, partition and key of the pipeline. */
  readonly context: PipelineContext;
  /** How many AZ lanes: the network's `azCount`, or the number of its existing `subnetIds`. */
  readonly azCount: number;
  /** Subnets, one per AZ (from remote state; read with `element(list, i)`). */
  readonly subnetIds: string[];
  /** AZ of each subnet, in the order of `subnetIds`. */
  readonly subnetAzs: string[];
  /**
   * Name of each lane's zone when the config names them (network.availabilityZones): the lanes are then addressed
   * by it (`spot-us-east-1a`), moved from their position (`spot-0`). @default addressed by position
   */
  readonly zoneNames?: readonly string[];
  /** Security group of the workers (no inbound). */
  readonly securityGroupId: string;
  /** Give instances a public IP: only in the network's `public` egress mode. @default false */
  readonly publicIp?: boolean;
  /** Instance families (or types) Batch may launch. */
  readonly instanceFamilies: readonly string[];
  /** Upper bound of vCPUs of each compute environment. */
  readonly maxVcpus: number;
  /** Add an on-demand compute environment after Spot in each queue. @default false */
  readonly onDemandFallback?: boolean;
  /**
   * Root volume of the instances, GiB: the image and container layers, no data (the worker keeps
   * its upload parts in the job's memory, so nothing here grows with the exported volume). @default 30
   */
  readonly rootVolumeGiB?: number;
  /** Log groups the ECS agent may write to on the jobs' behalf. @default none */
  readonly logGroupArns?: readonly string[];
}

/** Instance metadata: IMDSv2 only; hop limit 2 so the container (one hop behind the host) reaches it. */
export const WORKER_METADATA_OPTIONS = {
  httpEndpoint: "enabled",
  httpTokens: "required",
  httpPutResponseHopLimit: 2,
  instanceMetadataTags: "disabled",
} as const;

export class BatchSpot extends Construct {
  /** ARN of each AZ's job queue, in subnet order. */
  public readonly jobQueueArns: string[];
  /** AZ of each job queue (same index as `jobQueueArns`). */
  public readonly jobQueueAzs: string[];
  public readonly jobQueues: BatchJobQueue[];
  public readonly spotEnvironments: BatchComputeEnvironment[];
  public readonly onDemandEnvironments: BatchComputeEnvironment[];
  public readonly launchTemplate: LaunchTemplate;
  public readonly instanceRole: IamRole;

  constructor(scope: Construct, id: string, props: BatchSpotProps) {
    super(scope, id);
    const publicIp = props.publicIp ?? false;
    const onDemandFallback = props.onDemandFallback ?? false;
    const rootVolumeGiB = props.rootVolumeGiB ?? 30;
    const logGroupArns = props.logGroupArns ?? [];
    if (!Number.isInteger(props.azCount) || props.azCount < 1)
      throw new Error(`BatchSpot ${this.node.path}: azCount must be at least 1 (got ${props.azCount})`);
    if (props.instanceFamilies.length === 0)
      throw new Error(`BatchSpot ${this.node.path}: instanceFamilies must not be empty`);
    if (!Number.isInteger(props.maxVcpus) || props.maxVcpus < 1)
      throw new Error(`BatchSpot ${this.node.path}: maxVcpus must be a positive whole number (got ${props.maxVcpus})`);

    this.instanceRole = this.instanceRoleFor(props, logGroupArns);
    const profile = new IamInstanceProfile(this, "instance-profile", {
      name: `${props.context.name}-batch-instance-${props.context.region}`,
      role: this.instanceRole.name,
    });

    this.launchTemplate = new LaunchTemplate(this, "launch-template", {
      name: `${props.context.name}-batch-worker`,
      description: "Batch hosts of the backup-actions EBS worker: IMDSv2 only, encrypted root volume",
      metadataOptions: { ...WORKER_METADATA_OPTIONS },
      blockDeviceMappings: [
        {
          deviceName: "/dev/xvda", // root device of the ECS-optimized Amazon Linux AMIs Batch picks
          ebs: { volumeType: "gp3", volumeSize: rootVolumeGiB, encrypted: "true", deleteOnTermination: "true" },
        },
      ],
      // The security group sits on the interface, not on the compute environment: AWS Batch
      // rejects a compute environment with security groups when its launch template has network
      // interfaces ("Either compute environment Security Groups or Network Interfaces in Launch
      // template are exclusively allowed"), and the interface is where the public IP is decided.
      networkInterfaces: [
        {
          deviceIndex: 0,
          associatePublicIpAddress: publicIp ? "true" : "false",
          securityGroups: [props.securityGroupId],
          deleteOnTermination: "true",
        },
      ],
    });

    const computeResources = (i: number, type: "SPOT" | "EC2", allocationStrategy: string) => ({
      type,
      allocationStrategy,
      instanceType: [...props.instanceFamilies],
      minVcpus: 0, // nothing runs (and nothing is billed) between exports
      maxVcpus: props.maxVcpus,
      subnets: [Fn.element(props.subnetIds, i)],
      instanceRole: profile.arn,
      launchTemplate: {
        launchTemplateId: this.launchTemplate.id,
        version: Token.asString(this.launchTemplate.latestVersion),
      },
      ec2Configuration: [{ imageType: "ECS_AL2023" }],
      tags: { Name: `${props.context.name}-batch-worker` },
    });
    // Names change when settings that force replacement change: name prefixes and
    // create-before-destroy let the new environment join the queue before the old one goes.
    const environment = (envId: string, namePrefix: string, resources: ReturnType<typeof computeResources>) =>
      new BatchComputeEnvironment(this, envId, {
        computeEnvironmentNamePrefix: namePrefix,
        type: "MANAGED",
        state: "ENABLED",
        // No service_role: Batch uses its service-linked role (AWSServiceRoleForBatch).
        // No spot_iam_fleet_role: only the BEST_FIT strategy on Spot needs one.
        computeResources: resources,
        lifecycle: { createBeforeDestroy: true },
      });

    this.spotEnvironments = [];
    this.onDemandEnvironments = [];
    this.jobQueues = [];
    const zones = props.zoneNames;
    if (zones && zones.length !== props.azCount)
      throw new Error(`BatchSpot ${this.node.path}: ${zones.length} zone names for ${props.azCount} lanes`);
    // Physical names keep the position: renaming a compute environment or queue replaces it.
    const lane = <T extends TerraformResource>(prefix: string, i: number, build: (id: string) => T): T => {
      const resource = build(`${prefix}-${zones?.[i] ?? i}`);
      if (zones) movedFrom(resource, this, `${prefix}-${i}`);
      return resource;
    };
    for (let i = 0; i < props.azCount; i++) {
      // SPOT_PRICE_CAPACITY_OPTIMIZED: pools least likely to be reclaimed, then cheapest.
      const spot = lane("spot", i, (id) =>
        environment(
          id,
          `${props.context.name}-spot-${i}-`,
          computeResources(i, "SPOT", "SPOT_PRICE_CAPACITY_OPTIMIZED"),
        ),
      );
      this.spotEnvironments.push(spot);
      const order = [{ order: 1, computeEnvironment: spot.arn }];
      if (onDemandFallback) {
        const onDemand = lane("on-demand", i, (id) =>
          environment(id, `${props.context.name}-ondemand-${i}-`, computeResources(i, "EC2", "BEST_FIT_PROGRESSIVE")),
        );
        this.onDemandEnvironments.push(onDemand);
        order.push({ order: 2, computeEnvironment: onDemand.arn });
      }
      this.jobQueues.push(
        lane(
          "queue",
          i,
          (id) =>
            new BatchJobQueue(this, id, {
              name: `${props.context.name}-worker-${i}`,
              state: "ENABLED",
              priority: 1,
              computeEnvironmentOrder: order,
            }),
        ),
      );
    }
    this.jobQueueArns = this.jobQueues.map((q) => q.arn);
    this.jobQueueAzs = this.jobQueues.map((_, i) => Fn.element(props.subnetAzs, i));
  }

  /**
   * The ECS agent's part of AmazonEC2ContainerServiceforEC2Role, scoped to the ECS clusters
   * Batch makes for these compute environments (`<environment name>_Batch_<uuid>`). Image
   * pulls and job logs use the job's execution role; nothing else runs on these hosts.
   */
  private instanceRoleFor(props: BatchSpotProps, logGroupArns: readonly string[]): IamRole {
    const ecs = `arn:${props.context.partition}:ecs:${props.context.region}:${props.context.accountId}`;
    const clusters = `${props.context.name}-*_Batch_*`;
    const assume = new PolicyDocument(this, "instance-assume", {
      statement: [
        { actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: ["ec2.amazonaws.com"] }] },
      ],
    });
    const role = new IamRole(this, "instance-role", {
      name: `${props.context.name}-batch-instance-${props.context.region}`,
      description: "ECS agent on the Batch hosts of the backup-actions EBS worker",
      assumeRolePolicy: assume.json,
    });
    const policy = new PolicyDocument(this, "instance-policy", {
      statement: [
        { sid: "DiscoverPollEndpoint", actions: ["ecs:DiscoverPollEndpoint"], resources: ["*"] }, // no resource-level permissions
        {
          sid: "JoinBatchClusters",
          actions: [
            "ecs:DeregisterContainerInstance",
            "ecs:Poll",
            "ecs:RegisterContainerInstance",
            "ecs:StartTelemetrySession",
            "ecs:SubmitAttachmentStateChanges",
            "ecs:SubmitContainerStateChange",
            "ecs:SubmitTaskStateChange",
            "ecs:UpdateContainerInstancesState",
          ],
          resources: [`${ecs}:cluster/${clusters}`, `${ecs}:container-instance/${clusters}/*`],
        },
        ...(logGroupArns.length > 0
          ? [
              {
                // Only used when the agent writes awslogs without the execution role override.
                sid: "WriteJobLogs",
                actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
                resources: logGroupArns.map((arn) => `${arn}:log-stream:*`),
              },
            ]
          : []),
      ],
    });
    new IamRolePolicy(this, "instance-role-policy", { role: role.id, name: "ecs-agent", policy: policy.json });
    return role;
  }
}
