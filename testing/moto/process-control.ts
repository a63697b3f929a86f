/**
 * Starting and stopping the moto launcher process from Node, and dealing
 * with a launcher left over on the port by an earlier run.
 */
import { type ChildProcess, spawn, spawnSync } from "node:child_process";
import { createWriteStream, existsSync, readFileSync } from "node:fs";
import net from "node:net";
import { LAUNCHER_PATH, logFilePath, pidFilePath } from "./bench-env";

/** How long the launcher may take to import moto and bind (slow on a loaded 2-core machine). */
const START_TIMEOUT_MS = 90_000;
const STOP_TIMEOUT_MS = 10_000;

export interface PythonWithMoto {
  python: string;
  version: string;
}

/** First interpreter that can import moto: $MOTO_PYTHON, then python3, then python. */
export function findPythonWithMoto(env: NodeJS.ProcessEnv = process.env): PythonWithMoto | { missing: string } {
  const candidates = env.MOTO_PYTHON ? [env.MOTO_PYTHON] : ["python3", "python"];
  for (const python of candidates) {
    const probe = spawnSync(python, ["-c", "import moto, werkzeug; print(moto.__version__)"], {
      encoding: "utf8",
      timeout: 60_000,
    });
    if (probe.status === 0) return { python, version: probe.stdout.trim() };
  }
  return {
    missing: `moto (python module, with its server extra) not importable by ${candidates.join(" or ")}; install it with: pip install "moto[server]"`,
  };
}

export function portInUse(port: number, host = "127.0.0.1"): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ port, host });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ");
  } catch {
    return "";
  }
}

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms));

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await condition()) return true;
    await sleep(100);
  }
  return condition();
}

/**
 * Frees the port from a launcher of an earlier run whose parent is gone
 * (normally impossible: the launcher dies with its parent, but a launcher
 * started with --ignore-stdin by hand, or a frozen one, can remain).
 * A launcher whose parent still runs belongs to a live test run -- maybe
 * another worktree's -- and is never killed: that is an error for the caller.
 */
export async function clearStaleLauncher(port: number): Promise<void> {
  if (!(await portInUse(port))) return;
  const pidFile = pidFilePath(port);
  const advice = `set MOTO_PORT to a free port, or stop what listens on 127.0.0.1:${port}`;
  if (!existsSync(pidFile)) {
    throw new Error(`port ${port} is in use by a process that is not a bench moto launcher (no ${pidFile}); ${advice}`);
  }
  const [pid, parent] = readFileSync(pidFile, "utf8").split(/\s+/).map(Number);
  if (!pid || !isAlive(pid) || !commandLine(pid).includes("launcher.py")) {
    throw new Error(`port ${port} is in use, but ${pidFile} names no running moto launcher (pid ${pid}); ${advice}`);
  }
  if (parent && isAlive(parent) && parent !== 1) {
    throw new Error(
      `port ${port} is used by the moto launcher pid ${pid} of another running test run (parent pid ${parent}: ` +
        `${commandLine(parent).slice(0, 120) || "unknown"}); ${advice}`,
    );
  }
  process.stderr.write(`[moto] stopping stale launcher pid ${pid} (its parent ${parent} is gone) on port ${port}\n`);
  process.kill(pid, "SIGTERM");
  if (!(await waitUntil(() => !isAlive(pid), STOP_TIMEOUT_MS))) process.kill(pid, "SIGKILL");
  if (!(await waitUntil(async () => !(await portInUse(port)), STOP_TIMEOUT_MS))) {
    throw new Error(`stale moto launcher pid ${pid} was stopped but port ${port} is still in use; ${advice}`);
  }
}

export interface RunningServer {
  readonly child: ChildProcess;
  readonly logFile: string;
  /** The server's "ready" line, e.g. `moto-launcher ready port=5055 ...`. */
  readonly readyLine: string;
}

/**
 * Spawns a server process with a stdin pipe that only this process holds: if
 * this process dies in any way the pipe closes and the server exits. Resolves
 * once the server prints a line matching `ready` on stdout.
 */
export async function startServerProcess(
  name: string,
  command: string,
  args: string[],
  ready: RegExp,
  logFile: string,
): Promise<RunningServer> {
  const log = createWriteStream(logFile, { flags: "w" });
  const child = spawn(command, args, { stdio: ["pipe", "pipe", "pipe"] });
  child.stderr!.pipe(log);
  let stdout = "";
  const readyLine = await new Promise<string | undefined>((resolve, reject) => {
    const timer = setTimeout(() => resolve(undefined), START_TIMEOUT_MS);
    child.once("error", (error) => {
      clearTimeout(timer);
      reject(new Error(`${name}: cannot run ${command}: ${error.message}`));
    });
    child.once("exit", () => {
      clearTimeout(timer);
      resolve(undefined);
    });
    child.stdout!.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
      const line = stdout.split("\n").find((l) => ready.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line);
      }
    });
  });
  if (readyLine === undefined) {
    await stopServerProcess({ child, logFile, readyLine: "" });
    const tail = existsSync(logFile) ? readFileSync(logFile, "utf8").split("\n").slice(-15).join("\n") : "";
    throw new Error(`${name} did not become ready (exit code ${child.exitCode}); log ${logFile}:\n${tail}`);
  }
  // Keep draining stdout so the server never blocks on a full pipe.
  child.stdout!.resume();
  return { child, logFile, readyLine };
}

export function startLauncher(python: string, port: number): Promise<RunningServer> {
  return startServerProcess(
    `moto launcher on port ${port}`,
    python,
    [LAUNCHER_PATH, "--port", String(port), "--pid-file", pidFilePath(port)],
    /^moto-launcher ready /,
    logFilePath(port),
  );
}

/** Closes stdin (the server's exit signal), then SIGTERM, then SIGKILL. */
export async function stopServerProcess(launcher: RunningServer): Promise<void> {
  const { child } = launcher;
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  child.stdin?.end();
  child.kill("SIGTERM");
  let timer: NodeJS.Timeout | undefined;
  const timedOut = await Promise.race([
    exited.then(() => false),
    new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), STOP_TIMEOUT_MS))),
  ]);
  clearTimeout(timer);
  if (timedOut) {
    child.kill("SIGKILL");
    await exited;
  }
}
