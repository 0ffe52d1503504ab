"""CLI latency: wall clock of whole ``openviking-mcp`` processes, as a user runs them.

Starts ``openviking-mcp serve`` once (embedded defaults, a temporary workspace, loopback, a
free port), writes one file through it, then runs each command ``--runs`` times after one
warm-up and prints the median and minimum wall time of each:

* ``--version``: argument parsing only;
* remote ``ls``: ``openviking-mcp --url URL ls viking://`` (argument parsing + HTTP client);
* local ``ls``: ``openviking-mcp --path WORKSPACE ls viking://`` (embedded mode: opens the
  store itself, on a second temporary workspace so it never shares the server's).

Every run is a fresh process with ``HOME`` pointing at a temporary folder (no ``ovcli.conf``,
no ``ov.conf``) and no ``OPENVIKING_*`` variables. Bytecode is written and used, as in an
installed package (``PYTHONDONTWRITEBYTECODE`` is dropped; the warm-up run compiles).

    .venv/bin/python benchmarks/cli_latency.py [--runs 10] [--tree OTHER_CHECKOUT]

Prints one table; copy it, with the machine and date, into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _exe() -> str:
    return str(Path(sys.executable).with_name("openviking-mcp"))


def _env(home: Path, tree: str | None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENVIKING")}
    env["HOME"] = str(home)
    # An installed package has its bytecode compiled; a shell that sets
    # PYTHONDONTWRITEBYTECODE would make every run compile the sources again.
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    if tree:  # another checkout's code, run with this venv's dependencies
        env["PYTHONPATH"] = str(Path(tree).resolve())
    return env


def _start_server(workspace: Path, port: int, env: dict[str, str]) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [_exe(), "serve", "--path", str(workspace), "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            httpx.get(f"http://127.0.0.1:{port}/health", timeout=2)
            return proc
        except httpx.TransportError:
            if proc.poll() is not None:
                break
            time.sleep(0.2)
    proc.kill()
    raise SystemExit("server did not start")


def _run(args: list[str], env: dict[str, str]) -> float:
    """Wall seconds of one whole process (it must succeed)."""
    start = time.perf_counter()
    done = subprocess.run([_exe(), *args], env=env, capture_output=True, timeout=300)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{args} failed: {done.stderr.decode(errors='replace')[-2000:]}")
    return elapsed


def _time(args: list[str], env: dict[str, str], runs: int) -> list[float]:
    _run(args, env)  # warm-up: bytecode caches, page cache
    return [_run(args, env) for _ in range(runs)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--runs", type=int, default=10, help="timed runs of each command")
    parser.add_argument(
        "--tree",
        help="time another checkout of the project (e.g. a git worktree of an older commit)",
    )
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="ov-cli-bench-"))
    home = root / "home"
    home.mkdir()
    env = _env(home, args.tree)
    port = _free_port()
    proc = _start_server(root / "server-data", port, env)
    url = f"http://127.0.0.1:{port}"
    local = str(root / "local-data")
    rows: list[tuple[str, list[float]]] = []
    try:
        _run(
            ["--url", url, "write", "viking://resources/note.md", "hello", "--mode", "create"], env
        )
        _run(
            ["--path", local, "write", "viking://resources/note.md", "hello", "--mode", "create"],
            env,
        )
        rows.append(("--version", _time(["--version"], env, args.runs)))
        rows.append(("remote ls (--url)", _time(["--url", url, "ls", "viking://"], env, args.runs)))
        rows.append(
            ("local ls (--path)", _time(["--path", local, "ls", "viking://"], env, args.runs))
        )
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)

    print(
        f"\nCLI wall clock: {args.runs} runs each after a warm-up, {platform.machine()}, "
        f"{os.cpu_count()} cpus, Python {platform.python_version()}\n"
    )
    print("| command | median s | min s | max s |")
    print("|---|---|---|---|")
    for name, samples in rows:
        print(
            f"| {name} | {statistics.median(samples):.3f} | {min(samples):.3f} "
            f"| {max(samples):.3f} |"
        )


if __name__ == "__main__":
    main()
