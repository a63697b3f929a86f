/**
 * The IAM model of one synthesized pipeline stack, as `terraform apply` would leave it: every role
 * (trust policy, inline policies), every resource policy (bucket, topic, queue, key, S3 gateway
 * endpoint) as IAM JSON, with the stack's interpolations (`${aws_s3_bucket.x.arn}`) replaced by the
 * values AWS would give them for the deployment's account and region. An interpolation this file
 * cannot value fails loudly, naming it: add its resource type to ARN_OF below.
 */
import { createHash } from "node:crypto";
import type { MapFacts } from "./action-map";
import type { RoleKey } from "./recorder";
import { parsePolicyTemplate } from "../../stacks/constructs/policy-document";

/** Every role of a pipeline stack, keyed by what it does; `calls` roles make AWS requests from our code. */
export const ROLES: Readonly<
  Record<string, { readonly logicalId: RegExp; readonly service: string; readonly calls: boolean }>
> = {
  starter: { logicalId: /^event-intake_starter_role_[0-9A-F]{8}$/, service: "lambda.amazonaws.com", calls: true },
  verify: { logicalId: /^verify_role_[0-9A-F]{8}$/, service: "lambda.amazonaws.com", calls: true },
  janitor: { logicalId: /^janitor_function_role_[0-9A-F]{8}$/, service: "lambda.amazonaws.com", calls: true },
  reconciler: { logicalId: /^reconciler_function_role_[0-9A-F]{8}$/, service: "lambda.amazonaws.com", calls: true },
  dispatcher: { logicalId: /^workflows_dispatcher_role_[0-9A-F]{8}$/, service: "states.amazonaws.com", calls: true },
  "ebs-export": { logicalId: /^workflows_ebs_role_[0-9A-F]{8}$/, service: "states.amazonaws.com", calls: true },
  backstop: { logicalId: /^notifications_backstop_role_[0-9A-F]{8}$/, service: "states.amazonaws.com", calls: true },
  // Used by EventBridge, not by our code: the backstop rule starts the backstop machine with it.
  "backstop-rule": {
    logicalId: /^notifications_backstop-rule-role_[0-9A-F]{8}$/,
    service: "events.amazonaws.com",
    calls: false,
  },
  "dynamodb-export": {
    logicalId: /^workflows_dynamodb_role_[0-9A-F]{8}$/,
    service: "states.amazonaws.com",
    calls: true,
  },
  "rds-export": {
    logicalId: /^workflows_databases_rds_role_[0-9A-F]{8}$/,
    service: "states.amazonaws.com",
    calls: true,
  },
  "aurora-export": {
    logicalId: /^workflows_databases_aurora_role_[0-9A-F]{8}$/,
    service: "states.amazonaws.com",
    calls: true,
  },
  // StartExportTask's IamRoleArn: RDS writes the Parquet files with it (in tests, testing/rds-export-fake.ts).
  "rds-s3-export": {
    logicalId: /^workflows_databases_export-role_[0-9A-F]{8}$/,
    service: "export.rds.amazonaws.com",
    calls: true,
  },
  // The native dump's password function (lambdas/dump-password).
  "dump-password": {
    logicalId: /^workflows_databases_dump-password_role_[0-9A-F]{8}$/,
    service: "lambda.amazonaws.com",
    calls: true,
  },
  "worker-job": { logicalId: /^worker-job_job-role_[0-9A-F]{8}$/, service: "ecs-tasks.amazonaws.com", calls: true },
  // The restore drill (config drills.enabled): its function, its machine, and the role its schedule starts it with.
  drill: { logicalId: /^drill_function_role_[0-9A-F]{8}$/, service: "lambda.amazonaws.com", calls: true },
  "drill-machine": { logicalId: /^drill_machine_role_[0-9A-F]{8}$/, service: "states.amazonaws.com", calls: true },
  "drill-schedule": {
    logicalId: /^drill_schedule-role_[0-9A-F]{8}$/,
    service: "events.amazonaws.com",
    calls: false,
  },
  // Used by AWS on our behalf, not by our code: ECS pulls the image and ships logs; the ECS agent on
  // the Batch instance registers it with the cluster.
  "worker-execution": {
    logicalId: /^worker-job_execution-role_[0-9A-F]{8}$/,
    service: "ecs-tasks.amazonaws.com",
    calls: false,
  },
  "batch-instance": { logicalId: /^batch_instance-role_[0-9A-F]{8}$/, service: "ec2.amazonaws.com", calls: false },
};

export type Policy = { Version: "2012-10-17"; Statement: Statement[] };
export type Statement = Record<string, unknown> & {
  Sid?: string;
  Effect: "Allow" | "Deny";
  Action?: string[];
  NotAction?: string[];
};

export interface ModelRole {
  readonly key: string;
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
  readonly trust: Policy;
  readonly policies: { readonly name: string; readonly policy: Policy }[];
  /** Its S3 requests pass the S3 gateway endpoint (and its policy): the Batch job, Lambdas in a VPC. */
  readonly inVpc: boolean;
}

export interface IamModel {
  readonly account: string;
  readonly region: string;
  readonly partition: string;
  readonly roles: Readonly<Record<string, ModelRole>>;
  /** Resource policies by the ARN they protect (a bucket's also covers its objects). */
  readonly resourcePolicies: ReadonlyMap<string, Policy>;
  readonly vpcEndpointPolicies: readonly { readonly name: string; readonly policy: Policy }[];
  readonly facts: MapFacts;
  roleFor(key: RoleKey | string): ModelRole;
  /** The resource policy that applies to a request's resource, if any. */
  resourcePolicyFor(resourceArn: string): Policy | undefined;
}

type Tf = {
  resource?: Record<string, Record<string, any>>;
  data?: Record<string, Record<string, any>>;
  locals?: Record<string, unknown>;
};

/** A stable fake UUID for resources whose id AWS generates (KMS keys). */
export function fakeUuid(seed: string): string {
  const h = createHash("sha256").update(seed).digest("hex");
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20, 32)}`;
}

export function buildModel(tfInput: unknown, account: string, region: string, partition = "aws"): IamModel {
  const tf = tfInput as Tf;
  const resources = tf.resource ?? {};
  const data = tf.data ?? {};
  const locals = tf.locals ?? {};

  const resolving = new Set<string>();
  const resolve = (value: unknown): any => {
    if (typeof value === "string") {
      // A whole-string interpolation keeps the value's type; inside a string it is spliced in.
      const whole = /^\$\{([^{}]+)\}$/.exec(value);
      if (whole) return valueOf(whole[1]!.trim());
      return value.replace(/\$\{([^{}]+)\}/g, (_m, expr: string) => String(valueOf(expr.trim())));
    }
    if (Array.isArray(value)) return value.map(resolve);
    if (value && typeof value === "object")
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolve(v)]));
    return value;
  };

  const ARN_OF: Record<string, (c: any, id: string) => Record<string, string>> = {
    aws_s3_bucket: (c) => ({
      arn: `arn:${partition}:s3:::${resolve(c.bucket)}`,
      id: resolve(c.bucket),
      bucket: resolve(c.bucket),
    }),
    aws_kms_key: (_c, id) => {
      const uuid = fakeUuid(`${account}/${region}/${id}`);
      return { arn: `arn:${partition}:kms:${region}:${account}:key/${uuid}`, id: uuid, key_id: uuid };
    },
    aws_sns_topic: (c) => {
      const arn = `arn:${partition}:sns:${region}:${account}:${resolve(c.name)}`;
      return { arn, id: arn, name: resolve(c.name) };
    },
    aws_sqs_queue: (c) => ({
      arn: `arn:${partition}:sqs:${region}:${account}:${resolve(c.name)}`,
      url: `https://sqs.${region}.amazonaws.com/${account}/${resolve(c.name)}`,
      id: `https://sqs.${region}.amazonaws.com/${account}/${resolve(c.name)}`,
      name: resolve(c.name),
    }),
    aws_dynamodb_table: (c) => ({
      arn: `arn:${partition}:dynamodb:${region}:${account}:table/${resolve(c.name)}`,
      id: resolve(c.name),
      name: resolve(c.name),
    }),
    aws_lambda_function: (c) => ({
      arn: `arn:${partition}:lambda:${region}:${account}:function:${resolve(c.function_name)}`,
      function_name: resolve(c.function_name),
      id: resolve(c.function_name),
    }),
    aws_cloudwatch_log_group: (c) => ({
      arn: `arn:${partition}:logs:${region}:${account}:log-group:${resolve(c.name)}`,
      name: resolve(c.name),
      id: resolve(c.name),
    }),
    aws_cloudwatch_event_rule: (c) => ({
      arn: `arn:${partition}:events:${region}:${account}:rule/${resolve(c.name)}`,
      name: resolve(c.name),
      id: resolve(c.name),
    }),
    aws_ecr_repository: (c) => ({
      arn: `arn:${partition}:ecr:${region}:${account}:repository/${resolve(c.name)}`,
      repository_url: `${account}.dkr.ecr.${region}.amazonaws.com/${resolve(c.name)}`,
      name: resolve(c.name),
    }),
    aws_iam_role: (c) => ({
      arn: `arn:${partition}:iam::${account}:role/${resolve(c.name)}`,
      id: resolve(c.name),
      name: resolve(c.name),
    }),
    aws_sfn_state_machine: (c) => ({
      arn: `arn:${partition}:states:${region}:${account}:stateMachine:${resolve(c.name)}`,
      name: resolve(c.name),
    }),
    aws_batch_job_queue: (c) => ({
      arn: `arn:${partition}:batch:${region}:${account}:job-queue/${resolve(c.name)}`,
      name: resolve(c.name),
    }),
    aws_batch_job_definition: (c) => ({
      arn: `arn:${partition}:batch:${region}:${account}:job-definition/${resolve(c.name)}:1`,
      name: resolve(c.name),
    }),
  };

  function valueOf(expr: string): unknown {
    if (resolving.has(expr)) throw new Error(`IAM model: the interpolation \${${expr}} refers to itself`);
    resolving.add(expr);
    try {
      const remote = /^data\.terraform_remote_state\.(\w+)\.outputs\.(\w+)$/.exec(expr);
      if (remote) return `remote-${remote[1]}-${remote[2]}`;
      // A PolicyDocument: the policy JSON as a template, its interpolations valued like any other.
      const local = /^local\.([\w-]+)$/.exec(expr);
      if (local) {
        const template = locals[local[1]!];
        if (typeof template !== "string") throw new Error(`IAM model: no string local.${local[1]}`);
        return JSON.stringify(parsePolicyTemplate(template, (e) => String(valueOf(e.trim()))));
      }
      const doc = /^data\.aws_iam_policy_document\.([\w-]+)\.json$/.exec(expr);
      if (doc) {
        const block = data.aws_iam_policy_document?.[doc[1]!];
        if (!block) throw new Error(`IAM model: no data.aws_iam_policy_document.${doc[1]}`);
        return JSON.stringify(policyOf(block));
      }
      const ref = /^(aws_[a-z0-9_]+)\.([\w-]+)\.(\w+)$/.exec(expr);
      if (ref) {
        const [, type, id, attr] = ref as unknown as [string, string, string, string];
        const config = resources[type]?.[id];
        const of = ARN_OF[type];
        if (!config) throw new Error(`IAM model: the interpolation \${${expr}} names no resource of the stack`);
        if (!of) throw new Error(`IAM model: cannot value \${${expr}}: add ${type} to ARN_OF in testing/iam/model.ts`);
        const attrs = of(config, id);
        if (!(attr in attrs))
          throw new Error(`IAM model: cannot value \${${expr}}: ARN_OF.${type} has no attribute ${attr}`);
        return attrs[attr];
      }
      throw new Error(`IAM model: cannot value the interpolation \${${expr}}`);
    } finally {
      resolving.delete(expr);
    }
  }

  /** data.aws_iam_policy_document → IAM JSON (the provider's own conversion, for the fields we use). */
  function policyOf(block: any): Policy {
    const statements = (block.statement ?? []).map((s: any): Statement => {
      const out: Statement = { Effect: s.effect ?? "Allow" };
      if (s.sid) out.Sid = s.sid;
      if (s.actions) out.Action = resolve(s.actions);
      if (s.not_actions) out.NotAction = resolve(s.not_actions);
      if (s.resources) out.Resource = resolve(s.resources);
      if (s.not_resources) out.NotResource = resolve(s.not_resources);
      for (const [field, key] of [
        ["principals", "Principal"],
        ["not_principals", "NotPrincipal"],
      ] as const) {
        if (!s[field]) continue;
        const list = s[field] as { type: string; identifiers: string[] }[];
        if (list.some((p) => p.type === "*")) out[key] = "*";
        else {
          const principal: Record<string, string[]> = {};
          for (const p of list) principal[p.type] = [...(principal[p.type] ?? []), ...resolve(p.identifiers)];
          out[key] = principal;
        }
      }
      if (s.condition) {
        const condition: Record<string, Record<string, string[]>> = {};
        for (const c of s.condition as { test: string; variable: string; values: string[] }[]) {
          condition[c.test] ??= {};
          if (condition[c.test]![c.variable])
            throw new Error(`IAM model: statement ${s.sid ?? "?"} repeats the condition ${c.test} ${c.variable}`);
          condition[c.test]![c.variable] = resolve(c.values);
        }
        out.Condition = condition;
      }
      if (!s.resources && !s.not_resources && !s.principals && !s.not_principals) out.Resource = ["*"];
      return out;
    });
    return { Version: "2012-10-17", Statement: statements };
  }

  const parse = (value: unknown): Policy => {
    const v = resolve(value);
    return typeof v === "string" ? (JSON.parse(v) as Policy) : (v as Policy);
  };

  // Roles and their inline policies.
  const roles: Record<string, ModelRole> = {};
  const inlineByRole = new Map<string, { name: string; policy: Policy }[]>();
  for (const [id, p] of Object.entries(resources.aws_iam_role_policy ?? {})) {
    const roleName = resolve(p.role) as string;
    inlineByRole.set(roleName, [
      ...(inlineByRole.get(roleName) ?? []),
      { name: String(resolve(p.name) ?? id), policy: parse(p.policy) },
    ]);
  }
  if (
    Object.keys(resources.aws_iam_role_policy_attachment ?? {}).length > 0 ||
    Object.values(resources.aws_iam_role ?? {}).some((r) => r.managed_policy_arns)
  ) {
    throw new Error("IAM model: a managed policy is attached to a role; teach testing/iam/model.ts to read it");
  }
  const lambdaInVpc = new Set(
    Object.values(resources.aws_lambda_function ?? {})
      .filter((f) => f.vpc_config)
      .map((f) => resolve(f.role) as string),
  );
  for (const [id, r] of Object.entries(resources.aws_iam_role ?? {})) {
    const key = Object.entries(ROLES).find(([, spec]) => spec.logicalId.test(id))?.[0];
    if (!key)
      throw new Error(
        `IAM model: role ${id} (${resolve(r.name)}) is not in ROLES of testing/iam/model.ts: say which service assumes it and whether our code calls AWS with it`,
      );
    if (r.inline_policy) throw new Error(`IAM model: role ${id} has an inline_policy block; use aws_iam_role_policy`);
    const name = resolve(r.name) as string;
    const arn = `arn:${partition}:iam::${account}:role/${name}`;
    roles[key] = {
      key,
      logicalId: id,
      name,
      arn,
      trust: parse(r.assume_role_policy),
      policies: inlineByRole.get(name) ?? [],
      inVpc: key === "worker-job" || lambdaInVpc.has(arn),
    };
  }

  // Resource policies.
  const resourcePolicies = new Map<string, Policy>();
  for (const p of Object.values(resources.aws_s3_bucket_policy ?? {}))
    resourcePolicies.set(`arn:${partition}:s3:::${resolve(p.bucket)}`, parse(p.policy));
  for (const p of Object.values(resources.aws_sns_topic_policy ?? {}))
    resourcePolicies.set(resolve(p.arn), parse(p.policy));
  for (const p of Object.values(resources.aws_sqs_queue_policy ?? {})) {
    const url = resolve(p.queue_url) as string;
    const name = url.split("/").at(-1);
    resourcePolicies.set(`arn:${partition}:sqs:${region}:${account}:${name}`, parse(p.policy));
  }
  for (const [id, k] of Object.entries(resources.aws_kms_key ?? {})) {
    if (k.policy) resourcePolicies.set(valueOf(`aws_kms_key.${id}.arn`) as string, parse(k.policy));
  }
  const vpcEndpointPolicies = Object.entries(resources.aws_vpc_endpoint_policy ?? {}).map(([id, p]) => ({
    name: id,
    policy: parse(p.policy),
  }));

  const facts: MapFacts = {
    account,
    region,
    partition,
    kmsKeyOfBucket(bucket) {
      for (const e of Object.values(resources.aws_s3_bucket_server_side_encryption_configuration ?? {})) {
        if (resolve(e.bucket) !== bucket) continue;
        const rule = (e.rule ?? [])[0]?.apply_server_side_encryption_by_default;
        return rule?.sse_algorithm?.startsWith("aws:kms") ? (resolve(rule.kms_master_key_id) as string) : undefined;
      }
      return undefined;
    },
    kmsKeyOfTopic(topicArn) {
      const t = Object.entries(resources.aws_sns_topic ?? {}).find(
        ([id]) => valueOf(`aws_sns_topic.${id}.arn`) === topicArn,
      )?.[1];
      return t?.kms_master_key_id ? (resolve(t.kms_master_key_id) as string) : undefined;
    },
    kmsKeyOfQueue(queueArn) {
      const q = Object.entries(resources.aws_sqs_queue ?? {}).find(
        ([id]) => valueOf(`aws_sqs_queue.${id}.arn`) === queueArn,
      )?.[1];
      return q?.kms_master_key_id ? (resolve(q.kms_master_key_id) as string) : undefined;
    },
    kmsKeyOfParameter(name) {
      // The dump branch's passwords: the password function writes them under its path with its key.
      for (const f of Object.values(resources.aws_lambda_function ?? {})) {
        const env = f.environment?.variables ?? {};
        const path = env.DUMP_PASSWORD_PARAMETER_PATH;
        if (typeof path === "string" && name.startsWith(path)) return resolve(env.DUMP_PASSWORD_KEY_ARN) as string;
      }
      return undefined;
    },
  };

  return {
    account,
    region,
    partition,
    roles,
    resourcePolicies,
    vpcEndpointPolicies,
    facts,
    roleFor(key) {
      const role = roles[key];
      if (!role)
        throw new Error(`IAM model: the stack has no role for "${key}" (roles: ${Object.keys(roles).join(", ")})`);
      return role;
    },
    resourcePolicyFor(arn) {
      const s3 = /^arn:[^:]+:s3:::([^/]+)/.exec(arn);
      if (s3) return resourcePolicies.get(`arn:${partition}:s3:::${s3[1]}`);
      return resourcePolicies.get(arn);
    },
  };
}
