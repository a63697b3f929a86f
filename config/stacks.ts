/**
 * The stacks of a resolved deployment, in deploy order: the one list stacks/app.ts builds the
 * cdktf stacks from and `backup-actions stacks` prints. Pure (no cdktf).
 *
 * Kinds deploy in STACK_KINDS order; within a kind, stacks follow the config (accounts, then each
 * account's regions) and read nothing of their own kind, so `cdktf deploy '<kind>-*'` can apply
 * them together. A stack reads other stacks only through `terraform_remote_state` (stacks/backends.ts),
 * never through cdktf cross-stack references, so cdktf's manifest records no dependency between them:
 * this list is where the order is written down.
 */
import type { Deployment, RegionDeployment } from "./deployment";

// The state names live here, not in core/: core/ is part of the worker image's source hash (ADR 0004),
// and only the stacks and this list use them.

/** The bootstrap stack's local state file, relative to the project root (it cannot live in the bucket it creates). */
export const BOOTSTRAP_STATE_FILE = "terraform.bootstrap.tfstate";

/** The S3 state key of `stackName`: `<keyPrefix>/<stack>.tfstate`. */
export function stateKey(keyPrefix: string, stackName: string): string {
  return `${keyPrefix}/${stackName}.tfstate`;
}

/** The Terraform Cloud / Enterprise workspace of `stackName`: `<workspacePrefix>-<stack>`. */
export function workspaceName(workspacePrefix: string, stackName: string): string {
  return `${workspacePrefix}-${stackName}`;
}

/**
 * Every kind of stack, in deploy order. `workspaces` (the Terraform Cloud workspaces, declared with
 * the tfe provider) and `archive` (a central archive) are planned, not built yet: no config produces
 * them today, and they slot in here and in `PlannedStack` when they are.
 */
export const STACK_KINDS = ["bootstrap", "workspaces", "archive", "network", "pipeline"] as const;
export type StackKind = (typeof STACK_KINDS)[number];

/** Terraform Cloud's host when `stateBackend.hostname` is unset (what the `cloud` block defaults to). */
export const DEFAULT_CLOUD_HOSTNAME = "app.terraform.io";

/** Where a stack's Terraform state lives. */
export type StackState =
  /** A local file; `path` is relative to the project root. */
  | { readonly type: "local"; readonly path: string }
  | { readonly type: "s3"; readonly bucket: string; readonly key: string; readonly region: string }
  | { readonly type: "cloud"; readonly hostname: string; readonly organization: string; readonly workspace: string };

interface StackBase {
  readonly name: string;
  /** The account the stack's provider is pinned to (allowed_account_ids). */
  readonly accountId: string;
  readonly region: string;
  readonly state: StackState;
  /** Stacks whose outputs this one reads through `terraform_remote_state`, in the order it reads them. */
  readonly readsFrom: readonly string[];
  /**
   * Stacks that must be applied before this one: those it reads from, and `bootstrap` when this
   * stack's state lives in the bucket `bootstrap` creates.
   */
  readonly dependsOn: readonly string[];
}

export type PlannedStack =
  | (StackBase & { readonly kind: "bootstrap"; readonly bootstrap: NonNullable<Deployment["bootstrap"]> })
  | (StackBase & { readonly kind: "network" | "pipeline"; readonly deployment: RegionDeployment });

/** The stacks of `deployment` in deploy order. Throws when a stack would depend on one not before it. */
export function planStacks(deployment: Deployment): PlannedStack[] {
  const stacks: PlannedStack[] = [];
  const b = deployment.bootstrap;
  if (b) {
    stacks.push({
      kind: "bootstrap",
      name: b.stackName,
      accountId: b.accountId,
      region: b.stateBackend.region,
      state: { type: "local", path: BOOTSTRAP_STATE_FILE },
      readsFrom: [],
      dependsOn: [],
      bootstrap: b,
    });
  }
  const stateOf = (d: RegionDeployment, stackName: string): StackState =>
    d.backend.type === "s3"
      ? {
          type: "s3",
          bucket: d.backend.bucket,
          key: stateKey(d.backend.keyPrefix, stackName),
          region: d.backend.region,
        }
      : {
          type: "cloud",
          hostname: d.backend.hostname ?? DEFAULT_CLOUD_HOSTNAME,
          organization: d.backend.organization,
          workspace: workspaceName(d.backend.workspacePrefix, stackName),
        };
  // The S3 state bucket is bootstrap's: every stack that keeps its state there comes after it.
  const stateAfter = (d: RegionDeployment) => (d.backend.type === "s3" && b ? [b.stackName] : []);
  const regional = (kind: "network" | "pipeline", readsFrom: (d: RegionDeployment) => string[]) =>
    deployment.regions.map((d): PlannedStack => {
      const name = d.stackNames[kind];
      const reads = readsFrom(d);
      return {
        kind,
        name,
        accountId: d.accountId,
        region: d.region,
        state: stateOf(d, name),
        readsFrom: reads,
        dependsOn: [...stateAfter(d), ...reads],
        deployment: d,
      };
    });
  stacks.push(...regional("network", () => []));
  // stacks/pipeline-stack.ts reads its network's outputs (remoteStateOf "network").
  stacks.push(...regional("pipeline", (d) => [d.stackNames.network]));
  assertDeployOrder(stacks);
  return stacks;
}

/** Each stack's dependencies come before it and are of an earlier kind; names are unique. */
export function assertDeployOrder(
  stacks: readonly { readonly name: string; readonly kind: StackKind; readonly dependsOn: readonly string[] }[],
): void {
  const seen = new Map<string, StackKind>();
  stacks.forEach((stack, i) => {
    if (seen.has(stack.name)) throw new Error(`stack ${stack.name} is listed twice`);
    if (i > 0 && STACK_KINDS.indexOf(stack.kind) < STACK_KINDS.indexOf(stacks[i - 1]!.kind)) {
      throw new Error(`stack ${stack.name} (${stack.kind}) is listed after a ${stacks[i - 1]!.kind} stack`);
    }
    for (const dep of stack.dependsOn) {
      const kind = seen.get(dep);
      if (kind === undefined) throw new Error(`stack ${stack.name} depends on ${dep}, which is not listed before it`);
      if (kind === stack.kind) throw new Error(`stack ${stack.name} depends on ${dep} of its own kind (${kind})`);
    }
    seen.set(stack.name, stack.kind);
  });
}
