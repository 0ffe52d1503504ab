"""Search: ``/api/v1/search/find``, ``/search``, ``/recall``, ``/grep`` and ``/glob`` (seed 000,
§4.5, §8).

``find`` and ``search`` answer ``{memories, resources, skills, total}`` (``search`` adds
``query_plan``); ``search`` with ``mode="context"`` answers ``{entries, rendered, digest,
stats}``. Context-only fields sent with ``mode="list"`` and ``target_uri`` with
``mode="context"`` are 400. Image queries are not supported; ``filter`` is the original's
condition DSL (:mod:`openviking_mcp.search.filters`). ``recall`` is the deprecated preset over
``mode="context"`` (:mod:`openviking_mcp.search.recall`); its answers carry the ``Deprecation``
and successor ``Link`` headers.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from http_api import envelope
from http_api.bodies import LENIENT, STRICT, UpstreamFields
from http_api.deps import Caller, Service
from openviking_mcp.contract import search as search_contract
from openviking_mcp.contract.base import to_wire
from openviking_mcp.contract.errors import InvalidArgumentError

__all__ = [
    "FindBody",
    "GlobBody",
    "GrepBody",
    "RecallBody",
    "SearchBody",
    "router",
]

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
#: The headers of a recall answer: deprecated, and which route succeeds it.
_RECALL_HEADERS = {
    "Deprecation": "true",
    "Link": '</api/v1/search/search>; rel="successor-version"',
}


class _QueryWire(UpstreamFields):
    """What the bodies of ``find`` and ``search`` take besides their operation's fields, and
    where their defaults or checks differ from the operation's."""

    upstream_ignored = frozenset({"events_time_decay_protection", "read_content"})
    upstream_nullable = frozenset({"time_field"})

    # The route's defaults: an empty query is refused by the route, an empty target is none.
    query: str = ""
    target_uri: str | list[str] = ""
    # Plain integers: the route reads true/false as 1/0 (the operation refuses booleans).
    limit: int = 10
    level: int | str | list[int] | None = Field(default=None, description="0, 1, 2 or a list.")
    # Accepted for compatibility: image queries are refused (400).
    image_url: str | list[str] | None = Field(default=None, description="Not supported (400).")
    # Accepted for compatibility: an alias of ``limit`` that wins over it.
    node_limit: int | None = Field(default=None, description="Overrides limit.")
    # Accepted for compatibility; the answer carries no telemetry.
    telemetry: bool | dict[str, Any] = False

    def checked_query(self) -> str:
        """The query text, after refusing what cannot be served."""
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

    def arguments(self, operation: type[BaseModel]) -> dict[str, Any]:
        """The fields of ``operation`` (its request model) with the query checked,
        ``node_limit`` applied and an empty ``target_uri`` as none."""
        fields = self.model_dump(include=set(operation.model_fields))
        fields["query"] = self.checked_query()
        fields["target_uri"] = self.target_uri or None
        fields["limit"] = self.effective_limit
        return fields


class FindBody(_QueryWire, search_contract.FindRequest):
    """Body of ``POST /api/v1/search/find`` (unknown fields are refused)."""

    model_config = STRICT


class SearchBody(_QueryWire, search_contract.SearchRequest):
    """Body of ``POST /api/v1/search/search``: ``find`` plus the session and context mode."""

    model_config = STRICT
    upstream_ignored = _QueryWire.upstream_ignored | {"search_type"}

    # The route refuses other modes (400 on ``body.mode``).
    mode: Literal["list", "context"] = "list"
    # Plain integers: the route reads true/false as 1/0 (the operation refuses booleans).
    max_tokens: int | None = None
    quotas: dict[str, int] | None = None
    dedup_turns: int | None = None
    rewrite_max_bullets: int | None = None
    # Accepted for compatibility with ``mode="context"``; reported in ``stats.ignored``.
    query_expansion: str | bool | None = None
    peer_scope: str | None = None
    other_peer_penalty: float | None = None


class RecallBody(search_contract.RecallRequest):
    """Body of ``POST /api/v1/search/recall`` (unknown fields are refused)."""

    model_config = STRICT


class GrepBody(UpstreamFields, search_contract.GrepRequest):
    """Body of ``POST /api/v1/search/grep`` (unknown fields are ignored)."""

    model_config = LENIENT

    # As the original: node_limit 0 means no cap, a negative one stops at the first match.
    node_limit: int = Field(default=256, description="Most matching lines (0: no cap).")
    level_limit: int = Field(default=10, ge=1)


class GlobBody(UpstreamFields, search_contract.GlobRequest):
    """Body of ``POST /api/v1/search/glob`` (unknown fields are ignored)."""

    model_config = LENIENT

    # As the original: a node_limit of 0 or below means no cap.
    node_limit: int = Field(default=256, description="Most URIs (0 or below: no cap).")


@router.post("/find", summary="Semantic search (no session context)")
async def find(request: Request, body: FindBody, service: Service, caller: Caller) -> JSONResponse:
    fields = body.arguments(search_contract.FindRequest)
    return envelope.ok(request, await service.call(caller, "find", fields))


@router.post("/search", summary="Session-aware search (list or context mode)")
async def search(
    request: Request, body: SearchBody, service: Service, caller: Caller
) -> JSONResponse:
    fields = body.arguments(search_contract.SearchRequest)
    fields["session_id"] = body.session_id or None
    unused = [name for name in _UNUSED_CONTEXT_FIELDS if getattr(body, name) is not None]
    if body.mode == "list" and unused:  # the service checks the fields it knows
        sent = [name for name in _CONTEXT_ONLY if getattr(body, name) is not None]
        raise InvalidArgumentError(
            f"Only valid with mode='context': {', '.join(sent)}", {"fields": sent}
        )
    result = await service.call(caller, "search", fields)
    if unused:  # context mode: accepted, but this server has no use for them
        stats = result.setdefault("stats", {})
        stats["ignored"] = [*stats.get("ignored", []), *unused]
    return envelope.ok(request, result)


@router.post("/recall", deprecated=True, summary="Deprecated preset over mode='context'")
async def recall(
    request: Request, body: RecallBody, service: Service, caller: Caller
) -> JSONResponse:
    """``search`` with ``mode="context"`` under the recall preset; ``stats.deprecated`` names
    the successor."""
    result = await service.retrieval.recall(caller, body)
    response = envelope.ok(request, to_wire(result))
    response.headers.update(_RECALL_HEADERS)
    return response


@router.post("/grep", summary="Regex search over file lines")
async def grep(request: Request, body: GrepBody, service: Service, caller: Caller) -> JSONResponse:
    """``{matches: [{uri, line, content}], count, files_scanned, truncated}``; a bad regex is
    400."""
    fields = body.model_dump(include=set(search_contract.GrepRequest.model_fields))
    fields["exclude_uri"] = body.exclude_uri or None
    return envelope.ok(request, await service.call(caller, "grep", fields))


@router.post("/glob", summary="URIs matching a shell-style pattern")
async def glob(request: Request, body: GlobBody, service: Service, caller: Caller) -> JSONResponse:
    """``{matches: [uri], count}``; hidden entries never match; a missing base is 404."""
    fields = body.model_dump(include=set(search_contract.GlobRequest.model_fields))
    return envelope.ok(request, await service.call(caller, "glob", fields))
