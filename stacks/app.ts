/**
 * Composes every stack from a validated config, in the deploy order of config/stacks.ts:
 * `bootstrap` (S3 state only) or `workspaces` (Terraform Cloud only), then the central `archive-*` stack (config
 * centralArchive, mode "write"), then per account and region one `network-*` stack, then per
 * account and region one `pipeline-*` stack, each with its backend.
 */
import { App, Aspects, TerraformStack } from "cdktf";
import { resolveDeployment } from "../config/deployment";
import { planStacks } from "../config/stacks";
import type { Config, EgressMode } from "../config/schema";
import { assertBaseline, SecurityBaseline } from "./aspects/security-baseline";
import { attachBackend } from "./backends";
import { ArchiveStack } from "./archive-stack";
import { validateBinaryVersionsOnce } from "./binary-version-once";
import { BootstrapStack } from "./bootstrap-stack";
import { LAMBDA_RUNTIME, runtimeDeadlineWarning } from "./lambda-runtimes";
import { NetworkStack } from "./network-stack";
import { PipelineStack } from "./pipeline-stack";
import { WorkspacesStack } from "./workspaces-stack";

export interface ComposedStacks {
  /** Egress mode each stack is checked against by the security baseline. */
  readonly egressOf: ReadonlyMap<TerraformStack, EgressMode>;
  readonly bootstrap?: BootstrapStack;
  /** Only with a Terraform Cloud backend. */
  readonly workspaces?: WorkspacesStack;
  /** Only with a central archive of mode "write". */
  readonly archive?: ArchiveStack;
  readonly networks: NetworkStack[];
  readonly pipelines: PipelineStack[];
  /** Every stack in deploy order (config/stacks.ts). */
  readonly all: TerraformStack[];
}

export interface ComposeOptions {
  /** Today, for the runtime deadline warning. @default new Date() */
  readonly now?: Date;
  /** Where warnings go (one line each, not errors). @default process.stderr */
  readonly warn?: (line: string) => void;
}

export function composeStacks(app: App, config: Config, options: ComposeOptions = {}): ComposedStacks {
  // app.synth() would otherwise run `terraform version` once per network and pipeline stack.
  validateBinaryVersionsOnce();
  // Pipeline stacks hold Lambda functions: say so while there is time to move to a newer runtime.
  const warning = runtimeDeadlineWarning(LAMBDA_RUNTIME, options.now ?? new Date());
  if (warning)
    (
      options.warn ??
      ((line: string) =>
        process.stderr.write(`${line}
`))
    )(warning);

  // Everything a stack needs to know about its account and region, worked out once, and the
  // stacks in deploy order (config/stacks.ts: `backup-actions stacks` prints the same list).
  const plan = planStacks(resolveDeployment(config));
  let bootstrap: BootstrapStack | undefined; // none with Terraform Cloud, which keeps state itself
  let workspaces: WorkspacesStack | undefined; // only with Terraform Cloud
  let archive: ArchiveStack | undefined; // only with a central archive (mode "write")
  const egressOf = new Map<TerraformStack, EgressMode>();
  const networks: NetworkStack[] = [];
  const pipelines: PipelineStack[] = [];
  const all: TerraformStack[] = []; // in deploy order, as planned
  for (const planned of plan) {
    switch (planned.kind) {
      case "bootstrap": {
        const b = planned.bootstrap;
        bootstrap = new BootstrapStack(app, planned.name, {
          stateBackend: b.stateBackend,
          accountId: b.accountId,
          tags: b.tags,
        });
        egressOf.set(bootstrap, b.egress);
        all.push(bootstrap);
        break;
      }
      case "workspaces": {
        if (planned.state.type === "cloud")
          throw new Error("the workspaces stack cannot keep its state in a workspace");
        workspaces = new WorkspacesStack(app, planned.name, {
          backend: planned.backend,
          state: planned.state,
          workspaces: planned.workspaces,
        });
        // It holds no AWS resource; the baseline's strictest mode checks it all the same.
        egressOf.set(workspaces, "endpoints");
        all.push(workspaces);
        break;
      }
      case "archive": {
        archive = new ArchiveStack(app, planned.name, { archive: planned.archive });
        attachBackend(archive, planned.archive.backend, planned.name);
        // It holds no network resource; the baseline's strictest mode checks it.
        egressOf.set(archive, "endpoints");
        all.push(archive);
        break;
      }
      case "network": {
        // The record carries every NetworkStack prop (name, account, region, role, network, tags).
        const network = new NetworkStack(app, planned.name, planned.deployment);
        attachBackend(network, planned.deployment.backend, planned.name);
        egressOf.set(network, planned.deployment.egress);
        networks.push(network);
        all.push(network);
        break;
      }
      case "pipeline": {
        const pipeline = new PipelineStack(app, planned.name, { deployment: planned.deployment });
        attachBackend(pipeline, planned.deployment.backend, planned.name);
        egressOf.set(pipeline, planned.deployment.egress);
        pipelines.push(pipeline);
        all.push(pipeline);
        break;
      }
      default: {
        const unbuilt: never = planned; // a new kind in config/stacks.ts needs its stack class here
        throw new Error(`no stack class for ${(unbuilt as { kind: string }).kind}`);
      }
    }
  }
  // What a stack reads through terraform_remote_state (a pipeline: its region's network) must be applied first:
  // cdktf's manifest records it, so `cdktf deploy 'network-*' 'pipeline-*'` starts a pipeline once its network is
  // done. The state backend (bootstrap's bucket, the workspaces) is not declared: cdktf runs `terraform init`
  // for every selected stack before it applies any, so it could not order a first deploy after bootstrap anyway,
  // and each later kind's deploy would have to select bootstrap again.
  const byName = new Map(all.map((stack, i) => [plan[i]!.name, stack] as const));
  plan.forEach((planned, i) => {
    for (const read of planned.readsFrom) {
      const source = byName.get(read);
      if (!source) throw new Error(`${planned.name} reads ${read}, which is not a stack of this config`);
      all[i]!.addDependency(source);
    }
  });
  // Every stack carries the baseline Aspect (cdktf only runs aspects added to stacks).
  for (const stack of all) Aspects.of(stack).add(new SecurityBaseline({ egress: egressOf.get(stack)! }));
  return { bootstrap, workspaces, archive, networks, pipelines, all, egressOf };
}

/**
 * Checks every stack against the security baseline before anything is synthesized, so
 * a violation anywhere writes no stack at all. Throws `BaselineViolationError`.
 */
export function checkStacks(stacks: ComposedStacks): void {
  assertBaseline(stacks.all, (stack) => ({ egress: stacks.egressOf.get(stack)! }));
}
