"""Scale curves: ingest and find as one store grows to 1k, 10k and 100k documents.

One ``openviking-mcp serve`` process (dev mode, loopback) on a fresh workspace under /tmp is
driven over its public HTTP API, as a remote user would: each step imports the next documents
as zips of 1,000 (``temp_upload`` then ``POST /api/v1/resources`` with ``wait=true``), waits
for the queue, lets the server idle, then runs finds. The same store grows step by step, so
the 100k step adds 90,000 documents to the 10k store and never re-ingests.

    .venv/bin/python benchmarks/scale.py [--sizes 1000,10000,100000] [--embedder fake|hashing|local]
        [--finds 200] [--settle 20] [--max-minutes 25] [--json out.json] [--keep]
        [--profile out.prof [--profile-clock cpu|wall]]

Embedders: ``fake`` (default) is the OpenAI-compatible fake of ``_vs_fake.py`` in its own
process (hashed bag of words, 384 dimensions), so the server pays only for the HTTP call;
``hashing`` is the built-in numpy hashing embedder (in the server); ``local`` the bundled ONNX
MiniLM. No VLM is configured: summaries are the extractive ones.

Per size it prints: ingest docs/s for the step and for its last batch, server CPU per document
(the server's whole process tree, from /proc; the fake model server is not part of it), find
p50/p95 (server time from ``X-Process-Time`` and client wall time), server CPU per find, find
qps at concurrency 4, RSS after the ingest and after ``--settle`` idle seconds, and the
workspace's size on disk (stored files, index folder, the index's current version), with
per-document figures. A step whose estimated time (from the previous step's rate) exceeds
``--max-minutes`` is skipped and its estimate printed. The documents and their folder layout
are described in ``_scale_corpus.py``; ``--profile`` runs the server under ``_scale_profile.py``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import _scale_corpus as corpus_mod
import _scale_disk as disk_mod
import _vs_fake
import _vs_servers as servers
import _vs_workload as work
import httpx

BATCH = 1000
CONCURRENCY = 4
ROWS: list[tuple[str, str]] = [
    ("docs", "documents in the store"),
    ("step_docs", "documents added by this step"),
    ("ingest_docs_s", "ingest, whole step (docs/s)"),
    ("last_batch_docs_s", "ingest, last batch of 1,000 (docs/s)"),
    ("cpu_ms_per_doc", "server CPU per document ingested (ms)"),
    ("find_server_p50_ms", "find p50, server time (ms)"),
    ("find_server_p95_ms", "find p95, server time (ms)"),
    ("find_wall_p50_ms", "find p50, client wall time (ms)"),
    ("find_wall_p95_ms", "find p95, client wall time (ms)"),
    ("find_cpu_ms", "server CPU per find (ms)"),
    ("find_hits", "find: resources returned (mean)"),
    ("qps_c4", f"find qps, concurrency {CONCURRENCY}"),
    ("settle_cpu_s", "server CPU while idle after the ingest (s)"),
    ("rss_ingest_mb", "RSS after ingest (MiB)"),
    ("rss_idle_mb", "RSS after idle settle (MiB)"),
    ("rss_kib_per_doc", "idle RSS above the empty server, per document (KiB)"),
    ("disk_mb", "workspace on disk (MiB)"),
    ("disk_kib_per_doc", "workspace on disk per document (KiB)"),
    ("files_mb", "of which the stored files, accounts/ (MiB)"),
    ("index_dir_mb", "of which the index folder (MiB)"),
    ("index_live_mb", "index: current version, data + indexes (MiB)"),
    ("index_versions", "index table versions kept"),
    ("index_rows", "index rows"),
    ("load_1min", "machine load average (1 min) after the finds"),
]


def _conf(workspace: Path, port: int, embedder: str, base_url: str | None) -> Path:
    workspace.mkdir(parents=True, exist_ok=True)
    conf: dict[str, Any] = {
        "storage": {"workspace": str(workspace)},
        "server": {"host": "127.0.0.1", "port": port},
    }
    if embedder == "fake":
        dense: dict[str, Any] = {"provider": "openai", "model": "fake-embed"}
        dense |= {"api_base": base_url, "api_key": "sk-fake", "dimension": servers.DIMENSION}
        conf["embedding"] = {"dense": dense}
    elif embedder == "hashing":
        conf["embedding"] = {"dense": {"provider": "hashing", "dimension": servers.DIMENSION}}
    path = workspace.parent / "ours-ov.conf"
    path.write_text(json.dumps(conf, indent=2))
    return path


async def _timed_find(http: httpx.AsyncClient, query: str) -> tuple[float, float, int]:
    """(client wall s, server s from X-Process-Time, resources returned) of one find."""
    started = time.perf_counter()
    response = await http.post("/api/v1/search/find", json={"query": query, "limit": 10})
    wall = time.perf_counter() - started
    if response.status_code != 200:
        raise RuntimeError(f"find -> {response.status_code}: {response.text[:300]}")
    result = response.json().get("result") or {}
    server = float(response.headers.get("X-Process-Time", "nan"))
    return wall, server, len(result.get("resources") or [])


class Run:
    """One server on one growing workspace, and the figures of each size."""

    def __init__(self, server: servers.Server, args: argparse.Namespace, workspace: Path):
        self.server, self.args, self.workspace = server, args, workspace
        self.corpus = corpus_mod.Corpus()
        self.http = work.client(server.url, timeout=3600.0)
        self.base_rss = server.rss_mb()
        self.docs = 0
        self.rows: list[dict[str, float]] = []
        self.notes: list[str] = []

    async def ingest(self, size: int) -> dict[str, float]:
        step = size - self.docs
        cpu0, t0 = self.server.cpu_s(), time.perf_counter()
        last_rate, aside = 0.0, 0.0
        for target, docs in self.corpus.batches(self.docs, size, BATCH):
            seconds = await work.ingest(self.http, docs, target)
            last_rate = len(docs) / seconds
            self.docs += len(docs)
            t1 = time.perf_counter()  # the progress line's disk walk is not ingest time
            disk = disk_mod.allocated_bytes(self.workspace) / 2**20
            print(
                f"  {self.docs:>7} docs  batch {last_rate:6.1f} docs/s  disk {disk:7.1f} MiB",
                file=sys.stderr,
            )
            aside += time.perf_counter() - t1
        await work.call(self.http, "POST", "/api/v1/system/wait", json={})
        seconds, cpu = time.perf_counter() - t0 - aside, self.server.cpu_s() - cpu0
        return {
            "docs": size,
            "step_docs": step,
            "ingest_s": seconds,
            "ingest_docs_s": step / seconds,
            "last_batch_docs_s": last_rate,
            "cpu_ms_per_doc": cpu / step * 1e3,
            "rss_ingest_mb": self.server.rss_mb(),
        }

    async def settle(self, row: dict[str, float]) -> None:
        cpu0 = self.server.cpu_s()
        await asyncio.sleep(self.args.settle)
        row["settle_cpu_s"] = self.server.cpu_s() - cpu0  # background work after the queue
        row["rss_idle_mb"] = self.server.rss_mb()
        row["rss_kib_per_doc"] = (row["rss_idle_mb"] - self.base_rss) * 1024 / row["docs"]
        row |= disk_mod.breakdown(self.workspace)
        row["disk_kib_per_doc"] = row["disk_mb"] * 1024 / row["docs"]

    async def finds(self, row: dict[str, float]) -> None:
        texts = self.corpus.query_texts(self.args.finds)
        for text in texts[:10]:  # warm-up
            await _timed_find(self.http, text)
        cpu0 = self.server.cpu_s()
        done = [await _timed_find(self.http, text) for text in texts]
        row["find_cpu_ms"] = (self.server.cpu_s() - cpu0) / len(done) * 1e3
        walls, times = [d[0] for d in done], [d[1] for d in done]
        row["find_server_p50_ms"] = work.percentile(times, 0.5) * 1e3
        row["find_server_p95_ms"] = work.percentile(times, 0.95) * 1e3
        row["find_wall_p50_ms"] = work.percentile(walls, 0.5) * 1e3
        row["find_wall_p95_ms"] = work.percentile(walls, 0.95) * 1e3
        row["find_hits"] = sum(d[2] for d in done) / len(done)
        row["qps_c4"] = await work.find_qps(self.http, texts[::-1], CONCURRENCY)
        row["load_1min"] = os.getloadavg()[0]

    def estimate_minutes(self, size: int) -> float | None:
        """Minutes the step to ``size`` should take at the last step's ingest rate."""
        if not self.rows:
            return None
        rate = self.rows[-1]["ingest_docs_s"]
        return (size - self.docs) / rate / 60 + 1.0  # + about a minute of finds and settling

    async def step(self, size: int) -> None:
        estimate = self.estimate_minutes(size)
        if estimate is not None and estimate > self.args.max_minutes:
            note = f"{size} docs skipped: the step would take about {estimate:.0f} min"
            self.notes.append(note + f" (over --max-minutes {self.args.max_minutes:g})")
            print(f"== {note}", file=sys.stderr)
            return
        print(f"== growing to {size} docs (estimate {estimate or 0:.1f} min)", file=sys.stderr)
        row = await self.ingest(size)
        await self.settle(row)
        await self.finds(row)
        self.rows.append(row)
        print(f"  {json.dumps({k: round(v, 2) for k, v in row.items()})}", file=sys.stderr)


def _cell(value: float | None) -> str:
    if value is None:
        return "-"
    if abs(value) >= 100:
        return f"{value:,.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def table(rows: Sequence[dict[str, float]]) -> str:
    head = ["figure", *(f"{int(r['docs']):,} docs" for r in rows)]
    lines = [head, ["---", *("---:" for _ in rows)]]
    lines += [[label, *(_cell(r.get(key)) for r in rows)] for key, label in ROWS[1:]]
    return "\n".join("| " + " | ".join(line) + " |" for line in lines)


def _commit() -> str:
    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], capture_output=True, text=True, cwd=servers.REPO)
        return done.stdout.strip()

    dirty = " (dirty working tree)" if git("status", "--porcelain", "--untracked-files=no") else ""
    return git("rev-parse", "--short", "HEAD") + dirty


def _machine(args: argparse.Namespace) -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "commit": _commit(),
        "embedder": args.embedder,
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--sizes", default="1000,10000,100000", help="store sizes, growing")
    parser.add_argument("--embedder", choices=("fake", "hashing", "local"), default="fake")
    parser.add_argument("--finds", type=int, default=200, help="finds per measurement")
    parser.add_argument("--settle", type=float, default=20.0, help="idle seconds before RSS")
    parser.add_argument("--max-minutes", type=float, default=25.0, help="skip longer steps")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the workspace and server log")
    parser.add_argument("--profile", type=Path, help="run the server under cProfile, to here")
    parser.add_argument(
        "--profile-clock", choices=("cpu", "wall"), default="cpu", help="cProfile's clock"
    )
    args = parser.parse_args(argv)
    args.size_list = sorted({int(s) for s in args.sizes.split(",") if s.strip()})
    return args


def _launch(args: argparse.Namespace, conf: Path, port: int) -> servers.Server:
    if args.profile:
        profile = str(args.profile.resolve())

        def profiled(kind: str, conf: Path, port: int) -> list[str]:
            """The same server, under ``_scale_profile.py`` instead of the console script."""
            script = str(Path(__file__).with_name("_scale_profile.py"))
            serve = ["serve", "--config", str(conf), "--port", str(port)]
            return [sys.executable, script, profile, args.profile_clock, *serve]

        servers.command = profiled  # launch() builds its command line with this function
    return servers.launch("ours", conf, port)


async def _drive(run: Run) -> None:
    try:
        for size in run.args.size_list:
            await run.step(size)
    except (RuntimeError, httpx.HTTPError) as exc:  # keep the sizes measured so far
        run.notes.append(f"stopped at {run.docs} docs: {type(exc).__name__}: {exc}")
    finally:
        await run.http.aclose()


def _measure(args: argparse.Namespace, tmp: Path) -> tuple[list[dict[str, float]], list[str]]:
    fake, base_url = _vs_fake.start() if args.embedder == "fake" else (None, None)
    server = None
    try:
        port = _free_port()
        conf = _conf(tmp / "workspace", port, args.embedder, base_url)
        server = _launch(args, conf, port)
        time.sleep(3.0)  # start-up work settles before the empty server's RSS is read
        run = Run(server, args, tmp / "workspace")
        asyncio.run(_drive(run))
        return run.rows, run.notes
    finally:
        if server is not None:
            servers.stop(server)
        if fake is not None:
            _vs_fake.stop(fake)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main(argv: Sequence[str] | None = None) -> int:
    args = _args(argv)
    machine = _machine(args)
    tmp = Path(tempfile.mkdtemp(prefix="ovbench-scale-"))
    print(f"workspace: {tmp}", file=sys.stderr)
    try:
        rows, notes = _measure(args, tmp)
    finally:
        if args.keep:
            print(f"workspace and server log kept in {tmp}", file=sys.stderr)
        else:
            shutil.rmtree(tmp, ignore_errors=True)
    machine["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    print(f"\n{machine}\n\n{table(rows)}\n")
    for note in notes:
        print(f"note: {note}")
    if args.json:
        args.json.write_text(
            json.dumps({"machine": machine, "rows": rows, "notes": notes}, indent=2)
        )
    return 0 if rows else 1


if __name__ == "__main__":
    sys.exit(main())
