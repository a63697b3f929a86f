import os from "node:os";
import { run } from "./exec";

/** Versions of the tools that produced (and can read back) an export, for the manifest. */
export async function toolVersions(): Promise<Record<string, string>> {
  const first = async (cmd: string, args: string[]) => {
    const r = await run(cmd, args).catch(() => undefined);
    return r && r.code === 0 ? (r.stdout || r.stderr).split("\n")[0].trim() : "unavailable";
  };
  return {
    tar: await first("tar", ["--version"]),
    zstd: await first("zstd", ["--version"]),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    "backup-actions": process.env.BACKUP_ACTIONS_VERSION ?? "dev",
  };
}
