/**
 * Run the AWS Backup fake on its own, e.g. next to a hand-started moto:
 *   npx tsx testing/backup-fake/main.ts [--port 5056] [--host 127.0.0.1]
 * then `export AWS_ENDPOINT_URL_BACKUP=http://127.0.0.1:5056`.
 */
import { startBackupFake } from "./server";

function option(name: string): string | undefined {
  const index = process.argv.indexOf(`--${name}`);
  return index >= 0 ? process.argv[index + 1] : undefined;
}

async function main(): Promise<void> {
  const port = Number(option("port") ?? "5056");
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new Error(`--port must be a TCP port, got ${option("port")}`);
  const fake = await startBackupFake({ port, host: option("host") ?? "127.0.0.1" });
  console.log(`backup-fake ready url=${fake.url} pid=${process.pid}`);
  const stop = (): void => void fake.close().then(() => process.exit(0));
  process.on("SIGINT", stop);
  process.on("SIGTERM", stop);
}

main().catch((error: unknown) => {
  console.error(`backup-fake: ${(error as Error).message}`);
  process.exit(1);
});
