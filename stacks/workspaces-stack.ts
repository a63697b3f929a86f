/**
 * `workspaces` (Terraform Cloud / Enterprise backend only): one workspace per archive, network and
 * pipeline stack, declared with the tfe provider and applied once by an organization admin (like bootstrap)
 * before any of those stacks. Its own state is a local file or an S3 key (`stateBackend.workspacesState`).
 *
 * Each workspace runs terraform remotely, VCS-driven (`stateBackend.vcs`: the committed
 * `cdktf.out/stacks/<stack>` of a repository, speculative plans on pull requests) or CLI-driven
 * (`cdktf deploy` uploads the stack), never applies without a confirmation, and reaches AWS only
 * through dynamic provider credentials (OIDC) with its account's run role. A network workspace
 * shares its state with its pipeline's workspace alone (the pipeline reads it through
 * `terraform_remote_state`) and its applies queue that pipeline's plan (run trigger); the central
 * archive's workspace (centralArchive mode "write") does the same for every member pipeline.
 */
import { DataTfeProject } from "@cdktf/provider-tfe/lib/data-tfe-project";
import { TfeProvider } from "@cdktf/provider-tfe/lib/provider";
import { RunTrigger } from "@cdktf/provider-tfe/lib/run-trigger";
import { Variable } from "@cdktf/provider-tfe/lib/variable";
import { Workspace } from "@cdktf/provider-tfe/lib/workspace";
import { WorkspaceSettings } from "@cdktf/provider-tfe/lib/workspace-settings";
import { LocalBackend, S3Backend, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import type { CloudBackendConfig } from "../config/schema";
import type { PlannedWorkspace, StackState } from "../config/stacks";

export interface WorkspacesStackProps {
  readonly backend: CloudBackendConfig;
  /** Where this stack keeps its own state (config/stacks.ts: a local file or an S3 key). */
  readonly state: Extract<StackState, { type: "local" | "s3" }>;
  /** The workspaces to declare, in deploy order (config/stacks.ts). */
  readonly workspaces: readonly PlannedWorkspace[];
}

/** Where a VCS-driven workspace finds its stack in the repository: the committed `cdktf synth` output. */
export function workingDirectoryOf(stackName: string): string {
  return `cdktf.out/stacks/${stackName}`;
}

export class WorkspacesStack extends TerraformStack {
  /** Each declared workspace by the name of the stack it holds. */
  public readonly workspaces: ReadonlyMap<string, Workspace>;

  constructor(scope: Construct, id: string, props: WorkspacesStackProps) {
    super(scope, id);
    const { backend, state } = props;

    if (state.type === "local") {
      // Relative to cdktf.out/stacks/workspaces: the state file sits in the project root.
      new LocalBackend(this, { path: `../../../${state.path}` });
    } else {
      const s3 = new S3Backend(this, { bucket: state.bucket, key: state.key, region: state.region, encrypt: true });
      s3.addOverride("use_lockfile", true); // as stacks/backends.ts: cdktf 0.21 predates it
    }
    // The admin's token comes from TFE_TOKEN or `terraform login`, never from the config.
    new TfeProvider(this, "tfe", { hostname: backend.hostname, organization: backend.organization });
    const project = backend.project
      ? new DataTfeProject(this, "project", { name: backend.project, organization: backend.organization })
      : undefined;

    const byStack = new Map<string, Workspace>();
    for (const w of props.workspaces) {
      const workspace = new Workspace(this, w.stack, {
        name: w.workspace,
        organization: backend.organization,
        projectId: project?.id,
        description: `backup-actions ${w.kind} stack ${w.stack}`,
        // Key-value tags (tfe >= 0.65; HCP Terraform, or Terraform Enterprise v202504-1 or later).
        tags: { account: w.accountId, region: w.region, kind: w.kind },
        autoApply: false, // every apply is confirmed by a person who read the plan
        queueAllRuns: false,
        ...(backend.vcs
          ? {
              workingDirectory: workingDirectoryOf(w.stack),
              vcsRepo: {
                identifier: backend.vcs.identifier,
                branch: backend.vcs.branch,
                oauthTokenId: backend.vcs.oauthTokenId,
              },
              speculativeEnabled: true,
            }
          : {}),
      });
      byStack.set(w.stack, workspace);

      // Dynamic provider credentials: each run gets a workload identity token and assumes the role.
      new Variable(this, `${w.stack}-aws-auth`, {
        workspaceId: workspace.id,
        category: "env",
        key: "TFC_AWS_PROVIDER_AUTH",
        value: "true",
        sensitive: false,
        description: "AWS dynamic provider credentials (OIDC) instead of stored keys",
      });
      new Variable(this, `${w.stack}-aws-role`, {
        workspaceId: workspace.id,
        category: "env",
        key: "TFC_AWS_RUN_ROLE_ARN",
        value: w.runRoleArn,
        sensitive: false,
        description: `the role runs assume in account ${w.accountId}`,
      });
    }

    // Remote state sharing (tfe_workspace_settings, not the workspace's own attributes: one resource
    // manages it): a workspace's state is readable by the workspaces that read it, and by no other.
    for (const w of props.workspaces) {
      const consumers = props.workspaces.filter((c) => c.readsFrom.includes(w.stack));
      new WorkspaceSettings(this, `${w.stack}-settings`, {
        workspaceId: byStack.get(w.stack)!.id,
        executionMode: "remote",
        globalRemoteState: false,
        remoteStateConsumerIds: consumers.map((c) => byStack.get(c.stack)!.id),
      });
      // An apply of a stack this one reads queues a plan here (never an apply: autoApply is off).
      for (const source of w.readsFrom) {
        const from = byStack.get(source);
        if (!from) throw new Error(`workspace of ${w.stack} reads ${source}, which has no workspace`);
        new RunTrigger(this, `${w.stack}-after-${source}`, {
          workspaceId: byStack.get(w.stack)!.id,
          sourceableId: from.id,
        });
      }
    }
    this.workspaces = byStack;

    new TerraformOutput(this, "workspace_ids", {
      description: "workspace id of each stack",
      value: Object.fromEntries([...byStack].map(([stack, ws]) => [stack, ws.id])),
    });
  }
}
