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

/** Set by the unit tier's global setup, which starts no server: why (testing/moto/unit-global-setup.ts). */
export const NO_SERVERS_ENV = "BENCH_NO_SERVERS";

/**
 * The ports Node's fetch refuses to reach ("bad port", the WHATWG Fetch standard's port blocking list, e.g.
 * 5060 and 5061 for SIP). The bench resets moto with fetch (reset.ts), so moto cannot serve on one of them.
 */
export const FETCH_BLOCKED_PORTS: ReadonlySet<number> = new Set([
  1, 7, 9, 11, 13, 15, 17, 19, 20, 21, 22, 23, 25, 37, 42, 43, 53, 69, 77, 79, 87, 95, 101, 102, 103, 104, 109, 110,
  111, 113, 115, 117, 119, 123, 135, 137, 139, 143, 161, 179, 389, 427, 465, 512, 513, 514, 515, 526, 530, 531, 532,
  540, 548, 554, 556, 563, 587, 601, 636, 989, 990, 993, 995, 1719, 1720, 1723, 2049, 3659, 4045, 4190, 5060, 5061,
  6000, 6566, 6665, 6666, 6667, 6668, 6669, 6679, 6697, 10080,
]);

export function motoPortFromEnv(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.MOTO_PORT ?? String(DEFAULT_MOTO_PORT);
  const port = Number(raw);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`MOTO_PORT must be a TCP port number, got ${JSON.stringify(raw)}`);
  }
  if (FETCH_BLOCKED_PORTS.has(port)) {
    throw new Error(
      `MOTO_PORT ${port} is a port Node's fetch refuses to reach ("bad port" in the Fetch standard's ` +
        "port blocking list), and the bench talks to moto with fetch: choose another port",
    );
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
