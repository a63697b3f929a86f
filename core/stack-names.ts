/** Stack names are part of the contract: state keys, workspace names and cdktf.out paths use them. */
export const BOOTSTRAP_STACK = "bootstrap";

export function networkStackName(accountId: string, region: string): string {
  return `network-${accountId}-${region}`;
}

export function pipelineStackName(accountId: string, region: string): string {
  return `pipeline-${accountId}-${region}`;
}

/** The central archive's stack (config centralArchive, mode "write"): in the archive account and region. */
export function archiveStackName(accountId: string, region: string): string {
  return `archive-${accountId}-${region}`;
}
