/** Stack names are part of the contract: state keys, workspace names and cdktf.out paths use them. */
export const BOOTSTRAP_STACK = "bootstrap";

export function networkStackName(accountId: string, region: string): string {
  return `network-${accountId}-${region}`;
}

export function pipelineStackName(accountId: string, region: string): string {
  return `pipeline-${accountId}-${region}`;
}

/**
 * The archive bucket of a pipeline (global namespace, so account and region are in it).
 * The archive bucket construct must use this name; the worker's role is scoped to it.
 */
export function archiveBucketName(name: string, accountId: string, region: string): string {
  return `${name}-archive-${accountId}-${region}`;
}
