"""Writes under load: many small distinct files written at once over MCP and REST.

Starts ``openviking-mcp serve`` on a fresh workspace (embedded defaults: local folder, SQLite,
LanceDB; the embedder is ``hashing`` unless ``--embedder local``), then writes ``--files``
distinct small files at ``--concurrency`` concurrent calls two ways:

* ``mcp``: the ``write`` tool through the official MCP client (``ClientSession`` over
  ``streamable_http_client``), one session, the calls in flight together;
* ``rest``: ``POST /api/v1/content/write`` over one keep-alive ``httpx2`` client (the HTTP
  client the MCP SDK ships with; at 50 requests in flight ``httpx`` 0.29 spends ~5 ms of the
  benchmark's own CPU per request, ``httpx2`` ~1 ms, and on 2 cores that is the bottleneck).

Each surface writes into its own folder with ``mode=create`` and no ``wait``. Then it verifies
that nothing was lost: every file is read back over REST and compared byte for byte; after
``POST /api/v1/system/wait`` the consistency check of the folder must find every file's index
rows, and ``find`` with a sample of the files' unique words must return those files. A last
row writes ``--wait-writes`` files one at a time with ``wait=true`` (REST) and checks that each
one is findable as soon as its call returns.

    .venv/bin/python benchmarks/write_load.py [--files 1000] [--concurrency 50]
        [--embedder hashing|local] [--find-sample 100] [--wait-writes 50]

Prints one table: copy it, with the machine, date and load, into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx2
from mcp.client.session import ClientSession
from mcp.client.streamable_http import streamable_http_client

_WORDS = ["alpha", "bravo", "delta", "harbor", "lantern", "meadow", "quartz", "summit"]


@dataclass
class Run:
    """One surface's figures."""

    surface: str
    latencies_ms: list[float] = field(default_factory=list)
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    drain_s: float = 0.0
    unreadable: int = 0
    not_indexed: int = 0
    not_found: int = 0
    sampled: int = 0


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start_server(workspace: Path, port: int, embedder: str) -> subprocess.Popen[bytes]:
    exe = str(Path(sys.executable).with_name("openviking-mcp"))
    env = {k: v for k, v in os.environ.items() if not k.startswith("OPENVIKING")}
    env["OPENVIKING__EMBEDDING__DENSE__PROVIDER"] = embedder
    env["NO_PROXY"] = "127.0.0.1,localhost"
    log = (workspace.parent / "server.log").open("wb")
    proc = subprocess.Popen(
        [exe, "serve", "--path", str(workspace), "--port", str(port), "--log-level", "warning"],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx2.get(f"http://127.0.0.1:{port}/ready", timeout=2).status_code == 200:
                return proc
        except httpx2.TransportError:
            pass
        if proc.poll() is not None:
            break
        time.sleep(0.2)
    _stop(proc)
    raise SystemExit(f"server did not start; see {workspace.parent / 'server.log'}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _file(surface: str, i: int) -> tuple[str, str, str]:
    """``(uri, content, unique word)`` of file ``i`` of a surface."""
    word = f"zq{surface}{i:05d}x"
    topic = _WORDS[i % len(_WORDS)]
    text = f"# Note {i} about {topic}\n\nThe {topic} note {i} carries the marker {word}.\n"
    return f"viking://resources/load-{surface}/note-{i:05d}.md", text, word


async def _drive(
    run: Run, files: int, concurrency: int, call: Callable[[int], Awaitable[None]]
) -> None:
    """``call(i)`` for every file, ``concurrency`` at a time; records latencies and errors."""
    gate = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with gate:
            start = time.perf_counter()
            try:
                await call(i)
            except Exception as exc:  # a failed write is counted, not fatal
                run.errors.append(f"{i}: {exc!r}"[:300])
                return
            run.latencies_ms.append((time.perf_counter() - start) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(files)))
    run.seconds = time.perf_counter() - started


async def _mcp_writes(url: str, run: Run, files: int, concurrency: int) -> None:
    async with streamable_http_client(url) as (read, write), ClientSession(read, write) as mcp:
        await mcp.initialize()

        async def call(i: int) -> None:
            uri, text, _ = _file(run.surface, i)
            result = await mcp.call_tool("write", {"uri": uri, "content": text, "mode": "create"})
            if result.is_error:
                raise RuntimeError(str(result.content)[:200])

        await _drive(run, files, concurrency, call)


async def _rest_writes(base: str, run: Run, files: int, concurrency: int) -> None:
    # A client of its own: no keep-alive connection left idle by the verification (the server
    # closes those after a few seconds) is reused for a write.
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(base_url=base, timeout=600, limits=limits) as http:

        async def call(i: int) -> None:
            uri, text, _ = _file(run.surface, i)
            body = {"uri": uri, "content": text, "mode": "create"}
            reply = await http.post("/api/v1/content/write", json=body)
            if reply.status_code != 200:
                raise RuntimeError(f"{reply.status_code} {reply.text[:200]}")

        await _drive(run, files, concurrency, call)


async def _find(http: httpx2.AsyncClient, query: str, target: str) -> list[str]:
    body = {"query": query, "target_uri": target, "limit": 5}
    reply = await http.post("/api/v1/search/find", json=body)
    reply.raise_for_status()
    result = reply.json()["result"]
    return [str(item["uri"]) for item in result.get("resources", [])]


async def _verify(http: httpx2.AsyncClient, run: Run, files: int, sample: int) -> None:
    """Read every file back, wait for the index, check it holds every file, and find a sample."""
    gate = asyncio.Semaphore(10)

    async def readable(i: int) -> bool:
        uri, text, _ = _file(run.surface, i)
        async with gate:
            reply = await http.get("/api/v1/content/read", params={"uri": uri})
        return reply.status_code == 200 and reply.json()["result"] == text

    run.unreadable = sum(not ok for ok in await asyncio.gather(*map(readable, range(files))))
    started = time.perf_counter()
    waited = await http.post("/api/v1/system/wait", json={"timeout": 1800})
    waited.raise_for_status()
    run.drain_s = time.perf_counter() - started
    folder = f"viking://resources/load-{run.surface}"
    check = await http.post("/api/v1/system/consistency", json={"uri": folder})
    check.raise_for_status()
    run.not_indexed = int(check.json()["result"]["missing_record_count"])
    step = max(1, files // max(1, sample))
    for i in range(0, files, step)[:sample]:
        uri, _, word = _file(run.surface, i)
        run.sampled += 1
        if uri not in await _find(http, word, folder):
            run.not_found += 1


async def _wait_writes(http: httpx2.AsyncClient, count: int) -> tuple[list[float], int]:
    """``count`` serial writes with ``wait=true``; how many were not findable right after."""
    latencies, missing = [], 0
    for i in range(count):
        uri, text, word = _file("wait", i)
        start = time.perf_counter()
        reply = await http.post(
            "/api/v1/content/write",
            json={"uri": uri, "content": text, "mode": "create", "wait": True},
        )
        latencies.append((time.perf_counter() - start) * 1000)
        reply.raise_for_status()
        if uri not in await _find(http, word, "viking://resources/load-wait"):
            missing += 1
    return latencies, missing


def _pct(samples: list[float], q: float) -> float:
    if not samples:
        return float("nan")
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


async def _ceilings(base: str, calls: int, concurrency: int) -> dict[str, float]:
    """Calls per second of the cheapest request of each surface, at the same concurrency and
    with the same clients: MCP ``ping`` (the SDK and its transport, no tool) and
    ``GET /health`` (the HTTP stack). No write can go faster than these."""
    rates: dict[str, float] = {}
    async with (
        streamable_http_client(f"{base}/mcp") as (read, write),
        ClientSession(read, write) as mcp,
    ):
        await mcp.initialize()

        async def ping(_: int) -> None:
            await mcp.send_ping()

        run = Run("mcp ping")
        await _drive(run, calls, concurrency, ping)
        rates["mcp ping"] = len(run.latencies_ms) / run.seconds
    limits = httpx2.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx2.AsyncClient(base_url=base, timeout=600, limits=limits) as http:

        async def health(_: int) -> None:
            reply = await http.get("/health")
            if reply.status_code != 200:
                raise RuntimeError(f"/health {reply.status_code}")

        run = Run("rest health")
        await _drive(run, calls, concurrency, health)
        rates["GET /health"] = len(run.latencies_ms) / run.seconds
    return rates


def _row(run: Run, files: int) -> str:
    rate = len(run.latencies_ms) / run.seconds if run.seconds else 0.0
    lost = files - len(run.latencies_ms) + run.unreadable
    lat = run.latencies_ms
    return (
        f"| {run.surface} | {rate:.0f} | {_pct(lat, 0.5):.0f} | {_pct(lat, 0.95):.0f} | "
        f"{_pct(lat, 0.99):.0f} | {len(run.errors)} | {lost} | {run.drain_s:.1f} | "
        f"{run.not_indexed} | {run.not_found}/{run.sampled} |"
    )


async def _main(args: argparse.Namespace) -> None:
    workspace = Path(tempfile.mkdtemp(prefix="ov-write-load-")) / "data"
    port = _free_port()
    proc = _start_server(workspace, port, args.embedder)
    base = f"http://127.0.0.1:{port}"
    runs = [Run("mcp"), Run("rest")]
    limits = httpx2.Limits(max_connections=args.concurrency, max_keepalive_connections=64)
    load = os.getloadavg()
    try:
        async with httpx2.AsyncClient(base_url=base, timeout=600, limits=limits) as http:
            await _mcp_writes(f"{base}/mcp", runs[0], args.files, args.concurrency)
            await _verify(http, runs[0], args.files, args.find_sample)
            await _rest_writes(base, runs[1], args.files, args.concurrency)
            await _verify(http, runs[1], args.files, args.find_sample)
            waits, wait_missing = await _wait_writes(http, args.wait_writes)
        ceilings = await _ceilings(base, args.files, args.concurrency)
    finally:
        _stop(proc)
    print(
        f"\nWrites under load: {args.files} distinct files per surface, concurrency "
        f"{args.concurrency}, embedder={args.embedder}, {platform.machine()}, "
        f"{os.cpu_count()} cpus, Python {platform.python_version()}, load average before "
        f"{load[0]:.1f}\n"
    )
    print(
        "| surface | writes/s | p50 ms | p95 ms | p99 ms | errors | lost | index drain s "
        "| missing index rows | find misses |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for run in runs:
        print(_row(run, args.files))
    print(
        f"\n`wait=true`, one at a time over REST: {len(waits)} writes, p50 "
        f"{_pct(waits, 0.5):.0f} ms, p95 {_pct(waits, 0.95):.0f} ms, not findable right after: "
        f"{wait_missing}"
    )
    print(
        f"\nThe ceiling at concurrency {args.concurrency}, same clients: "
        + ", ".join(f"{name} {rate:.0f}/s" for name, rate in ceilings.items())
    )
    for run in runs:
        for error in run.errors[:5]:
            print(f"{run.surface} error: {error}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--files", type=int, default=1000)
    parser.add_argument("--concurrency", type=int, default=50)
    parser.add_argument("--embedder", default="hashing", choices=["hashing", "local"])
    parser.add_argument("--find-sample", type=int, default=100)
    parser.add_argument("--wait-writes", type=int, default=50)
    args: Any = parser.parse_args()
    asyncio.run(_main(args))


if __name__ == "__main__":
    main()
