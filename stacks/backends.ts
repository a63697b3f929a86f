/**
 * Remote state for every stack but `bootstrap`: an S3 key per stack (with Terraform's
 * S3-native lockfile, so no DynamoDB lock table) or a Terraform Cloud workspace per stack.
 * `remoteStateOf` reads another stack's outputs the same way, so stacks never share
 * in-process references and each one plans and applies from its own state.
 */
import {
  CloudBackend,
  DataTerraformRemoteState,
  DataTerraformRemoteStateS3,
  NamedCloudWorkspace,
  S3Backend,
  TerraformStack,
} from "cdktf";
import { Construct } from "constructs";
import type { StateBackendConfig } from "../config/schema";
import { stateKey, workspaceName } from "../config/stacks";

// The names live in config/stacks.ts, so that `backup-actions stacks` prints what the backends use.
export { stateKey, workspaceName };

export function attachBackend(stack: TerraformStack, backend: StateBackendConfig, stackName: string): void {
  if (backend.type === "s3") {
    const s3 = new S3Backend(stack, {
      bucket: backend.bucket,
      key: stateKey(backend.keyPrefix, stackName),
      region: backend.region,
      encrypt: true,
    });
    // cdktf 0.21 predates `use_lockfile` (Terraform >= 1.10); the override writes it verbatim.
    s3.addOverride("use_lockfile", true);
    return;
  }
  new CloudBackend(stack, {
    organization: backend.organization,
    hostname: backend.hostname,
    workspaces: new NamedCloudWorkspace(workspaceName(backend.workspacePrefix, stackName)),
  });
}

/**
 * A `terraform_remote_state` data source reading `stackName`'s outputs. With Terraform Cloud it is
 * the `remote` backend on the stack's workspace, read with the run's own token (no tfe provider or
 * token in the reading stack); the workspaces stack shares that workspace's state with exactly the
 * workspaces that read it (stacks/workspaces-stack.ts, remote_state_consumer_ids).
 */
export function remoteStateOf(scope: Construct, id: string, backend: StateBackendConfig, stackName: string) {
  if (backend.type === "s3") {
    return new DataTerraformRemoteStateS3(scope, id, {
      bucket: backend.bucket,
      key: stateKey(backend.keyPrefix, stackName),
      region: backend.region,
    });
  }
  return new DataTerraformRemoteState(scope, id, {
    organization: backend.organization,
    hostname: backend.hostname,
    workspaces: { name: workspaceName(backend.workspacePrefix, stackName) },
  });
}
