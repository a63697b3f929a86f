/**
 * Names of the pipeline's roles that read or write the archive. Part of the contract: a central
 * archive (docs/adr/0009-central-archive.md) lives in another account, whose bucket and key policies
 * name these roles by ARN before they exist, so the pipeline stack names them with these functions
 * and the archive stack derives the same ARNs from the config.
 */

/** The EBS worker's Batch job role. */
export function workerJobRoleName(name: string, region: string): string {
  return `${name}-worker-job-${region}`;
}

/** A Lambda function's role (IAM names are global: the region keeps two regions' roles apart). */
export function lambdaRoleName(functionName: string, region: string): string {
  return `${functionName}-${region}`;
}

/** The verify Lambda's function name. */
export function verifyFunctionName(name: string): string {
  return `${name}-verify`;
}

/** A state machine's role (the region keeps two regions' roles apart, as every role name here). */
export function stateMachineRoleName(machineName: string, region: string): string {
  return `${machineName}-sfn-${region}`;
}

/** The state machine of a child workflow: `<name>-<workflow>-export` (ebs, rds, aurora, dynamodb). */
export function childStateMachineName(name: string, workflow: string): string {
  return `${name}-${workflow}-export`;
}

/** The role StartExportTask hands to RDS. */
export function rdsExportRoleName(name: string, region: string): string {
  return `${name}-rds-s3-export-${region}`;
}
