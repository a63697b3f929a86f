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
