"""Memory: committing sessions, extracting long-term memories and memory statistics.

A commit (phase 1) moves a session's live messages (but the ``keep_recent_count`` newest) into
an archive and queues phase 2, the ``session_commit`` task that summarises the archive,
extracts memory operations, merges them into ``viking://user/{uid}/memories/`` and writes the
archive's ``memory_diff.json``. ``wait`` waits for phase 2: the answer then carries the task's
``task_status`` and ``result`` (its :class:`Phase2Result`, ``null`` if it failed) and, on
failure, ``error``.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from openviking_mcp.contract.base import Empty, Integer, Request, Result, omitted
from openviking_mcp.contract.operations import Operation, Route
from openviking_mcp.contract.sessions import CommitResult, SessionRequest

__all__ = [
    "OPERATIONS",
    "CommitRequest",
    "CommitResult",
    "DedupCounts",
    "ExtractResult",
    "Hotness",
    "MemoryChange",
    "MemoryChanges",
    "MemoryDetail",
    "MemoryDetailRequest",
    "MemoryEntry",
    "MemoryListRequest",
    "MemoryStats",
    "MemoryStatsRequest",
    "Phase2Result",
    "RememberRequest",
    "RememberResult",
    "RetryRequest",
    "RetryResult",
    "Staleness",
    "WaitedCommit",
    "WaitedRetry",
]


class CommitRequest(Request):
    """Archive the live messages but the ``keep_recent_count`` newest and queue phase 2."""

    session_id: str
    keep_recent_count: Integer = Field(default=0, description="Messages kept live (0..500).")
    wait: bool = Field(default=False, description="Wait for phase 2.")
    timeout: float | None = Field(default=None, description="Seconds to wait at most.")


class WaitedCommit(CommitResult):
    """A commit that waited for its phase 2."""

    task_status: str
    result: Any = Field(description="Phase 2's result (null unless it completed).")
    error: str | None = omitted()


class RetryRequest(Request):
    """Queue phase 2 again for an archive that failed (or never finished)."""

    session_id: str
    archive: Integer | str = Field(description="archive_NNN, NNN or a positive number.")
    wait: bool = False
    timeout: float | None = None


class RetryResult(Result):
    session_id: str
    status: Literal["accepted"]
    task_id: str
    archive_id: str
    archive_uri: str


class WaitedRetry(RetryResult):
    """A retry that waited for its phase 2."""

    task_status: str
    result: Any = Field(description="Phase 2's result (null unless it completed).")
    error: str | None = omitted()


class RememberRequest(Request):
    """Store ``messages`` in a fresh session ``{session_prefix}-{12 hex}`` and commit it."""

    messages: list[dict[str, Any]] = Field(description="Up to 100 messages.")
    session_prefix: str = "mcp-store"


class RememberResult(CommitResult):
    stored: int = Field(description="Messages stored.")


class MemoryChanges(Result):
    """What extraction changed: ``adds`` ``{uri, memory_type, after}``, ``updates`` ``{uri,
    memory_type, before, after}``, ``deletes`` ``{uri, memory_type, deleted_content}``."""

    adds: list[dict[str, Any]]
    updates: list[dict[str, Any]]
    deletes: list[dict[str, Any]]


class DedupCounts(Result):
    """Operations merged into existing memories (``same_key``, ``near_duplicate``), dropped as
    repeats (``skipped_duplicate``) or that changed nothing (``unchanged``)."""

    same_key: int
    near_duplicate: int
    skipped_duplicate: int
    unchanged: int


class ExtractResult(Result):
    """Extraction over a session's live messages (``status: skipped`` with ``reason:
    no_messages`` when there are none)."""

    session_id: str
    message_count: int
    status: str | None = omitted()
    reason: str | None = omitted()
    operations: MemoryChanges | None = omitted()
    counts: dict[str, int] | None = omitted(description="Changes per memory type, and total.")
    dedup: DedupCounts | None = omitted()
    problems: list[str] | None = omitted()
    extractor: str | None = omitted(description="llm, rules or disabled.")


class Phase2Result(Result):
    """The result of a ``session_commit`` task."""

    session_id: str
    archive_uri: str
    memory_diff_uri: str
    memories_extracted: dict[str, int]
    dedup: DedupCounts
    problems: list[str]
    active_count_updated: int
    extractor: str


class MemoryStatsRequest(Request):
    category: str | None = Field(default=None, description="Only this memory category.")


class Hotness(Result):
    cold: int
    warm: int
    hot: int


class Staleness(Result):
    not_accessed_7d: int
    not_accessed_30d: int
    oldest_memory_age_days: int | float


class MemoryStats(Result):
    """Memory health of the caller: counts per category, hotness and staleness."""

    total_memories: int
    by_category: dict[str, int]
    hotness_distribution: Hotness
    staleness: Staleness


class MemoryListRequest(Request):
    """The caller's memories (one category with ``category``)."""

    category: str | None = Field(default=None, description="Only this memory category.")
    include_conversations: bool = Field(
        default=False, description="List the conversation turns (category conversations) too."
    )


class MemoryEntry(Result):
    """One memory with its bookkeeping: ``version`` (1 when written, +1 per update or merge),
    the sessions it came from and its index ``active_count`` (times a commit recorded it as
    used)."""

    uri: str
    category: str
    abstract: str
    version: int
    created_at: str | None
    updated_at: str | None
    source_sessions: list[str]
    tags: list[str]
    active_count: int


class MemoryDetailRequest(Request):
    uri: str = Field(description="A viking:// URI of one of the caller's memories.")


class MemoryChange(Result):
    """A commit that changed the memory (from its archive's ``memory_diff.json``)."""

    session_id: str
    archive_id: str
    extracted_at: str | None
    kind: Literal["add", "update", "delete"]
    before: str | None
    after: str | None


class MemoryDetail(Result):
    """One memory: its entry, its text and the commits that changed it, oldest first."""

    memory: MemoryEntry
    content: str
    history: list[MemoryChange]


_ONE = "/api/v1/sessions/{session_id}"

OPERATIONS = (
    Operation(
        "commit_session",
        "commits.commit",
        CommitRequest,
        CommitResult | WaitedCommit,
        ("session_id",),
        Route("POST", _ONE + "/commit", waits="wait"),
    ),
    Operation(
        "retry_archive",
        "commits.retry",
        RetryRequest,
        RetryResult | WaitedRetry,
        ("session_id", "archive"),
        Route("POST", _ONE + "/archives/{archive}/retry", waits="wait"),
        doc="A finished archive is ``FAILED_PRECONDITION``, one still queued ``CONFLICT``.",
    ),
    Operation(
        "remember",
        "commits.remember",
        RememberRequest,
        RememberResult,
        ("messages",),
        None,
    ),
    Operation(
        "check_idle_sessions",
        "commits.check_idle",
        Empty,
        list[CommitResult],
        (),
        None,
        doc="Commit the caller's sessions whose policy's idle timeout has passed.",
    ),
    Operation(
        "extract",
        "memory.extract",
        SessionRequest,
        ExtractResult,
        ("session_id",),
        Route("POST", _ONE + "/extract", waits=True),
        doc="Memory extraction over the live messages, without archiving them.",
    ),
    Operation(
        "memory_stats",
        "memory.stats",
        MemoryStatsRequest,
        MemoryStats,
        ("category",),
        Route("GET", "/api/v1/stats/memories"),
        doc="An unknown category is ``INVALID_ARGUMENT``.",
    ),
)
