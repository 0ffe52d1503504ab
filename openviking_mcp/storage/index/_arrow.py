"""The Arrow schema of the ``contexts`` table and conversions between rows and records.

The embedding model and dimension the table was built with live in the table's schema
metadata (``openviking.model_id``, ``openviking.dimension``, ``openviking.schema``), so they
are committed atomically with the table itself and can never disagree with its vectors.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

import numpy as np
import pyarrow as pa

from openviking_mcp.storage.index._columns import COLUMNS, check_vector
from openviking_mcp.storage.index._model import IndexRecord

T = TypeVar("T")
#: Conversions of more rows than this run in a worker thread, off the event loop.
_INLINE_ROWS = 256


async def offload(rows: int, fn: Callable[..., T], *args: Any, **kwargs: Any) -> T:
    """Run a conversion of ``rows`` rows inline when small, in a worker thread when large."""
    if rows > _INLINE_ROWS:
        return await asyncio.to_thread(fn, *args, **kwargs)
    return fn(*args, **kwargs)


__all__ = [
    "META_DIMENSION",
    "META_MODEL",
    "META_SCHEMA",
    "SCHEMA_VERSION",
    "build_schema",
    "offload",
    "read_meta",
    "records_to_arrow",
    "table_to_records",
]

META_MODEL = "openviking.model_id"
META_DIMENSION = "openviking.dimension"
META_SCHEMA = "openviking.schema"
SCHEMA_VERSION = "1"

#: The columns of plain strings besides ``id``, in schema order (the others are typed below).
_STRINGS = tuple(
    name
    for name in COLUMNS[1:]
    if name not in ("level", "vector", "tags", "created_at", "updated_at", "active_count")
)


def build_schema(model_id: str, dimension: int) -> pa.Schema:
    """The table schema for vectors of ``dimension`` floats made by ``model_id``."""
    fields = [pa.field("id", pa.string(), nullable=False)]
    for name in COLUMNS[1:]:
        if name == "level":
            fields.append(pa.field(name, pa.int32()))
        elif name == "vector":
            fields.append(pa.field(name, pa.list_(pa.float32(), dimension)))
        elif name == "tags":
            fields.append(pa.field(name, pa.list_(pa.string())))
        elif name in ("created_at", "updated_at"):
            fields.append(pa.field(name, pa.float64()))
        elif name == "active_count":
            fields.append(pa.field(name, pa.int64()))
        else:
            fields.append(pa.field(name, pa.string()))
    metadata = {META_MODEL: model_id, META_DIMENSION: str(dimension), META_SCHEMA: SCHEMA_VERSION}
    return pa.schema(fields, metadata=metadata)


def read_meta(schema: pa.Schema) -> tuple[str | None, int | None, bool]:
    """``(model_id, dimension, has_all_columns)`` recorded in an existing table's schema."""
    raw: dict[bytes, bytes] = dict(schema.metadata or {})
    model = raw.get(META_MODEL.encode())
    dim_raw = raw.get(META_DIMENSION.encode())
    dimension: int | None = None
    if dim_raw is not None and dim_raw.isdigit():  # bytes.isdigit(): ASCII digits only
        dimension = int(dim_raw.decode())
    vector_type = schema.field("vector").type if "vector" in schema.names else None
    if isinstance(vector_type, pa.FixedSizeListType) and dimension != vector_type.list_size:
        dimension = None  # metadata contradicts the column: treat as unknown
    complete = all(name in schema.names for name in COLUMNS)
    return (model.decode() if model is not None else None), dimension, complete


def records_to_arrow(records: Sequence[IndexRecord], schema: pa.Schema, dimension: int) -> pa.Table:
    """One Arrow table for ``records`` (validated; zero timestamps become now)."""
    now = time.time()
    matrix = np.empty((len(records), dimension), dtype=np.float32)
    for i, record in enumerate(records):
        matrix[i] = check_vector(record, dimension)
    columns: dict[str, Any] = {"id": [r.id for r in records]}
    for name in _STRINGS:
        columns[name] = [str(getattr(r, name)) for r in records]
    columns["level"] = pa.array([int(r.level) for r in records], pa.int32())
    columns["vector"] = pa.FixedSizeListArray.from_arrays(pa.array(matrix.ravel()), dimension)
    columns["tags"] = [[str(t) for t in r.tags] for r in records]
    updated = [float(r.updated_at) or now for r in records]
    columns["updated_at"] = updated
    columns["created_at"] = [
        float(r.created_at) or u for r, u in zip(records, updated, strict=True)
    ]
    columns["active_count"] = pa.array([int(r.active_count) for r in records], pa.int64())
    return pa.table(columns, schema=schema)


def table_to_records(table: pa.Table, *, with_vectors: bool = True) -> list[IndexRecord]:
    """Records for the rows of a query result (missing columns keep their defaults)."""
    n = table.num_rows
    if n == 0:
        return []
    names = set(table.column_names)
    cols = {name: table.column(name).to_pylist() for name in names if name != "vector"}
    vectors: np.ndarray | None = None
    if with_vectors and "vector" in names:
        vec_col = table.column("vector").combine_chunks()
        width = vec_col.type.list_size
        vectors = np.array(vec_col.flatten().to_numpy(zero_copy_only=False), dtype=np.float32)
        vectors = vectors.reshape(n, width)
    empty = np.zeros(0, dtype=np.float32)
    out: list[IndexRecord] = []
    for i in range(n):
        out.append(
            IndexRecord(
                uri=cols["uri"][i],
                level=int(cols["level"][i]),
                account_id=cols["account_id"][i],
                context_type=_get(cols, "context_type", i, ""),
                vector=vectors[i] if vectors is not None else empty,
                text=_get(cols, "text", i, ""),
                abstract=_get(cols, "abstract", i, ""),
                name=_get(cols, "name", i, ""),
                parent_uri=_get(cols, "parent_uri", i, ""),
                anchor=_get(cols, "anchor", i, ""),
                owner_user_id=_get(cols, "owner_user_id", i, ""),
                tags=list(_get(cols, "tags", i, []) or []),
                created_at=float(_get(cols, "created_at", i, 0.0) or 0.0),
                updated_at=float(_get(cols, "updated_at", i, 0.0) or 0.0),
                active_count=int(_get(cols, "active_count", i, 0) or 0),
            )
        )
    return out


def _get(cols: dict[str, list[Any]], name: str, i: int, default: Any) -> Any:
    values = cols.get(name)
    if values is None:
        return default
    value = values[i]
    return default if value is None else value
