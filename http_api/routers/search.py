"""Search: ``/api/v1/search/find``, ``/search``, ``/grep`` and ``/glob`` (seed 000, §4.5, §8).

``find`` and ``search`` answer ``{memories, resources, skills, total}`` (``search`` adds
``query_plan``); ``search`` with ``mode="context"`` answers ``{entries, rendered, digest,
stats}``. Context-only fields sent with ``mode="list"`` and ``target_uri`` with
``mode="context"`` are 400. Image queries and the raw ``filter`` DSL are not supported.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field

from http_api import envelope
from http_api.deps import Caller, Service
from openviking_mcp.contract.errors import InvalidArgumentError, UnimplementedError

__all__ = ["FindRequest", "GlobRequest", "GrepRequest", "SearchRequest", "router"]

router = APIRouter(prefix="/api/v1/search", tags=["search"])

_EMPTY_QUERY = "Search query or image_url must not be empty."
#: Fields of ``mode="context"`` only (400 with ``mode="list"``).
_CONTEXT_ONLY = (
    "query_expansion",
    "max_tokens",
    "quotas",
    "purpose",
    "detail",
    "dedup_turns",
    "exclude_uris",
    "peer_scope",
    "other_peer_penalty",
    "rewrite",
    "rewrite_max_bullets",
)
#: Context-mode fields the service has no parameter for: accepted and reported as ignored.
_UNUSED_CONTEXT_FIELDS = ("query_expansion", "peer_scope", "other_peer_penalty")


class FindRequest(BaseModel):
    """Body of ``POST /api/v1/search/find`` (unknown fields are refused)."""

    model_config = ConfigDict(extra="forbid")

    query: str = ""
    image_url: str | None = Field(default=None, description="Not supported (400).")
    target_uri: str | list[str] = ""
    context_type: str | list[str] | None = Field(
        default=None, description="memory, resource, skill (a list or comma-separated)."
    )
    limit: int = 10
    node_limit: int | None = Field(default=None, description="Overrides limit.")
    score_threshold: float | None = None
    filter: dict[str, Any] | None = Field(default=None, description="Not supported (501).")
    include_provenance: bool = False
    tags: list[str] | None = Field(default=None, description="k=v tags, all must match.")
    since: str | None = Field(default=None, description="30m, 2h, 7d, 1w or an ISO date.")
    until: str | None = None
    time_field: str = "updated_at"
    level: int | str | list[int] | None = Field(default=None, description="0, 1, 2 or a list.")
    telemetry: bool | dict[str, Any] = False

    def checked_query(self) -> str:
        """The query text, after refusing what cannot be served."""
        if self.filter:
            raise UnimplementedError(
                "The raw filter DSL is not supported; use context_type, tags, since/until "
                "and level",
                {"field": "filter"},
            )
        if self.image_url:
            raise InvalidArgumentError(
                "Image queries need a multimodal embedder, which is not available",
                {"field": "image_url"},
            )
        if not self.query.strip():
            raise InvalidArgumentError(_EMPTY_QUERY, {"field": "query"})
        return self.query

    @property
    def effective_limit(self) -> int:
        return self.node_limit if self.node_limit is not None else self.limit


class SearchRequest(FindRequest):
    """Body of ``POST /api/v1/search/search``: ``find`` plus the session and context mode."""

    session_id: str | None = None
    mode: Literal["list", "context"] = "list"
    query_expansion: str | bool | None = None
    max_tokens: int | None = None
    quotas: dict[str, int] | None = None
    purpose: str | None = None
    detail: str | dict[str, str] | None = None
    dedup_turns: int | None = None
    exclude_uris: list[str] | None = None
    peer_scope: str | None = None
    other_peer_penalty: float | None = None
    rewrite: str | bool | None = None
    rewrite_max_bullets: int | None = None


class GrepRequest(BaseModel):
    """Body of ``POST /api/v1/search/grep`` (unknown fields are ignored)."""

    uri: str
    pattern: str = Field(description="A regular expression (Python syntax).")
    case_insensitive: bool = False
    exclude_uri: str | None = None
    node_limit: int = Field(default=256, ge=1, description="Most matching lines.")
    level_limit: int = Field(default=10, ge=1)


class GlobRequest(BaseModel):
    """Body of ``POST /api/v1/search/glob`` (unknown fields are ignored)."""

    pattern: str = Field(description="*, ?, [] and ** (recursive); relative to uri.")
    uri: str = "viking://"
    node_limit: int = Field(default=256, ge=1)


@router.post("/find", summary="Semantic search (no session context)")
async def find(
    request: Request, body: FindRequest, service: Service, caller: Caller
) -> JSONResponse:
    result = await service.find(
        caller,
        body.checked_query(),
        target_uri=body.target_uri or None,
        limit=body.effective_limit,
        score_threshold=body.score_threshold,
        level=body.level,
        context_type=body.context_type,
        tags=body.tags,
        since=body.since,
        until=body.until,
        time_field=body.time_field,
        include_provenance=body.include_provenance,
    )
    return envelope.ok(request, result)


@router.post("/search", summary="Session-aware search (list or context mode)")
async def search(
    request: Request, body: SearchRequest, service: Service, caller: Caller
) -> JSONResponse:
    query = body.checked_query()
    unused = [name for name in _UNUSED_CONTEXT_FIELDS if getattr(body, name) is not None]
    if body.mode == "list" and unused:  # the service checks the fields it knows
        sent = [name for name in _CONTEXT_ONLY if getattr(body, name) is not None]
        raise InvalidArgumentError(
            f"Only valid with mode='context': {', '.join(sent)}", {"fields": sent}
        )
    result = await service.search(
        caller,
        query,
        session_id=body.session_id or None,
        target_uri=body.target_uri or None,
        limit=body.effective_limit,
        score_threshold=body.score_threshold,
        level=body.level,
        context_type=body.context_type,
        tags=body.tags,
        since=body.since,
        until=body.until,
        time_field=body.time_field,
        include_provenance=body.include_provenance,
        mode=body.mode,
        max_tokens=body.max_tokens,
        quotas=body.quotas,
        purpose=body.purpose,
        detail=body.detail,
        exclude_uris=body.exclude_uris,
        rewrite=body.rewrite,
        rewrite_max_bullets=body.rewrite_max_bullets,
        dedup_turns=body.dedup_turns,
    )
    if unused:  # context mode: accepted, but this server has no use for them
        stats = result.setdefault("stats", {})
        stats["ignored"] = [*stats.get("ignored", []), *unused]
    return envelope.ok(request, result)


@router.post("/grep", summary="Regex search over file lines")
async def grep(
    request: Request, body: GrepRequest, service: Service, caller: Caller
) -> JSONResponse:
    """``{matches: [{uri, line, content}], count, files_scanned, truncated}``; a bad regex is
    400."""
    result = await service.grep(
        caller,
        body.uri,
        body.pattern,
        case_insensitive=body.case_insensitive,
        exclude_uri=body.exclude_uri or None,
        node_limit=body.node_limit,
        level_limit=body.level_limit,
    )
    return envelope.ok(request, result)


@router.post("/glob", summary="URIs matching a shell-style pattern")
async def glob(
    request: Request, body: GlobRequest, service: Service, caller: Caller
) -> JSONResponse:
    """``{matches: [uri], count}``; hidden entries never match; a missing base is 404."""
    result = await service.glob(caller, body.pattern, uri=body.uri, node_limit=body.node_limit)
    return envelope.ok(request, result)
