import { documentBlocks, policyDocuments } from "../../testing/policy-documents";
import { compose, synth, testConfig } from "../helpers/synth";

describe("pipeline stack", () => {
  const out = synth(compose(testConfig()).pipelines[0]!);

  it("reads the network stack's outputs from its remote state, not from an in-process reference", () => {
    expect(out.tf.data.terraform_remote_state.network).toEqual({
      backend: "s3",
      config: { bucket: "state-bucket-111", key: "ba/network-111111111111-us-east-1.tfstate", region: "us-east-1" },
    });
    expect(out.json).not.toMatch(/aws_vpc\./);
    expect(out.tf.output.network_vpc_id.value).toBe("${data.terraform_remote_state.network.outputs.vpc_id}");
  });

  it("narrows the network's S3 gateway endpoint to the archive bucket (the worker's actions) and ECR's layer bucket", () => {
    const [policy] = Object.values<any>(out.resources("aws_vpc_endpoint_policy"));
    expect(policy.vpc_endpoint_id).toBe("${data.terraform_remote_state.network.outputs.s3_endpoint_id}");
    const [documentId] = Object.keys(documentBlocks(out.tf)).filter((k) =>
      k.startsWith("s3-endpoint-policy_document_"),
    );
    expect(policy.policy).toBe(`\${local.${documentId}}`);
    const statements = documentBlocks(out.tf)[documentId!].statement as any[];
    const [archiveId] = Object.keys(out.resources("aws_s3_bucket")).filter((k) => k.startsWith("archive_"));
    const archive = `\${aws_s3_bucket.${archiveId}.arn}`;
    expect(
      statements.map((st) => [
        st.sid,
        st.effect ?? "Allow",
        st.actions,
        st.resources.map((r: string) => r.replace(archive, "ARCHIVE")),
      ]),
    ).toEqual([
      [
        "ArchiveObjects",
        "Allow",
        [
          "s3:PutObject",
          "s3:AbortMultipartUpload",
          "s3:ListMultipartUploadParts",
          "s3:GetObject",
          "s3:DeleteObject",
          "s3:DeleteObjectVersion",
        ],
        ["ARCHIVE/*"],
      ],
      ["ArchiveBucket", "Allow", ["s3:ListBucketMultipartUploads"], ["ARCHIVE"]],
      ["EcrImageLayers", "Allow", ["s3:GetObject"], ["arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*"]],
    ]);
    expect(
      statements.every((st) =>
        st.resources.every((r: string) => r.startsWith(archive) || r.includes("starport-layer-bucket")),
      ),
    ).toBe(true);
    expect(statements.map((st) => st.principals)).toEqual(Array(3).fill([{ type: "*", identifiers: ["*"] }]));
  });

  it("gives the worker's role the same archive actions the endpoint lets through", () => {
    const workerJobRole = Object.entries<any>(documentBlocks(out.tf)).filter(([k]) =>
      k.startsWith("worker-job_job-role"),
    );
    const statements = workerJobRole.flatMap(([, v]) => v.statement as any[]);
    expect(statements.find((st) => st.sid === "WriteArchive")?.actions).toEqual([
      "s3:PutObject",
      "s3:AbortMultipartUpload",
      "s3:ListMultipartUploadParts",
      "s3:GetObject",
      "s3:DeleteObject",
      "s3:DeleteObjectVersion",
    ]);
    expect(statements.find((st) => st.sid === "FindOwnPartialUploads")?.actions).toEqual([
      "s3:ListBucketMultipartUploads",
    ]);
  });

  it("outputs the worker image, its repository and the pipeline key, each described", () => {
    const { output } = out.tf;
    const repo = Object.keys(out.resources("aws_ecr_repository"))[0]!;
    const key = Object.keys(out.resources("aws_kms_key"))[0]!;
    expect(output.worker_image_uri.value).toMatch(
      new RegExp(`^\\$\\{aws_ecr_repository\\.${repo}\\.repository_url\\}:src-[0-9a-f]{32}$`),
    );
    expect(output.worker_repository_url.value).toBe(`\${aws_ecr_repository.${repo}.repository_url}`);
    expect(output.worker_repository_arn.value).toBe(`\${aws_ecr_repository.${repo}.arn}`);
    expect(output.pipeline_kms_key_arn.value).toBe(`\${aws_kms_key.${key}.arn}`);
    for (const name of ["worker_image_uri", "worker_repository_url", "worker_repository_arn", "pipeline_kms_key_arn"])
      expect(output[name].description).toMatch(/\w{3,}/);
  });

  it("readPath direct: a lease table the jobs share the budget through, named in the job definition; none otherwise", () => {
    const direct = synth(compose(testConfig({ worker: { readPath: "direct" } })).pipelines[0]!);
    const tables = Object.entries<any>(direct.resources("aws_dynamodb_table")).filter(([id]) =>
      id.startsWith("direct-read-leases_"),
    );
    expect(tables.map(([, t]) => t)).toEqual([
      {
        name: "backup-actions-direct-read-leases",
        billing_mode: "PAY_PER_REQUEST",
        hash_key: "quota",
        range_key: "jobId",
        attribute: [
          { name: "quota", type: "S" },
          { name: "jobId", type: "S" },
        ],
        ttl: { attribute_name: "expiresAt", enabled: true },
      },
    ]);
    const [job] = Object.values<any>(direct.resources("aws_batch_job_definition"));
    const env = JSON.parse(job.container_properties).environment;
    // the static share stays the floor (600 / 32 jobs); the whole budget is shared through the leases
    expect(env).toEqual(
      expect.arrayContaining([
        { name: "BACKUP_ACTIONS_DIRECT_READ_RPS", value: "18" },
        { name: "BACKUP_ACTIONS_DIRECT_READ_BUDGET", value: "600" },
        { name: "BACKUP_ACTIONS_DIRECT_READ_LEASE_TABLE", value: "backup-actions-direct-read-leases" },
      ]),
    );
    expect(Object.keys(out.resources("aws_dynamodb_table")).filter((id) => id.startsWith("direct-read"))).toEqual([]);
  });

  it("with a prebuilt image and the config's key: outputs those, and no repository", () => {
    const imageUri = "222222222222.dkr.ecr.us-east-1.amazonaws.com/worker@sha256:" + "a".repeat(64);
    const kmsKeyArn = "arn:aws:kms:us-east-1:111111111111:key/12345678-1234-1234-1234-123456789012";
    const { output } = synth(compose(testConfig({ kmsKeyArn, worker: { imageUri } })).pipelines[0]!).tf;
    expect(output.worker_image_uri.value).toBe(imageUri);
    expect(output.pipeline_kms_key_arn.value).toBe(kmsKeyArn);
    expect(output.worker_repository_url).toBeUndefined();
    expect(output.worker_repository_arn).toBeUndefined();
  });
});

describe("pipeline stack orchestration", () => {
  const byPrefix = (o: ReturnType<typeof synth>, type: string, prefix: string) =>
    Object.entries<any>(o.resources(type))
      .filter(([k]) => k.startsWith(prefix))
      .map(([, v]) => v);
  const deleting = synth(
    compose(
      testConfig({
        deleteRecoveryPoint: { enabled: true, requiredTag: "archive-me" },
        securityTag: "ba:managed",
        notificationEmail: "ops@example.com",
      }),
    ).pipelines[0]!,
  );
  const keeping = synth(compose(testConfig()).pipelines[0]!);
  const machines = (o: ReturnType<typeof synth>) => Object.values<any>(o.resources("aws_sfn_state_machine"));
  const definitionOf = (o: ReturnType<typeof synth>, name: string) =>
    JSON.parse(machines(o).find((m) => m.name === name).definition);
  const policyOf = (o: ReturnType<typeof synth>, prefix: string) =>
    Object.entries<any>(documentBlocks(o.tf)).find(([k]) => k.startsWith(prefix))![1].statement as any[];

  it("lets the verify Lambda read the archive's objects and decrypt them, nothing else (besides its own logs and traces)", () => {
    // s3:ListBucket on the bucket alone: S3 answers a missing key with 404 only to a caller that may list.
    const own = ["WriteOwnLogs", "WriteTraces"];
    expect(policyOf(keeping, "verify_policy_").filter((st) => !own.includes(st.sid))).toEqual([
      {
        sid: "ReadArchive",
        actions: ["s3:GetObject"],
        resources: [expect.stringMatching(/^\$\{aws_s3_bucket\.archive_this_.+\.arn\}\/\*$/)],
      },
      {
        sid: "MissingIsNotFound",
        actions: ["s3:ListBucket"],
        resources: [expect.stringMatching(/^\$\{aws_s3_bucket\.archive_this_.+\.arn\}$/)],
      },
      {
        sid: "ArchiveKey",
        actions: ["kms:Decrypt"],
        resources: [expect.stringMatching(/^\$\{aws_kms_key\.pipeline-key_.+\.arn\}$/)],
      },
    ]);
  });

  it("deploys the dispatcher under the name the starter may start, the EBS child and the backstop", () => {
    expect(
      machines(keeping)
        .map((m) => m.name)
        .sort(),
    ).toEqual([
      "backup-actions-aurora-export",
      "backup-actions-backstop",
      "backup-actions-dispatcher",
      "backup-actions-dynamodb-export",
      "backup-actions-ebs-export",
      "backup-actions-rds-export",
    ]);
    expect(keeping.tf.output.dispatcher_state_machine_arn.value).toMatch(
      /aws_sfn_state_machine\.workflows_dispatcher_this_.+\.arn/,
    );
  });

  it("renders every policy at synth: no aws_iam_policy_document data source, whose reads `terraform plan` defers", () => {
    for (const out of [keeping, deleting]) {
      expect(out.tf.data?.aws_iam_policy_document).toBeUndefined();
      // Every policy, trust policy and key policy is a PolicyDocument local.
      const policies = [
        ...Object.values<any>(out.resources("aws_iam_role")).map((r) => r.assume_role_policy),
        ...Object.values<any>(out.resources("aws_iam_role_policy")).map((r) => r.policy),
        ...Object.values<any>(out.resources("aws_kms_key")).map((k) => k.policy),
        ...Object.values<any>(out.resources("aws_sqs_queue_policy")).map((q) => q.policy),
        ...Object.values<any>(out.resources("aws_sns_topic_policy")).map((t) => t.policy),
        ...Object.values<any>(out.resources("aws_s3_bucket_policy")).map((b) => b.policy),
      ];
      expect(policies.length).toBeGreaterThan(10);
      const documents = Object.keys(policyDocuments(out.tf));
      for (const policy of policies) expect(documents.map((id) => `\${local.${id}}`)).toContain(policy);
    }
  });

  it("submits the EBS worker by job definition name, granted on that name's revisions only", () => {
    const runWorker = definitionOf(keeping, "backup-actions-ebs-export").States.RunWorker;
    expect(runWorker.Parameters.JobDefinition).toBe("backup-actions-ebs-worker");
    expect(Object.values<any>(keeping.resources("aws_batch_job_definition"))[0].name).toBe("backup-actions-ebs-worker");
    expect(policyOf(keeping, "workflows_ebs_policy_").find((st) => st.sid === "RunWorker").resources).toEqual([
      "arn:aws:batch:us-east-1:111111111111:job-queue/backup-actions-*",
      "arn:aws:batch:us-east-1:111111111111:job-definition/backup-actions-ebs-worker:*",
      "arn:aws:batch:us-east-1:111111111111:job/*",
    ]);
  });

  it("a new job definition revision (another worker size) leaves the EBS state machine's definition as it was", () => {
    const bigger = synth(compose(testConfig({ worker: { vcpus: 8, memoryMiB: 16384 } })).pipelines[0]!);
    const jobOf = (o: ReturnType<typeof synth>) =>
      Object.values<any>(o.resources("aws_batch_job_definition"))[0].container_properties;
    expect(jobOf(bigger)).not.toBe(jobOf(keeping));
    const ebsOf = (o: ReturnType<typeof synth>) => machines(o).find((m) => m.name === "backup-actions-ebs-export");
    expect(ebsOf(bigger).definition).toBe(ebsOf(keeping).definition);
  });

  it("places each EBS export in the AZ of its job queue, as the Batch lanes say", () => {
    const placements = definitionOf(keeping, "backup-actions-ebs-export").States.Placements.Result;
    expect(placements).toEqual([
      {
        availabilityZone: "${element(data.terraform_remote_state.network.outputs.subnet_availability_zones, 0)}",
        jobQueueArn: expect.stringMatching(/^\$\{aws_batch_job_queue\.batch_queue-0_.+\.arn\}$/),
      },
      {
        availabilityZone: "${element(data.terraform_remote_state.network.outputs.subnet_availability_zones, 1)}",
        jobQueueArn: expect.stringMatching(/^\$\{aws_batch_job_queue\.batch_queue-1_.+\.arn\}$/),
      },
    ]);
  });

  it("lets the dispatcher delete recovery points only when auto-delete is on", () => {
    const actions = (o: ReturnType<typeof synth>) =>
      policyOf(o, "workflows_dispatcher_policy_").flatMap((st) => st.actions);
    expect(actions(keeping)).not.toContain("backup:DeleteRecoveryPoint");
    expect(actions(deleting)).toContain("backup:DeleteRecoveryPoint");
    const del = policyOf(deleting, "workflows_dispatcher_policy_").find(
      (st) => st.sid === "DeleteVerifiedRecoveryPoints",
    );
    expect(del.resources).toEqual([
      "arn:aws:ec2:us-east-1::snapshot/*",
      "arn:aws:rds:us-east-1:111111111111:snapshot:awsbackup:*",
      "arn:aws:rds:us-east-1:111111111111:cluster-snapshot:awsbackup:*",
      "arn:aws:dynamodb:us-east-1:111111111111:table/*/backup/*",
      "arn:aws:backup:us-east-1:111111111111:recovery-point:*",
    ]);
    expect(JSON.stringify(definitionOf(deleting, "backup-actions-dispatcher").States.DeletionConsented)).toContain(
      "$.deletionTag.tags['archive-me']",
    );
    // Each tag is read with the API of the resource that holds it, each grant scoped to that resource.
    const grant = (sid: string) => policyOf(deleting, "workflows_dispatcher_policy_").find((st) => st.sid === sid);
    expect(grant("ReadSnapshotTags")).toMatchObject({ actions: ["ec2:DescribeTags"], resources: ["*"] });
    expect(grant("ReadDbSnapshotTags")).toMatchObject({
      actions: ["rds:ListTagsForResource"],
      resources: [
        "arn:aws:rds:us-east-1:111111111111:snapshot:awsbackup:*",
        "arn:aws:rds:us-east-1:111111111111:cluster-snapshot:awsbackup:*",
      ],
    });
    expect(grant("ReadDynamoDbBackupTags")).toMatchObject({
      actions: ["dynamodb:ListTagsOfResource"],
      resources: ["arn:aws:dynamodb:us-east-1:111111111111:table/*/backup/*"],
    });
    expect(grant("ReadRecoveryPointTags")).toMatchObject({
      actions: ["backup:ListTags"],
      resources: ["arn:aws:backup:us-east-1:111111111111:recovery-point:*"],
    });
    expect(del.actions).toEqual(["backup:DeleteRecoveryPoint", "backup:DescribeRecoveryPoint"]);
    for (const sid of ["ReadSnapshotTags", "ReadDbSnapshotTags", "ReadDynamoDbBackupTags", "ReadRecoveryPointTags"]) {
      expect(policyOf(keeping, "workflows_dispatcher_policy_").find((st) => st.sid === sid)).toBeUndefined();
    }
  });

  it("scopes the EBS child's detach and delete to volumes carrying the pipeline and security tags", () => {
    const cleanup = policyOf(deleting, "workflows_ebs_policy_").find((st) => st.sid === "CleanUpOwnVolumes");
    expect(cleanup).toMatchObject({
      actions: ["ec2:DetachVolume", "ec2:DeleteVolume"],
      resources: ["arn:aws:ec2:us-east-1:111111111111:volume/*"],
      condition: [
        { test: "StringEquals", variable: "aws:ResourceTag/backup-actions:pipeline", values: ["backup-actions"] },
        { test: "StringEquals", variable: "aws:ResourceTag/ba:managed", values: ["true"] },
      ],
    });
    const grant = policyOf(deleting, "workflows_ebs_policy_").find((st) => st.sid === "EncryptedSnapshots");
    expect(grant.condition).toContainEqual({ test: "Bool", variable: "kms:GrantIsForAWSResource", values: ["true"] });
  });

  it("notifies by email when configured, on an encrypted topic, with a backstop for timed-out dispatchers", () => {
    expect(Object.values<any>(deleting.resources("aws_sns_topic"))[0].kms_master_key_id).toMatch(
      /aws_kms_key\.pipeline-key/,
    );
    expect(Object.values<any>(deleting.resources("aws_sns_topic_subscription"))).toEqual([
      expect.objectContaining({ protocol: "email", endpoint: "ops@example.com" }),
    ]);
    expect(keeping.resources("aws_sns_topic_subscription")).toEqual({});
    const backstop = byPrefix(keeping, "aws_cloudwatch_event_rule", "notifications_")[0];
    expect(JSON.parse(backstop.event_pattern).detail.status).toEqual(["TIMED_OUT", "ABORTED"]);
  });

  it("publishes outcome events: PutEvents on the default bus only, under the backup-actions source only", () => {
    const exact = {
      sid: "PublishOutcomeEvents",
      actions: ["events:PutEvents"],
      resources: ["arn:aws:events:us-east-1:111111111111:event-bus/default"],
      condition: [{ test: "ForAllValues:StringEquals", variable: "events:source", values: ["backup-actions"] }],
    };
    for (const o of [keeping, deleting]) {
      expect(
        policyOf(o, "workflows_dispatcher_policy_").filter((st) => st.actions.includes("events:PutEvents")),
      ).toEqual([exact]);
      expect(policyOf(o, "notifications_backstop_policy_").filter((st) => st.sid === "PublishOutcomeEvents")).toEqual([
        exact,
      ]);
    }
  });

  it("starts the backstop machine from the abnormal-end rule, with a role only this account's EventBridge assumes", () => {
    const rule = byPrefix(keeping, "aws_cloudwatch_event_rule", "notifications_")[0];
    const targets = byPrefix(keeping, "aws_cloudwatch_event_target", "notifications_");
    const toBackstop = targets.find((t) => t.target_id === "backstop-events");
    expect(toBackstop.arn).toMatch(/^\$\{aws_sfn_state_machine\.notifications_backstop_\w+\.arn\}$/);
    expect(toBackstop.role_arn).toMatch(/^\$\{aws_iam_role\.notifications_backstop-rule-role_\w+\.arn\}$/);
    expect(toBackstop.rule).toBe(targets.find((t) => t.target_id !== "backstop-events").rule);
    expect(machines(keeping).map((m) => m.name)).toContain("backup-actions-backstop");
    expect(policyOf(keeping, "notifications_backstop-rule-policy_")).toEqual([
      {
        sid: "StartBackstop",
        actions: ["states:StartExecution"],
        resources: ["arn:aws:states:us-east-1:111111111111:stateMachine:backup-actions-backstop"],
      },
    ]);
    expect(policyOf(keeping, "notifications_backstop-rule-assume_")).toEqual([
      {
        actions: ["sts:AssumeRole"],
        principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
        condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: ["111111111111"] }],
      },
    ]);
    expect(rule.name).toBe("backup-actions-dispatcher-ended-abnormally");
  });

  it("runs the janitor every 6 hours with an age above the longest export", () => {
    const janitor = byPrefix(keeping, "aws_lambda_function", "janitor_")[0];
    // 24 h job timeout x 3 Spot attempts + 1 h, plus 6 h of margin.
    expect(janitor.environment.variables).toMatchObject({
      PIPELINE_TAG_KEY: "backup-actions:pipeline",
      PIPELINE_TAG_VALUE: "backup-actions",
      MAX_AGE_HOURS: "79",
    });
    expect(byPrefix(keeping, "aws_cloudwatch_event_rule", "janitor_")[0].schedule_expression).toBe("rate(6 hours)");
  });
});
