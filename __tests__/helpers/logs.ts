/** Captures the JSON lines a Powertools Logger writes (to process.stdout and process.stderr outside dev mode). */
import { Logger } from "@aws-lambda-powertools/logger";

export interface CapturedLogs {
  /** Every line written since the capture began, parsed, in order. */
  lines(): Array<Record<string, any>>;
  restore(): void;
}

export function captureLogs(): CapturedLogs {
  const written: string[] = [];
  const capture = (chunk: unknown) => {
    written.push(String(chunk));
    return true;
  };
  const out = jest.spyOn(process.stdout, "write").mockImplementation(capture);
  const err = jest.spyOn(process.stderr, "write").mockImplementation(capture);
  return {
    lines: () =>
      written
        .join("")
        .split("\n")
        .filter((l) => l.trim() !== "")
        .map((l) => JSON.parse(l) as Record<string, any>),
    restore: () => {
      out.mockRestore();
      err.mockRestore();
    },
  };
}

/** Runs `fn` with a fresh logger whose lines are captured; returns its result and the lines. */
export async function withCapturedLogs<T>(
  fn: (logger: Logger) => Promise<T>,
): Promise<{ result: T; lines: Array<Record<string, any>> }> {
  const logs = captureLogs();
  try {
    const result = await fn(new Logger({ serviceName: "test", logLevel: "INFO" }));
    return { result, lines: logs.lines() };
  } finally {
    logs.restore();
  }
}
