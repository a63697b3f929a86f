/** Stack names are part of the contract: state keys, workspace names and cdktf.out paths use them. */
import { partitionOf } from "../core/partition";

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

/** In the partition of its region (`arn:aws-us-gov:states:us-gov-west-1:…`). */
export function stateMachineArn(accountId: string, region: string, stateMachineName: string): string {
  return `arn:${partitionOf(region)}:states:${region}:${accountId}:stateMachine:${stateMachineName}`;
}

// The archive bucket's name lives with the S3 layout; the worker's role is scoped to it.
export { archiveBucketName } from "../core/s3-layout";
