// Stack names live in core (config/deployment.ts resolves them into each region's record).
export { archiveStackName, BOOTSTRAP_STACK, networkStackName, pipelineStackName } from "../core/stack-names";

// State machine names live in core: the starter derives its dispatchers' ARNs with them.
export { dispatcherStateMachineName, stateMachineArn } from "../core/state-machines";

// The archive bucket's name lives with the S3 layout; the worker's role is scoped to it.
export { archiveBucketName } from "../core/s3-layout";
