"""Debug views of the search index: paged rows (``vector_scroll``) and counts (``vector_count``).

Rows are always scoped to what the caller may read: a USER or ADMIN sees its own account's
rows under ``viking://resources``, ``viking://agent`` and its own user space; ROOT sees every
account, or one with ``account_id``. ``vector_count`` takes a JSON ``filter``, either plain
fields (``uri``, ``context_type``, ``level``, ``parent_uri``, ``tags``, ``updated_after``,
``updated_before``, ``account_id``) or VikingDB-style conditions combined with ``and``;
anything else is 400 ``INVALID_FILTER``. An unusable index is 503 ``NO_VECTOR_DB``.
"""

from __future__ import annotations

from pydantic import Field

from openviking_mcp.contract.base import Integer, Request, Result, omitted
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "OPERATIONS",
    "VectorCountRequest",
    "VectorCountResult",
    "VectorRecord",
    "VectorScrollRequest",
    "VectorScrollResult",
]


class VectorScrollRequest(Request):
    """A page of the caller's index rows in id order."""

    uri: str | None = Field(default=None, description="Only rows at or below this URI.")
    limit: Integer = Field(default=100, description="Rows per page (1-1000).")
    cursor: str | None = Field(default=None, description="next_cursor of the previous page.")
    account_id: str | None = Field(default=None, description="ROOT: one account.")
    context_type: str | None = None
    level: Integer | None = Field(default=None, description="0, 1 or 2.")
    with_vector: bool = Field(default=False, description="Include each row's vector.")


class VectorRecord(Result):
    """One index row; ``text`` is cut to 1000 characters (``text_length`` is the full one)."""

    id: str
    account_id: str
    uri: str
    level: int
    anchor: str
    context_type: str
    name: str
    parent_uri: str | None
    owner_user_id: str | None
    abstract: str
    text: str
    text_length: int
    tags: list[str]
    created_at: float
    updated_at: float
    active_count: int
    vector_dimension: int
    vector: list[float] | None = omitted()


class VectorScrollResult(Result):
    records: list[VectorRecord]
    next_cursor: str | None
    count: int


class VectorCountRequest(Request):
    """How many of the caller's index rows match a filter."""

    filter_json: str | None = Field(
        default=None, alias="filter", description="A JSON filter document."
    )
    uri: str | None = Field(default=None, description="Only rows at or below this URI.")
    account_id: str | None = Field(default=None, description="ROOT: one account.")


class VectorCountResult(Result):
    count: int


_D = "/api/v1/debug/vector"

OPERATIONS = (
    Operation(
        "vector_scroll",
        "debug.vector_scroll",
        VectorScrollRequest,
        VectorScrollResult,
        (),
        Route("GET", _D + "/scroll"),
        doc="A page of index rows in id order: ``{records, next_cursor, count}``.",
    ),
    Operation(
        "vector_count",
        "debug.vector_count",
        VectorCountRequest,
        VectorCountResult,
        (),
        Route("GET", _D + "/count"),
        doc="``{count}`` of the caller's index rows matching the filter.",
    ),
)
