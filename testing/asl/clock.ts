/**
 * Virtual time. Waits, retry intervals and task durations advance a clock instead of sleeping, so a
 * definition that waits for hours runs in milliseconds while its history still shows the times.
 * Each thread of execution (the main flow, a Parallel branch, a Map iteration) has its own clock forked
 * from its parent; the parent continues at the latest time any of its children reached.
 */
export class VirtualClock {
  private nowMs: number;

  constructor(start: Date | number = Date.now()) {
    this.nowMs = typeof start === "number" ? start : start.getTime();
  }

  now(): Date {
    return new Date(this.nowMs);
  }

  nowMillis(): number {
    return this.nowMs;
  }

  advanceSeconds(seconds: number): void {
    if (!(seconds >= 0)) throw new Error(`Cannot advance a clock by ${seconds} seconds`);
    this.nowMs += Math.round(seconds * 1000);
  }

  /** Moves to `time` if it is in the future (a Wait with a past Timestamp does not wait). */
  advanceTo(time: number): void {
    this.nowMs = Math.max(this.nowMs, time);
  }

  fork(): VirtualClock {
    return new VirtualClock(this.nowMs);
  }
}
