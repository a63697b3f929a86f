import { documentBlocks } from "../../testing/policy-documents";
import { Testing, TerraformStack } from "cdktf";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { parseDispatcherRoutes } from "../../core/dispatcher-routes";
import { intakeConfigOf, parseIntakeConfig } from "../../core/intake-config";
import { logsKeyPolicyStatements } from "../../stacks/constructs/encrypted-log-group";
import { EventIntake, intakeResourceTypes } from "../../stacks/constructs/event-intake";
import { checkStacks } from "../../stacks/app";
import { compose, synth, testConfig } from "../helpers/synth";

const ROUTES = { account: "111111111111", region: "us-east-1", name: "ba", placements: { "us-east-1": 2 } };

/** The logical id of the one entry whose id starts with `prefix`. */
/** The starter function (the pipeline stack has other Lambdas too). */
function starterOf(out: { resources(type: string): Record<string, any> }): any {
  return out.resources("aws_lambda_function")[idOf(out.resources("aws_lambda_function"), "event-intake_starter_")];
}

function idOf(block: Record<string, unknown> | undefined, prefix: string): string {
  const ids = Object.keys(block ?? {}).filter((k) => k.startsWith(prefix));
  if (ids.length !== 1) throw new Error(`expected one id starting with ${prefix}, found ${ids.join(", ") || "none"}`);
  return ids[0]!;
}

describe("event intake in the pipeline stack", () => {
  const config = testConfig({ backupVaults: ["Default", "archive"] });
  const out = synth(compose(config).pipelines[0]!);
  const sqs = out.resources("aws_sqs_queue");
  const queueId = idOf(sqs, "event-intake_queue_");
  const dlqId = idOf(sqs, "event-intake_dlq_");
  const rules = out.resources("aws_cloudwatch_event_rule");
  const backupRuleId = idOf(rules, "event-intake_backup-job-rule_");
  const copyRuleId = idOf(rules, "event-intake_copy-job-rule_");
  const docs = documentBlocks(out.tf);
  const keyArn = `\${aws_kms_key.${idOf(out.resources("aws_kms_key"), "pipeline-key_")}.arn}`;

  it("matches COMPLETED backup jobs of the watched vaults and switched-on types (exact pattern)", () => {
    expect(JSON.parse(rules[backupRuleId].event_pattern)).toEqual({
      source: ["aws.backup"],
      "detail-type": ["Backup Job State Change"],
      detail: {
        state: ["COMPLETED"],
        backupVaultName: ["Default", "archive"],
        resourceType: ["EBS", "RDS", "Aurora", "DynamoDB"],
      },
    });
    expect(rules[backupRuleId].name).toBe("backup-actions-backup-job-completed");
  });

  it("matches COMPLETED copy jobs by the DESTINATION vault ARN's suffix (exact pattern)", () => {
    expect(JSON.parse(rules[copyRuleId].event_pattern)).toEqual({
      source: ["aws.backup"],
      "detail-type": ["Copy Job State Change"],
      detail: {
        state: ["COMPLETED"],
        destinationBackupVaultArn: [{ suffix: ":backup-vault:Default" }, { suffix: ":backup-vault:archive" }],
        resourceType: ["EBS", "RDS", "Aurora", "DynamoDB"],
      },
    });
  });

  it("sends both rules to the queue, with the DLQ for undeliverable events", () => {
    const targets = Object.entries<any>(out.resources("aws_cloudwatch_event_target"))
      .filter(([k]) => k.startsWith("event-intake_"))
      .map(([, v]) => v);
    expect(targets.map((t) => t.rule).sort()).toEqual(
      [`\${aws_cloudwatch_event_rule.${backupRuleId}.name}`, `\${aws_cloudwatch_event_rule.${copyRuleId}.name}`].sort(),
    );
    for (const target of targets) {
      expect(target).toEqual({
        rule: target.rule,
        target_id: "intake-queue",
        arn: `\${aws_sqs_queue.${queueId}.arn}`,
        dead_letter_config: { arn: `\${aws_sqs_queue.${dlqId}.arn}` },
        retry_policy: { maximum_event_age_in_seconds: 86400, maximum_retry_attempts: 185 },
      });
    }
  });

  it("encrypts the queue with the pipeline key, visibility 6x the starter timeout, redrive to the DLQ after 5 receives", () => {
    const { redrive_policy, ...queue } = sqs[queueId];
    expect(queue).toEqual({
      name: "backup-actions-intake",
      kms_master_key_id: keyArn,
      kms_data_key_reuse_period_seconds: 300,
      message_retention_seconds: 4 * 86400,
      visibility_timeout_seconds: 180,
    });
    expect(starterOf(out).timeout).toBe(30);
    expect(JSON.parse(redrive_policy)).toEqual({
      deadLetterTargetArn: `\${aws_sqs_queue.${dlqId}.arn}`,
      maxReceiveCount: 5,
    });
  });

  it("keeps the DLQ 14 days, encrypted, and lets only the intake queue redrive into it", () => {
    expect(sqs[dlqId]).toEqual({
      name: "backup-actions-intake-dlq",
      kms_master_key_id: keyArn,
      kms_data_key_reuse_period_seconds: 300,
      message_retention_seconds: 14 * 86400,
    });
    const allow = out.only("aws_sqs_queue_redrive_allow_policy");
    expect(allow.queue_url).toBe(`\${aws_sqs_queue.${dlqId}.url}`);
    expect(JSON.parse(allow.redrive_allow_policy)).toEqual({
      redrivePermission: "byQueue",
      sourceQueueArns: [`\${aws_sqs_queue.${queueId}.arn}`],
    });
  });

  it("queue policies: events.amazonaws.com may send only from the two intake rules (aws:SourceArn); TLS only", () => {
    const policies = out.resources("aws_sqs_queue_policy");
    for (const [queue, prefix] of [
      [queueId, "event-intake_queue-policy"],
      [dlqId, "event-intake_dlq-policy"],
    ] as const) {
      const policy = policies[idOf(policies, `${prefix}_`)];
      expect(policy.queue_url).toBe(`\${aws_sqs_queue.${queue}.url}`);
      const doc = docs[idOf(docs, `${prefix}-document_`)];
      expect(policy.policy).toBe(`\${local.${idOf(docs, `${prefix}-document_`)}}`);
      expect(doc.statement).toEqual([
        {
          sid: "EventBridgeFromTheIntakeRulesOnly",
          principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
          actions: ["sqs:SendMessage"],
          resources: [`\${aws_sqs_queue.${queue}.arn}`],
          condition: [
            {
              test: "ArnEquals",
              variable: "aws:SourceArn",
              values: [
                `\${aws_cloudwatch_event_rule.${backupRuleId}.arn}`,
                `\${aws_cloudwatch_event_rule.${copyRuleId}.arn}`,
              ],
            },
          ],
        },
        {
          sid: "DenyInsecureTransport",
          effect: "Deny",
          principals: [{ type: "*", identifiers: ["*"] }],
          actions: ["sqs:*"],
          resources: [`\${aws_sqs_queue.${queue}.arn}`],
          condition: [{ test: "Bool", variable: "aws:SecureTransport", values: ["false"] }],
        },
      ]);
    }
  });

  it("feeds the starter in batches of 10 with ReportBatchItemFailures, bounded concurrency, after its permissions exist", () => {
    const mapping = out.only("aws_lambda_event_source_mapping");
    const fnId = idOf(out.resources("aws_lambda_function"), "event-intake_starter_function_");
    const policyId = idOf(out.resources("aws_iam_role_policy"), "event-intake_starter_role-policy_");
    expect(mapping).toEqual({
      event_source_arn: `\${aws_sqs_queue.${queueId}.arn}`,
      function_name: `\${aws_lambda_function.${fnId}.arn}`,
      batch_size: 10,
      function_response_types: ["ReportBatchItemFailures"],
      scaling_config: { maximum_concurrency: 5 },
      depends_on: [`aws_iam_role_policy.${policyId}`],
    });
  });

  it("the starter: Node.js 22 arm64, its code hash, the dispatcher routes and the intake config in its environment", () => {
    const fn = starterOf(out);
    expect(fn).toMatchObject({
      function_name: "backup-actions-starter",
      runtime: "nodejs22.x",
      architectures: ["arm64"],
      handler: "index.handler",
      tracing_config: { mode: "Active" },
    });
    expect(fn.source_code_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(Object.keys(fn.environment.variables).sort()).toEqual([
      "BACKUP_ACTIONS_DISPATCHERS",
      "BACKUP_ACTIONS_INTAKE_CONFIG",
      "BACKUP_ACTIONS_PIPELINE",
      "NODE_OPTIONS",
      "POWERTOOLS_LOG_LEVEL",
      "POWERTOOLS_SERVICE_NAME",
    ]);
    expect(JSON.parse(fn.environment.variables.BACKUP_ACTIONS_DISPATCHERS)).toEqual({
      account: "111111111111",
      region: "us-east-1",
      name: "backup-actions",
      placements: { "us-east-1": 2 },
    });
    expect(JSON.parse(fn.environment.variables.BACKUP_ACTIONS_INTAKE_CONFIG)).toEqual({
      accounts: [{ id: "111111111111", regions: ["us-east-1"] }],
      backupVaults: ["Default", "archive"],
      exports: { ebs: true, rds: true, aurora: true, dynamodb: true },
    });
    expect(
      out.resources("aws_cloudwatch_log_group")[
        Object.keys(out.resources("aws_cloudwatch_log_group")).find((k) => k.includes("starter"))!
      ],
    ).toEqual({ name: "/aws/lambda/backup-actions-starter", retention_in_days: 365, kms_key_id: keyArn });
  });

  it("the starter's IAM statements: exactly its queue, the key, StartExecution on exactly the dispatcher (one region deployed)", () => {
    const policy = docs[idOf(docs, "event-intake_starter_policy_")];
    const logGroup = idOf(out.resources("aws_cloudwatch_log_group"), "event-intake_starter_log-group_");
    expect(policy.statement).toEqual([
      {
        sid: "WriteOwnLogs",
        actions: ["logs:CreateLogStream", "logs:PutLogEvents"],
        resources: [`\${aws_cloudwatch_log_group.${logGroup}.arn}:*`],
      },
      { sid: "WriteTraces", actions: ["xray:PutTraceSegments", "xray:PutTelemetryRecords"], resources: ["*"] },
      {
        sid: "ConsumeIntakeQueue",
        actions: ["sqs:ReceiveMessage", "sqs:DeleteMessage", "sqs:GetQueueAttributes"],
        resources: [`\${aws_sqs_queue.${queueId}.arn}`],
      },
      { sid: "DecryptIntakeMessages", actions: ["kms:Decrypt"], resources: [keyArn] },
      {
        sid: "StartDispatchers",
        actions: ["states:StartExecution"],
        resources: ["arn:aws:states:us-east-1:111111111111:stateMachine:backup-actions-dispatcher"],
      },
    ]);
  });

  it("exposes the queue and DLQ URLs as outputs", () => {
    expect(out.tf.output.intake_queue_url.value).toBe(`\${aws_sqs_queue.${queueId}.url}`);
    expect(out.tf.output.intake_dlq_url.value).toBe(`\${aws_sqs_queue.${dlqId}.url}`);
  });
});

describe("event intake of an account deployed in several regions (copy jobs, ADR 0006)", () => {
  // Account 111111111111 in three regions, a second account in one: each starter may start
  // the dispatchers of its own account's regions, and nothing else.
  const config = testConfig({
    name: "ba",
    accounts: [
      { id: "111111111111", regions: ["us-west-2", "us-east-1", "eu-west-1"] },
      { id: "222222222222", regions: ["us-east-1"], network: { vpcCidr: "10.43.0.0/16", azCount: 3 } },
    ],
  });
  const stacks = compose(config);
  const pipelineOf = (name: string) => synth(stacks.pipelines.find((p) => p.node.id === name)!);
  const west = pipelineOf("pipeline-111111111111-us-west-2");
  const statementOf = (o: ReturnType<typeof synth>) => {
    const docs = documentBlocks(o.tf);
    return docs[idOf(docs, "event-intake_starter_policy_")].statement.find((st: any) => st.sid === "StartDispatchers");
  };

  it("the starter in us-west-2 may start exactly the dispatchers of us-west-2, us-east-1 and eu-west-1 of its account", () => {
    expect(statementOf(west)).toEqual({
      sid: "StartDispatchers",
      actions: ["states:StartExecution"],
      resources: [
        "arn:aws:states:us-west-2:111111111111:stateMachine:ba-dispatcher",
        "arn:aws:states:us-east-1:111111111111:stateMachine:ba-dispatcher",
        "arn:aws:states:eu-west-1:111111111111:stateMachine:ba-dispatcher",
      ],
    });
    // The ARNs are the names the pipelines of those regions give their dispatchers.
    const east = pipelineOf("pipeline-111111111111-us-east-1");
    expect(Object.values<any>(east.resources("aws_sfn_state_machine")).map((m) => m.name)).toContain("ba-dispatcher");
    expect(statementOf(east).resources).toEqual(statementOf(west).resources);
  });

  it("its environment carries its own account and region, the config's name and each region's placement count", () => {
    expect(JSON.parse(starterOf(west).environment.variables.BACKUP_ACTIONS_DISPATCHERS)).toEqual({
      account: "111111111111",
      region: "us-west-2",
      name: "ba",
      placements: { "us-west-2": 2, "us-east-1": 2, "eu-west-1": 2 },
    });
  });

  it("which the starter reads as the dispatcher, archive bucket and placement count of each region", () => {
    const env = starterOf(west).environment.variables;
    expect(
      parseDispatcherRoutes(env.BACKUP_ACTIONS_DISPATCHERS, parseIntakeConfig(env.BACKUP_ACTIONS_INTAKE_CONFIG)),
    ).toEqual({
      account: "111111111111",
      region: "us-west-2",
      dispatchers: {
        "us-west-2": {
          stateMachineArn: "arn:aws:states:us-west-2:111111111111:stateMachine:ba-dispatcher",
          archiveBucket: "ba-archive-111111111111-us-west-2",
          placementCount: 2,
        },
        "us-east-1": {
          stateMachineArn: "arn:aws:states:us-east-1:111111111111:stateMachine:ba-dispatcher",
          archiveBucket: "ba-archive-111111111111-us-east-1",
          placementCount: 2,
        },
        "eu-west-1": {
          stateMachineArn: "arn:aws:states:eu-west-1:111111111111:stateMachine:ba-dispatcher",
          archiveBucket: "ba-archive-111111111111-eu-west-1",
          placementCount: 2,
        },
      },
    });
  });

  it("another account's starter gets only its own account's dispatcher, with that account's placement count", () => {
    const other = pipelineOf("pipeline-222222222222-us-east-1");
    expect(statementOf(other).resources).toEqual(["arn:aws:states:us-east-1:222222222222:stateMachine:ba-dispatcher"]);
    const env = starterOf(other).environment.variables;
    expect(JSON.parse(env.BACKUP_ACTIONS_DISPATCHERS).placements).toEqual({ "us-east-1": 3 });
    expect(
      parseDispatcherRoutes(env.BACKUP_ACTIONS_DISPATCHERS, parseIntakeConfig(env.BACKUP_ACTIONS_INTAKE_CONFIG))
        .dispatchers,
    ).toEqual({
      "us-east-1": {
        stateMachineArn: "arn:aws:states:us-east-1:222222222222:stateMachine:ba-dispatcher",
        archiveBucket: "ba-archive-222222222222-us-east-1",
        placementCount: 3,
      },
    });
  });

  it("every stack passes the security baseline", () => {
    expect(() => checkStacks(stacks)).not.toThrow();
  });
});

describe("pipeline KMS key", () => {
  it("is created with rotation when the config names none; its policy lets in the account, this pipeline's log groups, EventBridge and CloudWatch alarms only", () => {
    const out = synth(compose(testConfig()).pipelines[0]!);
    expect(out.only("aws_kms_key")).toMatchObject({ enable_key_rotation: true, deletion_window_in_days: 30 });
    expect(out.only("aws_kms_alias").name).toBe("alias/backup-actions-pipeline");
    const docs = documentBlocks(out.tf);
    expect(docs[idOf(docs, "pipeline-key_policy_")].statement).toEqual([
      // The statements of every key that encrypts log groups (asserted one by one in EncryptedLogGroup's test).
      ...logsKeyPolicyStatements({
        accountId: "111111111111",
        region: "us-east-1",
        logGroupArns: [
          "arn:aws:logs:us-east-1:111111111111:log-group:/aws/lambda/backup-actions-*",
          "arn:aws:logs:us-east-1:111111111111:log-group:/backup-actions/*",
          "arn:aws:logs:us-east-1:111111111111:log-group:/aws/vendedlogs/states/backup-actions-*",
        ],
      }),
      {
        sid: "EventBridgeSendsToEncryptedQueues",
        principals: [{ type: "Service", identifiers: ["events.amazonaws.com"] }],
        actions: ["kms:GenerateDataKey", "kms:Decrypt"],
        resources: ["*"],
      },
      // the alarms' notifications to the encrypted topic (__tests__/stacks/monitoring.test.ts)
      {
        sid: "CloudWatchAlarmsUseTopicKey",
        principals: [{ type: "Service", identifiers: ["cloudwatch.amazonaws.com"] }],
        actions: ["kms:Decrypt", "kms:GenerateDataKey*"],
        resources: ["*"],
        condition: [{ test: "StringEquals", variable: "aws:SourceAccount", values: ["111111111111"] }],
      },
    ]);
  });

  it("is not created when config.kmsKeyArn is set; queues and logs use that key", () => {
    const kmsKeyArn = "arn:aws:kms:us-east-1:111111111111:key/12345678-1234-1234-1234-123456789012";
    const out = synth(compose(testConfig({ kmsKeyArn })).pipelines[0]!);
    expect(out.resources("aws_kms_key")).toEqual({});
    for (const queue of Object.values<any>(out.resources("aws_sqs_queue")))
      expect(queue.kms_master_key_id).toBe(kmsKeyArn);
    for (const group of Object.values<any>(out.resources("aws_cloudwatch_log_group")))
      expect(group.kms_key_id).toBe(kmsKeyArn);
  });

  it("a multi-Region kmsKeyArn: each region's pipeline uses the key's replica in that region", () => {
    const kmsKeyArn = "arn:aws:kms:us-east-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef";
    const pipelines = compose(
      testConfig({ kmsKeyArn, accounts: [{ id: "111111111111", regions: ["us-east-1", "eu-west-1"] }] }),
    ).pipelines;
    expect(pipelines.map((p) => p.kmsKeyArn)).toEqual([
      kmsKeyArn,
      "arn:aws:kms:eu-west-1:111111111111:key/mrk-0123456789abcdef0123456789abcdef",
    ]);
    const out = synth(pipelines[1]!);
    expect(out.resources("aws_kms_key")).toEqual({});
    for (const queue of Object.values<any>(out.resources("aws_sqs_queue")))
      expect(queue.kms_master_key_id).toBe(pipelines[1]!.kmsKeyArn);
    expect(out.json).not.toContain("arn:aws:kms:us-east-1:");
  });
});

describe("switched-off types", () => {
  it("leave the rules' resourceType list; RDS stays while Aurora is on (Aurora clusters can be reported as RDS)", () => {
    expect(intakeResourceTypes({ ebs: true, rds: false, aurora: true, dynamodb: false })).toEqual([
      "EBS",
      "RDS",
      "Aurora",
    ]);
    expect(intakeResourceTypes({ ebs: false, rds: true, aurora: false, dynamodb: true })).toEqual(["RDS", "DynamoDB"]);
    const out = synth(compose(testConfig({ exports: { ebs: false, aurora: false } })).pipelines[0]!);
    for (const [, rule] of Object.entries<any>(out.resources("aws_cloudwatch_event_rule")).filter(([k]) =>
      k.startsWith("event-intake_"),
    )) {
      expect(JSON.parse(rule.event_pattern).detail.resourceType).toEqual(["RDS", "DynamoDB"]);
    }
  });

  /** Builds an EventIntake for `region` (ROUTES are for ba in 111111111111/us-east-1), changed by `props`. */
  const intakeIn =
    (region: string, props: Partial<ConstructorParameters<typeof EventIntake>[2]> = {}, name = "ba") =>
    () => {
      const stack = new TerraformStack(Testing.app(), "t");
      new AwsProvider(stack, "aws", { region });
      new EventIntake(stack, "intake", {
        context: {
          name,
          accountId: "111111111111",
          region,
          partition: "aws",
          kmsKeyArn: `arn:aws:kms:${region}:111111111111:key/12345678-1234-1234-1234-123456789012`,
        },
        config: intakeConfigOf(testConfig()),
        routes: ROUTES,
        ...props,
      });
    };

  it("all off: the intake refuses to build, with the reason", () => {
    const config = intakeConfigOf(testConfig({ exports: { ebs: false, rds: false, aurora: false, dynamodb: false } }));
    expect(intakeIn("us-east-1", { config })).toThrow(
      "event intake: every export type (exports.ebs, rds, aurora, dynamodb) is switched off, so there is nothing to take in",
    );
  });

  it("routes for another pipeline: the intake refuses to build", () => {
    expect(intakeIn("us-west-2")).toThrow(
      "event intake: the dispatcher routes are for 111111111111/us-east-1, not this pipeline's 111111111111/us-west-2",
    );
  });

  it("routes of another installation (config.name): the intake refuses to build", () => {
    expect(intakeIn("us-east-1", {}, "other")).toThrow(
      "event intake: the dispatcher routes name the dispatchers of ba, not this pipeline's other",
    );
  });
});
