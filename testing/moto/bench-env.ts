/**
 * Names shared by the jest global setup (which starts the servers) and the
 * test-side helpers (which find them through process.env).
 */
import os from "node:os";
import path from "node:path";

export const DEFAULT_MOTO_PORT = 5055;
export const BENCH_REGION = "us-east-1";

/** Set by global setup when moto could not be started; holds the reason. */
export const MOTO_MISSING_ENV = "BENCH_MOTO_MISSING";

export function motoPortFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MOTO_PORT ?? String(DEFAULT_MOTO_PORT);
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`MOTO_PORT must be a TCP port number, got ${JSON.stringify(raw)}`);
  }
  return port;
}

/** Where the launcher records "<launcher pid>\n<parent pid>" while it runs. */
export function pidFilePath(port: number): string {
  return path.join(os.tmpdir(), `backup-actions-moto-${port}.pid`);
}

/** moto's request log for one port, kept for post-mortems of failed runs. */
export function logFilePath(port: number): string {
  return path.join(os.tmpdir(), `backup-actions-moto-${port}.log`);
}

export const LAUNCHER_PATH = path.join(__dirname, "launcher.py");
