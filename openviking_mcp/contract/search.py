"""Search: find, search (session-aware find), context assembly, grep and glob.

``find`` and ``search`` answer ``{memories, resources, skills, total}`` (``search`` adds
``query_plan``); ``search`` with ``mode="context"`` (as ``assemble_context``) answers
``{entries, rendered, digest, stats}``, an injection-ready block within ``max_tokens``.
Range checks (``limit`` 1 to 1000, ``max_tokens`` 64 to 32000...) are the service's, so their
errors name the field the way callers have always seen them.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field

from openviking_mcp.contract.base import Integer, Request, Result, omitted
from openviking_mcp.contract.operations import Operation, Route
from openviking_mcp.contract.relations import Relation

__all__ = [
    "OPERATIONS",
    "ContextEntry",
    "ContextRequest",
    "ContextResult",
    "ContextStats",
    "DedupStats",
    "FindRequest",
    "FindResult",
    "GlobEntry",
    "GlobRequest",
    "GlobResult",
    "GrepMatch",
    "GrepRequest",
    "GrepResult",
    "Hit",
    "MatchedContext",
    "PlannedQuery",
    "Provenance",
    "QueryPlan",
    "RecallDeprecation",
    "RecallRequest",
    "ScoreParts",
    "SearchRequest",
    "TrajectoryStep",
]

TargetUri = str | list[str] | None
Levels = Integer | str | list[Integer] | None
ContextTypes = str | list[str] | None

_QUERY = "What to look for, in natural language."
_TARGET = "Only under these URIs (empty: resources, agent and your own user space)."
_LEVEL = "0, 1, 2 or a list (empty: all tiers)."
_TYPES = "memory, resource, skill (a list or comma-separated)."
_TAGS = "k=v tags, all must match."
_TAGGED = "Only files carrying all these k=v tags (set with set_tags)."
_WITH_TAGS = "Give each match its stored k=v tags."
_SINCE = "30m, 2h, 7d, 1w or an ISO date."
_FILTER = (
    "Conditions on the indexed fields, as the original's DSL: {op: and|or, conds: [...]}, "
    "{op: must|must_not, field, conds: [values]}, {op: prefix, field, prefix}, "
    "{op: contains, field, substring}, {op: range|range_out|time_range, field, gt|gte|lt|lte}."
)


class FindRequest(Request):
    """Hybrid, directory-recursive search."""

    query: str = Field(description=_QUERY)
    target_uri: TargetUri = Field(default=None, description=_TARGET)
    limit: Integer = Field(default=10, description="Maximum number of results (1 to 1000).")
    score_threshold: float | None = Field(default=None, description="Drop results below this.")
    level: Levels = Field(default=None, description=_LEVEL)
    context_type: ContextTypes = Field(default=None, description=_TYPES)
    tags: list[str] | None = Field(default=None, description=_TAGS)
    since: str | None = Field(default=None, description=_SINCE)
    until: str | None = Field(default=None, description=_SINCE)
    time_field: str = Field(default="updated_at", description="Only updated_at.")
    include_provenance: bool = Field(
        default=False,
        description="Add each hit's trajectory (the directories searched) and score_parts, "
        "and a top-level provenance per query.",
    )
    filter: dict[str, Any] | None = Field(default=None, description=_FILTER)


class SearchRequest(Request):
    """``find`` plus expansion from the session's recent messages; ``mode="context"``
    assembles a token-budgeted block instead (the fields from ``max_tokens`` on belong to that
    mode only, and ``target_uri`` is refused there)."""

    query: str = Field(description=_QUERY)
    session_id: str | None = None
    target_uri: TargetUri = Field(default=None, description=_TARGET)
    limit: Integer = 10
    score_threshold: float | None = None
    level: Levels = Field(default=None, description=_LEVEL)
    context_type: ContextTypes = Field(default=None, description=_TYPES)
    tags: list[str] | None = Field(default=None, description=_TAGS)
    since: str | None = Field(default=None, description=_SINCE)
    until: str | None = None
    time_field: str = "updated_at"
    include_provenance: bool = False
    filter: dict[str, Any] | None = Field(default=None, description=_FILTER)
    mode: str = Field(default="list", description="list or context.")
    max_tokens: Integer | None = None
    quotas: Mapping[str, Integer] | None = None
    purpose: str | None = None
    detail: str | Mapping[str, str] | None = None
    exclude_uris: list[str] | None = None
    rewrite: str | bool | None = None
    rewrite_max_bullets: Integer | None = None
    dedup_turns: Integer | None = None


class ContextRequest(Request):
    """Injection-ready context for ``query`` within ``max_tokens`` (64 to 32000).

    Entries are bucketed into ``events, entities, preferences, experiences, conversations``
    (from the memory's folder; ``conversations`` are committed sessions' turns), ``memories``
    (other memory types), ``resources`` and ``skills``; ``quotas`` cap
    entries per category, ``purpose`` (coding, chat) picks other defaults, ``detail`` chooses
    the tiers (``auto``, ``uri``, ``abstract``, ``overview``, ``full`` or one per category),
    ``exclude_uris`` removes hits, ``dedup_turns`` (with ``session_id``) leaves out what the
    session's last assemblies already injected, ``rewrite="auto"`` adds an LLM ``digest``.
    """

    query: str = Field(description=_QUERY)
    session_id: str | None = None
    limit: Integer = Field(default=10, description="Shapes the default quotas.")
    max_tokens: Integer = Field(default=1600, description="Budget (64 to 32000).")
    quotas: Mapping[str, Integer] | None = Field(
        default=None, description="Entries per category (0 to 200)."
    )
    purpose: str | None = Field(default=None, description="coding or chat.")
    detail: str | Mapping[str, str] = Field(
        default="auto", description="auto, uri, abstract, overview, full, or one per category."
    )
    exclude_uris: list[str] | None = Field(default=None, description="At most 200 URIs.")
    context_type: ContextTypes = Field(default=None, description=_TYPES)
    score_threshold: float | None = None
    tags: list[str] | None = Field(default=None, description=_TAGS)
    rewrite: str | bool = Field(default="off", description="off or auto.")
    rewrite_max_bullets: Integer = Field(default=6, description="1 to 20.")
    dedup_turns: Integer = Field(default=0, description="0 to 50; needs session_id.")


class RecallRequest(Request):
    """The deprecated recall preset over ``search(mode="context")``. Unset fields take the
    preset: ``purpose`` coding, ``score_threshold`` 0.1, ``quotas`` ``{events:10, entities:10,
    preferences:3, experiences:0}`` over the purpose's (null: the purpose's alone),
    ``dedup_turns`` 5 with a session. ``max_chars`` (tokens = chars / 4), ``min_score``
    (``score_threshold``) and ``render`` (false: no ``rendered``; compact: abstracts) are the
    first version's names."""

    query: str = Field(description=_QUERY)
    session_id: str | None = None
    quotas: Mapping[str, Integer] | None = None
    max_chars: Integer = Field(default=6500, description="Budget in characters (v1).")
    min_score: float = Field(default=0.1, description="v1 name of score_threshold.")
    render: bool | Literal["full", "compact"] = Field(
        default=True, description="true, false, full or compact."
    )
    max_tokens: Integer | None = None
    score_threshold: float | None = None
    purpose: str | None = None
    detail: str | Mapping[str, str] | None = None
    dedup_turns: Integer | None = None
    exclude_uris: list[str] | None = None
    rewrite: str | bool = False
    rewrite_max_bullets: Integer = 6
    query_expansion: Literal["off", "auto"] | None = Field(
        default=None, description="Reported as ignored."
    )
    peer_scope: Literal["actor", "all"] = Field(
        default="all", description="Reported as ignored when sent."
    )
    other_peer_penalty: float | dict[str, float] | None = Field(
        default=None, description="Reported as ignored."
    )
    telemetry: bool | dict[str, Any] = Field(default=False, description="Accepted, ignored.")


class RecallDeprecation(Result):
    """Where a recall should go instead, and the first-version fields it used."""

    endpoint: str
    successor: str
    successor_body: dict[str, str]
    aliases_used: list[str]


class TrajectoryStep(Result):
    """A directory that find expanded, with its score."""

    uri: str
    score: float


class ScoreParts(Result):
    """The signals a hit's ``score`` was made from: its best row's cosine similarity
    (``vector``), its BM25 scaled to the best of its search (``keyword``), the vector share of
    their fusion (``vector_weight``) and the reranker's relevance (``rerank``, when one ran).
    The score also takes the parent directory's share and, for a directory, its weight."""

    vector: float
    keyword: float
    vector_weight: float
    rerank: float | None = omitted()


class Hit(Result):
    """One find hit. ``level``: 0 directory abstract, 1 directory overview, 2 file content
    (then ``match`` holds the best passage)."""

    context_type: str = Field(description="memory, resource or skill")
    uri: str
    level: int
    score: float
    abstract: str = ""
    tags: list[str] = []
    match_reason: str = ""
    match: str | None = omitted()
    trajectory: list[TrajectoryStep] | None = omitted()
    score_parts: ScoreParts | None = omitted(description="With include_provenance.")
    relations: list[Relation] = []


class PlannedQuery(Result):
    query: str
    context_type: str | None = None
    intent: str = "find"
    priority: int


class QueryPlan(Result):
    reasoning: str
    queries: list[PlannedQuery]


class MatchedContext(Result):
    """A hit as provenance reports it; ``tier`` is ``L0``, ``L1`` or ``L2``."""

    uri: str
    tier: str
    context_type: str
    score: float
    match_reason: str


class Provenance(Result):
    """How one query was answered: the roots searched then the directories expanded, the hits,
    and the steps in words."""

    query: str
    searched_directories: list[str]
    matched_contexts: list[MatchedContext]
    thinking_trace: list[str]


class FindResult(Result):
    memories: list[Hit] = []
    resources: list[Hit] = []
    skills: list[Hit] = []
    total: int = 0
    query_plan: QueryPlan | None = omitted()
    provenance: list[Provenance] | None = omitted(
        description="With include_provenance: one entry per query that ran."
    )

    def hits(self) -> list[Hit]:
        return [*self.memories, *self.resources, *self.skills]


class ContextEntry(Result):
    uri: str
    category: str
    score: float
    detail: str
    text: str


class DedupStats(Result):
    """``status``: ``off`` or ``applied``; ``cooled``: URIs left out as already injected."""

    turns: int
    status: str
    cooled: int
    turn: int | None


class ContextStats(Result):
    candidates: int
    returned: int
    dropped: int
    excluded: int
    max_tokens: int
    used_tokens: int
    per_entry_cap: int
    tier_counts: dict[str, int]
    quotas: dict[str, int]
    query_expansion: str = Field(description="llm, keywords, none or off.")
    planned_queries: list[str]
    rewrite: str = Field(description="off, unavailable, skipped, ok or failed.")
    dedup: DedupStats
    ignored: list[str] | None = omitted(
        description="search(mode='context') fields that have no effect in that mode."
    )
    deprecated: RecallDeprecation | None = omitted(description="Answers of the recall preset.")


class ContextResult(Result):
    entries: list[ContextEntry]
    rendered: str
    digest: str
    stats: ContextStats


class GrepRequest(Request):
    """Regex over the lines of text files under ``uri``; ``node_limit`` caps matching lines."""

    uri: str
    pattern: str = Field(description="A regular expression (Python syntax).")
    case_insensitive: bool = False
    exclude_uri: str | None = None
    node_limit: Integer = Field(default=256, description="Most matching lines.")
    level_limit: Integer = Field(default=10, description="How deep below uri.")
    tags: list[str] | None = Field(default=None, description=_TAGGED)
    include_tags: bool = Field(default=False, description=_WITH_TAGS)


class GrepMatch(Result):
    uri: str
    line: int
    content: str
    tags: list[str] | None = omitted()


class GrepResult(Result):
    matches: list[GrepMatch]
    count: int
    files_scanned: int
    truncated: bool


class GlobRequest(Request):
    """URIs under ``uri`` whose relative path matches ``pattern`` (hidden entries never)."""

    pattern: str = Field(description="*, ?, [] and ** (recursive); relative to uri.")
    uri: str = "viking://"
    node_limit: Integer = 256
    tags: list[str] | None = Field(default=None, description=_TAGGED)
    include_tags: bool = Field(default=False, description=_WITH_TAGS)


class GlobEntry(Result):
    """A glob match with its tags (``tags`` or ``include_tags`` asked)."""

    uri: str
    tags: list[str]


class GlobResult(Result):
    """``matches``: URIs, or :class:`GlobEntry` items when tags were asked for."""

    matches: list[str] | list[GlobEntry]
    count: int


_S = "/api/v1/search"

OPERATIONS = (
    Operation(
        "find",
        "retrieval.find",
        FindRequest,
        FindResult,
        ("query",),
        Route("POST", f"{_S}/find"),
        doc="Hybrid, directory-recursive search: ``{memories, resources, skills, total}``.",
    ),
    Operation(
        "search",
        "retrieval.search",
        SearchRequest,
        FindResult | ContextResult,
        ("query",),
        Route("POST", f"{_S}/search"),
        doc="``find`` expanded with the session's recent messages (``query_plan`` says how); "
        "``mode='context'`` answers as ``assemble_context``.",
    ),
    Operation(
        "assemble_context",
        "assembler.assemble",
        ContextRequest,
        ContextResult,
        ("query",),
        Route("POST", f"{_S}/search", fixed={"mode": "context"}),
        doc="An injection-ready, token-budgeted context block for ``query``.",
    ),
    Operation(
        "grep",
        "retrieval.grep",
        GrepRequest,
        GrepResult,
        ("uri", "pattern"),
        Route("POST", f"{_S}/grep"),
        doc="Regex over the lines of the text files under ``uri``.",
    ),
    Operation(
        "glob",
        "retrieval.glob",
        GlobRequest,
        GlobResult,
        ("pattern",),
        Route("POST", f"{_S}/glob"),
        doc="URIs under ``uri`` whose relative path matches ``pattern``.",
    ),
)
