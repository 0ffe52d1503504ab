"""Side by side: the original OpenViking server (PyPI ``openviking==0.5.2``) against ours.

Both servers run as real processes in dev mode, each on its own fresh workspace, with one fake
OpenAI-compatible model server (``benchmarks/_vs_fake.py``: hashed bag-of-words embeddings of
384 dimensions, a fixed chat answer) for embeddings and the VLM, so neither pays for a real
model. The same requests go to both over raw HTTP (httpx); steps that can be are interleaved
(rounds alternate which server goes first) so a load swing on the machine hits both alike.

    .venv/bin/python benchmarks/vs_upstream.py [--only ours] [--json out.json]
        [--finds 200] [--turns 5] [--keep]   # --keep: leave workspaces + server logs in /tmp

The original is installed once into ``~/.cache/openviking-mcp/bench/openviking-0.5.2/`` (a
venv outside the repo); if it cannot be installed or started, the reason is printed and ours
is still measured. Prints a table ``figure | theirs | ours | ours/theirs``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

import _vs_fake
import _vs_servers as servers
import _vs_workload as work
import httpx

T = TypeVar("T")
KINDS = ("theirs", "ours")
FIGURES: list[tuple[str, str]] = [
    ("startup_s", "launch -> 200 on /health (s)"),
    ("started_s", "launch -> started, /health loading nothing (s)"),
    ("idle_rss_mb", "idle RSS, process tree (MiB)"),
    ("ingest50_s", "ingest 50 .md, one zip, wait=true (s)"),
    ("ingest200_s", "ingest 200 .md, one zip, wait=true (s)"),
    ("find_hits", "find: resources returned (mean of 50)"),
    ("top1_on_topic", "find: best file on the query's topic (share)"),
    ("find_p50_ms", "find serial p50 (ms)"),
    ("find_p95_ms", "find serial p95 (ms)"),
    ("find_cpu_ms", "server CPU per find (ms)"),
    ("qps_c1", "find qps, concurrency 1"),
    ("qps_c4", "find qps, concurrency 4"),
    ("qps_c8", "find qps, concurrency 8"),
    ("health_qps_c4", "GET /health qps, concurrency 4 (the HTTP ceiling)"),
    ("skill_ms", "add_skill wait=true (ms, median)"),
    ("create_ms", "session create (ms, median)"),
    ("message_ms", "session add message (ms, mean)"),
    ("commit_ms", "session commit response (ms, median)"),
    ("commit_done_ms", "session commit -> task done (ms, median)"),
    ("ls_ms", "fs ls of 50-file dir (ms, median)"),
    ("read_ms", "content read (ms, median)"),
    ("stat_ms", "fs stat (ms, median)"),
    ("loaded_rss_mb", "RSS after the workload (MiB)"),
]
Results = dict[str, dict[str, float]]


class Bench:
    """The running servers, their clients, the figures so far and the notes on failures."""

    def __init__(self, running: dict[str, servers.Server], args: argparse.Namespace) -> None:
        self.servers = running
        self.args = args
        self.results: Results = {key: {} for key, _ in FIGURES}
        self.notes: list[str] = []
        self.http = {kind: work.client(s.url) for kind, s in running.items()}

    def order(self, round_no: int) -> list[str]:
        """The running servers, first one first on even rounds, reversed on odd ones."""
        kinds = [k for k in KINDS if k in self.servers]
        return kinds if round_no % 2 == 0 else kinds[::-1]

    async def guard(self, kind: str, what: str, step: Awaitable[T]) -> T | None:
        try:
            return await step
        except (RuntimeError, httpx.HTTPError, KeyError, TypeError, ValueError) as exc:
            self.notes.append(f"{kind}: {what} failed: {type(exc).__name__}: {exc}")
            return None

    def put(self, key: str, kind: str, value: float | None) -> None:
        if value is not None:
            self.results[key][kind] = value

    async def close(self) -> None:
        for http in self.http.values():
            await http.aclose()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _start(
    kinds: Sequence[str], tmp: Path, base_url: str, notes: list[str]
) -> dict[str, servers.Server]:
    running: dict[str, servers.Server] = {}
    for kind in kinds:
        try:
            if kind == "theirs":
                servers.ensure_upstream()
            port = _free_port()
            conf = servers.write_conf(kind, tmp / kind / "workspace", port, base_url)
            print(f"starting {kind} on port {port} ...", file=sys.stderr)
            running[kind] = servers.launch(kind, conf, port)
        except (RuntimeError, OSError) as exc:
            notes.append(f"{kind}: not started: {exc}")
            print(f"{kind}: not started: {exc}", file=sys.stderr)
    return running


async def _ingest(bench: Bench) -> None:
    for key, count, seed in (("ingest50_s", 50, 50), ("ingest200_s", 200, 200)):
        docs = work.make_docs(count, seed)
        for kind in bench.order(count):
            print(f"{kind}: ingesting {count} files ...", file=sys.stderr)
            uri = f"viking://resources/bench{count}"
            bench.put(
                key, kind, await bench.guard(kind, key, work.ingest(bench.http[kind], docs, uri))
            )
    for kind in bench.order(0):  # any background work left over (both: a global queue wait)
        http = bench.http[kind]
        await bench.guard(
            kind,
            "system wait",
            work.call(http, "POST", "/api/v1/system/wait", json={"timeout": 600}),
        )


async def _find_serial(bench: Bench) -> None:
    texts = work.queries(bench.args.finds)
    labelled = work.labelled_queries(50, seed=3)  # also the warm-up
    latencies: dict[str, list[float]] = {k: [] for k in bench.servers}
    cpu: dict[str, float] = dict.fromkeys(bench.servers, 0.0)
    for kind in bench.order(0):
        sanity = await bench.guard(kind, "find", work.relevance(bench.http[kind], labelled))
        for key, value in (sanity or {}).items():
            bench.put(key, kind, value)
    rounds = 4
    for round_no in range(rounds):
        chunk = texts[round_no::rounds]
        for kind in bench.order(round_no):
            before = bench.servers[kind].cpu_s()
            done = await bench.guard(kind, "find serial", work.find_serial(bench.http[kind], chunk))
            cpu[kind] += bench.servers[kind].cpu_s() - before
            latencies[kind].extend(done or [])
    for kind, values in latencies.items():
        if values:
            bench.put("find_p50_ms", kind, work.percentile(values, 0.5) * 1e3)
            bench.put("find_p95_ms", kind, work.percentile(values, 0.95) * 1e3)
            bench.put("find_cpu_ms", kind, cpu[kind] / len(values) * 1e3)


async def _find_qps(bench: Bench) -> None:
    texts = work.queries(bench.args.finds, seed=11)
    for concurrency in (1, 4, 8):
        rates: dict[str, list[float]] = {k: [] for k in bench.servers}
        for round_no in range(2):
            for kind in bench.order(round_no):
                step = work.find_qps(bench.http[kind], texts, concurrency)
                rate = await bench.guard(kind, f"find qps c{concurrency}", step)
                rates[kind].extend([rate] if rate is not None else [])
        for kind, values in rates.items():
            bench.put(f"qps_c{concurrency}", kind, statistics.mean(values) if values else None)
    for kind in bench.order(0):
        step = work.health_qps(bench.http[kind], 4 * bench.args.finds, 4)
        bench.put("health_qps_c4", kind, await bench.guard(kind, "health qps", step))


async def _skills_sessions_fs(bench: Bench) -> None:
    samples: dict[str, dict[str, list[float]]] = {k: {} for k in bench.servers}
    for round_no in range(3):
        for kind in bench.order(round_no):
            http, got = bench.http[kind], samples[kind]
            skill = await bench.guard(
                kind, "add_skill", work.add_skill(http, f"bench-skill-{round_no}")
            )
            if skill is not None:
                got.setdefault("skill_ms", []).append(skill * 1e3)
            cycle = await bench.guard(kind, "session", work.session_cycle(http, bench.args.turns))
            for key, value in (cycle or {}).items():
                got.setdefault(key, []).append(value)
    for kind in bench.order(0):
        ops = await bench.guard(
            kind, "ls/read/stat", work.fs_ops(bench.http[kind], "viking://resources/bench50", 30)
        )
        for key, value in (ops or {}).items():
            samples[kind].setdefault(key, []).append(value)
    for kind, got in samples.items():
        for key, values in got.items():
            bench.put(key, kind, statistics.median(values))


async def _run(bench: Bench) -> None:
    await asyncio.sleep(3.0)  # let start-up work settle before reading idle memory
    for kind, server in bench.servers.items():
        bench.put("startup_s", kind, server.startup_s)
        bench.put("started_s", kind, server.extra.get("started_s"))
        bench.put("idle_rss_mb", kind, server.rss_mb())
    steps: list[tuple[str, Callable[[Bench], Awaitable[None]]]] = [
        ("ingest", _ingest),
        ("find serial", _find_serial),
        ("find qps", _find_qps),
        ("skills, sessions, fs", _skills_sessions_fs),
    ]
    try:
        for name, step in steps:
            print(f"== {name}", file=sys.stderr)
            await step(bench)
        for kind, server in bench.servers.items():
            bench.put("loaded_rss_mb", kind, server.rss_mb())
    finally:
        await bench.close()


def _cell(value: float | None) -> str:
    if value is None:
        return "-"
    return (
        f"{value:.0f}"
        if abs(value) >= 100
        else f"{value:.3g}"
        if abs(value) < 1
        else f"{value:.1f}"
    )


def table(results: Results) -> str:
    rows = [("figure", "theirs", "ours", "ours/theirs"), ("---", "---:", "---:", "---:")]
    for key, label in FIGURES:
        theirs, ours = results[key].get("theirs"), results[key].get("ours")
        ratio = f"{ours / theirs:.2f}" if theirs and ours is not None else "-"
        rows.append((label, _cell(theirs), _cell(ours), ratio))
    return "\n".join("| " + " | ".join(row) + " |" for row in rows)


def _machine() -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "loadavg_start": os.getloadavg(),
        "date": time.strftime("%Y-%m-%d %H:%M"),
        "upstream": f"openviking=={servers.UPSTREAM_VERSION}",
    }


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--only", choices=KINDS, help="measure one server only")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--finds", type=int, default=200, help="finds per serial/qps batch")
    parser.add_argument("--turns", type=int, default=5, help="user/assistant pairs per session")
    parser.add_argument("--keep", action="store_true", help="keep the workspaces and server logs")
    return parser.parse_args(argv)


def _measure(args: argparse.Namespace, tmp: Path, notes: list[str]) -> Bench:
    """Start the fake and the servers, run every step, stop them all; the finished bench."""
    fake, base_url = _vs_fake.start()
    running: dict[str, servers.Server] = {}
    try:
        running = _start([args.only] if args.only else list(KINDS), tmp, base_url, notes)
        bench = Bench(running, args)
        if running:
            asyncio.run(_run(bench))
        return bench
    finally:
        for server in running.values():
            servers.stop(server)
        _vs_fake.stop(fake)


def main(argv: Sequence[str] | None = None) -> int:
    args = _args(argv)
    machine = _machine()
    notes: list[str] = []
    tmp = Path(tempfile.mkdtemp(prefix="ovbench-vs-"))
    try:
        bench = _measure(args, tmp, notes)
    finally:
        if args.keep:
            print(f"workspaces and server logs kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    machine["loadavg_end"] = os.getloadavg()
    print(f"\n{machine}\n\n{table(bench.results)}\n")
    for note in notes + bench.notes:
        print(f"note: {note}")
    if args.json:
        payload = {"machine": machine, "figures": bench.results, "notes": notes + bench.notes}
        args.json.write_text(json.dumps(payload, indent=2))
    return 0 if bench.servers else 1


if __name__ == "__main__":
    sys.exit(main())
