"""Migration: move a whole deployment (or one account) from one storage backend to another.

A :class:`MigrateRequest` names a ``source`` and a ``target``, each a workspace folder (the
``local`` backend) or a PostgreSQL DSN (the ``postgres`` backend: ``postgres://...``,
``postgresql://...`` or libpq ``key=value`` words with ``host=`` or ``dbname=``). Every
account of the source moves, or only ``account_id``; no target account may exist yet.

The :class:`MigrateResult` holds one :class:`AccountMigration` per account: what was copied
(files, bytes, index rows, metadata rows per table), whether the vectors were reused or
recomputed, and what the verification found (``problems``; ``verified`` when there are none).
"""

from __future__ import annotations

from pydantic import Field

from openviking_mcp.contract.base import Request, Result
from openviking_mcp.contract.pack import VectorStatus

__all__ = ["AccountMigration", "MigrateRequest", "MigrateResult"]


class MigrateRequest(Request):
    """Copy accounts from ``source`` to ``target`` and verify the copy."""

    source: str = Field(description="Workspace folder or PostgreSQL DSN to copy from.")
    target: str = Field(description="Workspace folder or PostgreSQL DSN to copy into.")
    account_id: str | None = Field(
        default=None, description="Only this account (default: every account of the source)."
    )
    force: bool = Field(
        default=False, description="Copy even while the source has pending or running tasks."
    )
    wait_seconds: float = Field(
        default=3600.0, gt=0, description="Longest wait for the target's re-embedding tasks."
    )


class AccountMigration(Result):
    """One account's copy and its verification."""

    account_id: str
    files: int
    """Files below the account in the source (sidecars and ledgers included)."""
    bytes: int
    """Their total size."""
    index_rows: int | None = None
    """Distinct index rows (``uri``, ``level``, ``anchor``) of the account in the target
    (``None``: the target has no usable index)."""
    source_index_rows: int | None = None
    """The same in the source (``None``: the source index is unusable)."""
    metadata_rows: dict[str, int] = Field(default_factory=dict)
    """Rows copied per metadata table."""
    vectors: VectorStatus
    """``reused``: the source's vectors were written as they are; ``recomputed``: the target
    re-embedded the content (another model or dimension); ``skipped``: no index."""
    verified: bool
    problems: list[str] = Field(default_factory=list)
    """What the verification found different (empty when ``verified``)."""


class MigrateResult(Result):
    """Every migrated account; ``verified`` when all of them are."""

    source: str
    """The source (a DSN with its password hidden)."""
    target: str
    verified: bool
    accounts: list[AccountMigration]
