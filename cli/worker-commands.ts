import type { Cleanup } from "../batch-worker/src";
import { parseTarget, TargetUrlError } from "../core/s3-url";
import { intOption, parse, UsageError } from "./args";
import type { Command } from "./main";

/**
 * The worker (AWS SDK S3 client, zstd, tar), the config loader (zod) and the ledger check (AWS SDK DynamoDB) are
 * imported once a command runs: `--help` and usage errors load none of them (cli/main.ts).
 */
const worker = () => import("../batch-worker/src");

/** Options of verify and restore that compare the manifest with what the pipeline recorded. */
const TRUST_OPTIONS = {
  "expect-manifest-sha256": { type: "string" },
  "ledger-table": { type: "string" },
  "recovery-point-arn": { type: "string" },
} as const;
const TRUST_USAGE = "[--expect-manifest-sha256 HEX] [--ledger-table NAME [--recovery-point-arn ARN]]";

async function trustOf(
  url: string,
  v: { "expect-manifest-sha256"?: string; "ledger-table"?: string; "recovery-point-arn"?: string },
) {
  const [{ loadConfig }, { manifestCheck }] = await Promise.all([import("../config/load"), import("./manifest-trust")]);
  // the pipeline's own table when the operator points the CLI at its config (as `ledger` does)
  const table = v["ledger-table"] ?? (process.env.BACKUP_ACTIONS_CONFIG ? `${loadConfig().name}-ledger` : undefined);
  return manifestCheck({
    url,
    expectSha256: v["expect-manifest-sha256"],
    ledgerTable: table,
    recoveryPointArn: v["recovery-point-arn"],
    warn: (line) => process.stderr.write(`${line}\n`),
  });
}

async function target(url: string | undefined, what: string) {
  if (!url) throw new UsageError(`${what} is required`);
  const { openStore } = await worker();
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
export function cleanupOnSignals(cleanup: Cleanup, log: { warn(message: string): void }): () => void {
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
        {
          device: { type: "string" },
          to: { type: "string" },
          "compression-level": { type: "string" },
          concurrency: { type: "string" },
        },
        { min: 0, max: 0 },
      );
      if (!values.device) throw new UsageError("--device is required");
      const store = await target(values.to, "--to");
      const compressionLevel = intOption(values["compression-level"], "compression-level", 1, 19);
      const concurrency = intOption(values.concurrency, "concurrency", 1, 64);
      const { Cleanup, DEFAULT_COMPRESSION_LEVEL, DEFAULT_CONCURRENCY, exportVolume, log } = await worker();
      const cleanup = new Cleanup();
      const off = cleanupOnSignals(cleanup, log);
      try {
        await exportVolume({
          device: values.device,
          store,
          compressionLevel: compressionLevel ?? DEFAULT_COMPRESSION_LEVEL,
          concurrency: concurrency ?? DEFAULT_CONCURRENCY,
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
    usage: `verify s3://BUCKET/PREFIX/|file:///DIR/ ${TRUST_USAGE}`,
    async run(args) {
      const { values, positionals } = parse(args, { ...TRUST_OPTIONS }, { min: 1, max: 1 });
      const store = await target(positionals[0], "the export URL");
      const { verifyExport } = await worker();
      const report = await verifyExport(store, await trustOf(store.url, values));
      process.stdout.write(JSON.stringify(report, null, 2) + "\n");
      if (!report.ok)
        process.stderr.write(
          `verify: FAILED (${report.items
            .filter((i) => !i.ok)
            .map((i) => i.name)
            .join(", ")})\n`,
        );
      return report.ok ? 0 : 1;
    },
  },
  restore: {
    summary:
      "restore items into a new or empty DIR: tar -> DIR/<item>/, img -> DIR/<item>.img; or one img onto --device",
    usage: `restore s3://BUCKET/PREFIX/|file:///DIR/ (--to DIR [--force] | --device DEV | --to-dynamodb-table NAME) [--item NAME]... ${TRUST_USAGE}`,
    async run(args) {
      const { values, positionals } = parse(
        args,
        {
          to: { type: "string" },
          force: { type: "boolean" },
          item: { type: "string", multiple: true },
          device: { type: "string" },
          "to-dynamodb-table": { type: "string" },
          ...TRUST_OPTIONS,
        },
        { min: 1, max: 1 },
      );
      if (values["to-dynamodb-table"] !== undefined) return restoreToDynamoDb(positionals[0]!, values);
      if (!values.to && !values.device) throw new UsageError("--to DIR or --device DEV is required");
      if (values.to && values.device) throw new UsageError("--to and --device exclude each other");
      if (values.force && !values.to) throw new UsageError("--force applies to --to only");
      const store = await target(positionals[0], "the export URL");
      const { Cleanup, log, restoreExport } = await worker();
      const checkManifest = await trustOf(store.url, values);
      const cleanup = new Cleanup();
      const off = cleanupOnSignals(cleanup, log);
      try {
        await restoreExport({
          store,
          to: values.to,
          force: values.force,
          items: values.item,
          device: values.device,
          checkManifest,
          tty: Boolean(process.stderr.isTTY),
          cleanup,
        });
        return 0;
      } finally {
        off();
      }
    },
  },
};

/** `restore URL --to-dynamodb-table NAME`: a DynamoDB export imported into a new table (cli/dynamodb-restore.ts). */
async function restoreToDynamoDb(url: string, values: Record<string, unknown>): Promise<number> {
  const others = ["to", "device", "force", "item"].filter((k) => values[k] !== undefined);
  if (others.length > 0) throw new UsageError(`--to-dynamodb-table excludes ${others.map((k) => `--${k}`).join(", ")}`);
  if (!url.startsWith("s3://"))
    throw new UsageError("--to-dynamodb-table needs an s3:// export URL (ImportTable reads S3)");
  const [{ DynamoDBClient }, { S3Client }, { restoreDynamoDbTable }, { instrumented }] = await Promise.all([
    import("@aws-sdk/client-dynamodb"),
    import("@aws-sdk/client-s3"),
    import("./dynamodb-restore"),
    import("../core/aws-client-hook"),
  ]);
  const ddb = instrumented(new DynamoDBClient({}));
  const s3 = instrumented(
    new S3Client({ forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3 ?? process.env.AWS_ENDPOINT_URL) }),
  );
  try {
    const result = await restoreDynamoDbTable({
      url,
      table: String(values["to-dynamodb-table"]),
      ddb,
      s3,
      warn: (line) => process.stderr.write(`restore: ${line}\n`),
    });
    process.stdout.write(`${JSON.stringify(result)}\n`);
    process.stderr.write(`restore: ${result.items} items imported into table ${result.table}\n`);
    return 0;
  } finally {
    ddb.destroy();
    s3.destroy();
  }
}
