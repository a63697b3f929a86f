/**
 * Applies synthesized stacks to the moto server with the real terraform binary and
 * the real AWS provider. The synthesized JSON is never edited: each stack is copied to
 * a work directory and a Terraform override file (`zz_moto_override.tf.json`) points
 * every AWS endpoint at moto, skips credential and account checks, uses path-style S3
 * and a local backend, and reads other stacks' remote state from their local state.
 */
import { spawn } from "node:child_process";
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import * as path from "node:path";

export const REPO_ROOT = path.resolve(__dirname, "..", "..");

/**
 * Every provider endpoint the stacks can use, pointed at moto. Keys are the AWS
 * provider 5.x `endpoints` block names (canonical names only: an alias next to its
 * canonical name is an error).
 */
export const PROVIDER_ENDPOINT_KEYS = [
  "batch",
  "cloudwatch",
  "dynamodb",
  "ec2",
  "ecr",
  "events",
  "iam",
  "kms",
  "lambda",
  "logs",
  "rds",
  "s3",
  "scheduler",
  "sfn",
  "sns",
  "sqs",
  "ssm",
  "sts",
  "xray",
] as const;

export interface OverrideOptions {
  readonly motoUrl: string;
  /** `terraform_remote_state` data source name → local state file it should read. */
  readonly remoteStates?: Record<string, string>;
  /** Extra resource-level overrides: `{ "<type>": { "<name>": { ... } } }`. */
  readonly resources?: Record<string, Record<string, unknown>>;
}

export function motoOverride(opts: OverrideOptions): Record<string, unknown> {
  const endpoints = Object.fromEntries(PROVIDER_ENDPOINT_KEYS.map((k) => [k, opts.motoUrl]));
  const override: Record<string, any> = {
    terraform: { backend: { local: { path: "terraform.tfstate" } } },
    provider: {
      aws: [
        {
          access_key: "testing",
          secret_key: "testing",
          skip_credentials_validation: true,
          skip_metadata_api_check: true,
          skip_region_validation: true,
          // moto answers GetCallerIdentity with its own account; the stacks pin the
          // configured one, which moto cannot be. Dropping the pin is the only change.
          allowed_account_ids: null,
          s3_use_path_style: true,
          endpoints: [endpoints],
        },
      ],
    },
  };
  if (opts.remoteStates && Object.keys(opts.remoteStates).length > 0) {
    override.data = {
      terraform_remote_state: Object.fromEntries(
        Object.entries(opts.remoteStates).map(([name, file]) => [name, { backend: "local", config: { path: file } }]),
      ),
    };
  }
  if (opts.resources && Object.keys(opts.resources).length > 0) override.resource = opts.resources;
  return override;
}

export interface TerraformResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Writes the project's CLI config (provider mirror when present) and returns the env. */
export function terraformEnv(workDir: string): NodeJS.ProcessEnv {
  const mirror = process.env.TF_PROVIDER_MIRROR ?? "/opt/tf-plugins";
  const rc = path.join(workDir, "terraformrc");
  if (existsSync(mirror)) {
    // Init links each stack to the (unpacked) mirror: no copy, so no shared plugin cache that concurrent inits race on
    // (a cache entry rewritten by one init while another stack planned against it was seen to fail CI).
    writeFileSync(
      rc,
      `provider_installation {\n  filesystem_mirror {\n    path    = "${mirror}"\n    include = ["registry.terraform.io/*/*"]\n  }\n}\n`,
    );
  } else {
    const cache = path.join(workDir, "plugin-cache");
    mkdirSync(cache, { recursive: true });
    writeFileSync(rc, `plugin_cache_dir = "${cache}"\n`);
  }
  return { ...process.env, TF_CLI_CONFIG_FILE: rc, TF_IN_AUTOMATION: "1", TF_INPUT: "0", CHECKPOINT_DISABLE: "1" };
}

export function terraform(
  dir: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs = 600_000,
): Promise<TerraformResult> {
  return new Promise((resolve, reject) => {
    const child = spawn("terraform", [...args], { cwd: dir, env, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGTERM"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
}

/** Copies a synthesized stack directory into `workDir/<stack>` with the moto override. */
export function prepareStack(
  synthDir: string,
  stack: string,
  workDir: string,
  override: Record<string, unknown>,
): string {
  const dir = path.join(workDir, stack);
  cpSync(path.join(synthDir, "stacks", stack), dir, { recursive: true });
  writeFileSync(path.join(dir, "zz_moto_override.tf.json"), JSON.stringify(override, null, 2));
  return dir;
}

/** Resource addresses in a stack's state file. */
export function stateAddresses(dir: string): string[] {
  const file = path.join(dir, "terraform.tfstate");
  if (!existsSync(file)) return [];
  const state = JSON.parse(readFileSync(file, "utf8")) as {
    resources?: Array<{ mode: string; type: string; name: string }>;
  };
  return (state.resources ?? []).filter((r) => r.mode === "managed").map((r) => `${r.type}.${r.name}`);
}
