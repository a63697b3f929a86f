/**
 * A config's stacks deployed to a moto server, and other configs planned against what was deployed: what
 * `__tests__/integration/stacks-apply.test.ts`, `__tests__/integration/plan-diff.test.ts` and `npm run plan:moto`
 * share. The synthesized JSON is never edited; what moto cannot do is adjusted in the override file
 * (moto-apply.ts), each adjustment with its reason below.
 */
import { spawn } from "node:child_process";
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import * as path from "node:path";
import { motoOverride, REPO_ROOT, terraform, type TerraformResult } from "./moto-apply";

export type StackKind = "bootstrap" | "network" | "pipeline";

/**
 * Resources moto cannot create, each with the reason. They are switched off with
 * `count = 0` in the override file (never by editing the synthesized JSON).
 */
export const MOTO_CANNOT_CREATE: Record<string, { stack: StackKind; reason: string }> = {
  "aws_sqs_queue_redrive_allow_policy.event-intake_dlq-redrive-allow_*": {
    stack: "pipeline",
    reason:
      "moto 5.2.1 rejects the RedriveAllowPolicy queue attribute (InvalidAttributeName), so the provider waits for it until its timeout",
  },
};

/**
 * What a deployment to moto changes, each with the reason. Only through the
 * config (what a user could set too) or the override file.
 */
export const ADJUSTMENTS = {
  workerImage: "config worker.imageUri: there is no Docker engine to build the image at apply time (ADR 0004)",
  batchServiceRole:
    "aws_batch_compute_environment.service_role: moto 5.2.1 requires an existing role; AWS uses Batch's service-linked role when it is unset",
  batchSecurityGroups:
    "aws_batch_compute_environment.compute_resources.security_group_ids: moto 5.2.1 crashes without them; ours sit on the launch template (AWS rejects both)",
  ledgerDeletionProtection:
    "aws_dynamodb_table.deletion_protection_enabled=false: the test must destroy what it applied",
  stateBucketPreventDestroy:
    "aws_s3_bucket.state lifecycle.prevent_destroy=false: the test must destroy what it applied",
} as const;

/**
 * Attributes moto 5.2.1 does not round-trip, so a plan of the applied pipeline shows an
 * in-place update of these resources (never a replacement, never anything else). Each
 * address pattern with the reason; the network and bootstrap stacks must have none, and every entry must be
 * needed (stacks-apply.test.ts fails on one no second plan shows).
 */
export const MOTO_DRIFT: Record<string, string> = {
  "aws_lambda_function.*":
    "moto does not store or return the function's LoggingConfig (JSON logs to the named log group)",
  "aws_launch_template.*":
    "moto returns the template's own tags as a tag specification of its data, so the provider plans to drop it (a new version)",
  "aws_batch_compute_environment.*": "follows the new launch template version planned above",
  "aws_sqs_queue.event-intake_queue_*": "moto returns RedrivePolicy re-serialized with maxReceiveCount as a string",
};

/** worker.imageUri of every config deployed to moto (ADJUSTMENTS.workerImage). */
export const PREBUILT_IMAGE = "123456789012.dkr.ecr.us-east-1.amazonaws.com/backup-actions-worker:test";

/** `type.name` matches a MOTO_CANNOT_CREATE / drift pattern (`*` = anything). */
export const matches = (pattern: string, address: string) =>
  new RegExp(`^${pattern.replace(/[.]/g, "\\.").replace(/\*/g, ".*")}$`).test(address);

/** The config as deployed to moto: a prebuilt worker image (ADJUSTMENTS.workerImage). */
export function forMoto(config: Record<string, any>): Record<string, any> {
  return { ...config, worker: { ...config.worker, imageUri: PREBUILT_IMAGE } };
}

export function readDefaultConfig(): Record<string, any> {
  return JSON.parse(readFileSync(path.join(REPO_ROOT, "config", "default.json"), "utf8"));
}

/** Synthesizes `config` (written to `<outdir>.json`) into `outdir` with main.ts, as `npm run synth` would. */
export function synthesizeConfig(config: unknown, outdir: string): Promise<string> {
  const file = `${outdir}.json`;
  writeFileSync(file, JSON.stringify(config));
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(REPO_ROOT, "node_modules", ".bin", "tsx"), ["main.ts"], {
      cwd: REPO_ROOT,
      env: { ...process.env, BACKUP_ACTIONS_CONFIG: file, CDKTF_OUTDIR: outdir },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let stderr = "";
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) =>
      code === 0 ? resolve(outdir) : reject(new Error(`synthesis of ${file} failed:\n${stderr}`)),
    );
  });
}

/** The stacks of a synthesis, by kind: bootstrap, the network, the pipeline (one account and region). */
export function stacksOf(synthDir: string): { bootstrap?: string; network: string; pipeline: string } {
  const tree = JSON.parse(readFileSync(path.join(synthDir, "manifest.json"), "utf8")) as {
    stacks: Record<string, unknown>;
  };
  const names = Object.keys(tree.stacks);
  const only = (prefix: string) => {
    const found = names.filter((n) => n.startsWith(prefix));
    if (found.length !== 1)
      throw new Error(`expected one ${prefix}* stack in ${synthDir}, found ${found.join(", ") || "none"}`);
    return found[0]!;
  };
  return {
    bootstrap: names.includes("bootstrap") ? "bootstrap" : undefined,
    network: only("network-"),
    pipeline: only("pipeline-"),
  };
}

const tfOf = (synthDir: string, stack: string) =>
  JSON.parse(readFileSync(path.join(synthDir, "stacks", stack, "cdk.tf.json"), "utf8"));

/** The override entries for ADJUSTMENTS, built from the synthesized pipeline JSON. */
export function pipelineAdjustments(synthDir: string, stack: string): Record<string, Record<string, unknown>> {
  const tf = tfOf(synthDir, stack);
  const resources: Record<string, Record<string, unknown>> = {};
  for (const [name, ce] of Object.entries<any>(tf.resource.aws_batch_compute_environment ?? {})) {
    // Nested blocks are replaced whole by an override: repeat compute_resources with the groups added.
    const { ["//"]: _meta, ...computeResources } = ce.compute_resources;
    (resources.aws_batch_compute_environment ??= {})[name] = {
      // moto checks that the role exists: any role of the stack will do.
      service_role: `\${aws_iam_role.${Object.keys(tf.resource.aws_iam_role).find((k) => k.startsWith("batch_instance-role_"))}.arn}`,
      compute_resources: {
        ...computeResources,
        security_group_ids: ["${data.terraform_remote_state.network.outputs.worker_security_group_id}"],
      },
    };
  }
  for (const name of Object.keys(tf.resource.aws_dynamodb_table ?? {}))
    (resources.aws_dynamodb_table ??= {})[name] = { deletion_protection_enabled: false };
  return resources;
}

/** `count = 0` for the stack's resources in MOTO_CANNOT_CREATE. */
export function skippedResources(stack: StackKind, synthDir: string, stackName: string) {
  const tf = tfOf(synthDir, stackName);
  const resources: Record<string, Record<string, unknown>> = {};
  for (const [address, entry] of Object.entries(MOTO_CANNOT_CREATE)) {
    if (entry.stack !== stack) continue;
    const [type] = address.split(".") as [string, string];
    for (const name of Object.keys(tf.resource?.[type] ?? {})) {
      if (matches(address, `${type}.${name}`)) (resources[type] ??= {})[name] = { count: 0 };
    }
  }
  return resources;
}

/** The override file of one stack of `synthDir` (moto endpoints, local state, ADJUSTMENTS, MOTO_CANNOT_CREATE). */
export function overrideFor(
  kind: StackKind,
  synthDir: string,
  stack: string,
  motoUrl: string,
  networkState?: string,
): Record<string, unknown> {
  const resources = { ...skippedResources(kind, synthDir, stack) };
  if (kind === "pipeline") Object.assign(resources, pipelineAdjustments(synthDir, stack));
  if (kind === "bootstrap") resources.aws_s3_bucket = { state: { lifecycle: { prevent_destroy: false } } };
  return motoOverride({
    motoUrl,
    remoteStates: networkState ? { network: networkState } : undefined,
    resources,
  });
}

/**
 * Puts `synthDir`'s `stack` into `dir` with its override, over what an earlier config left there: the state
 * (`terraform.tfstate`) and the providers (`.terraform`) stay, the configuration is replaced.
 */
export function placeStack(
  kind: StackKind,
  synthDir: string,
  stack: string,
  dir: string,
  motoUrl: string,
  networkState?: string,
): string {
  mkdirSync(dir, { recursive: true });
  for (const old of ["cdk.tf.json", "assets"]) rmSync(path.join(dir, old), { recursive: true, force: true });
  cpSync(path.join(synthDir, "stacks", stack), dir, { recursive: true });
  writeFileSync(
    path.join(dir, "zz_moto_override.tf.json"),
    JSON.stringify(overrideFor(kind, synthDir, stack, motoUrl, networkState), null, 2),
  );
  return dir;
}

/** terraform with `-no-color`; a non-zero exit throws with what terraform said. */
export async function terraformOk(dir: string, args: string[], env: NodeJS.ProcessEnv): Promise<TerraformResult> {
  const r = await terraform(dir, [...args, "-no-color"], env);
  if (r.code !== 0)
    throw new Error(
      `terraform ${args.join(" ")} failed in ${path.basename(dir)}:\n${r.stderr}\n${r.stdout.slice(-4000)}`,
    );
  return r;
}

/** One resource change of `terraform show -json`. */
export interface ResourceChange {
  readonly address: string;
  readonly previous_address?: string;
  readonly mode: string;
  readonly type: string;
  readonly change: {
    readonly actions: readonly string[];
    readonly before?: Record<string, unknown> | null;
    readonly after?: Record<string, unknown> | null;
    readonly after_unknown?: Record<string, unknown>;
  };
}

/**
 * `terraform plan -out=<name>.tfplan` (with `-refresh=false` unless `refresh`), then its `show -json` and
 * Terraform's own "Plan:" line.
 */
export async function planJson(
  dir: string,
  name: string,
  env: NodeJS.ProcessEnv,
  refresh = true,
): Promise<{ json: { resource_changes?: ResourceChange[] } & Record<string, unknown>; planLine: string }> {
  const args = ["plan", "-input=false", ...(refresh ? [] : ["-refresh=false"]), `-out=${name}.tfplan`];
  const plan = await terraformOk(dir, args, env);
  const json = JSON.parse((await terraformOk(dir, ["show", "-json", `${name}.tfplan`], env)).stdout);
  const planLine = /^Plan: .*$/m.exec(plan.stdout)?.[0] ?? /No changes\./.exec(plan.stdout)?.[0] ?? "";
  return { json, planLine };
}

/** Managed resources a plan creates, updates, replaces or destroys, with their actions (no-ops, reads and moves left out). */
export function changedResources(json: { resource_changes?: readonly ResourceChange[] }): Map<string, string> {
  const changed = new Map<string, string>();
  for (const rc of json.resource_changes ?? []) {
    if (rc.mode !== "managed") continue;
    const actions = rc.change.actions.join(",");
    if (actions === "no-op" || actions === "read") continue;
    changed.set(rc.address, actions);
  }
  return changed;
}
