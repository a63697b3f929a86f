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
import type { ArchiveDeployment, Deployment, RegionDeployment } from "./deployment";
import type { CloudBackendConfig } from "./schema";

// The state names live here, not in core/: core/ is part of the worker image's source hash (ADR 0004),
// and only the stacks and this list use them.

/** The bootstrap stack's local state file, relative to the project root (it cannot live in the bucket it creates). */
export const BOOTSTRAP_STATE_FILE = "terraform.bootstrap.tfstate";

/** The stack that declares the Terraform Cloud workspaces (cloud backend only). */
export const WORKSPACES_STACK = "workspaces";

/** The workspaces stack's local state file when `stateBackend.workspacesState` is unset, relative to the project root. */
export const WORKSPACES_STATE_FILE = "terraform.workspaces.tfstate";

/** The S3 state key of `stackName`: `<keyPrefix>/<stack>.tfstate`. */
export function stateKey(keyPrefix: string, stackName: string): string {
  return `${keyPrefix}/${stackName}.tfstate`;
}

/** The Terraform Cloud / Enterprise workspace of `stackName`: `<workspacePrefix>-<stack>`. */
export function workspaceName(workspacePrefix: string, stackName: string): string {
  return `${workspacePrefix}-${stackName}`;
}

/**
 * Every kind of stack, in deploy order. `workspaces` declares the Terraform Cloud workspaces of the
 * other stacks (tfe provider; cloud backend only). `archive` is the central archive (config
 * centralArchive, mode "write"): the pipelines read its key from its state, so it comes before them.
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
  readonly state: StackState;
  /** Stacks whose outputs this one reads through `terraform_remote_state`, in the order it reads them. */
  readonly readsFrom: readonly string[];
  /**
   * Stacks that must be applied before this one: those it reads from, and `bootstrap` when this
   * stack's state lives in the bucket `bootstrap` creates.
   */
  readonly dependsOn: readonly string[];
}

/** A stack with an AWS provider. */
interface AwsStackBase extends StackBase {
  /** The account the stack's provider is pinned to (allowed_account_ids). */
  readonly accountId: string;
  readonly region: string;
}

/** One Terraform Cloud workspace the `workspaces` stack declares: the home of one archive, network or pipeline stack. */
export interface PlannedWorkspace {
  /** `<workspacePrefix>-<stack>`, as the stack's `cloud` block names it. */
  readonly workspace: string;
  readonly stack: string;
  readonly kind: "archive" | "network" | "pipeline";
  readonly accountId: string;
  readonly region: string;
  /** The role its runs assume (stateBackend.runRoleArns of its account). */
  readonly runRoleArn: string;
  /** Stacks whose state it reads (their workspaces share state with it and queue its plans). */
  readonly readsFrom: readonly string[];
}

export type PlannedStack =
  | (AwsStackBase & { readonly kind: "bootstrap"; readonly bootstrap: NonNullable<Deployment["bootstrap"]> })
  | (StackBase & {
      readonly kind: "workspaces";
      /** The tfe provider reaches no AWS account: none to pin. */
      readonly accountId?: undefined;
      readonly region?: undefined;
      readonly backend: CloudBackendConfig;
      /** In deploy order: the central archive's workspace (if any), every network workspace, then every pipeline workspace. */
      readonly workspaces: readonly PlannedWorkspace[];
    })
  | (AwsStackBase & { readonly kind: "archive"; readonly archive: ArchiveDeployment })
  | (AwsStackBase & { readonly kind: "network" | "pipeline"; readonly deployment: RegionDeployment });

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
  const stateOf = (d: { readonly backend: RegionDeployment["backend"] }, stackName: string): StackState =>
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
  // The S3 state bucket is bootstrap's, a Terraform Cloud workspace the workspaces stack's: every
  // stack that keeps its state there comes after it.
  const cloud = deployment.regions.find((d) => d.backend.type === "cloud")?.backend as CloudBackendConfig | undefined;
  const stateAfter = (d: { readonly backend: RegionDeployment["backend"] }) =>
    d.backend.type === "s3" ? (b ? [b.stackName] : []) : cloud ? [WORKSPACES_STACK] : [];
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
  const networks = regional("network", () => []);
  // stacks/pipeline-stack.ts reads its network's outputs (remoteStateOf "network") and, with a central
  // archive, the archive stack's key (remoteStateOf "archive").
  const pipelines = regional("pipeline", (d) => [
    d.stackNames.network,
    ...(d.centralArchive ? [d.centralArchive.stackName] : []),
  ]);
  const a = deployment.archive;
  // The central archive (mode "write"): its state lives where the other stacks' does, an S3 key or a workspace.
  const archive: PlannedStack[] = a
    ? [
        {
          kind: "archive",
          name: a.stackName,
          accountId: a.accountId,
          region: a.region,
          state: stateOf(a, a.stackName),
          readsFrom: [],
          dependsOn: stateAfter(a),
          archive: a,
        },
      ]
    : [];
  if (cloud) stacks.push(workspacesStack(cloud, [...archive, ...networks, ...pipelines]));
  stacks.push(...archive, ...networks, ...pipelines);
  assertDeployOrder(stacks);
  return stacks;
}

/** The `workspaces` stack: one workspace per archive, network and pipeline stack, with the state that stack's `cloud` block names. */
function workspacesStack(backend: CloudBackendConfig, stacks: readonly PlannedStack[]): PlannedStack {
  const ws = backend.workspacesState;
  return {
    kind: "workspaces",
    name: WORKSPACES_STACK,
    state: ws
      ? { type: "s3", bucket: ws.bucket, key: ws.key, region: ws.region }
      : { type: "local", path: WORKSPACES_STATE_FILE },
    readsFrom: [],
    dependsOn: [],
    backend,
    workspaces: stacks.map((s) => {
      if ((s.kind !== "archive" && s.kind !== "network" && s.kind !== "pipeline") || s.state.type !== "cloud")
        throw new Error(`stack ${s.name} has no Terraform Cloud workspace`);
      const runRoleArn = backend.runRoleArns[s.accountId];
      // config/rules.ts refuses a cloud config without a role for every account.
      if (runRoleArn === undefined) throw new Error(`stateBackend.runRoleArns has no role for account ${s.accountId}`);
      return {
        workspace: s.state.workspace,
        stack: s.name,
        kind: s.kind,
        accountId: s.accountId,
        region: s.region,
        runRoleArn,
        readsFrom: s.readsFrom,
      };
    }),
  };
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
