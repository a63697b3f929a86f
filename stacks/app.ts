/**
 * Composes every stack from a validated config: `bootstrap` (S3 state only), then per
 * account and region one `network-*` and one `pipeline-*` stack, each with its backend.
 */
import { App, Aspects, TerraformStack } from "cdktf";
import { resolveDeployment } from "../config/deployment";
import type { Config, EgressMode } from "../config/schema";
import { assertBaseline, SecurityBaseline } from "./aspects/security-baseline";
import { attachBackend } from "./backends";
import { BootstrapStack } from "./bootstrap-stack";
import { LAMBDA_RUNTIME, runtimeDeadlineWarning } from "./lambda-runtimes";
import { NetworkStack } from "./network-stack";
import { PipelineStack } from "./pipeline-stack";

export interface ComposedStacks {
  /** Egress mode each stack is checked against by the security baseline. */
  readonly egressOf: ReadonlyMap<TerraformStack, EgressMode>;
  readonly bootstrap?: BootstrapStack;
  readonly networks: NetworkStack[];
  readonly pipelines: PipelineStack[];
  readonly all: TerraformStack[];
}

export interface ComposeOptions {
  /** Today, for the runtime deadline warning. @default new Date() */
  readonly now?: Date;
  /** Where warnings go (one line each, not errors). @default process.stderr */
  readonly warn?: (line: string) => void;
}

export function composeStacks(app: App, config: Config, options: ComposeOptions = {}): ComposedStacks {
  // Pipeline stacks hold Lambda functions: say so while there is time to move to a newer runtime.
  const warning = runtimeDeadlineWarning(LAMBDA_RUNTIME, options.now ?? new Date());
  if (warning) (options.warn ?? ((line: string) => process.stderr.write(`${line}
`)))(warning);

  // Everything a stack needs to know about its account and region, worked out once.
  const deployment = resolveDeployment(config);
  const bootstrap = deployment.bootstrap
    ? new BootstrapStack(app, deployment.bootstrap.stackName, {
        stateBackend: deployment.bootstrap.stateBackend,
        accountId: deployment.bootstrap.accountId,
        tags: deployment.bootstrap.tags,
      })
    : undefined; // Terraform Cloud keeps state itself: nothing to bootstrap.

  const egressOf = new Map<TerraformStack, EgressMode>();
  if (bootstrap) egressOf.set(bootstrap, deployment.bootstrap!.egress);
  const networks: NetworkStack[] = [];
  const pipelines: PipelineStack[] = [];
  for (const region of deployment.regions) {
    // The record carries every NetworkStack prop (name, account, region, role, network, tags).
    const network = new NetworkStack(app, region.stackNames.network, region);
    attachBackend(network, region.backend, region.stackNames.network);
    egressOf.set(network, region.egress);
    networks.push(network);

    const pipeline = new PipelineStack(app, region.stackNames.pipeline, { deployment: region });
    attachBackend(pipeline, region.backend, region.stackNames.pipeline);
    egressOf.set(pipeline, region.egress);
    pipelines.push(pipeline);
  }
  const all: TerraformStack[] = [...(bootstrap ? [bootstrap] : []), ...networks, ...pipelines];
  // Every stack carries the baseline Aspect (cdktf only runs aspects added to stacks).
  for (const stack of all) Aspects.of(stack).add(new SecurityBaseline({ egress: egressOf.get(stack)! }));
  return { bootstrap, networks, pipelines, all, egressOf };
}

/**
 * Checks every stack against the security baseline before anything is synthesized, so
 * a violation anywhere writes no stack at all. Throws `BaselineViolationError`.
 */
export function checkStacks(stacks: ComposedStacks): void {
  assertBaseline(stacks.all, (stack) => ({ egress: stacks.egressOf.get(stack)! }));
}
