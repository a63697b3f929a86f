import { Testing, TerraformStack } from "cdktf";
import { BatchSpot, BatchSpotProps } from "../../../stacks/constructs/batch-spot";
import { statementsOf } from "../../helpers/policy";
import { compose, synth, testConfig } from "../../helpers/synth";

const SUBNETS = "${data.terraform_remote_state.network.outputs.subnet_ids}";
const pipelineOf = (overrides: Record<string, unknown> = {}) => synth(compose(testConfig(overrides)).pipelines[0]!);
const sorted = (resources: Record<string, any>) =>
  Object.keys(resources)
    .sort()
    .map((k) => resources[k]);

describe("BatchSpot in the pipeline stack (default config: 2 AZs, endpoints egress)", () => {
  const out = pipelineOf();
  const environments = sorted(out.resources("aws_batch_compute_environment"));
  const queues = sorted(out.resources("aws_batch_job_queue"));

  it("makes one managed Spot compute environment per AZ, each in that AZ's subnet only", () => {
    expect(environments).toHaveLength(2);
    environments.forEach((env, i) => {
      expect(env.type).toBe("MANAGED");
      expect(env.state).toBe("ENABLED");
      expect(env.compute_environment_name_prefix).toBe(`backup-actions-spot-${i}-`);
      expect(env.lifecycle).toEqual({ create_before_destroy: true });
      expect(env.compute_resources.subnets).toEqual([
        `\${element(data.terraform_remote_state.network.outputs.subnet_ids, ${i})}`,
      ]);
    });
  });

  it("uses SPOT_PRICE_CAPACITY_OPTIMIZED over the configured families, from 0 vCPUs up to maxVcpus", () => {
    for (const env of environments) {
      const r = env.compute_resources;
      expect(r.type).toBe("SPOT");
      expect(r.allocation_strategy).toBe("SPOT_PRICE_CAPACITY_OPTIMIZED");
      expect(r.instance_type).toEqual(["c6i", "c6a", "c7i", "c7a", "m6i", "m6a", "m7i", "m7a", "r6i", "r7i"]);
      expect(r.min_vcpus).toBe(0);
      expect(r.max_vcpus).toBe(64);
      expect(r.ec2_configuration).toEqual([{ image_type: "ECS_AL2023" }]);
      // Only BEST_FIT needs a Spot fleet role; the service-linked role replaces a service role.
      expect(r.spot_iam_fleet_role).toBeUndefined();
      expect(env.service_role).toBeUndefined();
      // Security groups are on the launch template's interface (Batch refuses both).
      expect(r.security_group_ids).toBeUndefined();
      expect(r.instance_role).toMatch(/^\$\{aws_iam_instance_profile\.batch_instance-profile_\w+\.arn\}$/);
      expect(r.launch_template).toEqual({
        launch_template_id: expect.stringMatching(/^\$\{aws_launch_template\.batch_launch-template_\w+\.id\}$/),
        version: expect.stringMatching(/^\$\{aws_launch_template\.batch_launch-template_\w+\.latest_version\}$/),
      });
    }
  });

  it("has one job queue per AZ with only its Spot environment", () => {
    expect(queues).toHaveLength(2);
    queues.forEach((queue, i) => {
      expect(queue.name).toBe(`backup-actions-worker-${i}`);
      expect(queue.state).toBe("ENABLED");
      expect(queue.priority).toBe(1);
      expect(queue.compute_environment_order).toEqual([
        {
          order: 1,
          compute_environment: expect.stringMatching(
            new RegExp(`^\\$\\{aws_batch_compute_environment\\.batch_spot-${i}_\\w+\\.arn\\}$`),
          ),
        },
      ]);
    });
    expect(Object.keys(out.resources("aws_batch_compute_environment")).filter((k) => k.includes("on-demand"))).toEqual(
      [],
    );
  });

  it("outputs the queue ARNs and, index for index, their AZs", () => {
    expect(out.tf.output.worker_job_queue_arns.value).toEqual([
      expect.stringMatching(/^\$\{aws_batch_job_queue\.batch_queue-0_\w+\.arn\}$/),
      expect.stringMatching(/^\$\{aws_batch_job_queue\.batch_queue-1_\w+\.arn\}$/),
    ]);
    expect(out.tf.output.worker_job_queue_azs.value).toEqual([
      "${element(data.terraform_remote_state.network.outputs.subnet_availability_zones, 0)}",
      "${element(data.terraform_remote_state.network.outputs.subnet_availability_zones, 1)}",
    ]);
  });

  it("launch template: IMDSv2 required with hop limit 2, encrypted gp3 root volume, no public IP", () => {
    const template = out.only("aws_launch_template");
    expect(template.metadata_options).toEqual({
      http_endpoint: "enabled",
      http_tokens: "required",
      http_put_response_hop_limit: 2,
      instance_metadata_tags: "disabled",
    });
    expect(template.block_device_mappings).toEqual([
      {
        device_name: "/dev/xvda",
        ebs: { volume_type: "gp3", volume_size: 30, encrypted: "true", delete_on_termination: "true" },
      },
    ]);
    expect(template.network_interfaces).toEqual([
      {
        device_index: 0,
        associate_public_ip_address: "false",
        security_groups: ["${data.terraform_remote_state.network.outputs.worker_security_group_id}"],
        delete_on_termination: "true",
      },
    ]);
  });

  it("instance role: the ECS agent's actions on this installation's Batch clusters only", () => {
    expect(statementsOf(out, "instance-policy")).toEqual([
      { sid: "DiscoverPollEndpoint", actions: ["ecs:DiscoverPollEndpoint"], resources: ["*"] },
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
        resources: [
          "arn:aws:ecs:us-east-1:111111111111:cluster/backup-actions-*_Batch_*",
          "arn:aws:ecs:us-east-1:111111111111:container-instance/backup-actions-*_Batch_*/*",
        ],
      },
      {
        sid: "WriteJobLogs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [
          expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.worker-job_log-group_\w+\.arn\}:log-stream:\*$/),
        ],
      },
    ]);
    expect(statementsOf(out, "instance-assume")).toEqual([
      { actions: ["sts:AssumeRole"], principals: [{ type: "Service", identifiers: ["ec2.amazonaws.com"] }] },
    ]);
    expect(out.resources("aws_iam_role_policy_attachment")).toEqual({});
  });
});

describe("BatchSpot and the network's shape", () => {
  it("gives instances no public IP in nat mode", () => {
    const out = pipelineOf({ network: { vpcCidr: "10.0.0.0/16", azCount: 3, egress: "nat" } });
    expect(out.only("aws_launch_template").network_interfaces[0].associate_public_ip_address).toBe("false");
    expect(Object.keys(out.resources("aws_batch_job_queue"))).toHaveLength(3);
  });

  it("gives instances a public IP in public mode", () => {
    const out = pipelineOf({ network: { vpcCidr: "10.0.0.0/16", egress: "public" } });
    expect(out.only("aws_launch_template").network_interfaces[0].associate_public_ip_address).toBe("true");
  });

  it("makes one lane per subnet of an existing VPC", () => {
    const out = pipelineOf({
      network: {
        vpcId: "vpc-0123456789abcdef0",
        subnetIds: ["subnet-0123456789abcdef0", "subnet-0123456789abcdef1", "subnet-0123456789abcdef2"],
        routeTableIds: ["rtb-0123456789abcdef0"],
      },
    });
    expect(Object.keys(out.resources("aws_batch_compute_environment"))).toHaveLength(3);
    expect(out.tf.output.worker_job_queue_azs.value).toHaveLength(3);
  });

  it("follows the account's own network over the top-level one", () => {
    const out = pipelineOf({
      accounts: [
        {
          id: "111111111111",
          regions: ["us-east-1"],
          network: { vpcCidr: "10.1.0.0/16", azCount: 1, egress: "public" },
        },
      ],
    });
    expect(Object.keys(out.resources("aws_batch_job_queue"))).toHaveLength(1);
    expect(out.only("aws_launch_template").network_interfaces[0].associate_public_ip_address).toBe("true");
  });
});

describe("BatchSpot with on-demand fallback", () => {
  const out = pipelineOf({ worker: { onDemandFallback: true, maxVcpus: 32, instanceFamilies: ["c7i", "m7i"] } });

  it("puts an on-demand environment after Spot in each queue", () => {
    const queues = sorted(out.resources("aws_batch_job_queue"));
    queues.forEach((queue, i) => {
      expect(queue.compute_environment_order).toEqual([
        {
          order: 1,
          compute_environment: expect.stringMatching(
            new RegExp(`^\\$\\{aws_batch_compute_environment\\.batch_spot-${i}_\\w+\\.arn\\}$`),
          ),
        },
        {
          order: 2,
          compute_environment: expect.stringMatching(
            new RegExp(`^\\$\\{aws_batch_compute_environment\\.batch_on-demand-${i}_\\w+\\.arn\\}$`),
          ),
        },
      ]);
    });
  });

  it("the on-demand environments are EC2 BEST_FIT_PROGRESSIVE in the same subnet, families and bounds", () => {
    const onDemand = Object.entries(out.resources("aws_batch_compute_environment"))
      .filter(([k]) => k.includes("on-demand"))
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([, v]) => v);
    expect(onDemand).toHaveLength(2);
    onDemand.forEach((env: any, i) => {
      expect(env.compute_environment_name_prefix).toBe(`backup-actions-ondemand-${i}-`);
      expect(env.compute_resources).toMatchObject({
        type: "EC2",
        allocation_strategy: "BEST_FIT_PROGRESSIVE",
        instance_type: ["c7i", "m7i"],
        min_vcpus: 0,
        max_vcpus: 32,
        subnets: [`\${element(data.terraform_remote_state.network.outputs.subnet_ids, ${i})}`],
      });
    });
  });
});

describe("BatchSpot props", () => {
  const base: BatchSpotProps = {
    context: {
      name: "ba",
      accountId: "111111111111",
      region: "us-east-1",
      partition: "aws",
      kmsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/12345678-1234-1234-1234-123456789012",
    },
    azCount: 1,
    subnetIds: [SUBNETS],
    subnetAzs: [SUBNETS],
    securityGroupId: "sg-1",
    instanceFamilies: ["c7i"],
    maxVcpus: 8,
  };
  const make = (props: Partial<BatchSpotProps>) =>
    new BatchSpot(new TerraformStack(Testing.app(), "test"), "batch", { ...base, ...props });

  it("rejects what cannot work, naming the construct", () => {
    expect(() => make({ azCount: 0 })).toThrow("BatchSpot test/batch: azCount must be at least 1 (got 0)");
    expect(() => make({ instanceFamilies: [] })).toThrow("BatchSpot test/batch: instanceFamilies must not be empty");
    expect(() => make({ maxVcpus: 0 })).toThrow(
      "BatchSpot test/batch: maxVcpus must be a positive whole number (got 0)",
    );
  });

  it("leaves the log statement out when no log group is given, and sizes the root volume", () => {
    const stack = new TerraformStack(Testing.app(), "test");
    new BatchSpot(stack, "batch", { ...base, rootVolumeGiB: 50 });
    const out = synth(stack);
    expect(statementsOf(out, "instance-policy").map((s: any) => s.sid)).toEqual([
      "DiscoverPollEndpoint",
      "JoinBatchClusters",
    ]);
    expect(out.only("aws_launch_template").block_device_mappings[0].ebs.volume_size).toBe(50);
  });
});
