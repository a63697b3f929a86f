/**
 * Tag keys the pipeline writes on what it creates and later finds again by them: the EBS
 * state machine tags every volume it restores, the roles' conditions and the janitor key on
 * the same names.
 */

/** On every volume the pipeline restores; its value is config.name. */
export const PIPELINE_TAG_KEY = "backup-actions:pipeline";

/** On every volume the pipeline restores; its value is the recovery point's ARN. */
export const RECOVERY_POINT_TAG_KEY = "backup-actions:recovery-point";
