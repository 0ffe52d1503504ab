"""Sessions: conversations an agent records, their archives and statistics.

A session is ``viking://user/{uid}/sessions/{sid}/``. Its metadata (``.meta.json``) holds
``{session_id, created_at, updated_at, created_by_account_id, created_by_user_id,
message_count, total_message_count, commit_count, pending_tokens, last_message_at,
last_commit_at, last_auto_commit_at, memories_extracted, auto_commit_policy,
memory_extraction_config, used}``. A stored
message is ``{id, role, parts, created_at, peer_id?, turn_id?}`` (see
:mod:`openviking_mcp.sessions.messages`). Each commit moves messages into an archive
``history/archive_NNN`` whose status is ``done``, ``pending`` or ``failed``.

:class:`CommitResult` (what a commit did) lives here because adding a message may commit the
session (its auto-commit policy); the commit operations themselves are in
:mod:`openviking_mcp.contract.memory`.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field

from openviking_mcp.contract.base import Empty, Integer, OpenResult, Request, Result, omitted
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "OPERATIONS",
    "AddMessageRequest",
    "AddMessagesRequest",
    "AddedMessages",
    "ArchiveCounts",
    "ArchiveDetail",
    "ArchiveEntry",
    "ArchiveRequest",
    "ArchiveStatus",
    "CommitResult",
    "ContextStats",
    "CreateSessionRequest",
    "DeletedSession",
    "GetSessionRequest",
    "MessageAdded",
    "RecordUsedRequest",
    "SessionConfig",
    "SessionContext",
    "SessionContextRequest",
    "SessionEntry",
    "SessionRequest",
    "SessionStats",
    "SessionUser",
    "SessionView",
    "UpdateSessionConfigRequest",
    "UsedTotals",
]

ArchiveStatus = Literal["done", "pending", "failed"]


def _camel(alias: str) -> Any:
    """A field whose JSON name is ``alias`` (the field's own name is accepted too)."""
    return Field(validation_alias=alias, serialization_alias=alias)


def _session_id() -> Any:
    return Field(description="A session id ([A-Za-z0-9_.@-], at most 128, not starting with '.').")


class CreateSessionRequest(Request):
    """A new, empty session; an existing id is ``ALREADY_EXISTS``."""

    session_id: str | None = Field(default=None, description="Empty: a generated id.")
    auto_commit_policy: dict[str, Any] | None = Field(
        default=None,
        description="{message_count_threshold, pending_token_threshold, idle_timeout_seconds, "
        "keep_recent_count, min_commit_interval_seconds}; absent: no auto-commit.",
    )
    memory_extraction_config: dict[str, Any] | None = Field(
        default=None,
        description="{events: {tags: ['key=value', ...]}}: default tags of the session's event "
        "memories (kept; extraction does not apply them yet).",
    )


class UpdateSessionConfigRequest(Request):
    """Change a session's settings. Only the fields given change: ``null`` clears one
    (``auto_commit_policy: null`` turns automatic commits off), an absent one stays. A policy
    object is merged field by field into the stored one."""

    session_id: str = _session_id()
    auto_commit_policy: dict[str, Any] | None = Field(
        default=None,
        description="Fields of {message_count_threshold, pending_token_threshold, "
        "idle_timeout_seconds, keep_recent_count, min_commit_interval_seconds} to change; "
        "null: no auto-commit.",
    )
    memory_extraction_config: dict[str, Any] | None = Field(
        default=None,
        description="{events: {tags: ['key=value', ...]}}; an empty list or null clears the tags.",
    )


class SessionConfig(Result):
    """A session's settings after a change (the policy with its defaults filled in)."""

    session_id: str
    auto_commit_policy: dict[str, Any] | None
    memory_extraction_config: dict[str, Any]


class SessionRequest(Request):
    session_id: str = _session_id()


class GetSessionRequest(Request):
    session_id: str = _session_id()
    auto_create: bool = Field(default=False, description="Create the session if it is missing.")


class SessionUser(Result):
    account_id: str
    user_id: str


class SessionView(OpenResult):
    """A session's ``.meta.json`` (keys as stored) with its ``uri`` and owner ``user``, plus the
    original's detail fields: ``llm_token_usage`` (``prompt_tokens, completion_tokens,
    total_tokens, cached_tokens, reasoning_tokens`` of its commits' LLM calls),
    ``embedding_token_usage``, ``memories_extracted`` (``{type: n, total}``),
    ``memory_extraction_config`` and the retention settings; unset times are ``""``."""

    session_id: str
    uri: str
    user: SessionUser


class SessionEntry(Result):
    """A listed session folder."""

    session_id: str
    uri: str
    is_dir: bool
    mod_time: str


class DeletedSession(Result):
    session_id: str
    uri: str


class CommitResult(Result):
    """What a commit did: ``accepted`` (an archive was made and phase 2 queued) or
    ``skipped`` (``reason``: ``no_messages`` or ``all_within_keep_window``). An auto-commit's
    ``reason`` is what triggered it (``message_count``, ``pending_tokens`` or ``idle``)."""

    session_id: str
    status: Literal["accepted", "skipped"]
    task_id: str | None
    archive_uri: str | None
    archived: bool
    reason: str | None = omitted()
    archive_id: str | None = omitted()
    message_count: int | None = omitted(description="Messages archived.")
    kept: int | None = omitted(description="Messages left live (the keep window).")


class AddMessageRequest(Request):
    """Append one message (``content`` or ``parts``; the session is created if missing)."""

    session_id: str = _session_id()
    role: str = Field(description="user, assistant, system or tool.")
    content: str | None = None
    parts: list[dict[str, Any]] | None = Field(
        default=None, description="text, context, tool and image_url parts; wins over content."
    )
    peer_id: str | None = None
    turn_id: str | None = None
    created_at: str | None = None


class MessageAdded(Result):
    session_id: str
    message_count: int
    pending_tokens: int
    auto_commit: CommitResult | None = omitted(description="The commit the policy made.")


class AddMessagesRequest(Request):
    """Append up to 100 messages at once, all or nothing."""

    session_id: str = _session_id()
    messages: list[dict[str, Any]] = Field(
        description="Each {role, content | parts, peer_id, turn_id, created_at}."
    )


class AddedMessages(Result):
    session_id: str
    message_count: int
    added: int
    pending_tokens: int
    auto_commit: CommitResult | None = omitted(description="The commit the policy made.")


class RecordUsedRequest(Request):
    """Contexts and a skill the agent actually used; the next commit raises their
    ``active_count``. Each is kept as the original's usage record ``{uri, type, contribution,
    input, output, success, timestamp}``."""

    session_id: str = _session_id()
    contexts: list[str] | None = Field(default=None, description="viking:// URIs.")
    skill: dict[str, Any] | None = Field(default=None, description="{uri, input, output, success}")


class UsedTotals(Result):
    """The pending totals of recorded contexts and skills."""

    session_id: str
    contexts_used: int
    skills_used: int


class SessionContextRequest(Request):
    session_id: str = _session_id()
    token_budget: Integer = Field(default=128_000, description="Most tokens returned (>= 0).")


class ContextStats(Result):
    total_archives: int = _camel("totalArchives")
    included_archives: int = _camel("includedArchives")
    dropped_archives: int = _camel("droppedArchives")
    failed_archives: int = _camel("failedArchives")
    active_tokens: int = _camel("activeTokens")
    archive_tokens: int = _camel("archiveTokens")


class SessionContext(Result):
    """Messages of unfinished archives and the live ones (newest kept first within the
    budget), then the latest finished archive's overview if it still fits."""

    latest_archive_overview: str = Field(
        description="The latest finished archive's overview; empty when none fits."
    )
    pre_archive_abstracts: list[str]
    messages: list[dict[str, Any]]
    estimated_tokens: int = _camel("estimatedTokens")
    stats: ContextStats


class ArchiveEntry(Result):
    archive_id: str
    archive_uri: str
    status: ArchiveStatus
    message_count: Any = Field(description="As stored in the archive's .meta.json.")
    created_at: Any = Field(description="As stored in the archive's .meta.json.")


class ArchiveRequest(Request):
    session_id: str = _session_id()
    archive: Integer | str = Field(description="archive_NNN, NNN or a positive number.")


class ArchiveDetail(Result):
    """One archive with its status (``failure``: the ``.failed.json`` of a failed one), the
    latest phase-2 task record and, once phase 2 wrote it, its ``memory_diff.json``
    (``operations: {adds, updates, deletes}``, ``dedup``, ``problems``, ``extractor``)."""

    archive_id: str
    archive_uri: str
    status: ArchiveStatus
    failure: dict[str, Any] | None
    abstract: str
    overview: str
    messages: list[dict[str, Any]]
    meta: dict[str, Any]
    task: dict[str, Any] | None
    memory_diff: dict[str, Any] | None = None


class ArchiveCounts(Result):
    total: int
    done: int
    pending: int
    failed: int


class SessionStats(Result):
    """A session's messages, commits and extractions (``memories_extracted``: per category,
    with ``total``, from the finished archives' ``memory_diff.json``)."""

    session_id: str
    total_turns: int
    message_count: int
    commit_count: int
    pending_tokens: int
    last_commit_at: Any
    archives: ArchiveCounts
    memories_extracted: dict[str, int]
    contexts_used: int
    skills_used: int


_S = "/api/v1/sessions"
_ONE = _S + "/{session_id}"

OPERATIONS = (
    Operation(
        "create_session",
        "sessions.create",
        CreateSessionRequest,
        SessionView,
        ("session_id",),
        Route("POST", _S),
    ),
    Operation(
        "list_sessions",
        "sessions.list_sessions",
        Empty,
        list[SessionEntry],
        (),
        Route("GET", _S),
        doc="The caller's sessions, most recently changed first.",
    ),
    Operation(
        "get_session",
        "sessions.get",
        GetSessionRequest,
        SessionView,
        ("session_id",),
        Route("GET", _ONE),
        doc="A session's metadata; ``NOT_FOUND`` unless ``auto_create``.",
    ),
    Operation(
        "update_session_config",
        "sessions.update_config",
        UpdateSessionConfigRequest,
        SessionConfig,
        ("session_id",),
        Route("PATCH", _ONE + "/config"),
        doc="Change a session's auto-commit policy or extraction config (null clears one).",
    ),
    Operation(
        "delete_session",
        "sessions.delete",
        SessionRequest,
        DeletedSession,
        ("session_id",),
        Route("DELETE", _ONE),
        doc="Remove a session with its archives (memories extracted from it stay).",
    ),
    Operation(
        "add_message",
        "sessions.add_message",
        AddMessageRequest,
        MessageAdded,
        ("session_id", "role", "content", "parts"),
        Route("POST", _ONE + "/messages"),
    ),
    Operation(
        "add_messages",
        "sessions.add_messages",
        AddMessagesRequest,
        AddedMessages,
        ("session_id", "messages"),
        Route("POST", _ONE + "/messages/batch"),
    ),
    Operation(
        "record_used",
        "sessions.record_used",
        RecordUsedRequest,
        UsedTotals,
        ("session_id", "contexts", "skill"),
        Route("POST", _ONE + "/used"),
    ),
    Operation(
        "session_context",
        "sessions.context",
        SessionContextRequest,
        SessionContext,
        ("session_id", "token_budget"),
        Route("GET", _ONE + "/context"),
    ),
    Operation(
        "list_archives",
        "sessions.list_archives",
        SessionRequest,
        list[ArchiveEntry],
        ("session_id",),
        Route("GET", _ONE + "/archives"),
        doc="The session's archives, oldest first.",
    ),
    Operation(
        "get_archive",
        "sessions.get_archive",
        ArchiveRequest,
        ArchiveDetail,
        ("session_id", "archive"),
        Route("GET", _ONE + "/archives/{archive}"),
    ),
    Operation(
        "session_stats",
        "sessions.stats",
        SessionRequest,
        SessionStats,
        ("session_id",),
        Route("GET", "/api/v1/stats/sessions/{session_id}"),
    ),
)
