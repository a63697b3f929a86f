#!/usr/bin/env python3
"""Start a patched moto server for the test bench.

    python3 testing/moto/launcher.py [--port 5055] [--host 127.0.0.1]
                                     [--pid-file PATH] [--ignore-stdin]

Prints one line `moto-launcher ready port=<port> pid=<pid> moto=<version>`
on stdout once the server accepts connections. It stops cleanly on SIGTERM,
SIGINT, and when its stdin reaches end-of-file: the parent (jest's global
setup) holds the write end of a pipe, so when the parent exits for whatever
reason -- even SIGKILL -- the pipe closes and the server goes with it. On
Linux it also asks the kernel for SIGTERM when its parent dies
(PR_SET_PDEATHSIG). Use --ignore-stdin to run it by hand in the background.

Exit codes: 0 clean stop, 2 bad usage / unsupported moto, 3 port unavailable.
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import sys
import threading
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

try:
    import moto  # noqa: F401  (fail early with a clear message)
except ImportError:
    sys.stderr.write(
        "moto-launcher: python module 'moto' not found for "
        f"{sys.executable}; install it with: pip install \"moto[server]\"\n"
    )
    sys.exit(2)

import patches  # noqa: E402  (needs moto importable)

# Config the bench needs; see testing/README-moto.md.
#  - batch.use_docker=false: there is no Docker engine; Batch jobs then only
#    move through their states instead of failing to start a container.
#  - lambda.use_docker=false: same for Lambda (invocations echo their input).
#  - stepfunctions.execute_state_machine=true: run the ASL interpreter so
#    executions really evaluate states and call moto's own backends.
BENCH_CONFIG: dict[str, dict[str, Any]] = {
    "batch": {"use_docker": False},
    "lambda": {"use_docker": False},
    "stepfunctions": {"execute_state_machine": True},
}

PR_SET_PDEATHSIG = 1


def configure_moto() -> None:
    from moto.core.config import default_user_config

    for section, values in BENCH_CONFIG.items():
        default_user_config.setdefault(section, {}).update(values)  # type: ignore[misc]


def die_with_parent() -> None:
    """Ask Linux to SIGTERM us when the parent exits (no-op elsewhere)."""
    if not sys.platform.startswith("linux"):
        return
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)
    except (OSError, AttributeError):
        return
    # The parent may already be gone before prctl took effect.
    if os.getppid() == 1:
        os.kill(os.getpid(), signal.SIGTERM)


def watch_stdin(stop: threading.Event) -> None:
    fd = sys.stdin.fileno()

    def run() -> None:
        # os.read on the raw descriptor: a daemon thread blocked inside
        # sys.stdin.buffer would hold its lock and abort interpreter shutdown.
        try:
            while os.read(fd, 4096):
                pass
        except OSError:
            pass
        stop.set()

    threading.Thread(target=run, name="stdin-watch", daemon=True).start()


def start_server(host: str, port: int) -> Any:
    from moto.server import ThreadedMotoServer

    server = ThreadedMotoServer(ip_address=host, port=port, verbose=False)
    # ThreadedMotoServer.start() waits for an event that its thread sets only
    # after binding; a bind error (port in use) kills the thread and start()
    # would wait forever. Report the error instead.
    failures: list[BaseException] = []
    entry = server._server_entry

    def guarded_entry() -> None:
        try:
            entry()
        except BaseException as error:  # noqa: BLE001 (reported to main thread)
            failures.append(error)
            server._server_ready_event.set()

    server._server_entry = guarded_entry  # type: ignore[method-assign]
    server.start()
    if failures:
        raise failures[0]
    return server


def write_pid_file(path: str | None) -> None:
    if path:
        Path(path).write_text(f"{os.getpid()}\n{os.getppid()}\n", encoding="utf-8")


def remove_pid_file(path: str | None) -> None:
    if not path:
        return
    try:
        content = Path(path).read_text(encoding="utf-8").split()
        if content and content[0] == str(os.getpid()):
            Path(path).unlink()
    except OSError:
        pass


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Patched moto server for the backup-actions test bench")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=int(os.environ.get("MOTO_PORT", "5055")))
    parser.add_argument("--pid-file", help="write '<pid>\\n<parent pid>' here; removed on exit")
    parser.add_argument(
        "--ignore-stdin",
        action="store_true",
        help="do not stop when stdin closes (for running by hand in the background)",
    )
    return parser.parse_args(argv)


def main(argv: list[str]) -> int:
    args = parse_args(argv)
    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, lambda *_: stop.set())
    if not args.ignore_stdin:
        die_with_parent()
        watch_stdin(stop)

    applied = patches.apply_all()
    configure_moto()
    # moto's Step Functions interpreter calls aws-sdk integrations through boto3 at
    # http://localhost:{MOTO_PORT} (default 5000), not at the server it runs in: export our port.
    os.environ["MOTO_PORT"] = str(args.port)
    try:
        server = start_server(args.host, args.port)
    except (OSError, SystemExit) as error:
        # werkzeug reports "address in use" by printing and calling sys.exit(1).
        reason = error if isinstance(error, OSError) else "address already in use or not available"
        sys.stderr.write(f"moto-launcher: cannot listen on {args.host}:{args.port}: {reason}\n")
        return 3

    write_pid_file(args.pid_file)
    try:
        sys.stderr.write(f"moto-launcher: patches applied: {', '.join(applied) or 'none'}\n")
        print(
            f"moto-launcher ready port={args.port} pid={os.getpid()} moto={moto.__version__}",
            flush=True,
        )
        # Event.wait() with a timeout keeps the main thread responsive to signals.
        while not stop.wait(1.0):
            pass
    finally:
        server.stop()
        remove_pid_file(args.pid_file)
    return 0


if __name__ == "__main__":
    exit_code = main(sys.argv[1:])
    sys.stdout.flush()
    sys.stderr.flush()
    # Executions still running inside moto (a Wait of an hour, a callback task)
    # live in threads; none of them may keep a stopped launcher alive.
    os._exit(exit_code)
