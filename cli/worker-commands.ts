import { Cleanup, DEFAULT_COMPRESSION_LEVEL, DEFAULT_CONCURRENCY, exportVolume, log, openStore, restoreExport, verifyExport } from "../batch-worker/src";
import { parseTarget, TargetUrlError } from "../core/s3-url";
import { intOption, parse, UsageError } from "./args";
import type { Command } from "./main";

function target(url: string | undefined, what: string) {
  if (!url) throw new UsageError(`${what} is required`);
  try {
    return openStore(parseTarget(url));
  } catch (e) {
    if (e instanceof TargetUrlError) throw new UsageError(e.message);
    throw e;
  }
}

/**
 * Undo mounts and loop devices when the process is told to stop (Batch sends SIGTERM on
 * cancellation and Spot interruption); then exit with 128 + signal number.
 */
export function cleanupOnSignals(cleanup: Cleanup): () => void {
  const handler = (sig: NodeJS.Signals) => {
    log.warn(`received ${sig}: cleaning up`);
    void cleanup.runAll().finally(() => process.exit(128 + (sig === "SIGINT" ? 2 : 15)));
  };
  process.once("SIGTERM", handler);
  process.once("SIGINT", handler);
  return () => {
    process.removeListener("SIGTERM", handler);
    process.removeListener("SIGINT", handler);
  };
}

export const workerCommands: Record<string, Command> = {
  "export-volume": {
    summary: "export every filesystem of a disk (tar.zst / img.zst + manifest.json)",
    usage: "export-volume --device DEV --to s3://BUCKET/PREFIX/|file:///DIR/ [--compression-level N] [--concurrency N]",
    async run(args) {
      const { values } = parse(
        args,
        { device: { type: "string" }, to: { type: "string" }, "compression-level": { type: "string" }, concurrency: { type: "string" } },
        { min: 0, max: 0 },
      );
      if (!values.device) throw new UsageError("--device is required");
      const store = target(values.to, "--to");
      const cleanup = new Cleanup();
      const off = cleanupOnSignals(cleanup);
      try {
        await exportVolume({
          device: values.device,
          store,
          compressionLevel: intOption(values["compression-level"], "compression-level", 1, 19) ?? DEFAULT_COMPRESSION_LEVEL,
          concurrency: intOption(values.concurrency, "concurrency", 1, 64) ?? DEFAULT_CONCURRENCY,
          cleanup,
        });
        return 0;
      } finally {
        off();
      }
    },
  },
  verify: {
    summary: "re-read every object of an export and check sizes, SHA-256 and archives",
    usage: "verify s3://BUCKET/PREFIX/|file:///DIR/",
    async run(args) {
      const { positionals } = parse(args, {}, { min: 1, max: 1 });
      const report = await verifyExport(target(positionals[0], "the export URL"));
      process.stdout.write(JSON.stringify(report, null, 2) + "\n");
      if (!report.ok) process.stderr.write(`verify: FAILED (${report.items.filter((i) => !i.ok).map((i) => i.name).join(", ")})\n`);
      return report.ok ? 0 : 1;
    },
  },
  restore: {
    summary: "restore items: tar -> DIR/<item>/, img -> DIR/<item>.img or --device",
    usage: "restore s3://BUCKET/PREFIX/|file:///DIR/ --to DIR [--item NAME]... [--device DEV]",
    async run(args) {
      const { values, positionals } = parse(
        args,
        { to: { type: "string" }, item: { type: "string", multiple: true }, device: { type: "string" } },
        { min: 1, max: 1 },
      );
      if (!values.to) throw new UsageError("--to DIR is required");
      await restoreExport({
        store: target(positionals[0], "the export URL"),
        to: values.to,
        items: values.item,
        device: values.device,
        tty: Boolean(process.stderr.isTTY),
      });
      return 0;
    },
  },
};
