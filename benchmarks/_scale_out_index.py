"""find p50/p95 in process for ``scale_out.py``: the same store in three configurations.

* ``local``: the embedded default (LanceDB, with the in-memory mirror);
* ``pg-mirror``: ``storage.backend: postgres`` with the in-memory mirror (the default,
  ``index.memory_max_rows`` 400,000), refreshed by a delta query before each search;
* ``pg-sql``: the same PostgreSQL database reopened with ``index.memory_max_rows: 0``, so
  every search is SQL (pgvector's HNSW index for the vectors, the GIN-indexed ``tsvector``
  for the keywords).

The documents are the scale corpus (``_scale_corpus.py``), imported as ``find_inprocess.py``
imports them: through ``ContextService.add_resource`` (a folder of 1,000 documents at a time,
``wait=True``), with the built-in hashing embedder (64 dimensions) in process. After the load,
``optimize()`` runs (LanceDB: compaction and its indexes; PostgreSQL: tombstones and the HNSW
index past 20,000 rows) and the HNSW index's presence is checked in ``pg_indexes``. The timed
finds go through ``SearchService.find`` with the query vectors computed before the timing, as
``find_inprocess.py`` does: no embedding and no HTTP in the figures. For the SQL path the
PostgreSQL index scans counted in ``pg_stat_user_indexes`` during the finds are recorded, as
evidence of which indexes the queries use.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path
from typing import Any

import _scale_corpus as corpus_mod
import find_inprocess
import psycopg
from find_inprocess import _grow

from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.service import ContextService

__all__ = ["measure"]

DIMENSION = 64


def _embedder() -> find_inprocess.PrecomputedQueries:
    """The hashing embedder at this report's dimension, each query's vector computed once."""
    return find_inprocess.PrecomputedQueries(DIMENSION)


def _config(workspace: Path, dsn: str | None, memory_max_rows: int | None) -> OpenVikingConfig:
    storage: dict[str, Any] = {"workspace": str(workspace)}
    if dsn is not None:
        storage |= {"backend": "postgres", "postgres": {"dsn": dsn}}
    conf: dict[str, Any] = {"storage": storage}
    conf["embedding"] = {"dense": {"provider": "hashing", "dimension": DIMENSION}}
    if memory_max_rows is not None:
        conf["index"] = {"memory_max_rows": memory_max_rows}
    return OpenVikingConfig.from_dict(conf)


async def _finds(svc: ContextService, queries: list[str], rounds: int) -> dict[str, float]:
    """``find_inprocess.time_finds`` (warm-up round, then ``rounds`` timed), in this
    report's columns."""
    timed = await find_inprocess.time_finds(svc, queries, rounds)
    return {
        "find_p50_ms": timed["find_p50_ms"],
        "find_p95_ms": timed["find_p95_ms"],
        "cpu_ms_per_find": timed["find_cpu_ms"],
        "finds": float(len(queries) * rounds),
    }


def _pg_indexes(dsn: str) -> dict[str, int]:
    """Index name -> scans so far, for the index row table's indexes."""
    with psycopg.connect(dsn, autocommit=True) as conn:
        rows = conn.execute(
            "SELECT indexrelname, idx_scan FROM pg_stat_user_indexes "
            "WHERE relname LIKE 'ov_index_rows%%'"
        ).fetchall()
    return {str(name): int(scans) for name, scans in rows}


async def _one(
    name: str, workspace: Path, dsn: str | None, memory_max_rows: int | None, size: int
) -> tuple[ContextService, dict[str, Any]]:
    svc = ContextService(_config(workspace, dsn, memory_max_rows), embedder=_embedder())
    await svc.start()
    return svc, {"config": name, "docs": size}


async def _load_and_optimize(svc: ContextService, size: int, src: Path) -> dict[str, float]:
    start = time.perf_counter()
    await _grow(svc, corpus_mod.Corpus(), 0, size, src)
    load_s = time.perf_counter() - start
    index = svc.store.index
    await asyncio.sleep(1.0)  # a background optimize is scheduled after the last write
    task = getattr(index, "_optimize_task", None)
    if task is not None and not task.done():
        await asyncio.wait({task})
    start = time.perf_counter()
    await index.optimize()
    return {
        "load_s": load_s,
        "load_docs_s": size / load_s,
        "optimize_s": time.perf_counter() - start,
    }


async def _settle_local(svc: ContextService) -> None:
    cache = getattr(svc.store.index, "_cache", None)  # LanceDB's in-memory copy
    while cache is not None and (build := cache._task) is not None and not build.done():
        await asyncio.wait({build})


async def measure(size: int, finds: int, tmp: Path, dsn: str) -> list[dict[str, Any]]:
    """The three configurations' rows at ``size`` documents (``dsn``: an empty database)."""
    queries = corpus_mod.Corpus().query_texts(100)
    rounds = max(1, finds // len(queries))
    rows: list[dict[str, Any]] = []
    for name, db in (("local", None), ("pg-mirror", dsn)):
        svc, row = await _one(name, tmp / f"index-{name}", db, None, size)
        try:
            print(f"== {name}: importing {size:,} documents", file=sys.stderr)
            row |= await _load_and_optimize(svc, size, tmp / f"src-{name}")
            await _settle_local(svc)
            row["index_rows"] = await svc.store.index.count()
            row |= await _finds(svc, queries, rounds)
        finally:
            await svc.close()
        rows.append(row)
        print(f"  {row}", file=sys.stderr)
    svc, row = await _one("pg-sql", tmp / "index-pg-sql", dsn, 0, size)
    try:
        before = _pg_indexes(dsn)
        row["index_rows"] = await svc.store.index.count()
        row |= await _finds(svc, queries, rounds)
        await asyncio.sleep(2.0)  # backends publish their statistics when idle
        after = _pg_indexes(dsn)
        row["index_scans"] = {k: after[k] - before.get(k, 0) for k in after}
        row["hnsw"] = "ov_index_rows_vector" in after
    finally:
        await svc.close()
    row["load_s"] = rows[-1]["load_s"]
    rows.append(row)
    print(f"  {row}", file=sys.stderr)
    return rows
