/**
 * What Terraform sends AWS for a synthesized stack, as far as synthesis knows it: the stack's
 * `${...}` references rendered to the values AWS will give them (a function's ARN from its name, a
 * key's ARN with a key id of its real length, ...), so a size quota can be checked before apply.
 * A reference this module cannot render fails loudly: a check that skipped it would undercount.
 */
import { partitionOf } from "../core/partition";

/** Step Functions' "Maximum state machine definition size" (a hard quota). */
export const SFN_DEFINITION_LIMIT_BYTES = 1024 * 1024;

/** A key id as AWS gives it: a UUID (36 characters). */
const KEY_ID = "00000000-0000-0000-0000-000000000000";
/** A security group id as AWS gives it: `sg-` and 17 hex digits. */
const SECURITY_GROUP_ID = "sg-0123456789abcdef0";

interface StackContext {
  readonly tf: any;
  readonly partition: string;
  readonly region: string;
  readonly account: string;
}

type Renderer = (ctx: StackContext, config: any, name: (attr: string) => string) => string;

/** `<type>.<attribute>` → its value, from the resource's own configuration. */
const RENDERERS: Readonly<Record<string, Renderer>> = {
  "aws_kms_key.arn": (c) => `arn:${c.partition}:kms:${c.region}:${c.account}:key/${KEY_ID}`,
  "aws_kms_key.key_id": () => KEY_ID,
  "aws_lambda_function.arn": (c, _, name) =>
    `arn:${c.partition}:lambda:${c.region}:${c.account}:function:${name("function_name")}`,
  "aws_sns_topic.arn": (c, _, name) => `arn:${c.partition}:sns:${c.region}:${c.account}:${name("name")}`,
  "aws_sqs_queue.arn": (c, _, name) => `arn:${c.partition}:sqs:${c.region}:${c.account}:${name("name")}`,
  "aws_sqs_queue.url": (c, _, name) => `https://sqs.${c.region}.amazonaws.com/${c.account}/${name("name")}`,
  "aws_batch_job_queue.arn": (c, _, name) =>
    `arn:${c.partition}:batch:${c.region}:${c.account}:job-queue/${name("name")}`,
  "aws_sfn_state_machine.arn": (c, _, name) =>
    `arn:${c.partition}:states:${c.region}:${c.account}:stateMachine:${name("name")}`,
  "aws_dynamodb_table.name": (_, __, name) => name("name"),
  "aws_dynamodb_table.arn": (c, _, name) =>
    `arn:${c.partition}:dynamodb:${c.region}:${c.account}:table/${name("name")}`,
  "aws_db_subnet_group.name": (_, __, name) => name("name"),
  "aws_s3_bucket.bucket": (_, __, name) => name("bucket"),
  "aws_s3_bucket.id": (_, __, name) => name("bucket"),
  "aws_s3_bucket.arn": (c, _, name) => `arn:${c.partition}:s3:::${name("bucket")}`,
  "aws_security_group.id": () => SECURITY_GROUP_ID,
};

/** The remote-state outputs a pipeline reads from its network, rendered as AWS names them. */
const REMOTE_ELEMENT = /^element\(data\.terraform_remote_state\.network\.outputs\.subnet_availability_zones, (\d+)\)$/;

/** Renders every `${...}` of `text` as AWS will see it; throws naming a reference it cannot render. */
export function renderReferences(text: string, tf: any): string {
  const provider = tf.provider?.aws?.[0];
  if (!provider?.region || !provider.allowed_account_ids?.[0])
    throw new Error("the stack has no AWS provider with a region and an allowed account");
  const ctx: StackContext = {
    tf,
    partition: partitionOf(provider.region),
    region: provider.region,
    account: provider.allowed_account_ids[0],
  };
  return render(text, ctx, 0);
}

function render(text: string, ctx: StackContext, depth: number): string {
  if (depth > 5) throw new Error(`references nest too deep in ${text.slice(0, 200)}`);
  return text.replace(/\$\{([^}]*)\}/g, (_, expr: string) => renderOne(expr.trim(), ctx, depth));
}

function renderOne(expr: string, ctx: StackContext, depth: number): string {
  const az = REMOTE_ELEMENT.exec(expr);
  // An AZ name: the region and one letter (eu-west-1a).
  if (az) return `${ctx.region}${String.fromCharCode(97 + Number(az[1]))}`;
  const ref = /^(aws_[a-z0-9_]+)\.([A-Za-z0-9_-]+)\.([a-z_]+)$/.exec(expr);
  const renderer = ref && RENDERERS[`${ref[1]}.${ref[3]}`];
  if (!ref || !renderer) throw new Error(`cannot render \${${expr}}: add it to testing/rendered-size.ts`);
  const config = ctx.tf.resource?.[ref[1]!]?.[ref[2]!];
  if (!config) throw new Error(`\${${expr}} names a resource the stack does not declare`);
  const name = (attr: string): string => {
    const value = config[attr];
    if (typeof value !== "string") throw new Error(`\${${expr}}: ${ref[1]}.${ref[2]} has no literal ${attr}`);
    return render(value, ctx, depth + 1);
  };
  return renderer(ctx, config, name);
}
