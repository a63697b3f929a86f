/**
 * jest globalSetup for mutation runs (jest.mutation.config.js). StrykerJS runs jest once per mutant inside
 * one long-lived process; the bench's global setup (testing/moto/global-setup.ts) would start moto and the
 * AWS Backup fake for every mutant. Here they start on the first run of the process and stay up for the
 * next ones (each test file still resets both, testing/moto/reset.ts). They end with the process: each is
 * tied to it by a stdin pipe (testing/moto/process-control.ts).
 *
 * The IAM proof's run-level recording is switched off: nothing would judge it (a mutant is killed by a
 * failing test, not by a denied request), and thousands of runs would fill $TMPDIR with it. The ordinary
 * jest runs (jest.config.js) keep the proof.
 */
import { rmSync } from "node:fs";
import benchGlobalSetup from "../moto/global-setup";
import { RECORDING_ENV } from "../iam/recorder";

const STARTED = Symbol.for("backup-actions.mutation.bench-started");

export default async function globalSetup(): Promise<void> {
  const g = globalThis as Record<symbol, unknown>;
  if (g[STARTED]) return;
  await benchGlobalSetup();
  const recording = process.env[RECORDING_ENV];
  if (recording) rmSync(recording, { force: true });
  delete process.env[RECORDING_ENV];
  g[STARTED] = true;
}
