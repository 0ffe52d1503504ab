"""Searches of the PostgreSQL index answered by PostgreSQL itself (tables larger than the
mirror, filters with ``where`` conditions, or while a mirror is being built).

**Vectors**: ``ORDER BY vector <=> q`` (pgvector cosine distance); score = ``1 - distance``,
the cosine similarity the LanceDB path and the mirror report. With the HNSW index (built once
the table is large, see :mod:`._index_admin`) the scan is approximate and, as pgvector has no
iterative index scan before 0.8, a selective filter can leave fewer than ``limit`` rows: the
query is then run again exactly (index scans off, so the filter's B-tree bitmap scans and a
sort serve it).

**Keywords**: the rows holding a query token are found with the GIN index on ``tsv`` and
scored in SQL with the mirror's BM25 (:mod:`openviking_mcp.storage.index._bm25`): the same
tokens (stored per row in ``terms``/``freqs``), ``k1 = 1.2``, ``b = 0.75``, the IDF
``ln(1 + (N - n + 0.5) / (n + 0.5))`` over every row of the table, ``N`` and the average
length from ``ov_index_stats`` and each token's ``n`` counted with the GIN index. Scores equal
the mirror's up to float32 rounding (the mirror sums in float32, PostgreSQL in float64).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from openviking_mcp.storage.index._model import IndexFilter, IndexHit
from openviking_mcp.storage.postgres._db import PgDatabase
from openviking_mcp.storage.postgres._index_filter import where_clause
from openviking_mcp.storage.postgres._index_rows import (
    MAX_LEXEME_BYTES,
    RECORD_COLUMNS,
    TABLE,
    row_to_record,
)

__all__ = ["corpus_stats", "keyword_hits", "vector_hits"]

_K1 = 1.2
_B = 0.75
#: The IDF of a token found in a tenth of the rows: tokens below it are "common" and only
#: join the candidates when the rarer ones cannot settle the top (see :func:`keyword_hits`).
_COMMON_IDF = math.log(10.0)  # ln(1 + 0.9 / 0.1)
#: ``hnsw.ef_search`` is at least this, and at least twice the limit (at most 1000).
_EF_SEARCH = 40


async def vector_hits(
    db: PgDatabase, query_vec: np.ndarray, flt: IndexFilter, limit: int, *, hnsw: bool
) -> list[IndexHit]:
    """The ``limit`` rows nearest to ``query_vec`` that pass ``flt`` (module docs)."""
    where, params = where_clause(flt)
    sql = (
        f"SELECT {RECORD_COLUMNS}, vector <=> %s AS distance FROM {TABLE} {where} "
        "ORDER BY vector <=> %s LIMIT %s"
    )
    args = [query_vec, *params, query_vec, limit]
    ef_search = str(min(1000, max(_EF_SEARCH, 2 * limit)))
    async with db.connection() as conn, conn.transaction():
        if hnsw:
            await conn.execute("SELECT set_config('hnsw.ef_search', %s, true)", (ef_search,))
        rows = await (await conn.execute(sql, args, binary=True)).fetchall()
        if hnsw and len(rows) < limit:
            await conn.execute("SELECT set_config('enable_indexscan', 'off', true)")
            rows = await (await conn.execute(sql, args, binary=True)).fetchall()
    return [IndexHit(row_to_record(r), 1.0 - float(r["distance"])) for r in rows]


def _lexeme(token: str) -> str:
    """``token`` as a one-lexeme ``tsquery`` literal (taken as is: no parsing, no stemming)."""
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


async def corpus_stats(db: PgDatabase) -> tuple[int, float]:
    """``(rows, total token count)`` of the whole table (``ov_index_stats``)."""
    (row,) = await db.fetchall(
        "SELECT coalesce(sum(rows), 0) AS n, coalesce(sum(total_length), 0) AS total "
        "FROM ov_index_stats"
    )
    return int(row["n"]), float(row["total"])


async def _idfs(db: PgDatabase, tokens: Sequence[str], rows: int) -> dict[str, float]:
    """The BM25 IDF of each token held by at least one row."""
    found = await db.fetchall(
        f"SELECT q.term, (SELECT count(*) FROM {TABLE} WHERE tsv @@ q.query::tsquery) AS df "
        "FROM unnest(%s::text[], %s::text[]) AS q(term, query)",
        (list(tokens), [_lexeme(t) for t in tokens]),
    )
    idfs: dict[str, float] = {}
    for row in found:
        df = int(row["df"])
        if df > 0:
            idfs[row["term"]] = math.log(1.0 + (rows - df + 0.5) / (df + 0.5))
    return idfs


async def keyword_hits(
    db: PgDatabase, tokens: Sequence[str], flt: IndexFilter, limit: int
) -> list[IndexHit]:
    """The ``limit`` rows passing ``flt`` with the best BM25 for ``tokens`` (module docs).

    Common words match most of the table (``the`` is in most rows), and scoring every row
    that holds one is a scan of the table. So the candidates are first the rows holding one
    of the rarer tokens, each scored with every token; a row holding none of them scores at
    most the sum of the common tokens' largest contributions (``idf * (k1 + 1)``). When the
    ``limit``-th candidate scores more than that, no other row can enter the top and the
    answer is exact; otherwise the common tokens join the candidates, rarest first."""
    searchable = [t for t in tokens if len(t.encode()) <= MAX_LEXEME_BYTES]
    rows, total = await corpus_stats(db)
    if not searchable or rows <= 0:
        return []
    idfs = await _idfs(db, searchable, rows)
    if not idfs:
        return []
    average = total / rows or 1.0
    ranked = sorted(idfs, key=lambda t: idfs[t], reverse=True)  # rarest first
    for size in _candidate_sizes(ranked, idfs, rows):
        found = await _scored(db, idfs, ranked[:size], flt, limit, average)
        rest = sum(idfs[t] for t in ranked[size:]) * (_K1 + 1.0)
        if size == len(ranked) or (len(found) >= limit and found[-1].score > rest):
            return found
    return []  # not reached: the last size takes every token


def _candidate_sizes(ranked: list[str], idfs: dict[str, float], rows: int) -> list[int]:
    """How many of the rarest tokens select candidates, round by round: first those with an
    IDF of a token in under a tenth of the rows (at least one), then every token."""
    rare = sum(1 for t in ranked if idfs[t] >= _COMMON_IDF) or 1
    return [rare, len(ranked)] if rare < len(ranked) else [len(ranked)]


async def _scored(
    db: PgDatabase,
    idfs: dict[str, float],
    selecting: list[str],
    flt: IndexFilter,
    limit: int,
    average: float,
) -> list[IndexHit]:
    """The best ``limit`` rows holding one of ``selecting``, scored with every token."""
    where, params = where_clause(
        flt, ("r.tsv @@ %s::tsquery", [" | ".join(map(_lexeme, selecting))])
    )
    sql = (
        f"SELECT {RECORD_COLUMNS}, s.score FROM {TABLE} AS r CROSS JOIN LATERAL ("
        f"SELECT sum(q.idf * t.f * {_K1 + 1.0!r} / (t.f + {_K1!r} * "
        f"(1.0 - {_B!r} + {_B!r} * r.doc_len / %s))) AS score "
        "FROM unnest(r.terms, r.freqs) AS t(term, f) "
        "JOIN unnest(%s::text[], %s::float8[]) AS q(term, idf) ON q.term = t.term) AS s "
        f"{where} ORDER BY s.score DESC, r.id LIMIT %s"
    )
    args: list[Any] = [average, list(idfs), list(idfs.values()), *params, limit]
    async with db.connection() as conn:
        found = await (await conn.execute(sql, args, binary=True)).fetchall()
    return [IndexHit(row_to_record(r), float(r["score"])) for r in found]
