"""PostgreSQL DDL for the metadata tables: accounts, users, groups, tasks, uploads, chat
responses, path owners and tags (one migration; see :mod:`._schema`)."""

from __future__ import annotations

__all__ = ["DDL"]

#: Filled in with the tables; a no-op until then.
DDL = "SELECT 1"
