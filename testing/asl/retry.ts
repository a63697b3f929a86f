/**
 * Retry and Catch matching, and the retry delay. The rules follow the Step Functions docs:
 * - `States.ALL` matches every error except the terminal States.Runtime / States.DataLimitExceeded;
 * - `States.TaskFailed` matches every error except States.Timeout (and those terminal ones);
 * - anything else matches by exact name.
 * Retriers are tried in order; the first whose ErrorEquals matches decides (if its attempts are used up,
 * the error goes to Catch — later retriers are not consulted).
 */
import { Catcher, Retrier, UNCATCHABLE_ERRORS } from "./types";

export function errorMatches(errorEquals: readonly string[], error: string): boolean {
  if (UNCATCHABLE_ERRORS.has(error)) return false;
  return errorEquals.some(
    (e) => e === error || e === "States.ALL" || (e === "States.TaskFailed" && error !== "States.Timeout"),
  );
}

/** Per-state retry bookkeeping: attempts made per retrier (reset each time the state is entered). */
export class RetryTracker {
  private readonly attempts: number[];

  constructor(
    private readonly retriers: readonly Retrier[],
    private readonly random: () => number = Math.random,
  ) {
    this.attempts = retriers.map(() => 0);
  }

  /** Returns the virtual delay in seconds before the next attempt, or `undefined` if the error is not retried. */
  nextDelaySeconds(error: string): number | undefined {
    const index = this.retriers.findIndex((r) => errorMatches(r.ErrorEquals, error));
    if (index < 0) return undefined;
    const retrier = this.retriers[index];
    const maxAttempts = retrier.MaxAttempts ?? 3;
    if (this.attempts[index] >= maxAttempts) return undefined;
    const delay = retryDelaySeconds(retrier, this.attempts[index], this.random);
    this.attempts[index]++;
    return delay;
  }

  /** Total retries made so far (the context object's `$$.State.RetryCount`). */
  get retryCount(): number {
    return this.attempts.reduce((a, b) => a + b, 0);
  }
}

/**
 * Delay before retry number `retry` (0-based): IntervalSeconds × BackoffRate^retry, capped by MaxDelaySeconds;
 * with JitterStrategy FULL a uniformly random share of it (AWS "full jitter").
 */
export function retryDelaySeconds(retrier: Retrier, retry: number, random: () => number = Math.random): number {
  const base = (retrier.IntervalSeconds ?? 1) * Math.pow(retrier.BackoffRate ?? 2, retry);
  const capped = retrier.MaxDelaySeconds !== undefined ? Math.min(base, retrier.MaxDelaySeconds) : base;
  return retrier.JitterStrategy === "FULL" ? random() * capped : capped;
}

export function findCatcher(catchers: readonly Catcher[] | undefined, error: string): Catcher | undefined {
  return catchers?.find((c) => errorMatches(c.ErrorEquals, error));
}
