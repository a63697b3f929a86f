/**
 * The worker's public module: what the `backup-actions` CLI (cli/worker-commands.ts) may use.
 * Everything else under batch-worker/src is internal to the worker; the layering test
 * (.dependency-cruiser.js) lets the CLI import this file only.
 */
export { Cleanup, cleanupOnSignals } from "./cleanup";
export { DEFAULT_COMPRESSION_LEVEL, DEFAULT_CONCURRENCY, exportVolume } from "./export-volume";
export type { ExportOptions } from "./export-volume";
export { log } from "./log";
export { restoreExport } from "./restore";
export { openStore } from "./store";
export { verifyExport } from "./verify";
export { verifyArchiveAt } from "./verify-exports";
export { withScratchRestore } from "./scratch-restore";
export type { ManifestCheck } from "./verify";
export type { Connection } from "./db-engine";
export { dumpDatabases } from "./dump-database";
export { restoreDatabases } from "./restore-database";
export { DUMP_USAGE, parseDumpJob, withPassword } from "./dump-job";
export { JobParamsError } from "../../core/worker-job";
export { DEFAULT_BLOCK_CONCURRENCY, DEFAULT_RATE, exportSnapshot } from "./export-snapshot";
