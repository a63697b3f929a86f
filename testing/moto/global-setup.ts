/**
 * Jest globalSetup: one patched moto server and one AWS Backup fake for the
 * whole run. Runs in jest's parent process before any worker starts, so the
 * variables set here are inherited by every worker.
 *
 * If moto is not installed, nothing fails here: BENCH_MOTO_MISSING carries
 * the reason, and tests that need moto (describeWithPrereqs + motoMissing())
 * skip outside CI and fail under CI=true. Unit tests run either way.
 */
import { startBackupFake } from "../backup-fake/server";
import { BENCH_REGION, MOTO_MISSING_ENV, motoPortFromEnv } from "./bench-env";
import { clearStaleLauncher, findPythonWithMoto, startLauncher } from "./process-control";
import { BENCH_STATE_KEY, type BenchState } from "./bench-state";

export default async function globalSetup(): Promise<void> {
  const port = motoPortFromEnv();
  const state: BenchState = {};
  (globalThis as Record<string, unknown>)[BENCH_STATE_KEY] = state;

  // Every SDK client in tests and in code under test finds the emulators through these.
  process.env.AWS_ACCESS_KEY_ID = "testing";
  process.env.AWS_SECRET_ACCESS_KEY = "testing";
  delete process.env.AWS_SESSION_TOKEN;
  delete process.env.AWS_PROFILE;
  process.env.AWS_REGION = BENCH_REGION;
  process.env.AWS_DEFAULT_REGION = BENCH_REGION;

  state.backupFake = await startBackupFake();
  process.env.AWS_ENDPOINT_URL_BACKUP = state.backupFake.url;

  if (process.env.MOTO_DISABLE === "1") {
    // Saves the few seconds moto takes to start when only unit tests run.
    process.env[MOTO_MISSING_ENV] = "moto server (disabled by MOTO_DISABLE=1)";
    return;
  }
  const python = findPythonWithMoto();
  if ("missing" in python) {
    process.env[MOTO_MISSING_ENV] = python.missing;
    process.stderr.write(`\n[moto] not started: ${python.missing}\n`);
    return;
  }
  try {
    await clearStaleLauncher(port);
    state.moto = await startLauncher(python.python, port);
  } catch (error) {
    // Do not leave the fake running if the run is aborted here.
    await state.backupFake.close();
    throw error;
  }
  process.env.MOTO_PORT = String(port);
  process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${port}`;
  delete process.env[MOTO_MISSING_ENV];
}
