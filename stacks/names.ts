/** Stack names are part of the contract: state keys, workspace names and cdktf.out paths use them. */
export const BOOTSTRAP_STACK = "bootstrap";

export function networkStackName(accountId: string, region: string): string {
  return `network-${accountId}-${region}`;
}

export function pipelineStackName(accountId: string, region: string): string {
  return `pipeline-${accountId}-${region}`;
}

/** The dispatcher state machine of a pipeline (the starter's target). */
export function dispatcherStateMachineName(name: string): string {
  return `${name}-dispatcher`;
}

export function stateMachineArn(accountId: string, region: string, stateMachineName: string): string {
  return `arn:aws:states:${region}:${accountId}:stateMachine:${stateMachineName}`;
}
