"""Search: find, search (session-aware find), context assembly, grep and glob.

``find`` and ``search`` answer ``{memories, resources, skills, total}`` (``search`` adds
``query_plan``); ``search`` with ``mode="context"`` (as ``assemble_context``) answers
``{entries, rendered, digest, stats}``, an injection-ready block within ``max_tokens``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from openviking_mcp.contract.base import Request, Result, omitted
from openviking_mcp.contract.operations import Operation, Route
from openviking_mcp.contract.relations import Relation

__all__ = [
    "OPERATIONS",
    "ContextEntry",
    "ContextRequest",
    "ContextResult",
    "FindRequest",
    "FindResult",
    "GlobRequest",
    "GlobResult",
    "GrepMatch",
    "GrepRequest",
    "GrepResult",
    "Hit",
    "QueryPlan",
    "SearchRequest",
]

TargetUri = str | list[str] | None
Levels = int | str | list[int] | None
ContextTypes = str | list[str] | None


class FindRequest(Request):
    """Hybrid, directory-recursive search."""

    query: str = Field(description="What to look for, in natural language.")
    target_uri: TargetUri = Field(
        default=None,
        description="Only under these URIs (empty: resources, agent and your own user space).",
    )
    limit: int = Field(default=10, description="Maximum number of results.")
    score_threshold: float | None = Field(default=None, description="Drop results below this.")
    level: Levels = Field(default=None, description="0, 1, 2 or a list (empty: all tiers).")
    context_type: ContextTypes = Field(
        default=None, description="memory, resource, skill (a list or comma-separated)."
    )
    tags: list[str] | None = Field(default=None, description="k=v tags, all must match.")
    since: str | None = Field(default=None, description="30m, 2h, 7d, 1w or an ISO date.")
    until: str | None = None
    time_field: str = "updated_at"
    include_provenance: bool = False


class SearchRequest(FindRequest):
    """``find`` plus expansion from the session's recent messages; ``mode="context"``
    assembles a token-budgeted block instead (the fields from ``max_tokens`` on belong to that
    mode only, and ``target_uri`` is refused there)."""

    session_id: str | None = None
    mode: str = Field(default="list", description="list or context.")
    max_tokens: int | None = None
    quotas: Mapping[str, int] | None = None
    purpose: str | None = None
    detail: str | Mapping[str, str] | None = None
    exclude_uris: list[str] | None = None
    rewrite: str | bool | None = None
    rewrite_max_bullets: int | None = None
    dedup_turns: int | None = None


class ContextRequest(Request):
    """Injection-ready context for ``query`` within ``max_tokens`` (64 to 32000).

    Entries are bucketed into ``events, entities, preferences, experiences`` (from the memory's
    folder), ``memories`` (other memory types), ``resources`` and ``skills``; ``quotas`` cap
    entries per category, ``purpose`` (coding, chat) picks other defaults, ``detail`` chooses
    the tiers (``auto``, ``uri``, ``abstract``, ``overview``, ``full`` or one per category),
    ``exclude_uris`` removes hits, ``dedup_turns`` (with ``session_id``) leaves out what the
    session's last assemblies already injected, ``rewrite="auto"`` adds an LLM ``digest``.
    """

    query: str
    session_id: str | None = None
    limit: int = 10
    max_tokens: int = 1600
    quotas: Mapping[str, int] | None = None
    purpose: str | None = None
    detail: str | Mapping[str, str] = "auto"
    exclude_uris: list[str] | None = None
    context_type: ContextTypes = None
    score_threshold: float | None = None
    tags: list[str] | None = None
    rewrite: str | bool = "off"
    rewrite_max_bullets: int = 6
    dedup_turns: int = 0


class Hit(Result):
    """One find hit. ``level``: 0 directory abstract, 1 directory overview, 2 file content."""

    context_type: str = Field(description="memory, resource or skill")
    uri: str
    level: int
    score: float
    abstract: str = ""
    tags: list[str] = []
    match_reason: str = ""
    match: str | None = omitted()
    trajectory: list[dict[str, Any]] | None = omitted()
    relations: list[Relation] = []


class QueryPlan(Result):
    reasoning: str
    queries: list[dict[str, Any]]


class FindResult(Result):
    memories: list[Hit] = []
    resources: list[Hit] = []
    skills: list[Hit] = []
    total: int = 0
    query_plan: QueryPlan | None = omitted()

    def hits(self) -> list[Hit]:
        return [*self.memories, *self.resources, *self.skills]


class ContextEntry(Result):
    uri: str
    category: str
    score: float
    detail: str
    text: str


class ContextResult(Result):
    entries: list[ContextEntry]
    rendered: str
    digest: str
    stats: dict[str, Any]


class GrepRequest(Request):
    """Regex over the lines of text files under ``uri``; ``node_limit`` caps matching lines."""

    uri: str
    pattern: str = Field(description="A regular expression (Python syntax).")
    case_insensitive: bool = False
    exclude_uri: str | None = None
    node_limit: int = Field(default=256, description="Most matching lines.")
    level_limit: int = 10


class GrepMatch(Result):
    uri: str
    line: int
    content: str


class GrepResult(Result):
    matches: list[GrepMatch]
    count: int
    files_scanned: int
    truncated: bool


class GlobRequest(Request):
    """URIs under ``uri`` whose relative path matches ``pattern`` (hidden entries never)."""

    pattern: str = Field(description="*, ?, [] and ** (recursive); relative to uri.")
    uri: str = "viking://"
    node_limit: int = 256


class GlobResult(Result):
    matches: list[str]
    count: int


SearchMode = Literal["list", "context"]
_S = "/api/v1/search"

OPERATIONS = (
    Operation("find", "search.find", FindRequest, FindResult, ("query",), Route("POST", f"{_S}/find")),
    Operation(
        "search",
        "search.search",
        SearchRequest,
        FindResult | ContextResult,
        ("query",),
        Route("POST", f"{_S}/search"),
    ),
    Operation(
        "assemble_context",
        "search.assemble_context",
        ContextRequest,
        ContextResult,
        ("query",),
        Route("POST", f"{_S}/search", fixed={"mode": "context"}),
    ),
    Operation(
        "grep", "search.grep", GrepRequest, GrepResult, ("uri", "pattern"), Route("POST", f"{_S}/grep")
    ),
    Operation(
        "glob", "search.glob", GlobRequest, GlobResult, ("pattern",), Route("POST", f"{_S}/glob")
    ),
)
