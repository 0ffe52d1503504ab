"""The row table of the PostgreSQL search index and conversions between rows and records.

``ov_index_rows`` has the columns of the LanceDB ``contexts`` table plus what keyword search
and the cross-process mirrors need:

* ``terms``/``freqs``: the row's tokens and their counts, made by the same tokenizer as the
  in-memory BM25 (:func:`~openviking_mcp.storage.index._bm25.text_tokens`), so both backends
  score the same tokens; ``doc_len`` is their total;
* ``tsv``: ``array_to_tsvector(terms)``, under a GIN index: it finds the rows holding a query
  token (the tokens are made in Python, so PostgreSQL's own parsers never see the text);
* ``xid``: the id of the transaction that last wrote the row, under a B-tree index: what a
  mirror in another process reads to pick up exactly the rows changed since its snapshot.

Statement triggers keep ``ov_index_stats`` (row count, total length) and the tombstones of
deleted rows (see :mod:`._schema_index`). The table depends on the vector dimension, so it is
created (and dropped by a reset) by the index itself, not by a migration.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np

from openviking_mcp.storage.index._bm25 import text_tokens
from openviking_mcp.storage.index._columns import COLUMNS, check_vector
from openviking_mcp.storage.index._model import IndexRecord

__all__ = [
    "HNSW_INDEX",
    "MAX_LEXEME_BYTES",
    "RECORD_COLUMNS",
    "TABLE",
    "create_table_sql",
    "row_to_record",
    "tokens_of",
    "upsert_sql",
    "write_params",
]

TABLE = "ov_index_rows"
HNSW_INDEX = "ov_index_rows_vector"
#: Longer tokens are kept for BM25 but left out of ``tsv`` (a tsvector lexeme is at most
#: 2046 bytes); a query for such a token finds nothing in PostgreSQL.
MAX_LEXEME_BYTES = 2046

#: The record columns, in :class:`IndexRecord` order (as selected for records).
RECORD_COLUMNS = ", ".join(COLUMNS)
#: The columns an upsert writes (``tsv`` follows them, made from the last parameter).
_WRITTEN = (*COLUMNS, "terms", "freqs", "doc_len")


def create_table_sql(dimension: int) -> str:
    """The row table for vectors of ``dimension`` floats, its indexes and triggers."""
    dim = int(dimension)
    return f"""
    CREATE TABLE {TABLE} (
        id TEXT COLLATE "C" PRIMARY KEY,
        uri TEXT COLLATE "C" NOT NULL,
        parent_uri TEXT COLLATE "C" NOT NULL,
        level INTEGER NOT NULL,
        anchor TEXT NOT NULL,
        context_type TEXT NOT NULL,
        account_id TEXT COLLATE "C" NOT NULL,
        owner_user_id TEXT NOT NULL,
        name TEXT NOT NULL,
        abstract TEXT NOT NULL,
        text TEXT NOT NULL,
        vector vector({dim}) NOT NULL,
        tags TEXT[] NOT NULL,
        created_at DOUBLE PRECISION NOT NULL,
        updated_at DOUBLE PRECISION NOT NULL,
        active_count BIGINT NOT NULL,
        terms TEXT[] NOT NULL,
        freqs INTEGER[] NOT NULL,
        doc_len REAL NOT NULL,
        tsv TSVECTOR NOT NULL,
        xid xid8 NOT NULL DEFAULT pg_current_xact_id()
    );
    CREATE INDEX {TABLE}_account_uri ON {TABLE} (account_id, uri);
    CREATE INDEX {TABLE}_account_parent ON {TABLE} (account_id, parent_uri);
    CREATE INDEX {TABLE}_uri ON {TABLE} (uri);
    CREATE INDEX {TABLE}_xid ON {TABLE} (xid);
    CREATE INDEX {TABLE}_tsv ON {TABLE} USING gin (tsv);
    CREATE TRIGGER {TABLE}_inserted AFTER INSERT ON {TABLE}
        REFERENCING NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION ov_index_rows_inserted();
    CREATE TRIGGER {TABLE}_updated AFTER UPDATE ON {TABLE}
        REFERENCING OLD TABLE AS gone NEW TABLE AS added
        FOR EACH STATEMENT EXECUTE FUNCTION ov_index_rows_updated();
    CREATE TRIGGER {TABLE}_deleted AFTER DELETE ON {TABLE}
        REFERENCING OLD TABLE AS gone
        FOR EACH STATEMENT EXECUTE FUNCTION ov_index_rows_deleted()
    """


def upsert_sql(rows: int) -> str:
    """``INSERT`` of ``rows`` rows (:func:`write_params` each) replacing rows by id. A stored
    ``active_count`` survives a row written with 0 (also when the two writes race)."""
    one = "(" + ", ".join(["%s"] * len(_WRITTEN)) + ", array_to_tsvector(%s::text[]))"
    updates = ", ".join(f"{c} = excluded.{c}" for c in _WRITTEN if c not in ("id", "active_count"))
    return (
        f"INSERT INTO {TABLE} AS r ({', '.join(_WRITTEN)}, tsv) VALUES "
        + ", ".join([one] * rows)
        + f" ON CONFLICT (id) DO UPDATE SET {updates}, tsv = excluded.tsv, "
        "active_count = CASE WHEN excluded.active_count = 0 THEN r.active_count "
        "ELSE excluded.active_count END, xid = pg_current_xact_id()"
    )


def write_params(record: IndexRecord, dimension: int, tokens: Counter[str]) -> list[Any]:
    """The parameters of one row of :func:`upsert_sql` (the vector validated)."""
    terms = list(tokens)
    lexemes = [t for t in terms if len(t.encode()) <= MAX_LEXEME_BYTES]
    return [
        record.id,
        record.uri,
        record.parent_uri,
        int(record.level),
        record.anchor,
        record.context_type,
        record.account_id,
        record.owner_user_id,
        record.name,
        record.abstract,
        record.text,
        check_vector(record, dimension),
        [str(t) for t in record.tags],
        float(record.created_at),
        float(record.updated_at),
        int(record.active_count),
        terms,
        [tokens[t] for t in terms],
        float(sum(tokens.values())),
        lexemes,
    ]


def tokens_of(records: Sequence[IndexRecord]) -> list[Counter[str]]:
    """Each record's text tokens (thread-safe; the slow part of a write)."""
    return [text_tokens(r.text) for r in records]


def _array(value: Any) -> np.ndarray:
    """A loaded ``vector`` (pgvector's ``Vector``) as a float32 array."""
    if hasattr(value, "to_numpy"):
        value = value.to_numpy()
    return np.asarray(value, dtype=np.float32)


def row_to_record(row: dict[str, Any]) -> IndexRecord:
    """The record of a selected row (:data:`RECORD_COLUMNS`)."""
    record = IndexRecord(
        uri=row["uri"],
        level=int(row["level"]),
        account_id=row["account_id"],
        context_type=row["context_type"],
        vector=_array(row["vector"]),
        text=row["text"],
        abstract=row["abstract"],
        name=row["name"],
        parent_uri=row["parent_uri"],
        anchor=row["anchor"],
        owner_user_id=row["owner_user_id"],
        tags=list(row["tags"]),
        created_at=float(row["created_at"]),
        updated_at=float(row["updated_at"]),
        active_count=int(row["active_count"]),
    )
    record._id = row["id"]
    return record
