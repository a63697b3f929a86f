/**
 * Container entrypoint of the Batch worker image (bundled by scripts/build-worker.mjs).
 * Three jobs: the EBS export (flags of core/worker-job.ts), `dump-database …` (batch-worker/src/dump-job.ts),
 * which the RDS/Aurora dump job runs against the instance it restored, and `verify …`
 * (batch-worker/src/verify-job.ts), the restore drill's re-read of an archive.
 * Exit codes: 0 manifest written; 1 export failed; 2 bad job parameters; 128+n on signal n.
 */
import { Cleanup, cleanupOnSignals } from "./cleanup";
import { defaultDeps, jobParams, JobParamsError, runBatchJob } from "./batch-entrypoint";
import { dumpDatabases } from "./dump-database";
import { parseDumpJob, withPassword } from "./dump-job";
import { log } from "./log";
import { verifyJobMain } from "./verify-job";

async function dumpJob(argv: string[]): Promise<number> {
  let job;
  try {
    job = parseDumpJob(argv);
  } catch (e) {
    log.error(`bad job parameters: ${(e as Error).message}`);
    return 2;
  }
  try {
    await dumpDatabases(await withPassword(job));
    return 0;
  } catch (e) {
    log.error(`dump failed: ${(e as Error).message}`);
    return 1;
  }
}

async function main(): Promise<number> {
  if (process.argv[2] === "dump-database") return dumpJob(process.argv.slice(3));
  if (process.argv[2] === "verify") return verifyJobMain(process.argv.slice(3));
  let params;
  try {
    params = jobParams(process.argv.slice(2));
  } catch (e) {
    log.error(`bad job parameters: ${(e as Error).message}`);
    return e instanceof JobParamsError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1;
  }
  const cleanup = new Cleanup();
  // SIGTERM: job cancelled or Spot interruption (2 minutes' notice): unmount and detach, then exit
  cleanupOnSignals(cleanup, "unmounting and detaching");
  try {
    await runBatchJob(params, defaultDeps(), cleanup);
    return 0;
  } catch (e) {
    log.error(`export failed: ${(e as Error).stack ?? e}`);
    return 1;
  }
}

void main().then((code) => {
  process.exitCode = code;
});
