"""PostgreSQL DDL for the search index's bookkeeping (one migration; see :mod:`._schema`)."""

from __future__ import annotations

__all__ = ["DDL"]

#: Filled in with the tables; a no-op until then.
DDL = "SELECT 1"
