"""Queries over the contexts table: SQL predicates, LanceDB query builders and ranked hits.

Ids and URIs are matched in chunks of :data:`IN_CHUNK` values per ``IN (...)`` predicate.
The builders only describe a query; the caller runs it (``to_arrow``) and converts the rows.
:func:`stored_counters` reads the creation time and activity counter of rows an upsert
replaces (:func:`~._columns.carry_over` keeps them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from typing import Any

import numpy as np
from lancedb.query import ColumnOrdering

from openviking_mcp.storage.index._arrow import table_to_records
from openviking_mcp.storage.index._model import IndexFilter, IndexHit, IndexRecord, sql_string

__all__ = [
    "IN_CHUNK",
    "and_clauses",
    "chunks",
    "in_list",
    "ranked_hits",
    "rows_by_ids",
    "rows_of_uris",
    "scroll_query",
    "stored_counters",
    "text_query",
    "uri_keys",
    "vector_query",
]

#: Ids/URIs per ``IN (...)`` predicate.
IN_CHUNK = 500


def chunks(values: Sequence[str]) -> Iterator[Sequence[str]]:
    """``values`` in slices of at most :data:`IN_CHUNK`."""
    for start in range(0, len(values), IN_CHUNK):
        yield values[start : start + IN_CHUNK]


def in_list(column: str, values: Sequence[str]) -> str:
    """``column IN ('a', 'b', ...)`` with the values quoted."""
    return f"{column} IN ({', '.join(sql_string(v) for v in values)})"


def and_clauses(*clauses: str | None) -> str | None:
    """The non-empty clauses joined with ``AND`` (``None`` when there are none)."""
    parts = [c for c in clauses if c]
    if not parts:
        return None
    return " AND ".join(f"({p})" for p in parts)


def _filtered(query: Any, flt: IndexFilter | None) -> Any:
    where = flt.to_sql() if flt is not None else None
    return query.where(where) if where else query


def vector_query(table: Any, query_vec: np.ndarray, flt: IndexFilter, limit: int) -> Any:
    """The ``limit`` nearest rows by cosine distance that pass ``flt``."""
    query = (
        table.query()
        .nearest_to(query_vec)
        .column("vector")
        .distance_type("cosine")
        .maximum_nprobes(0)  # with an IVF index: probe further until `limit` rows pass
        .limit(limit)
    )
    return _filtered(query, flt)


def text_query(table: Any, fts_query: Any, flt: IndexFilter, limit: int) -> Any:
    """The ``limit`` best BM25 matches of ``fts_query`` that pass ``flt``."""
    return _filtered(table.query().nearest_to_text(fts_query).limit(limit), flt)


def scroll_query(table: Any, flt: IndexFilter | None, limit: int, cursor: str | None) -> Any:
    """Up to ``limit + 1`` rows in id order after ``cursor`` (the extra row shows more exist)."""
    where = and_clauses(
        flt.to_sql() if flt is not None else None,
        f"id > {sql_string(cursor)}" if cursor else None,
    )
    query = table.query().order_by([ColumnOrdering(column_name="id")]).limit(limit + 1)
    return query.where(where) if where else query


def ranked_hits(records: Sequence[IndexRecord], scores: Sequence[float]) -> list[IndexHit]:
    """Pair records with their scores, best first."""
    hits = [IndexHit(r, s) for r, s in zip(records, scores, strict=True)]
    hits.sort(key=lambda h: h.score, reverse=True)
    return hits


async def rows_by_ids(table: Any, ids: Sequence[str]) -> list[IndexRecord]:
    """The rows with these ids, in the order asked (missing ids are skipped)."""
    unique = list(dict.fromkeys(ids))
    found: dict[str, IndexRecord] = {}
    for chunk in chunks(unique):
        result = await table.query().where(in_list("id", chunk)).to_arrow()
        records = await asyncio.to_thread(table_to_records, result)
        found.update((r.id, r) for r in records)
    return [found[i] for i in unique if i in found]


async def rows_of_uris(table: Any, account_id: str, uris: Sequence[str]) -> list[IndexRecord]:
    """The rows of these URIs in the account."""
    records: list[IndexRecord] = []
    for chunk in chunks(list(dict.fromkeys(uris))):
        where = f"account_id = {sql_string(account_id)} AND {in_list('uri', chunk)}"
        records += table_to_records(await table.query().where(where).to_arrow())
    return records


async def uri_keys(table: Any, flt: IndexFilter) -> set[tuple[str, int, str]]:
    """``(uri, level, anchor)`` of every row matching ``flt``."""
    query = table.query().select(["uri", "level", "anchor"])
    where = flt.to_sql()
    if where:
        query = query.where(where)
    result = await query.to_arrow()
    columns = [result.column(name).to_pylist() for name in ("uri", "level", "anchor")]
    return {(u, int(lvl), a or "") for u, lvl, a in zip(*columns, strict=True)}


async def stored_counters(table: Any, ids: Sequence[str]) -> dict[str, tuple[float, int]]:
    """``(created_at, active_count)`` of the stored rows with these ids."""
    known: dict[str, tuple[float, int]] = {}
    for chunk in chunks(ids):
        found = await (
            table.query()
            .where(in_list("id", chunk))
            .select(["id", "created_at", "active_count"])
            .to_arrow()
        )
        for row in found.to_pylist():
            known[row["id"]] = (row["created_at"] or 0.0, row["active_count"] or 0)
    return known
