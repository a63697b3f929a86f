/**
 * Jest globalSetup of the moto, disk and terraform tiers (jest.config.js): one patched moto server and
 * one AWS Backup fake for the whole run, each a child process tied to jest by a stdin pipe. Runs in
 * jest's parent process before any worker starts, so the variables set here are inherited by every
 * worker (and by processes tests spawn). The unit tier's setup (unit-global-setup.ts) starts neither.
 *
 * If moto is not installed, nothing fails here: BENCH_MOTO_MISSING carries
 * the reason, and tests that need moto (describeWithPrereqs + motoMissing())
 * skip outside CI and fail under CI=true.
 */
import os from "node:os";
import path from "node:path";
import { BENCH_REGION, MOTO_MISSING_ENV, motoPortFromEnv, NO_SERVERS_ENV } from "./bench-env";
import {
  clearStaleLauncher,
  findPythonWithMoto,
  isAlive,
  startLauncher,
  startServerProcess,
  stopServerProcess,
} from "./process-control";
import { BENCH_STATE_KEY, type BenchState } from "./bench-state";
import { startRunRecording } from "../iam/run";

const BACKUP_FAKE_MAIN = path.join(__dirname, "..", "backup-fake", "main.ts");

/** Set to the pid of the jest process that owns the bench; inherited by anything it spawns. */
const OWNER_ENV = "BENCH_OWNER_PID";

/** What the unit tier's tests are told about the servers it does not start. */
const UNIT_TIER_REASON =
  "the unit tier starts no servers and runs files in parallel: a test file that needs moto, the AWS Backup fake " +
  "or loop devices belongs in the moto, disk or terraform tier (jest.config.js)";

export default async function globalSetup(): Promise<void> {
  await startBench({ servers: true });
}

/**
 * Sets up the bench once per jest process, whichever tiers the run holds (a run of several projects
 * calls each tier's global setup): the IAM recording, the emulators' credentials and region and,
 * with `servers`, moto and the Backup fake. Without `servers`, and unless they already run, tests
 * are told why there are none.
 */
export async function startBench({ servers }: { servers: boolean }): Promise<void> {
  // A jest started from inside a test (e.g. __tests__/testing/prereq.test.ts) inherits the outer
  // run's environment: it reuses the outer bench instead of fighting over the port.
  const owner = Number(process.env[OWNER_ENV]);
  if (owner && owner !== process.pid && isAlive(owner)) return;

  let state = (globalThis as Record<string, unknown>)[BENCH_STATE_KEY] as BenchState | undefined;
  if (!state) {
    state = {};
    (globalThis as Record<string, unknown>)[BENCH_STATE_KEY] = state;
    process.env[OWNER_ENV] = String(process.pid);
    // The IAM proof's recording of this run (testing/iam/run.ts), judged by global teardown.
    startRunRecording();
    // Every SDK client in tests and in code under test finds the emulators (or none) with these.
    process.env.AWS_ACCESS_KEY_ID = "testing";
    process.env.AWS_SECRET_ACCESS_KEY = "testing";
    delete process.env.AWS_SESSION_TOKEN;
    delete process.env.AWS_PROFILE;
    process.env.AWS_REGION = BENCH_REGION;
    process.env.AWS_DEFAULT_REGION = BENCH_REGION;
  }
  if (!servers) {
    if (state.serversStarted) return;
    // Nothing reaches a server from the unit tier, not even one named in the caller's environment.
    delete process.env.AWS_ENDPOINT_URL;
    delete process.env.AWS_ENDPOINT_URL_BACKUP;
    process.env[NO_SERVERS_ENV] = UNIT_TIER_REASON;
    process.env[MOTO_MISSING_ENV] = `moto server (${UNIT_TIER_REASON})`;
    return;
  }
  if (state.serversStarted) return;
  state.serversStarted = true;
  delete process.env[NO_SERVERS_ENV];
  const port = motoPortFromEnv();

  state.backupFake = await startServerProcess(
    "AWS Backup fake",
    process.execPath,
    [require.resolve("tsx/cli"), BACKUP_FAKE_MAIN, "--port", "0"],
    /^backup-fake ready url=/,
    path.join(os.tmpdir(), `backup-actions-backup-fake-${process.pid}.log`),
  );
  process.env.AWS_ENDPOINT_URL_BACKUP = /url=(\S+)/.exec(state.backupFake.readyLine)![1];

  if (process.env.MOTO_DISABLE === "1") {
    // Saves the few seconds moto takes to start when only tests that do not need it run.
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
    await stopServerProcess(state.backupFake);
    throw error;
  }
  process.env.MOTO_PORT = String(port);
  process.env.AWS_ENDPOINT_URL = `http://127.0.0.1:${port}`;
  delete process.env[MOTO_MISSING_ENV];
}
