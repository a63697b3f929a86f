import { Testing, TerraformStack } from "cdktf";
import { WorkerJobDefinition, WorkerJobDefinitionProps } from "../../../stacks/constructs/worker-job-definition";
import { logsKeyPolicyStatements } from "../../../stacks/constructs/encrypted-log-group";
import { statementsOf, statementWithSid } from "../../helpers/policy";
import { compose, movedIntoEncryptedLogGroup, synth, testConfig } from "../../helpers/synth";

const ARCHIVE = "arn:aws:s3:::ba-archive-111111111111-us-east-1";
const REPO = "arn:aws:ecr:us-east-1:111111111111:repository/ba-worker";

function jobOf(props: Partial<WorkerJobDefinitionProps> = {}) {
  const stack = new TerraformStack(Testing.app(), "test");
  new WorkerJobDefinition(stack, "worker-job", {
    context: {
      name: "ba",
      accountId: "111111111111",
      region: "us-east-1",
      partition: "aws",
      kmsKeyArn: "arn:aws:kms:us-east-1:111111111111:key/12345678-1234-1234-1234-123456789012",
    },
    imageUri: "111111111111.dkr.ecr.us-east-1.amazonaws.com/ba-worker:src-abc",
    imageRepositoryArn: REPO,
    vcpus: 4,
    memoryMiB: 8192,
    timeoutHours: 24,
    spotRetries: 3,
    compressionLevel: 3,
    archiveBucketArn: ARCHIVE,
    pipelineTag: { key: "backup-actions:pipeline", value: "ba" },
    ...props,
  });
  const out = synth(stack);
  const definition = out.only("aws_batch_job_definition");
  return { out, definition, container: JSON.parse(definition.container_properties) };
}

describe("WorkerJobDefinition", () => {
  const { out, definition, container } = jobOf();

  it("retries a Spot reclaim (Host EC2*) up to spotRetries attempts and exits on anything else", () => {
    expect(definition.retry_strategy).toEqual({
      attempts: 3,
      evaluate_on_exit: [
        { on_status_reason: "Host EC2*", action: "RETRY" },
        { on_reason: "*", action: "EXIT" },
      ],
    });
    expect(() => jobOf({ spotRetries: 11 })).toThrow(
      "WorkerJobDefinition test/worker-job: spotRetries must be from 1 to 10, Batch's range of attempts (got 11)",
    );
  });

  it("times an attempt out after timeoutHours", () => {
    expect(definition.timeout).toEqual({ attempt_duration_seconds: 86400 });
    expect(jobOf({ timeoutHours: 2 }).definition.timeout).toEqual({ attempt_duration_seconds: 7200 });
  });

  it("is an EC2 container job: privileged with the host's /dev, vCPU and memory from config", () => {
    expect(definition.type).toBe("container");
    expect(definition.platform_capabilities).toEqual(["EC2"]);
    expect(definition.propagate_tags).toBe(true);
    expect(container.privileged).toBe(true);
    expect(container.volumes).toEqual([{ name: "host-dev", host: { sourcePath: "/dev" } }]);
    expect(container.mountPoints).toEqual([{ sourceVolume: "host-dev", containerPath: "/dev", readOnly: false }]);
    expect(container.resourceRequirements).toEqual([
      { type: "VCPU", value: "4" },
      { type: "MEMORY", value: "8192" },
    ]);
  });

  it("runs the worker entrypoint with the volume and target as Batch parameters", () => {
    expect(container.image).toBe("111111111111.dkr.ecr.us-east-1.amazonaws.com/ba-worker:src-abc");
    // Arguments to the image ENTRYPOINT (node /app/worker.js).
    expect(container.command).toEqual([
      "--volume-id",
      "Ref::volumeId",
      "--to",
      "Ref::targetUrl",
      "--compression-level",
      "Ref::compressionLevel",
      "--snapshot-id",
      "Ref::snapshotId",
      "--read-path",
      "Ref::readPath",
    ]);
    // Defaults for what a submission leaves out: an EBS child of an earlier version submits no snapshotId or readPath.
    expect(definition.parameters).toEqual({
      volumeId: "",
      targetUrl: "",
      compressionLevel: "3",
      snapshotId: "",
      readPath: "volume",
    });
    // Sorted by name, as Batch answers it (a plan would otherwise show every entry moved).
    expect(container.environment).toEqual([
      { name: "AWS_REGION", value: "us-east-1" },
      { name: "BACKUP_ACTIONS_COMPRESSION_LEVEL", value: "3" },
      { name: "BACKUP_ACTIONS_CONCURRENCY", value: "4" },
      // 8192 MiB less the worker's reserve (1024 + 128 per vCPU): the part buffers' budget
      { name: "BACKUP_ACTIONS_PART_MEMORY_MIB", value: "6656" },
      // the metrics' Pipeline dimension (core/metrics.ts, batch-worker/src/metrics.ts)
      { name: "BACKUP_ACTIONS_PIPELINE", value: "pipeline-111111111111-us-east-1" },
      { name: "BACKUP_ACTIONS_VCPUS", value: "4" },
    ]);
  });

  it("gives a direct-reading worker its share of the EBS direct API budget, in the sorted environment", () => {
    const { container: direct } = jobOf({ directRead: { requestsPerSecond: 37, parallelism: 16 } });
    expect(direct.environment.map((e: { name: string }) => e.name)).toEqual([
      "AWS_REGION",
      "BACKUP_ACTIONS_COMPRESSION_LEVEL",
      "BACKUP_ACTIONS_CONCURRENCY",
      "BACKUP_ACTIONS_DIRECT_READ_PARALLELISM",
      "BACKUP_ACTIONS_DIRECT_READ_RPS",
      "BACKUP_ACTIONS_PART_MEMORY_MIB",
      "BACKUP_ACTIONS_PIPELINE",
      "BACKUP_ACTIONS_VCPUS",
    ]);
    expect(direct.environment).toContainEqual({ name: "BACKUP_ACTIONS_DIRECT_READ_RPS", value: "37" });
    expect(direct.environment).toContainEqual({ name: "BACKUP_ACTIONS_DIRECT_READ_PARALLELISM", value: "16" });
  });

  it("with a lease table: the whole budget and the table in the environment, and exactly the lease calls on it", () => {
    const table = "arn:aws:dynamodb:us-east-1:111111111111:table/ba-direct-read-leases";
    const lease = { budget: 600, tableName: "ba-direct-read-leases", tableArn: table };
    const { container: leased, out: leasedOut } = jobOf({
      directRead: { requestsPerSecond: 18, parallelism: 32, lease },
    });
    expect(leased.environment).toEqual(
      expect.arrayContaining([
        { name: "BACKUP_ACTIONS_DIRECT_READ_RPS", value: "18" },
        { name: "BACKUP_ACTIONS_DIRECT_READ_BUDGET", value: "600" },
        { name: "BACKUP_ACTIONS_DIRECT_READ_LEASE_TABLE", value: "ba-direct-read-leases" },
      ]),
    );
    // sorted, as Batch answers it
    const names = leased.environment.map((e: { name: string }) => e.name);
    expect(names).toEqual([...names].sort());
    // PutItem (write, renew), Query (count), DeleteItem (release): rate-lease.ts sends nothing else, no KMS key
    expect(statementWithSid(statementsOf(leasedOut, "job-role-policy"), "ShareDirectReadBudget")).toEqual({
      sid: "ShareDirectReadBudget",
      actions: ["dynamodb:PutItem", "dynamodb:Query", "dynamodb:DeleteItem"],
      resources: [table],
    });
    // an encrypted snapshot's key: Decrypt only, only through EC2 or the EBS direct APIs
    expect(statementWithSid(statementsOf(leasedOut, "job-role-policy"), "DecryptSnapshotBlocks")).toEqual({
      sid: "DecryptSnapshotBlocks",
      actions: ["kms:Decrypt"],
      resources: ["arn:aws:kms:us-east-1:111111111111:key/*"],
      condition: [
        {
          test: "StringEquals",
          variable: "kms:ViaService",
          values: ["ec2.us-east-1.amazonaws.com", "ebs.us-east-1.amazonaws.com"],
        },
      ],
    });
    // without a lease: neither the variables nor the grant
    const { container: plain, out: plainOut } = jobOf({ directRead: { requestsPerSecond: 18, parallelism: 32 } });
    expect(plain.environment.map((e: { name: string }) => e.name)).not.toContain("BACKUP_ACTIONS_DIRECT_READ_BUDGET");
    expect(
      statementsOf(plainOut, "job-role-policy").filter((st: { sid: string }) => st.sid === "ShareDirectReadBudget"),
    ).toEqual([]);
  });

  it("tells the worker its vCPUs and part memory from the job's size", () => {
    const { container: big } = jobOf({ vcpus: 16, memoryMiB: 32768 });
    expect(big.environment).toContainEqual({ name: "BACKUP_ACTIONS_VCPUS", value: "16" });
    expect(big.environment).toContainEqual({
      name: "BACKUP_ACTIONS_PART_MEMORY_MIB",
      value: String(32768 - 1024 - 16 * 128),
    });
    expect(big.resourceRequirements).toEqual([
      { type: "VCPU", value: "16" },
      { type: "MEMORY", value: "32768" },
    ]);
  });

  it("refuses a job whose memory leaves nothing for upload parts", () => {
    expect(() => jobOf({ vcpus: 8, memoryMiB: 2048 })).toThrow(
      "WorkerJobDefinition test/worker-job: memoryMiB 2048 leaves 0 MiB for upload parts after the worker's reserve; give the job more memory",
    );
  });

  it("logs with awslogs to a log group with retention, encrypted with its own key (EncryptedLogGroup)", () => {
    const group = out.only("aws_cloudwatch_log_group");
    expect(group.name).toBe("/ba/batch-worker");
    expect(group.retention_in_days).toBe(90);
    expect(group.kms_key_id).toMatch(/^\$\{aws_kms_key\.worker-job_log-group_key_\w+\.arn\}$/);
    expect(out.only("aws_kms_key")).toMatchObject({
      description: "ba Batch worker logs",
      enable_key_rotation: true,
      deletion_window_in_days: 30,
    });
    expect(container.logConfiguration).toEqual({
      logDriver: "awslogs",
      options: { "awslogs-group": "/ba/batch-worker", "awslogs-region": "us-east-1", "awslogs-stream-prefix": "ebs" },
    });
    // The key policy is EncryptedLogGroup's, for this log group (asserted statement by statement in its test).
    expect(statementsOf(out, "worker-job_log-group_key-policy")).toEqual(
      logsKeyPolicyStatements({
        accountId: "111111111111",
        region: "us-east-1",
        logGroupArns: ["arn:aws:logs:us-east-1:111111111111:log-group:/ba/batch-worker"],
      }),
    );
  });

  it("moves the log group and its key from their addresses before EncryptedLogGroup, keeping them in state", () => {
    expect(out.tf.moved).toEqual(
      expect.arrayContaining(
        movedIntoEncryptedLogGroup("worker-job", {
          logGroup: "worker-job_log-group_2A6FCB94",
          key: "worker-job_log-key_6E93CAB6",
        }),
      ),
    );
    expect(out.tf.moved).toHaveLength(2);
  });

  it("uses a given log key instead of making one", () => {
    const key = "arn:aws:kms:us-east-1:111111111111:key/0a0a0a0a-0a0a-0a0a-0a0a-0a0a0a0a0a0a";
    const { out: withKey } = jobOf({ logKmsKeyArn: key, logRetentionDays: 365 });
    expect(withKey.only("aws_cloudwatch_log_group")).toMatchObject({ kms_key_id: key, retention_in_days: 365 });
    expect(withKey.resources("aws_kms_key")).toEqual({});
    expect(withKey.tf.moved).toEqual([
      expect.objectContaining({ from: "aws_cloudwatch_log_group.worker-job_log-group_2A6FCB94" }),
    ]);
  });

  it("execution role: pulls from the worker repository only and writes its log group", () => {
    expect(statementsOf(out, "execution-role-policy")).toEqual([
      { sid: "EcrLogin", actions: ["ecr:GetAuthorizationToken"], resources: ["*"] },
      {
        sid: "PullWorkerImage",
        actions: ["ecr:BatchCheckLayerAvailability", "ecr:BatchGetImage", "ecr:GetDownloadUrlForLayer"],
        resources: [REPO],
      },
      {
        sid: "WriteLogs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [
          expect.stringMatching(/^\$\{aws_cloudwatch_log_group\.worker-job_log-group_\w+\.arn\}:log-stream:\*$/),
        ],
      },
    ]);
    expect(container.executionRoleArn).toMatch(/^\$\{aws_iam_role\.worker-job_execution-role_\w+\.arn\}$/);
  });

  it("execution role: no ECR permissions for a public image", () => {
    const { out: publicImage } = jobOf({ imageUri: "public.ecr.aws/acme/worker:1", imageRepositoryArn: undefined });
    expect(statementsOf(publicImage, "execution-role-policy").map((s: any) => s.sid)).toEqual(["WriteLogs"]);
  });

  it("job role: volumes, its instance, the archive prefix — exact actions, resources and conditions", () => {
    expect(statementsOf(out, "job-role-policy")).toEqual([
      { sid: "DescribeVolumes", actions: ["ec2:DescribeVolumes"], resources: ["*"] },
      { sid: "DescribeInstances", actions: ["ec2:DescribeInstances"], resources: ["*"] },
      {
        sid: "AttachToOwnInstance",
        actions: ["ec2:AttachVolume", "ec2:DetachVolume"],
        resources: ["arn:aws:ec2:us-east-1:111111111111:instance/*"],
      },
      {
        sid: "AttachPipelineVolumes",
        actions: ["ec2:AttachVolume", "ec2:DetachVolume"],
        resources: ["arn:aws:ec2:us-east-1:111111111111:volume/*"],
        condition: [{ test: "StringEquals", variable: "aws:ResourceTag/backup-actions:pipeline", values: ["ba"] }],
      },
      {
        sid: "WriteArchive",
        actions: [
          "s3:PutObject",
          "s3:AbortMultipartUpload",
          "s3:ListMultipartUploadParts",
          "s3:GetObject",
          "s3:DeleteObject",
          "s3:DeleteObjectVersion",
        ],
        resources: [`${ARCHIVE}/ebs/*`],
      },
      { sid: "FindOwnPartialUploads", actions: ["s3:ListBucketMultipartUploads"], resources: [ARCHIVE] },
    ]);
    expect(container.jobRoleArn).toMatch(/^\$\{aws_iam_role\.worker-job_job-role_\w+\.arn\}$/);
  });

  it("job role: attach and detach only the pipeline's volumes, and only with securityTag = true when set", () => {
    const { out: tagged } = jobOf({ securityTag: "backup-actions:managed" });
    expect(statementWithSid(statementsOf(tagged, "job-role-policy"), "AttachPipelineVolumes")).toEqual({
      sid: "AttachPipelineVolumes",
      actions: ["ec2:AttachVolume", "ec2:DetachVolume"],
      resources: ["arn:aws:ec2:us-east-1:111111111111:volume/*"],
      condition: [
        { test: "StringEquals", variable: "aws:ResourceTag/backup-actions:pipeline", values: ["ba"] },
        { test: "StringEquals", variable: "aws:ResourceTag/backup-actions:managed", values: ["true"] },
      ],
    });
  });

  it("job role: encrypts through S3 with the archive key when there is one", () => {
    const key = "arn:aws:kms:us-east-1:111111111111:key/0a0a0a0a-0a0a-0a0a-0a0a-0a0a0a0a0a0a";
    expect(
      statementWithSid(statementsOf(jobOf({ archiveKmsKeyArn: key }).out, "job-role-policy"), "EncryptArchive"),
    ).toEqual({
      sid: "EncryptArchive",
      actions: ["kms:GenerateDataKey", "kms:Decrypt"],
      resources: [key],
      condition: [{ test: "StringEquals", variable: "kms:ViaService", values: ["s3.us-east-1.amazonaws.com"] }],
    });
  });

  it("roles are assumed by ECS tasks of this account only", () => {
    for (const id of ["job-role-assume", "execution-role-assume"]) {
      expect(statementsOf(out, id)).toEqual([
        {
          actions: ["sts:AssumeRole"],
          principals: [{ type: "Service", identifiers: ["ecs-tasks.amazonaws.com"] }],
          condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: ["111111111111"] }],
        },
      ]);
    }
  });
});

describe("WorkerJobDefinition in the pipeline stack", () => {
  it("takes its settings from config and depends on the image build", () => {
    const config = testConfig({
      securityTag: "ba:managed",
      exports: { compressionLevel: 9 },
      worker: { vcpus: 8, memoryMiB: 16384, timeoutHours: 12, maxVolumeGiB: 4096, spotRetries: 5 },
    });
    const out = synth(compose(config).pipelines[0]!);
    const definition = out.only("aws_batch_job_definition");
    const container = JSON.parse(definition.container_properties);
    expect(definition.name).toBe("backup-actions-ebs-worker");
    expect(definition.retry_strategy.attempts).toBe(5);
    expect(definition.timeout).toEqual({ attempt_duration_seconds: 43200 });
    expect(container.resourceRequirements).toEqual([
      { type: "VCPU", value: "8" },
      { type: "MEMORY", value: "16384" },
    ]);
    expect(container.environment).toContainEqual({ name: "BACKUP_ACTIONS_COMPRESSION_LEVEL", value: "9" });
    expect(container.image).toMatch(/^\$\{aws_ecr_repository\.worker-image_this_\w+\.repository_url\}:/);
    expect(definition.depends_on).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^aws_cloudwatch_log_group\./),
        expect.stringMatching(/^terraform_data\.worker-image_build_/),
      ]),
    );
    const job = statementsOf(out, "job-role-policy");
    expect(statementWithSid(job, "WriteArchive").resources).toEqual([
      "arn:aws:s3:::backup-actions-archive-111111111111-us-east-1/ebs/*",
    ]);
    expect(statementWithSid(job, "AttachPipelineVolumes").condition).toEqual([
      { test: "StringEquals", variable: "aws:ResourceTag/backup-actions:pipeline", values: ["backup-actions"] },
      { test: "StringEquals", variable: "aws:ResourceTag/ba:managed", values: ["true"] },
    ]);
  });

  it("runs a configured prebuilt image and builds nothing", () => {
    const imageUri = "222222222222.dkr.ecr.us-east-1.amazonaws.com/worker:2.0.0";
    const out = synth(compose(testConfig({ worker: { imageUri } })).pipelines[0]!);
    expect(JSON.parse(out.only("aws_batch_job_definition").container_properties).image).toBe(imageUri);
    expect(out.resources("terraform_data")).toEqual({});
    expect(statementWithSid(statementsOf(out, "execution-role-policy"), "PullWorkerImage").resources).toEqual([
      "arn:aws:ecr:us-east-1:222222222222:repository/worker",
    ]);
  });
});
