/** The `backup-actions` CLI run against the test database servers (testing/databases.ts), and what a scratch server leaves. */
import { spawn } from "node:child_process";
import { promises as fs } from "node:fs";
import path from "node:path";
import { POSTGRES_BIN, type TestServer } from "../../testing/databases";

const BIN = path.resolve(__dirname, "../../cli/bin.js");
/** The variable the CLI reads the database password from (`--password-env`). */
export const PW_ENV = "TEST_DB_PASSWORD";

export interface CliRun {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/**
 * One CLI run with the test PostgreSQL's tools and `password` in PW_ENV. `onStderr` sees the stderr so far
 * and may stop the run (SIGTERM).
 */
export function runCli(
  args: string[],
  password = "",
  o: { env?: NodeJS.ProcessEnv; onStderr?: (text: string, kill: () => void) => void } = {},
): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      env: { ...process.env, BACKUP_ACTIONS_POSTGRES_BIN: POSTGRES_BIN, [PW_ENV]: password, ...o.env },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (b: Buffer) => (stdout += b.toString()));
    child.stderr.on("data", (b: Buffer) => {
      stderr += b.toString();
      o.onStderr?.(stderr, () => child.kill("SIGTERM"));
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** `dump-database` of server `s` to `to`, the password in PW_ENV. */
export const dumpArgs = (s: TestServer, to: string, extra: string[] = []) => [
  "dump-database",
  "--engine",
  s.engine,
  "--host",
  s.host,
  "--port",
  String(s.port),
  "--user",
  s.user,
  "--password-env",
  PW_ENV,
  "--to",
  to,
  ...extra,
];

/** Processes whose command line names `dir` (a scratch server left running would). */
export async function processesUnder(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const pid of await fs.readdir("/proc")) {
    if (!/^\d+$/.test(pid)) continue;
    const cmd = await fs.readFile(`/proc/${pid}/cmdline`, "utf8").catch(() => "");
    if (cmd.includes(dir)) out.push(`${pid}: ${cmd.replace(/\0/g, " ")}`);
  }
  return out;
}
