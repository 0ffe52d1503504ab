"""Scale-out on PostgreSQL: several front ends and workers on one database, on one machine.

Three measurements, all with the built-in ``hashing`` embedder (64 dimensions) in every
process, on a PostgreSQL 16 + pgvector from the ``pgserver`` package in a temporary folder
(or ``--dsn`` for an external server; each measurement gets a new database on it):

1. ``frontends``: find qps and write throughput with 1, 2 and 4 ``openviking-mcp serve
   --no-worker`` processes on one database, plus one ``openviking-mcp worker`` that indexes
   the writes. A corpus of ``--corpus`` small documents (the BEIR passages of
   ``_scale_corpus.py``) is imported first, through a front end, in zips of 1,000. Then, per
   number of front ends, ``--clients`` concurrent clients spread round-robin over the front
   ends send finds for ``--seconds``, then writes (``POST /api/v1/content/write``, a distinct
   small file each, no ``wait``) for ``--seconds``; then the time for the worker to index
   what was written (``POST /api/v1/system/wait``). The writes add to the store, so each
   later row finds over a few thousand more documents.
2. ``ingest``: ``--ingest`` documents, as ``--ingest-parts`` zips, uploaded and submitted
   through one front end to a new database, with 1 and 2 worker processes: time from the
   first submit to every task completed.
3. ``index``: find p50/p95 at ``--index-sizes`` documents, in process (``_scale_out_index.py``),
   for the local backend (LanceDB + in-memory mirror), postgres with the mirror (default),
   and postgres without it (``index.memory_max_rows: 0``: pgvector's HNSW index and SQL).

Machine CPU (busy share of both cores, /proc/stat) and each process group's CPU in cores
(front ends, worker, PostgreSQL, the load generator itself) are recorded for every timed run.

    .venv/bin/python benchmarks/scale_out.py [--parts frontends,ingest,index] [--quick]
        [--dsn DSN] [--clients 8] [--seconds 20] [--corpus 2000] [--ingest 1000] [--ingest-parts 8]
        [--index-sizes 10000] [--json out.json] [--keep]
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
import _scale_out_cluster as cl
import _scale_out_index as index_mod
import _scale_out_load as ld
import _vs_workload as work
import httpx2

ROOT = Path(__file__).resolve().parents[1]
FRONT_COUNTS = (1, 2, 4)
WORKER_COUNTS = (1, 2)


def _parts(corpus: corpus_mod.Corpus, start: int, stop: int, per: int) -> list[tuple[str, bytes]]:
    return [(uri, work.zip_bytes(docs)) for uri, docs in corpus.batches(start, stop, per)]


def _round(row: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 2) if isinstance(v, float) else v for k, v in row.items()}


async def _timed(meter: cl.CpuMeter, coro: Any) -> dict[str, float]:
    meter.start()
    load: ld.Load = await coro
    row = load.figures() | meter.stop()
    if load.errors:
        print(f"    first error: {load.errors[0]}", file=sys.stderr)
    return row


async def _frontend_row(
    cluster: cl.Cluster, pg: cl.Postgres, args: argparse.Namespace, n: int, offset: int
) -> dict[str, Any]:
    queries = corpus_mod.Corpus().query_texts(100)
    https = ld.clients([p.url for p in cluster.of("front")], args.clients)
    meter = cl.CpuMeter(cluster, pg)

    async def find(http: httpx2.AsyncClient, i: int) -> None:
        body = {"query": queries[i % len(queries)], "limit": 10}
        result = await ld.call(http, "POST", "/api/v1/search/find", json=body)
        if not result.get("resources"):
            raise RuntimeError("find returned no resources")

    async def write(http: httpx2.AsyncClient, i: int) -> None:
        j = offset + i
        uri = f"viking://resources/writes/w{j // 1000:03d}/note-{j:06d}.md"
        text = f"# Note {j}\n\nA short note {j} about {queries[j % len(queries)]}\n"
        body = {"uri": uri, "content": text, "mode": "create"}
        await ld.call(http, "POST", "/api/v1/content/write", json=body)

    try:
        for http in https:  # warm-up: each front end loads its mirror of the index
            for q in queries[:10]:
                await ld.call(http, "POST", "/api/v1/search/find", json={"query": q})
        row: dict[str, Any] = {"fronts": n, "clients": args.clients}
        for name, request in (("find", find), ("write", write)):
            figures = await _timed(meter, ld.drive(https, args.clients, args.seconds, request))
            row |= {f"{name}_{k}": v for k, v in figures.items()}
        started = time.perf_counter()
        await ld.call(https[0], "POST", "/api/v1/system/wait", json={"timeout": 1800})
        row["index_drain_s"] = time.perf_counter() - started
    finally:
        for http in https:
            await http.aclose()
    return row


async def frontends(args: argparse.Namespace, pg: cl.Postgres, tmp: Path) -> list[dict[str, Any]]:
    dsn = pg.new_database("ovso_front")
    cluster = cl.Cluster(tmp / "frontends", dsn)
    rows: list[dict[str, Any]] = []
    try:
        cluster.worker()
        loader = cluster.front(_free_port())
        parts = _parts(corpus_mod.Corpus(), 0, args.corpus, 1000)
        async with ld.clients([loader.url], 1)[0] as http:
            loaded = await ld.ingest_parts(http, parts)
        print(f"  corpus of {args.corpus} docs loaded: {loaded}", file=sys.stderr)
        cluster.stop()
        for n in FRONT_COUNTS:
            cluster.worker()
            for _ in range(n):
                cluster.front(_free_port())
            row = await _frontend_row(cluster, pg, args, n, 1_000_000 * n)
            row["corpus_load_s"] = loaded["submit_to_done_s"]
            rows.append(row)
            print(f"  {json.dumps(_round(row))}", file=sys.stderr)
            cluster.stop()
    finally:
        cluster.stop()
        if not args.keep:
            pg.drop_database(dsn)
    return rows


async def ingest(args: argparse.Namespace, pg: cl.Postgres, tmp: Path) -> list[dict[str, Any]]:
    per = max(1, args.ingest // args.parts_n)
    parts = _parts(corpus_mod.Corpus(), 0, args.ingest, per)
    rows: list[dict[str, Any]] = []
    for workers in WORKER_COUNTS:
        dsn = pg.new_database("ovso_ingest")
        cluster = cl.Cluster(tmp / f"ingest-{workers}", dsn)
        try:
            front = cluster.front(_free_port())
            for _ in range(workers):
                cluster.worker()
            meter = cl.CpuMeter(cluster, pg)
            async with ld.clients([front.url], 1)[0] as http:
                meter.start()
                timed = await ld.ingest_parts(http, parts)
                cpu = meter.stop()
            docs_s = args.ingest / timed["submit_to_done_s"]
            row = {"workers": workers, "docs": args.ingest, "parts": len(parts), "docs_s": docs_s}
            rows.append(row | timed | cpu)
            print(f"  {json.dumps(_round(rows[-1]))}", file=sys.stderr)
        finally:
            cluster.stop()
            if not args.keep:
                pg.drop_database(dsn)
    return rows


def _table(rows: Sequence[dict[str, Any]], columns: Sequence[tuple[str, str]]) -> str:
    def cell(value: Any) -> str:
        if isinstance(value, float):
            return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.2f}"
        return str(value)

    lines = ["| " + " | ".join(label for _, label in columns) + " |"]
    lines.append("|" + "---:|" * len(columns))
    lines += ["| " + " | ".join(cell(r.get(k)) for k, _ in columns) + " |" for r in rows]
    return "\n".join(lines)


FRONT_COLUMNS = [
    ("fronts", "front ends"),
    ("find_qps", "find qps"),
    ("find_p50_ms", "find p50 ms"),
    ("find_p95_ms", "find p95 ms"),
    ("find_machine_busy_pct", "CPU busy % (find)"),
    ("find_front_cores", "front ends, cores"),
    ("find_postgres_cores", "PostgreSQL, cores"),
    ("find_loadgen_cores", "load generator, cores"),
    ("find_other_cores", "other processes, cores"),
    ("write_qps", "writes/s"),
    ("write_p50_ms", "write p50 ms"),
    ("write_p95_ms", "write p95 ms"),
    ("write_machine_busy_pct", "CPU busy % (write)"),
    ("write_front_cores", "front ends, cores"),
    ("write_worker_cores", "worker, cores"),
    ("write_postgres_cores", "PostgreSQL, cores"),
    ("write_other_cores", "other processes, cores"),
    ("index_drain_s", "index drain after, s"),
]
INGEST_COLUMNS = [
    ("workers", "workers"),
    ("docs", "documents"),
    ("parts", "zips"),
    ("submit_to_done_s", "submit to done, s"),
    ("docs_s", "docs/s"),
    ("machine_busy_pct", "CPU busy %"),
    ("worker_cores", "workers, cores"),
    ("postgres_cores", "PostgreSQL, cores"),
    ("front_cores", "front end, cores"),
    ("other_cores", "other processes, cores"),
]
INDEX_COLUMNS = [
    ("config", "configuration"),
    ("docs", "documents"),
    ("index_rows", "index rows"),
    ("load_s", "load s"),
    ("find_p50_ms", "find p50 ms"),
    ("find_p95_ms", "find p95 ms"),
    ("cpu_ms_per_find", "process CPU per find, ms"),
]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _commit() -> str:
    def git(*argv: str) -> str:
        done = subprocess.run(["git", *argv], capture_output=True, text=True, cwd=ROOT)
        return done.stdout.strip()

    dirty = " (dirty working tree)" if git("status", "--porcelain", "--untracked-files=no") else ""
    return git("rev-parse", "--short", "HEAD") + dirty


def _args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n\n")[0])
    parser.add_argument("--parts", default="frontends,ingest,index", help="what to measure")
    parser.add_argument("--quick", action="store_true", help="small sizes and short runs")
    parser.add_argument("--dsn", help="an external PostgreSQL (with pgvector) to use")
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients")
    parser.add_argument("--seconds", type=float, default=20.0, help="seconds per timed load")
    parser.add_argument("--corpus", type=int, default=2000, help="documents before the load")
    parser.add_argument("--ingest", type=int, default=1000, help="documents ingested")
    parser.add_argument("--ingest-parts", dest="parts_n", type=int, default=8, help="zips")
    parser.add_argument("--index-sizes", default="10000", help="store sizes for find p50")
    parser.add_argument("--finds", type=int, default=300, help="finds per configuration")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--keep", action="store_true", help="keep the databases and logs")
    args = parser.parse_args(argv)
    if args.quick:
        args.seconds, args.corpus, args.ingest = 5.0, 500, 200
        args.index_sizes, args.finds = "1000", 100
    args.parts = args.parts.split(",")
    return args


def _machine(pg: cl.Postgres) -> dict[str, Any]:
    return {
        "platform": platform.platform(),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "commit": _commit(),
        "postgres": pg.version() + (" (external)" if pg.external else " (pgserver)"),
        "loadavg_start": [round(x, 2) for x in os.getloadavg()],
        "date": time.strftime("%Y-%m-%d %H:%M %Z"),
    }


async def _run(args: argparse.Namespace, pg: cl.Postgres, tmp: Path) -> dict[str, Any]:
    out: dict[str, Any] = {"machine": _machine(pg)}
    if "frontends" in args.parts:
        print("== front ends", file=sys.stderr)
        out["frontends"] = await frontends(args, pg, tmp)
    if "ingest" in args.parts:
        print("== ingest", file=sys.stderr)
        out["ingest"] = await ingest(args, pg, tmp)
    if "index" in args.parts:
        out["index"] = []
        for size in (int(s) for s in args.index_sizes.split(",")):
            dsn = pg.new_database("ovso_index")
            try:
                out["index"] += await index_mod.measure(size, args.finds, tmp / str(size), dsn)
            finally:
                if not args.keep:
                    pg.drop_database(dsn)
    out["machine"]["loadavg_end"] = [round(x, 2) for x in os.getloadavg()]
    return out


def _print(out: dict[str, Any]) -> None:
    print(f"\n{out['machine']}\n")
    for key, columns in (
        ("frontends", FRONT_COLUMNS),
        ("ingest", INGEST_COLUMNS),
        ("index", INDEX_COLUMNS),
    ):
        if out.get(key):
            print(f"{key}:\n\n{_table(out[key], columns)}\n")
    for row in out.get("index", []):
        if "index_scans" in row:
            print(f"{row['config']}: HNSW index present: {row['hnsw']}; scans {row['index_scans']}")


def main(argv: Sequence[str] | None = None) -> int:
    args = _args(argv)
    tmp = Path(tempfile.mkdtemp(prefix="ovbench-scaleout-"))
    print(f"scratch: {tmp}", file=sys.stderr)
    pg = cl.Postgres(tmp / "pg", args.dsn)
    try:
        out = asyncio.run(_run(args, pg, tmp))
    finally:
        pg.close()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    _print(out)
    if args.json:
        args.json.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
