/**
 * The restore drill's Batch job (stacks/workflows/restore-drill.ts): the worker image's entrypoint run as
 * `node /app/worker.js verify s3://BUCKET/PREFIX/ --expect-manifest-sha256 HEX`. It re-reads the whole
 * archive with the same `verifyExport` as `backup-actions verify` (every byte, sizes, SHA-256, S3
 * checksums, tar listings, dump tables of contents) and refuses a manifest.json other than the one the
 * ledger recorded. With `--restore-scratch` (config `drills.restoreDumps`, database dump archives) it also
 * loads the dumps into a throw-away server and checks what it holds (scratch-restore.ts).
 * Exit 0: verified; 1: it did not verify (the report names what); 2: bad job parameters; 128+n on signal n
 * (the scratch server stopped and its directory removed first).
 */
import { parseArgs } from "node:util";
import { parseTarget } from "../../core/s3-url";
import { JobParamsError } from "../../core/worker-job";
import { Cleanup, cleanupOnSignals } from "./cleanup";
import { log } from "./log";
import { withScratchRestore } from "./scratch-restore";
import { openStore, type ObjectStore } from "./store";
import { verifyExport, type VerifyReport } from "./verify";

export const VERIFY_JOB_USAGE = "verify s3://BUCKET/PREFIX/ --expect-manifest-sha256 HEX [--restore-scratch]";

export interface VerifyJob {
  readonly url: string;
  readonly expectManifestSha256: string;
  /** Also restore a database dump into a scratch server and check it. */
  readonly restoreScratch: boolean;
}

export function parseVerifyJob(argv: string[]): VerifyJob {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      options: { "expect-manifest-sha256": { type: "string" }, "restore-scratch": { type: "boolean" } },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new JobParamsError(`${(e as Error).message} (usage: ${VERIFY_JOB_USAGE})`);
  }
  const [url, ...extra] = parsed.positionals;
  if (!url || extra.length > 0)
    throw new JobParamsError(
      `one archive URL is required, got ${parsed.positionals.length} (usage: ${VERIFY_JOB_USAGE})`,
    );
  parseTarget(url);
  const sha = parsed.values["expect-manifest-sha256"];
  if (!sha || !/^[0-9a-f]{64}$/.test(sha))
    throw new JobParamsError(
      `--expect-manifest-sha256 must be the 64 hex digits the ledger recorded, got "${sha ?? ""}" (usage: ${VERIFY_JOB_USAGE})`,
    );
  return { url, expectManifestSha256: sha, restoreScratch: parsed.values["restore-scratch"] === true };
}

/** Verifies the archive; throws when its manifest is not the recorded one. */
export async function runVerifyJob(
  job: VerifyJob,
  open: (url: string) => ObjectStore = (url) => openStore(parseTarget(url)),
  cleanup?: Cleanup,
): Promise<VerifyReport> {
  const store = open(job.url);
  const checkManifest = async (sha256: string) => {
    if (sha256 !== job.expectManifestSha256)
      throw new Error(
        `manifest.json of ${job.url} has SHA-256 ${sha256}, the ledger recorded ${job.expectManifestSha256}: refused`,
      );
  };
  let report = await verifyExport(store, checkManifest);
  if (job.restoreScratch) report = await withScratchRestore(store, report, { checkManifest, cleanup });
  log.raw(JSON.stringify(report));
  if (!report.ok)
    log.error(
      `verify FAILED: ${report.items
        .filter((i) => !i.ok)
        .map((i) => `${i.name}: ${i.problems.join("; ")}`)
        .join(" | ")}`,
    );
  return report;
}

/** The entrypoint's `verify` command: its exit code. */
export async function verifyJobMain(argv: string[]): Promise<number> {
  let job;
  try {
    job = parseVerifyJob(argv);
  } catch (e) {
    log.error(`bad job parameters: ${(e as Error).message}`);
    return 2;
  }
  // SIGTERM: job cancelled or Spot interruption: the scratch server stopped and its directory removed, then exit
  const cleanup = new Cleanup();
  const release = cleanupOnSignals(cleanup);
  try {
    return (await runVerifyJob(job, undefined, cleanup)).ok ? 0 : 1;
  } catch (e) {
    log.error(`verify failed: ${(e as Error).message}`);
    return 1;
  } finally {
    await cleanup.runAll();
    release();
  }
}
