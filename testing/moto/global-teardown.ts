/** Jest globalTeardown: stop what global setup started (runs also when tests failed). */
import { BENCH_STATE_KEY, type BenchState } from "./bench-state";
import { stopServerProcess } from "./process-control";

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>)[BENCH_STATE_KEY] as BenchState | undefined;
  if (!state) return;
  const stops: Promise<void>[] = [];
  if (state.moto) stops.push(stopServerProcess(state.moto));
  if (state.backupFake) stops.push(stopServerProcess(state.backupFake));
  await Promise.all(stops);
  delete (globalThis as Record<string, unknown>)[BENCH_STATE_KEY];
}
