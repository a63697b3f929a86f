/**
 * Composes every stack from a validated config: `bootstrap` (S3 state only), then per
 * account and region one `network-*` and one `pipeline-*` stack, each with its backend.
 */
import { App, Aspects, TerraformStack } from "cdktf";
import type { EgressMode } from "../config/schema";
import { assertBaseline, SecurityBaseline } from "./aspects/security-baseline";
import { stateBucketAccountId } from "../config/schema";
import type { Config } from "../config/schema";
import { attachBackend } from "./backends";
import { BootstrapStack } from "./bootstrap-stack";
import { LAMBDA_RUNTIME, runtimeDeadlineWarning } from "./lambda-runtimes";
import { BOOTSTRAP_STACK, networkStackName, pipelineStackName } from "./names";
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
  if (warning) (options.warn ?? ((line: string) => process.stderr.write(`${line}\n`)))(warning);

  const bootstrap =
    config.stateBackend.type === "s3"
      ? new BootstrapStack(app, BOOTSTRAP_STACK, {
          stateBackend: config.stateBackend,
          accountId: stateBucketAccountId(config),
          tags: config.tags,
        })
      : undefined; // Terraform Cloud keeps state itself: nothing to bootstrap.

  const egressOf = new Map<TerraformStack, EgressMode>();
  if (bootstrap) egressOf.set(bootstrap, config.network.egress);
  const networks: NetworkStack[] = [];
  const pipelines: PipelineStack[] = [];
  for (const account of config.accounts) {
    for (const region of account.regions) {
      const networkName = networkStackName(account.id, region);
      const network = new NetworkStack(app, networkName, {
        name: config.name,
        accountId: account.id,
        region,
        assumeRoleArn: account.assumeRoleArn,
        network: account.network ?? config.network,
        tags: config.tags,
      });
      attachBackend(network, config.stateBackend, networkName);
      egressOf.set(network, (account.network ?? config.network).egress);
      networks.push(network);

      const pipelineName = pipelineStackName(account.id, region);
      const pipeline = new PipelineStack(app, pipelineName, {
        config,
        accountId: account.id,
        region,
        assumeRoleArn: account.assumeRoleArn,
        networkStackName: networkName,
      });
      attachBackend(pipeline, config.stateBackend, pipelineName);
      egressOf.set(pipeline, (account.network ?? config.network).egress);
      pipelines.push(pipeline);
    }
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
