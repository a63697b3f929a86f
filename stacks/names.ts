/** Stack names are part of the contract: state keys, workspace names and cdktf.out paths use them. */
export const BOOTSTRAP_STACK = "bootstrap";

export function networkStackName(accountId: string, region: string): string {
  return `network-${accountId}-${region}`;
}

export function pipelineStackName(accountId: string, region: string): string {
  return `pipeline-${accountId}-${region}`;
}

// State machine names live in core: the starter derives its dispatchers' ARNs with them.
export { dispatcherStateMachineName, stateMachineArn } from "../core/state-machines";

// The archive bucket's name lives with the S3 layout; the worker's role is scoped to it.
export { archiveBucketName } from "../core/s3-layout";
