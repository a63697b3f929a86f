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

/**
 * A system tool exited non-zero, was killed, or could not be started. The message carries the
 * end of its stderr (or stdout when stderr is empty), so a failure explains itself. Used by
 * the worker (batch-worker/src/exec.ts, pipeline.ts) and the test fixtures alike.
 */
export class CommandError extends BackupActionsError {
  override readonly name: string = "CommandError";
  constructor(
    readonly command: string,
    readonly code: number | null,
    readonly signal: NodeJS.Signals | null,
    readonly stderr: string,
    readonly stdout: string = "",
  ) {
    const output = stderr.trim() || stdout.trim() || "(no output)";
    super(`${command} failed (${signal ? `signal ${signal}` : `exit ${code}`}): ${output.slice(-2000)}`);
  }
}
