/**
 * State machine names and ARNs. The pipeline stack names its dispatcher with these and
 * grants the starter StartExecution on the ARNs before the machines exist; the starter
 * derives the dispatchers it starts with the same functions (core/dispatcher-routes.ts),
 * so the stacks and the Lambda follow one naming rule.
 */
import { partitionOf } from "./partition";

/**
 * config.name: the prefix of every resource name of a pipeline. 2-20 characters keep the longest
 * derived names (state machines, the archive bucket) within their limits.
 */
export const PIPELINE_NAME = /^[a-z][a-z0-9-]{1,19}$/;

/** The dispatcher state machine of a pipeline (the starter's target). */
export function dispatcherStateMachineName(name: string): string {
  return `${name}-dispatcher`;
}

/** In the partition of its region (`arn:aws-us-gov:states:us-gov-west-1:…`). */
export function stateMachineArn(accountId: string, region: string, stateMachineName: string): string {
  return `arn:${partitionOf(region)}:states:${region}:${accountId}:stateMachine:${stateMachineName}`;
}
