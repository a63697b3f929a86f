import { spawn, SpawnOptions } from "node:child_process";
import { CommandError } from "../../core/errors";

export { CommandError };

export interface RunResult {
  stdout: string;
  stderr: string;
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Runs a command to completion, capturing output. Never throws on a non-zero exit (see runOk). */
export function run(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, { ...opts, stdio: ["ignore", "pipe", "pipe"] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on("data", (b: Buffer) => out.push(b));
    child.stderr!.on("data", (b: Buffer) => err.push(b));
    child.on("error", reject);
    child.on("close", (code, signal) =>
      resolve({ stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), code, signal }),
    );
  });
}

/** Runs a command and returns its stdout; throws CommandError unless it exits 0. */
export async function runOk(cmd: string, args: string[], opts: SpawnOptions = {}): Promise<string> {
  const r = await run(cmd, args, opts).catch((e: Error) => {
    throw new CommandError(`${cmd} ${args.join(" ")}`, null, null, e.message);
  });
  if (r.code !== 0) throw new CommandError(`${cmd} ${args.join(" ")}`, r.code, r.signal, r.stderr);
  return r.stdout;
}
