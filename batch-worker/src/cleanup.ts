import { log } from "./log";

/**
 * Undo actions (unmount, detach loop device, deactivate a VG, detach the volume) registered as
 * resources are acquired and run in reverse order on every path: success, failure and signals.
 * A failing undo is logged and the rest still run.
 */
export class Cleanup {
  private readonly stack: { what: string; fn: () => Promise<unknown> }[] = [];
  private running: Promise<void> | undefined;

  add(what: string, fn: () => Promise<unknown>): void {
    this.stack.push({ what, fn });
  }

  /** Runs a step now and removes it from the stack (e.g. unmount as soon as an item is done). */
  async runOne(what: string): Promise<void> {
    const i = this.stack.map((s) => s.what).lastIndexOf(what);
    if (i < 0) return;
    const [s] = this.stack.splice(i, 1);
    await s.fn();
  }

  runAll(): Promise<void> {
    this.running ??= (async () => {
      while (this.stack.length) {
        const s = this.stack.pop()!;
        try {
          await s.fn();
        } catch (e) {
          log.warn(`cleanup: ${s.what} failed: ${(e as Error).message}`);
        }
      }
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }
}

/**
 * Runs the cleanup when the process is told to stop (Batch sends SIGTERM on cancellation and Spot
 * interruption, a terminal SIGINT), then exits with 128 + the signal's number. Returns the release of the
 * handlers, for a command that ends by itself.
 */
export function cleanupOnSignals(cleanup: Cleanup, doing = "cleaning up"): () => void {
  const handler = (sig: NodeJS.Signals) => {
    log.warn(`received ${sig}: ${doing}`);
    void cleanup.runAll().finally(() => process.exit(128 + (sig === "SIGINT" ? 2 : 15)));
  };
  process.once("SIGTERM", handler);
  process.once("SIGINT", handler);
  return () => {
    process.removeListener("SIGTERM", handler);
    process.removeListener("SIGINT", handler);
  };
}
