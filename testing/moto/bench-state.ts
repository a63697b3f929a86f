/** What global setup started, kept on globalThis for global teardown (jest shares globalThis between the two). */
import type { RunningServer } from "./process-control";

export const BENCH_STATE_KEY = "__backupActionsBench";

export interface BenchState {
  /** Set once a server tier's setup ran in this process (several tiers in one run share one bench). */
  serversStarted?: boolean;
  moto?: RunningServer;
  backupFake?: RunningServer;
}
