"""What both search index backends (the LanceDB table and the PostgreSQL rows) share about a
row: its columns, the checks of record and query vectors, and the times and counters a record
is written with.

Light: it loads NumPy but neither LanceDB nor Arrow, so the PostgreSQL backend uses it too.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.storage.index._model import IndexRecord

__all__ = ["COLUMNS", "carry_over", "check_vector", "query_vector", "stamped"]

#: The record columns of a row, in :class:`IndexRecord` order (``vector`` has the index's
#: dimension).
COLUMNS: tuple[str, ...] = (
    "id",
    "uri",
    "parent_uri",
    "level",
    "anchor",
    "context_type",
    "account_id",
    "owner_user_id",
    "name",
    "abstract",
    "text",
    "vector",
    "tags",
    "created_at",
    "updated_at",
    "active_count",
)


def check_vector(record: IndexRecord, dimension: int) -> np.ndarray:
    """The vector of ``record`` as float32, checked to have ``dimension`` finite values."""
    vec = np.asarray(record.vector, dtype=np.float32)
    if vec.ndim != 1 or vec.shape[0] != dimension:
        raise InvalidArgumentError(
            f"Vector of {record.uri} has shape {tuple(vec.shape)}; the index expects "
            f"{dimension} dimensions",
            {"uri": record.uri, "expected_dimension": dimension, "shape": list(vec.shape)},
        )
    if not np.isfinite(vec).all():
        raise InvalidArgumentError(
            f"Vector of {record.uri} contains NaN or infinite values", {"uri": record.uri}
        )
    return vec


def query_vector(vector: np.ndarray, dimension: int) -> np.ndarray:
    """``vector`` as float32, checked to be one-dimensional with ``dimension`` values."""
    query_vec = np.asarray(vector, dtype=np.float32)
    if query_vec.ndim != 1 or query_vec.shape[0] != dimension:
        raise InvalidArgumentError(
            f"Query vector has shape {tuple(query_vec.shape)}; the index expects "
            f"{dimension} dimensions",
            {"expected_dimension": dimension, "shape": list(query_vec.shape)},
        )
    return query_vec


def stamped(records: Sequence[IndexRecord]) -> list[IndexRecord]:
    """``records`` with a zero ``updated_at`` set to now and a zero ``created_at`` to their
    ``updated_at`` (the times they are stored with)."""
    now = time.time()
    out: list[IndexRecord] = []
    for record in records:
        if not record.updated_at or not record.created_at:
            updated = float(record.updated_at) or now
            record = replace(
                record, updated_at=updated, created_at=float(record.created_at) or updated
            )
        out.append(record)
    return out


def carry_over(
    records: list[IndexRecord], known: dict[str, tuple[float, int]]
) -> list[IndexRecord]:
    """``records`` with a zero ``created_at``/``active_count`` filled from ``known`` (the
    ``(created_at, active_count)`` of the stored rows they replace, by id)."""
    if not known:
        return records
    out: list[IndexRecord] = []
    for record in records:
        old = known.get(record.id)
        if old is not None:
            record = replace(
                record,
                created_at=record.created_at or old[0],
                active_count=record.active_count or old[1],
            )
        out.append(record)
    return out
