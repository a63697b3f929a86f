/** What global setup started, kept on globalThis for global teardown (jest shares globalThis between the two). */
import type { RunningServer } from "./process-control";

export const BENCH_STATE_KEY = "__backupActionsBench";

export interface BenchState {
  moto?: RunningServer;
  backupFake?: RunningServer;
}
