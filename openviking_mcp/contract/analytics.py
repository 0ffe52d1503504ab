"""Usage analytics per account: what is read and found, what is never used, what people
search for, what they search for and do not find, and through which surface.

Every request names a window (``days``) and a ``limit``; ROOT names the account
(``account_id``). Only ADMIN (its account) and ROOT may read analytics: they show every
user's queries. Figures come from the usage log (reads, searches, hits) and, for
``by-channel`` changes, the audit log.
"""

from __future__ import annotations

from pydantic import Field

from openviking_mcp.contract.base import Integer, Request, Result
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "OPERATIONS",
    "AccessCount",
    "AnalyticsRequest",
    "ChannelCount",
    "ChannelsResult",
    "Gap",
    "GapsRequest",
    "GapsResult",
    "QueriesResult",
    "QueryEntry",
    "StaleContext",
    "StaleResult",
    "TopRequest",
    "TopResult",
]

_A = "/api/v1/analytics"


class AnalyticsRequest(Request):
    """A window of the usage log."""

    account_id: str | None = Field(default=None, description="ROOT only: another account.")
    days: float = Field(default=30.0, description="Window: the last N days (0 < N <= 3650).")
    limit: Integer = Field(default=20, description="Most rows (1..1000).")


class TopRequest(AnalyticsRequest):
    by: str = Field(default="total", description="Order by total, reads or hits.")


class GapsRequest(AnalyticsRequest):
    threshold: float = Field(
        default=0.3, description="A query is missed when its best score stays under this."
    )


class AccessCount(Result):
    uri: str
    reads: int
    hits: int
    last_access: str


class TopResult(Result):
    contexts: list[AccessCount]


class StaleContext(Result):
    uri: str
    last_access: str | None = Field(description="null: not read or hit in the usage log.")
    modified: str | None


class StaleResult(Result):
    contexts: list[StaleContext]
    scanned: int = Field(description="Contexts looked at (analytics.stale_scan_max at most).")


class QueryEntry(Result):
    time: str
    user_id: str
    surface: str
    operation: str
    query: str
    hit_count: int
    best_score: float | None


class QueriesResult(Result):
    queries: list[QueryEntry]


class Gap(Result):
    """One missing topic: similar missed queries grouped, the most asked first."""

    query: str = Field(description="The group's most asked phrasing.")
    count: int = Field(description="Searches in the group.")
    queries: list[str] = Field(description="Every phrasing in the group.")
    best_score: float
    last_asked: str


class GapsResult(Result):
    gaps: list[Gap]
    threshold: float


class ChannelCount(Result):
    surface: str
    reads: int
    queries: int
    changes: int


class ChannelsResult(Result):
    channels: list[ChannelCount]


OPERATIONS = (
    Operation(
        "analytics_top_accessed",
        "analytics.top_accessed",
        TopRequest,
        TopResult,
        http=Route("GET", f"{_A}/top-accessed"),
        doc="Contexts read or found most in the window (by total, reads or hits).",
    ),
    Operation(
        "analytics_stale",
        "analytics.stale",
        AnalyticsRequest,
        StaleResult,
        http=Route("GET", f"{_A}/stale"),
        doc="Resources not read or found in the last ``days`` days, the longest unused first.",
    ),
    Operation(
        "analytics_queries",
        "analytics.queries",
        AnalyticsRequest,
        QueriesResult,
        http=Route("GET", f"{_A}/queries"),
        doc="Recent searches with their hit counts and best scores, newest first.",
    ),
    Operation(
        "analytics_gaps",
        "analytics.gaps",
        GapsRequest,
        GapsResult,
        http=Route("GET", f"{_A}/gaps"),
        doc="Searches whose best score stayed under ``threshold``, similar ones grouped.",
    ),
    Operation(
        "analytics_by_channel",
        "analytics.by_channel",
        AnalyticsRequest,
        ChannelsResult,
        http=Route("GET", f"{_A}/by-channel"),
        doc="Reads, searches and changes per surface (mcp, http, cli, webdav, bot, python).",
    ),
)
