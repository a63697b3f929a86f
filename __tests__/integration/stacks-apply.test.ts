/**
 * Deployability on this machine: every stack of the default config, in each egress
 * mode, goes through `terraform init`, `plan`, `apply` against the moto server, then a
 * second `plan` that must show no changes, then `destroy`. Real terraform, real AWS
 * provider (from the offline mirror), the synthesized JSON unedited (an override file
 * redirects endpoints and backends).
 *
 * The provider's waiters (S3 lifecycle, Batch, VPC endpoints, ...) poll every few seconds, so one mode's
 * cycle is mostly waiting: bootstrap and the three modes run at once, each mode against a moto server of
 * its own (the bench's for endpoints and bootstrap, one more each for nat and public), since the stacks of
 * every mode name the same resources.
 */
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, writeFileSync } from "node:fs";
import { freePort } from "../../testing/free-port";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { DescribeVpcEndpointsCommand, EC2Client } from "@aws-sdk/client-ec2";
import { countPlan, formatPlanSummary, readPlans } from "../../cli/commands/plan-summary";
import { motoMissing } from "../../testing/moto/availability";
import {
  clearStaleLauncher,
  findPythonWithMoto,
  type RunningServer,
  startLauncher,
  stopServerProcess,
} from "../../testing/moto/process-control";
import { describeWithPrereqs } from "../../testing/prereq";
import {
  motoOverride,
  prepareStack,
  stateAddresses,
  terraform,
  terraformEnv,
} from "../../testing/terraform/moto-apply";
import {
  ADJUSTMENTS,
  forMoto,
  matches,
  MOTO_CANNOT_CREATE,
  MOTO_DRIFT,
  pipelineAdjustments,
  readDefaultConfig,
  skippedResources,
  synthesizeConfig,
  terraformOk,
} from "../../testing/terraform/moto-deploy";

function missingPrereqs(): string[] {
  const missing: string[] = [];
  missing.push(...motoMissing());
  if (spawnSync("terraform", ["version"], { encoding: "utf8" }).status !== 0) missing.push("terraform on PATH");
  return missing;
}

const work = mkdtempSync(path.join(tmpdir(), "ba-apply-"));
const benchMotoUrl = () => `http://127.0.0.1:${process.env.MOTO_PORT}`;

/** One synthesis per egress mode (bootstrap is the same in every mode: it uses the endpoints one). */
const synthesized = new Map<string, Promise<string>>();
function synthesize(egress: string): Promise<string> {
  if (!synthesized.has(egress)) {
    const defaults = forMoto(readDefaultConfig());
    const config = { ...defaults, network: { ...defaults.network, egress } };
    synthesized.set(egress, synthesizeConfig(config, path.join(work, `synth-${egress}`)));
  }
  return synthesized.get(egress)!;
}

const expectOk = terraformOk;

/**
 * Real plans of the bench, for `backup-actions plan-summary` (the pull request comment): each plan's
 * `terraform show -json` with Terraform's own "Plan: …" line of the same plan, which the summary's
 * counts must equal.
 */
const realPlans: { name: string; json: unknown; planLine: string }[] = [];

/** `terraform plan` (its args) → `show -json` of the saved plan → recorded in realPlans. */
async function planAndRecord(dir: string, args: string[], env: NodeJS.ProcessEnv, name: string) {
  const plan = await expectOk(dir, ["plan", "-input=false", ...args], env);
  const json = JSON.parse((await expectOk(dir, ["show", "-json", args.at(-1)!.replace(/^-out=/, "")], env)).stdout);
  const planLine = /^Plan: .*$/m.exec(plan.stdout)?.[0] ?? /No changes\./.exec(plan.stdout)?.[0] ?? "";
  realPlans.push({ name: `${path.relative(work, dir)} ${name}`, json, planLine });
}

/** Destroy through a saved plan, so the destroy plan is recorded too. */
async function destroyRecorded(dir: string, env: NodeJS.ProcessEnv) {
  await planAndRecord(dir, ["-destroy", "-out=destroy.tfplan"], env, "destroy");
  await expectOk(dir, ["apply", "-input=false", "-auto-approve", "destroy.tfplan"], env);
}

/** MOTO_DRIFT patterns some second plan needed: one that none needs is stale and must go. */
const driftSeen = new Set<string>();

/** plan → apply → plan again (after init). */
async function replanAfterApply(dir: string, env: NodeJS.ProcessEnv, drift: Record<string, string>) {
  await planAndRecord(dir, ["-out=tfplan"], env, "create");
  await expectOk(dir, ["apply", "-input=false", "-auto-approve", "tfplan"], env);
  const replan = await terraform(dir, ["plan", "-input=false", "-detailed-exitcode", "-no-color", "-out=replan"], env);
  // -detailed-exitcode: 0 = no changes, 2 = changes, 1 = error.
  if (replan.code === 0) {
    expect(replan.stdout).toMatch(/No changes\. Your infrastructure matches the configuration\./);
    return;
  }
  if (replan.code !== 2) throw new Error(`second plan of ${path.basename(dir)} failed:\n${replan.stderr}`);
  const shown = JSON.parse((await expectOk(dir, ["show", "-json", "replan"], env)).stdout);
  realPlans.push({
    name: `${path.relative(work, dir)} replan`,
    json: shown,
    planLine: /^Plan: .*$/m.exec(replan.stdout)?.[0] ?? "",
  });
  const changes = (shown.resource_changes ?? [])
    .filter(
      (c: any) =>
        c.mode === "managed" && !(c.change.actions.length === 1 && ["no-op", "read"].includes(c.change.actions[0])),
    )
    .map((c: any) => ({ address: c.address as string, actions: c.change.actions as string[] }));
  const unexplained = changes.filter((c: { address: string; actions: string[] }) => {
    const pattern = Object.keys(drift).find((p) => matches(p, c.address));
    if (c.actions.join() !== "update" || pattern === undefined) return true;
    driftSeen.add(pattern);
    return false;
  });
  if (unexplained.length > 0)
    throw new Error(
      `second plan of ${path.basename(dir)} is not empty:\n${JSON.stringify(unexplained, null, 2)}\n${replan.stdout}`,
    );
}

/** Terraform's plugin cache is not safe for concurrent installs: the modes' inits take turns. */
let initQueue: Promise<unknown> = Promise.resolve();
function init(dir: string, env: NodeJS.ProcessEnv) {
  const run = initQueue.then(() => expectOk(dir, ["init", "-input=false"], env));
  initQueue = run.catch(() => undefined);
  return run;
}

/**
 * init → plan → apply → plan again. The second plan must be empty, except for in-place
 * updates of the resources listed in MOTO_DRIFT (when `drift` allows them).
 */
async function applyAndReplanConcurrently(dir: string, env: NodeJS.ProcessEnv, drift: Record<string, string> = {}) {
  await init(dir, env);
  await replanAfterApply(dir, env, drift);
}

/** Settled promises never reject unhandled; each test awaits the one it asserts on. */
function quiet<T>(p: Promise<T>): Promise<T> {
  p.catch(() => undefined);
  return p;
}

interface ModeRun {
  network: Promise<{ addresses: string[] }>;
  pipeline: Promise<{ outputs: any; addresses: string[]; endpointPolicyResources: string[] }>;
  destroyed: Promise<{ pipeline: string[]; network: string[] }>;
}

function runMode(egress: string, motoUrl: string, env: NodeJS.ProcessEnv): ModeRun {
  const network = `network-111111111111-us-east-1`;
  const pipeline = `pipeline-111111111111-us-east-1`;
  const dirs = synthesize(egress).then((synthDir) => {
    const modeDir = path.join(work, egress);
    const networkOverride = motoOverride({ motoUrl, resources: skippedResources("network", synthDir, network) });
    const networkDir = prepareStack(synthDir, network, modeDir, networkOverride);
    const pipelineDir = prepareStack(
      synthDir,
      pipeline,
      modeDir,
      motoOverride({
        motoUrl,
        remoteStates: { network: path.join(networkDir, "terraform.tfstate") },
        resources: { ...skippedResources("pipeline", synthDir, pipeline), ...pipelineAdjustments(synthDir, pipeline) },
      }),
    );
    return { networkDir, pipelineDir };
  });
  const networkRun = dirs.then(async ({ networkDir }) => {
    await applyAndReplanConcurrently(networkDir, env);
    return { addresses: stateAddresses(networkDir) };
  });
  const pipelineRun = networkRun.then(async () => {
    const { networkDir, pipelineDir } = await dirs;
    await applyAndReplanConcurrently(pipelineDir, env, MOTO_DRIFT);
    const outputs = JSON.parse((await expectOk(pipelineDir, ["output", "-json"], env)).stdout);
    // The network's S3 gateway endpoint now carries the pipeline's narrow policy.
    const networkOutputs = JSON.parse((await expectOk(networkDir, ["output", "-json"], env)).stdout);
    const ec2 = new EC2Client({ endpoint: motoUrl });
    try {
      const described = new DescribeVpcEndpointsCommand({ VpcEndpointIds: [networkOutputs.s3_endpoint_id.value] });
      const { VpcEndpoints } = await ec2.send(described);
      const policy = JSON.parse(VpcEndpoints?.[0]?.PolicyDocument ?? "{}");
      const endpointPolicyResources = policy.Statement.flatMap((st: { Resource: string | string[] }) =>
        [st.Resource].flat(),
      ).sort();
      return { outputs, addresses: stateAddresses(pipelineDir), endpointPolicyResources };
    } finally {
      ec2.destroy();
    }
  });
  const destroyed = pipelineRun.then(async () => {
    const { networkDir, pipelineDir } = await dirs;
    await destroyRecorded(pipelineDir, env);
    await destroyRecorded(networkDir, env);
    return { pipeline: stateAddresses(pipelineDir), network: stateAddresses(networkDir) };
  });
  return { network: quiet(networkRun), pipeline: quiet(pipelineRun), destroyed: quiet(destroyed) };
}

const MODES = ["endpoints", "nat", "public"] as const;

describeWithPrereqs("synthesized stacks applied to moto", missingPrereqs(), () => {
  jest.setTimeout(15 * 60_000);
  const extraMoto: RunningServer[] = [];
  const runs = new Map<string, ModeRun>();
  let bootstrap: { applied: Promise<string[]>; destroyed: Promise<string[]> };

  beforeAll(async () => {
    const env = terraformEnv(work);
    const python = findPythonWithMoto();
    if ("missing" in python) throw new Error(python.missing);
    // endpoints shares the bench's moto with bootstrap (no name in common); nat and public get one each.
    const urls: Record<string, string> = { endpoints: benchMotoUrl() };
    for (const egress of MODES.slice(1)) {
      const port = await freePort();
      await clearStaleLauncher(port);
      extraMoto.push(await startLauncher(python.python, port));
      urls[egress] = `http://127.0.0.1:${port}`;
    }
    const bootstrapDir = synthesize("endpoints").then((synthDir) => {
      return prepareStack(
        synthDir,
        "bootstrap",
        work,
        motoOverride({
          motoUrl: benchMotoUrl(),
          // The state bucket is protected from destroy; the test must be able to destroy it.
          resources: {
            ...skippedResources("bootstrap", synthDir, "bootstrap"),
            aws_s3_bucket: { state: { lifecycle: { prevent_destroy: false } } },
          },
        }),
      );
    });
    // The backend of bootstrap is already local: the override only relocates it.
    const applied = quiet(
      bootstrapDir.then(async (dir) => {
        await applyAndReplanConcurrently(dir, env);
        return stateAddresses(dir);
      }),
    );
    const destroyed = quiet(
      applied.then(async () => {
        const dir = await bootstrapDir;
        await destroyRecorded(dir, env);
        return stateAddresses(dir);
      }),
    );
    bootstrap = { applied, destroyed };
    for (const egress of MODES) runs.set(egress, runMode(egress, urls[egress], env));
  });

  afterAll(async () => {
    // Each run has settled (or failed) before its moto stops.
    await Promise.allSettled([...runs.values()].map((r) => r.destroyed));
    await Promise.all(extraMoto.map((m) => stopServerProcess(m)));
  });

  it("lists every resource it cannot apply, and every adjustment, with a reason", () => {
    for (const entry of Object.values(MOTO_CANNOT_CREATE)) expect(entry.reason.length).toBeGreaterThan(10);
    for (const reason of Object.values(ADJUSTMENTS)) expect(reason).toMatch(/: .{10,}/);
    for (const reason of Object.values(MOTO_DRIFT)) expect(reason.length).toBeGreaterThan(10);
  });

  it("needs every MOTO_DRIFT entry: each explains an update some pipeline's second plan shows", async () => {
    await Promise.allSettled([...runs.values()].map((r) => r.pipeline));
    expect(Object.keys(MOTO_DRIFT).filter((pattern) => !driftSeen.has(pattern))).toEqual([]);
  });

  it("summarizes every real plan for the pull request comment with Terraform's own counts", async () => {
    await Promise.allSettled([bootstrap.destroyed, ...[...runs.values()].map((r) => r.destroyed)]);
    const names = realPlans.map((p) => p.name).sort();
    // bootstrap, and network and pipeline of each mode: created and destroyed; the pipeline's drift replan
    expect(names.filter((n) => n.endsWith(" create"))).toHaveLength(1 + 2 * MODES.length);
    expect(names.filter((n) => n.endsWith(" destroy"))).toHaveLength(1 + 2 * MODES.length);
    expect(names.some((n) => n.endsWith(" replan"))).toBe(true);
    for (const { name, json, planLine } of realPlans) {
      const c = countPlan(json as never);
      const expected =
        planLine === "No changes."
          ? "No changes."
          : `Plan: ${c.import > 0 ? `${c.import} to import, ` : ""}${c.add} to add, ${c.change} to change, ${c.destroy} to destroy.`;
      expect(`${name}: ${expected}`).toBe(`${name}: ${planLine}`);
    }
    // The comment of every create plan: one row each, the totals in the headline.
    const dir = mkdtempSync(path.join(tmpdir(), "real-plans-"));
    for (const { name, json } of realPlans.filter((p) => p.name.endsWith(" create"))) {
      const folder = path.join(dir, name.replace(/[/ ]/g, "_"));
      mkdirSync(folder);
      writeFileSync(path.join(folder, "plan.json"), JSON.stringify(json));
    }
    const body = formatPlanSummary(readPlans(dir));
    const adds = realPlans.filter((p) => p.name.endsWith(" create")).map((p) => countPlan(p.json as never).add);
    expect(body).toContain(`, ${adds.reduce((a, b) => a + b, 0)} to add, 0 to change, 0 to destroy`);
    expect(body.split("\n").filter((l) => l.startsWith("| `"))).toHaveLength(adds.length);
  });

  describe("bootstrap", () => {
    it("applies and re-plans with no changes", async () => {
      const addresses = await bootstrap.applied;
      expect(addresses).toEqual(expect.arrayContaining(["aws_s3_bucket.state", "aws_s3_bucket_policy.state-policy"]));
    });
    it("destroys", async () => {
      expect(await bootstrap.destroyed).toEqual([]);
    });
  });

  describe.each(MODES)("%s egress mode", (egress) => {
    it("applies the network stack and re-plans with no changes", async () => {
      const { addresses } = await runs.get(egress)!.network;
      expect(addresses).toContain("aws_vpc.vpc");
      if (egress === "nat") expect(addresses).toContain("aws_nat_gateway.nat");
      if (egress === "endpoints")
        // core/interface-endpoints.ts for the default config: seven for any worker, ssm for the native dumps
        expect(addresses.filter((a) => a.startsWith("aws_vpc_endpoint.interface-endpoints"))).toHaveLength(8);
    });

    it("applies the pipeline stack against the network's state and re-plans with no changes but moto's listed drift", async () => {
      const { outputs, addresses, endpointPolicyResources } = await runs.get(egress)!.pipeline;
      expect(outputs.network_vpc_id.value).toMatch(/^vpc-/);
      expect(outputs.archive_bucket_name.value).toBe("backup-actions-archive-111111111111-us-east-1");
      expect(outputs.worker_job_queue_arns.value).toHaveLength(2);
      for (const type of [
        "aws_batch_compute_environment",
        "aws_batch_job_queue",
        "aws_batch_job_definition",
        "aws_lambda_function",
        "aws_sqs_queue",
        "aws_dynamodb_table",
        "aws_cloudwatch_event_rule",
        "aws_launch_template",
      ]) {
        expect(addresses.some((a) => a.startsWith(`${type}.`))).toBe(true);
      }
      expect(endpointPolicyResources).toEqual([
        "arn:aws:s3:::backup-actions-archive-111111111111-us-east-1",
        "arn:aws:s3:::backup-actions-archive-111111111111-us-east-1/*",
        "arn:aws:s3:::prod-us-east-1-starport-layer-bucket/*",
      ]);
    });

    it("destroys the pipeline, then the network", async () => {
      expect(await runs.get(egress)!.destroyed).toEqual({ pipeline: [], network: [] });
    });
  });
});
