/** Jest globalTeardown: stop what global setup started (runs also when tests failed). */
import { BENCH_STATE_KEY, type BenchState } from "./bench-state";
import { stopServerProcess } from "./process-control";
import { judgeRunRecording } from "../iam/run";

export default async function globalTeardown(): Promise<void> {
  const state = (globalThis as Record<string, unknown>)[BENCH_STATE_KEY] as BenchState | undefined;
  if (!state) return;
  const stops: Promise<void>[] = [];
  if (state.moto) stops.push(stopServerProcess(state.moto));
  if (state.backupFake) stops.push(stopServerProcess(state.backupFake));
  await Promise.all(stops);
  delete (globalThis as Record<string, unknown>)[BENCH_STATE_KEY];
  // Every AWS request product code made in this run, judged against its role's policies (testing/README.md).
  const judged = await judgeRunRecording();
  if (judged.requests > 0)
    process.stderr.write(
      `\n[iam] ${judged.requests} recorded AWS request(s) allowed by the synthesized policies (${judged.file})\n`,
    );
}
