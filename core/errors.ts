/**
 * Errors of backup-actions. Each class sets `name` as a string literal (not from the
 * constructor) because the Lambda bundles are minified: the name is what logs, the
 * state machines' Retry/Catch (`ErrorEquals`) and callers match on.
 */
export class BackupActionsError extends Error {
  override readonly name: string = "BackupActionsError";
}

/** A message body or file that is not the JSON of an event. */
export class InvalidEventError extends BackupActionsError {
  override readonly name: string = "InvalidEventError";
}

/** A required setting (environment variable, runtime config) is missing or wrong. */
export class RuntimeConfigError extends BackupActionsError {
  override readonly name: string = "RuntimeConfigError";
}
