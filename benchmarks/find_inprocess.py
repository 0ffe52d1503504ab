"""find's own cost as one store grows: service time in process, with a zero-cost query embedder.

The store is the scale corpus of ``_scale_corpus.py`` (BEIR passages, one folder of 100
documents per ``sNN``, 1,000 documents per imported part, each document its own folder as in
the original), imported through ``ContextService.add_resource`` with the built-in hashing
embedder. The timed finds go through ``SearchService.find`` (the service method behind the
MCP tool, the HTTP route and the clients): access checks, the hybrid vector and keyword
search, the directory descent, relations and the result model. Their query vectors are
computed once before timing, so the figures hold no embedding cost and no HTTP: they are
the server time of a find with an embedder that costs nothing. ``scale.py`` measures the same
store over HTTP.

    .venv/bin/python benchmarks/find_inprocess.py [--sizes 1000,10000,100000] [--finds 200]
        [--workspace DIR] [--profile out.prof]

``--workspace`` keeps the store in DIR and grows it from what DIR already holds, so a later
run at the same sizes measures without importing again.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import _scale_corpus as corpus_mod

from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.contract.search import FindRequest
from openviking_mcp.models.base import Vector
from openviking_mcp.models.hashing import HashingEmbedder
from openviking_mcp.service import ContextService


class PrecomputedQueries(HashingEmbedder):
    """The hashing embedder, with each query's vector computed once and then free."""

    def __init__(self, dimension: int = 384) -> None:
        super().__init__(dimension)
        self.known: dict[str, Vector] = {}

    async def embed_query(self, text: str) -> Vector:
        vector = self.known.get(text)
        if vector is None:
            vector = self.known[text] = await super().embed_query(text)
        return vector


def _rss_mib() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def _write_part(corpus: corpus_mod.Corpus, start: int, stop: int, into: Path) -> None:
    for i in range(start, stop):
        relative, text = corpus.document(i)
        path = into / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")


async def _grow(svc: ContextService, corpus: corpus_mod.Corpus, have: int, size: int, src: Path):
    ctx = await svc.local_context()
    for start in range(have, size, 1000):
        part = src / f"part-{start // 1000:04d}"
        _write_part(corpus, start, min(size, start + 1000), part)
        await svc.add_resource(ctx, str(part), wait=True, timeout=7200)
        print(f"  imported {min(size, start + 1000):,} documents", file=sys.stderr, flush=True)


async def _settled(svc: ContextService) -> None:
    """Wait until the index's background optimize (scheduled once writes go quiet) is done
    (it compacts and re-indexes on both cores, and process CPU counts its threads too), and
    until the in-memory copy of the index is built (searches go to LanceDB meanwhile)."""
    index = svc.store.index
    await asyncio.sleep(2.0)  # the indexer schedules it half a second after the last write
    while (task := index._optimize_task) is not None and not task.done():
        await asyncio.wait({task})
    cache = index._cache  # the in-memory copy, built in the background on open
    while (build := cache._task) is not None and not build.done():
        await asyncio.wait({build})


async def time_finds(svc: ContextService, queries: list[str], rounds: int) -> dict[str, float]:
    ctx = await svc.local_context()
    for query in queries:  # the vectors are computed here, and the search structures warmed
        await svc.retrieval.find(ctx, FindRequest(query=query))
    times: list[float] = []
    cpu = time.process_time()
    for _ in range(rounds):
        for query in queries:
            start = time.perf_counter()
            await svc.retrieval.find(ctx, FindRequest(query=query))
            times.append((time.perf_counter() - start) * 1000)
    cpu_ms = (time.process_time() - cpu) * 1000 / len(times)
    times.sort()
    return {
        "find_p50_ms": statistics.median(times),
        "find_p95_ms": times[int(0.95 * (len(times) - 1))],
        "find_cpu_ms": cpu_ms,
    }


async def measure(args: argparse.Namespace, workspace: Path) -> list[dict[str, Any]]:
    corpus = corpus_mod.Corpus()
    queries = corpus.query_texts(100)
    rows: list[dict[str, Any]] = []
    for size in (int(s) for s in args.sizes.split(",")):
        src = workspace / "src"
        have = sum(1 for _ in src.glob("part-*/*/*.md")) if src.exists() else 0
        if have > size:
            print(f"skipped {size:,}: the workspace holds {have:,} documents", file=sys.stderr)
            continue
        config = OpenVikingConfig.from_dict({"storage": {"workspace": str(workspace / "data")}})
        svc = ContextService(config, embedder=PrecomputedQueries())
        await svc.start()
        start = time.perf_counter()
        await _grow(svc, corpus, have, size, src)
        ingest_s = time.perf_counter() - start
        await svc.store.index.count()  # opens the index (and starts building its copy)
        await _settled(svc)
        profiler = cProfile.Profile() if args.profile else None
        if profiler:
            profiler.enable()
        row: dict[str, Any] = {"docs": size, "index_rows": await svc.store.index.count()}
        row.update(await time_finds(svc, queries, max(1, args.finds // len(queries))))
        if profiler:
            profiler.disable()
            profiler.dump_stats(f"{args.profile}.{size}")
        row["imported_now"] = size - have
        row["ingest_s"] = round(ingest_s, 1)
        row["rss_mib"] = _rss_mib()
        row["peak_rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        rows.append(row)
        await svc.close()
    return rows


def _commit() -> str:
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    return out.stdout.strip() or "?"


def table(rows: list[dict[str, Any]]) -> str:
    labels = [
        ("index_rows", "index rows"),
        ("find_p50_ms", "find p50 (ms)"),
        ("find_p95_ms", "find p95 (ms)"),
        ("find_cpu_ms", "CPU per find (ms)"),
        ("rss_mib", "process RSS after (MiB)"),
    ]
    head = "| figure | " + " | ".join(f"{r['docs']:,} docs" for r in rows) + " |"
    lines = [head, "| --- |" + " ---: |" * len(rows)]
    for key, label in labels:
        cells = [f"{r[key]:,.2f}" if isinstance(r[key], float) else f"{r[key]:,}" for r in rows]
        lines.append(f"| {label} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("--sizes", default="1000,10000")
    parser.add_argument("--finds", type=int, default=200)
    parser.add_argument("--workspace", type=Path, help="keep (and reuse) the store here")
    parser.add_argument("--profile", help="cProfile the timed finds into PROFILE.<size>")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    workspace = args.workspace or Path(tempfile.mkdtemp(prefix="ovfind-"))
    workspace.mkdir(parents=True, exist_ok=True)
    rows = asyncio.run(measure(args, workspace))
    load = Path("/proc/loadavg").read_text().split()[:3]
    print(f"commit {_commit()}, {platform.machine()}, load average {' '.join(load)}")
    print(table(rows))
    if args.json:
        args.json.write_text(json.dumps(rows, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
