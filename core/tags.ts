/**
 * Tag keys the pipeline writes on what it creates and later finds again by them: the EBS
 * state machine tags every volume it restores, the roles' conditions and the janitor key on
 * the same names.
 */

/** On every volume the pipeline restores; its value is config.name. */
export const PIPELINE_TAG_KEY = "backup-actions:pipeline";

/** On every volume the pipeline restores; its value is the recovery point's ARN. */
export const RECOVERY_POINT_TAG_KEY = "backup-actions:recovery-point";

/**
 * On every blank scratch volume the EBS child creates for a direct read (worker.readPath "direct"); its value is
 * the snapshot whose blocks the worker writes to it. The worker resumes its own hydration only on a volume whose
 * tag names the snapshot it reads; the child's role deletes only volumes carrying it in that mode.
 */
export const SCRATCH_TAG_KEY = "backup-actions:scratch-of";
