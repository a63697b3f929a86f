/**
 * Plans a reviewer can read (issue 12, item 6): the default config's stacks are applied to moto once, then one
 * key at a time is changed and planned against that state. Each plan must change exactly the resources the key is
 * about, and no policy that did not change may be `(known after apply)`: a reviewer reads every statement.
 *
 * moto does not round-trip a few attributes (MOTO_DRIFT), so a plan of the unchanged config is not empty either:
 * a change counts as the key's when its planned actions or values differ from that baseline plan's.
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import * as path from "node:path";
import { countPlan } from "../../cli/commands/plan-summary";
import { motoMissing } from "../../testing/moto/availability";
import { describeWithPrereqs } from "../../testing/prereq";
import { terraformEnv } from "../../testing/terraform/moto-apply";
import {
  changedResources,
  forMoto,
  matches,
  MOTO_DRIFT,
  placeStack,
  planJson,
  readDefaultConfig,
  type ResourceChange,
  stacksOf,
  type StackKind,
  synthesizeConfig,
  terraformOk,
} from "../../testing/terraform/moto-deploy";

function missingPrereqs(): string[] {
  const missing = [...motoMissing()];
  if (spawnSync("terraform", ["version"], { encoding: "utf8" }).status !== 0) missing.push("terraform on PATH");
  return missing;
}

const KINDS: readonly StackKind[] = ["bootstrap", "network", "pipeline"];
type Plans = Record<StackKind, { resource_changes?: ResourceChange[] }>;

/** The one-key changes of the default config a reviewer plans. */
const CHANGES: Record<string, (c: Record<string, any>) => Record<string, any>> = {
  "worker.vcpus 4 → 8": (c) => ({ ...c, worker: { ...c.worker, vcpus: 8 } }),
  "one more backup vault": (c) => ({ ...c, backupVaults: [...c.backupVaults, "Secondary"] }),
  "one more tag": (c) => ({ ...c, tags: { ...c.tags, "cost-center": "storage" } }),
  "a lifecycle rule: deep archive after 180 days": (c) => ({
    ...c,
    lifecycleRules: { ...c.lifecycleRules, deepArchive: 180 },
  }),
};

/**
 * Attributes that an update of a resource shows as changed although the config did not change them, each with the
 * reason: a reviewer sees these in the tag change's plan next to the tags.
 */
const UPDATE_NOISE: Record<string, { attributes: string[]; reason: string }> = {
  aws_cloudwatch_metric_alarm: {
    attributes: ["metric_query"],
    reason:
      "the state holds each metric_query's period as null (as read back from moto), an update plans it as 0, so the provider re-lists every query of the alarm (a set) as removed and added",
  },
};

/** JSON with object keys sorted and list items sorted: Terraform lists a set's items in no fixed order. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).sort().join(",")}]`;
  if (value !== null && typeof value === "object")
    return `{${Object.keys(value)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((value as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(value) ?? "undefined";
}

/** Changes of `plan` that the baseline plan (same state, unchanged config) does not have: address → actions. */
function changesBeyond(
  plan: { resource_changes?: ResourceChange[] },
  baseline: { resource_changes?: ResourceChange[] },
) {
  const before = new Map((baseline.resource_changes ?? []).map((rc) => [rc.address, canonical(rc.change)]));
  const byAddress = new Map((plan.resource_changes ?? []).map((rc) => [rc.address, canonical(rc.change)]));
  return Object.fromEntries([...changedResources(plan)].filter(([a]) => before.get(a) !== byAddress.get(a)));
}

/** `address: attribute` of every policy-like attribute a plan leaves to apply time. */
function unknownPolicies(plan: { resource_changes?: ResourceChange[] }): string[] {
  const found: string[] = [];
  for (const rc of plan.resource_changes ?? []) {
    if (rc.mode !== "managed" || !rc.change.actions.includes("update")) continue;
    for (const [key, unknown] of Object.entries(rc.change.after_unknown ?? {}))
      if (unknown === true && /policy|definition/.test(key)) found.push(`${rc.address}: ${key}`);
  }
  return found.sort();
}

describeWithPrereqs(
  "plans of one-key config changes against the default config applied to moto",
  missingPrereqs(),
  () => {
    jest.setTimeout(20 * 60_000);
    const work = mkdtempSync(path.join(tmpdir(), "ba-plan-diff-"));
    const motoUrl = `http://127.0.0.1:${process.env.MOTO_PORT}`;
    const env = terraformEnv(work);
    const base = forMoto(readDefaultConfig());
    let names: ReturnType<typeof stacksOf>;
    const dirs = Object.fromEntries(KINDS.map((k) => [k, path.join(work, k)])) as Record<StackKind, string>;
    const networkState = path.join(dirs.network, "terraform.tfstate");
    let baseline: Plans;
    const plans = new Map<string, Plans>();

    /** Puts one synthesis into the three stack directories and plans them all (the state stays). */
    async function planAll(synthDir: string, name: string): Promise<Plans> {
      for (const kind of KINDS)
        placeStack(kind, synthDir, names[kind]!, dirs[kind], motoUrl, kind === "pipeline" ? networkState : undefined);
      const planned = await Promise.all(KINDS.map((kind) => planJson(dirs[kind], name, env, false)));
      for (const [i, kind] of KINDS.entries()) {
        // The summary's counts are Terraform's own.
        const c = countPlan(planned[i]!.json as never);
        if (planned[i]!.planLine !== "No changes.")
          expect(`${kind} ${name}: ${planned[i]!.planLine}`).toBe(
            `${kind} ${name}: Plan: ${c.add} to add, ${c.change} to change, ${c.destroy} to destroy.`,
          );
      }
      return Object.fromEntries(KINDS.map((k, i) => [k, planned[i]!.json])) as Plans;
    }

    beforeAll(async () => {
      // Every synthesis at once: the changed configs synthesize while the default one applies.
      const synths = Object.fromEntries(
        Object.entries(CHANGES).map(([name, change], i) => [
          name,
          synthesizeConfig(change(base), path.join(work, `synth-${i}`)).catch((e: Error) => e),
        ]),
      );
      const baseSynth = await synthesizeConfig(base, path.join(work, "synth-default"));
      names = stacksOf(baseSynth);
      for (const kind of KINDS)
        placeStack(kind, baseSynth, names[kind]!, dirs[kind], motoUrl, kind === "pipeline" ? networkState : undefined);
      const apply = async (kind: StackKind) => {
        await terraformOk(dirs[kind], ["init", "-input=false"], env);
        await terraformOk(dirs[kind], ["apply", "-input=false", "-auto-approve"], env);
      };
      await Promise.all([apply("bootstrap"), apply("network").then(() => apply("pipeline"))]);
      // No refresh in any plan: the state is the one just applied, and each plan is then its config's change alone
      // (stacks-apply.test.ts re-plans with a refresh).
      baseline = await planAll(baseSynth, "baseline");
      // One change at a time: they share the stack directories (and so the one applied state).
      for (const [name, synth] of Object.entries(synths)) {
        const dir = await synth;
        if (dir instanceof Error) throw dir;
        plans.set(name, await planAll(dir, `change-${plans.size}`));
      }
    });

    it("lists every attribute an update shows without a change, with a reason", () => {
      for (const { reason } of Object.values(UPDATE_NOISE)) expect(reason.length).toBeGreaterThan(20);
    });

    it("re-plans the unchanged config with nothing but moto's listed drift, none of it a policy left to apply", () => {
      for (const kind of KINDS)
        for (const [address, actions] of changedResources(baseline[kind]))
          expect(`${address} ${actions}`).toMatch(
            kind === "pipeline" && Object.keys(MOTO_DRIFT).some((p) => matches(p, address)) ? / update$/ : /^$/,
          );
      for (const kind of KINDS) expect(unknownPolicies(baseline[kind])).toEqual([]);
    });

    /** The changed resources of each stack; the tag change is checked on its own below. */
    const EXPECTED: Record<string, Record<StackKind, Record<string, string>>> = {
      "worker.vcpus 4 → 8": {
        bootstrap: {},
        network: {},
        // A new revision of the job definition, nothing else: the state machine submits it by name.
        pipeline: { "aws_batch_job_definition.worker-job_this_B9D8DEA6": "update" },
      },
      "one more backup vault": {
        bootstrap: {},
        network: {},
        // The rules' event patterns and the starter's environment list the vaults, and so do the reconciler's
        // environment and its ListRecoveryPointsByBackupVault grant (one ARN per vault); the queue policies do not change.
        pipeline: {
          "aws_cloudwatch_event_rule.event-intake_backup-job-rule_ADE68EA3": "update",
          "aws_cloudwatch_event_rule.event-intake_copy-job-rule_BEEA8107": "update",
          "aws_iam_role_policy.reconciler_function_role-policy_A24DE201": "update",
          "aws_lambda_function.event-intake_starter_function_931D946C": "update",
          "aws_lambda_function.reconciler_function_88033447": "update",
        },
      },
      "a lifecycle rule: deep archive after 180 days": {
        bootstrap: {},
        network: {},
        pipeline: { "aws_s3_bucket_lifecycle_configuration.archive_this_lifecycle_F2F991D6": "update" },
      },
    };

    it.each(Object.keys(EXPECTED))("%s: changes exactly the resources it is about", (name) => {
      const planned = plans.get(name)!;
      for (const kind of KINDS)
        expect({ [kind]: changesBeyond(planned[kind], baseline[kind]) }).toEqual({
          [kind]: EXPECTED[name]![kind],
        });
    });

    it("worker.vcpus 4 → 8: the job definition's environment keeps its order; only the vCPUs and what follows from them change", () => {
      const rc = plans
        .get("worker.vcpus 4 → 8")!
        .pipeline.resource_changes!.find((c) => c.type === "aws_batch_job_definition")!;
      const [before, after] = [rc.change.before, rc.change.after].map((v) =>
        JSON.parse(String(v!.container_properties)),
      );
      const names = (p: { environment: { name: string }[] }) => p.environment.map((e) => e.name);
      expect(names(after)).toEqual(names(before));
      const value = (p: { environment: { name: string; value: string }[] }, n: string) =>
        p.environment.find((e) => e.name === n)!.value;
      expect(names(after).filter((n) => value(after, n) !== value(before, n))).toEqual([
        "BACKUP_ACTIONS_PART_MEMORY_MIB",
        "BACKUP_ACTIONS_VCPUS",
      ]);
      expect(value(after, "BACKUP_ACTIONS_VCPUS")).toBe("8");
      expect(after.resourceRequirements).toEqual([
        { type: "VCPU", value: "8" },
        { type: "MEMORY", value: String(base.worker.memoryMiB) },
      ]);
    });

    it("one more tag: updates in place every resource that carries tags, and nothing but their tags", () => {
      const planned = plans.get("one more tag")!;
      for (const kind of KINDS) {
        const changes = (planned[kind].resource_changes ?? []).filter((rc) => rc.mode === "managed");
        const tagged = changes
          .filter((rc) => rc.change.before && "tags_all" in rc.change.before)
          .map((rc) => rc.address);
        expect(tagged.length).toBeGreaterThan(0);
        // Every tagged resource is updated (the ones moto drifts on too: they change beyond the baseline).
        expect({ [kind]: changesBeyond(planned[kind], baseline[kind]) }).toEqual({
          [kind]: Object.fromEntries(tagged.map((a) => [a, "update"])),
        });
        const baselineAfter = new Map(
          (baseline[kind].resource_changes ?? []).map((rc) => [rc.address, rc.change.after ?? {}]),
        );
        for (const rc of changes.filter((c) => tagged.includes(c.address))) {
          // Against what the unchanged config plans (moto's drift included): only the tags differ.
          const unchanged = baselineAfter.get(rc.address) ?? {};
          const keys = new Set([...Object.keys(unchanged), ...Object.keys(rc.change.after ?? {})]);
          const noise = UPDATE_NOISE[rc.type]?.attributes ?? [];
          const differing = [...keys].filter(
            (k) => !noise.includes(k) && canonical(unchanged[k]) !== canonical(rc.change.after?.[k]),
          );
          expect(`${rc.address}: ${differing.join(", ")}`).toMatch(/: (tags|tags_all)(, (tags|tags_all))*$/);
          expect((rc.change.after?.tags_all as Record<string, string>)["cost-center"]).toBe("storage");
        }
      }
    });

    it("one more backup vault: the queue policies stay as they are, every statement known at plan", () => {
      const queuePolicies = plans
        .get("one more backup vault")!
        .pipeline.resource_changes!.filter((rc) => rc.type === "aws_sqs_queue_policy");
      expect(queuePolicies.map((rc) => [rc.address, rc.change.actions.join()])).toEqual([
        [expect.stringMatching(/^aws_sqs_queue_policy\.event-intake_dlq-policy_/), "no-op"],
        [expect.stringMatching(/^aws_sqs_queue_policy\.event-intake_queue-policy_/), "no-op"],
      ]);
      for (const rc of queuePolicies) expect(rc.change.after_unknown?.policy).toBeFalsy();
    });

    it.each(Object.keys(CHANGES))("%s: no unchanged policy is (known after apply)", (name) => {
      const planned = plans.get(name)!;
      // Policy documents are JSON at synth (stacks/constructs/policy-document.ts): no data source is read at apply.
      for (const kind of KINDS)
        expect((planned[kind].resource_changes ?? []).filter((rc) => rc.type === "aws_iam_policy_document")).toEqual(
          [],
        );
      for (const kind of KINDS) expect(`${kind}: ${unknownPolicies(planned[kind]).join(", ")}`).toBe(`${kind}: `);
    });
  },
);
