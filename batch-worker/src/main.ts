/**
 * Container entrypoint of the Batch worker image (bundled by scripts/build-worker.mjs).
 * Exit codes: 0 manifest written; 1 export failed; 2 bad job parameters; 128+n on signal n.
 */
import { Cleanup } from "./cleanup";
import { defaultDeps, jobParams, JobParamsError, runBatchJob } from "./batch-entrypoint";
import { log } from "./log";

async function main(): Promise<number> {
  let params;
  try {
    params = jobParams(process.argv.slice(2));
  } catch (e) {
    log.error(`bad job parameters: ${(e as Error).message}`);
    return e instanceof JobParamsError || (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS") ? 2 : 1;
  }
  const cleanup = new Cleanup();
  // SIGTERM: job cancelled or Spot interruption (2 minutes' notice): unmount and detach, then exit
  for (const sig of ["SIGTERM", "SIGINT"] as const) {
    process.once(sig, () => {
      log.warn(`received ${sig}: unmounting and detaching`);
      void cleanup.runAll().finally(() => process.exit(sig === "SIGTERM" ? 143 : 130));
    });
  }
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
