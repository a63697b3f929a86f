/**
 * Run the AWS Backup fake as its own process. Jest global setup does this
 * (a separate process, so a test blocked in spawnSync on a CLI that calls
 * Backup cannot deadlock the fake), and so can a developer:
 *   npx tsx testing/backup-fake/main.ts [--port 5056] [--host 127.0.0.1] [--ignore-stdin]
 * then `export AWS_ENDPOINT_URL_BACKUP=http://127.0.0.1:5056`.
 *
 * Prints `backup-fake ready url=<url> pid=<pid>` once listening. Stops on
 * SIGTERM/SIGINT and, unless --ignore-stdin, when stdin closes (its parent died).
 */
import { startBackupFake } from "./server";

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  const port = Number(option("port") ?? "5056");
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new Error(`--port must be a TCP port, got ${option("port")}`);
  const fake = await startBackupFake({ port, host: option("host") ?? "127.0.0.1" });
  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    void fake.close().finally(() => process.exit(0));
  };
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
  if (!process.argv.includes("--ignore-stdin")) {
    process.stdin.on("end", stop);
    process.stdin.on("error", stop);
    process.stdin.resume();
  }
  console.log(`backup-fake ready url=${fake.url} pid=${process.pid}`);
}

main().catch((error: unknown) => {
  console.error(`backup-fake: ${(error as Error).message}`);
  process.exit(1);
});
