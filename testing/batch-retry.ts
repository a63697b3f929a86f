/**
 * AWS Batch's retry strategy, applied to an in-process job runner: the test bench's
 * stand-in for `batch:submitJob.sync` runs attempts the way Batch would under the job
 * definition's *synthesized* `retry_strategy` (attempts, and `evaluate_on_exit` rules
 * matched in order, globs on statusReason / reason / exit code, RETRY or EXIT).
 * So a test of "Spot reclaim is retried, anything else is not" exercises our job
 * definition, not a copy of its rules.
 */
import type { BatchJobRunner } from "./asl";

export interface SynthesizedRetryStrategy {
  readonly attempts: number;
  readonly evaluate_on_exit?: ReadonlyArray<{
    on_status_reason?: string;
    on_reason?: string;
    on_exit_code?: string;
    action: string;
  }>;
}

/** How one attempt ended when it did not succeed (what Batch reports for it). */
export class AttemptFailure extends Error {
  constructor(
    readonly statusReason: string,
    readonly reason = "",
    readonly exitCode?: number,
  ) {
    super(statusReason);
    this.name = "AttemptFailure";
  }
}

function glob(pattern: string, value: string): boolean {
  // Batch: letters, digits, spaces, periods, colons; `*` only at the end.
  const escaped = pattern.replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*$/, ".*");
  return new RegExp(`^${escaped}$`, "i").test(value);
}

export function actionFor(strategy: SynthesizedRetryStrategy, failure: AttemptFailure): "RETRY" | "EXIT" {
  for (const rule of strategy.evaluate_on_exit ?? []) {
    const matches =
      (rule.on_status_reason === undefined || glob(rule.on_status_reason, failure.statusReason)) &&
      (rule.on_reason === undefined || glob(rule.on_reason, failure.reason)) &&
      (rule.on_exit_code === undefined || glob(rule.on_exit_code, String(failure.exitCode ?? "")));
    if (matches) return rule.action.toUpperCase() === "RETRY" ? "RETRY" : "EXIT";
  }
  return "RETRY"; // no rule matched: Batch retries while attempts remain
}

/** A job runner that runs `attempt(n)` until it succeeds or the strategy says stop. */
export function withRetryStrategy(
  strategy: SynthesizedRetryStrategy,
  attempt: (n: number, job: Parameters<BatchJobRunner>[0]) => Promise<void> | void,
): BatchJobRunner {
  return async (job) => {
    const attempts: Array<{ StatusReason: string; Container: { ExitCode?: number; Reason?: string } }> = [];
    for (let n = 1; ; n++) {
      try {
        await attempt(n, job);
        return {
          Attempts: attempts.concat({ StatusReason: "Essential container in task exited", Container: { ExitCode: 0 } }),
        } as never;
      } catch (err) {
        if (!(err instanceof AttemptFailure)) throw err;
        attempts.push({ StatusReason: err.statusReason, Container: { ExitCode: err.exitCode, Reason: err.reason } });
        if (n >= strategy.attempts || actionFor(strategy, err) === "EXIT") {
          const failed = new Error(`${err.statusReason} (attempt ${n} of ${strategy.attempts})`);
          throw failed;
        }
      }
    }
  };
}
