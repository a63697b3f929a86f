/**
 * Plain log lines on stderr (stdout of the CLI is reserved for results such as JSON output).
 * In AWS Batch the lines go to CloudWatch Logs as they are.
 */
function line(level: string, msg: string): void {
  process.stderr.write(`${new Date().toISOString()} ${level} ${msg}\n`);
}

export const log = {
  info: (msg: string) => line("INFO", msg),
  warn: (msg: string) => line("WARN", msg),
  error: (msg: string) => line("ERROR", msg),
  /** Writes one raw line (already formatted, e.g. CloudWatch embedded metric format JSON) to stdout. */
  raw: (text: string) => process.stdout.write(text + "\n"),
};
