"""The console's search playground: ``find``, ``search`` and context assembly with their
scores, the directory-descent trajectory and the assembled block.

``GET /console/search`` is the page (with the results of the query in its URL, so a search can
be shared); the form asks ``GET /console/search/results`` through htmx, which answers the
results fragment and pushes the page's URL. ``find`` and ``search`` run with
``include_provenance``, which gives each hit its ``score_parts`` and ``trajectory``; the
trajectory's directories are shown nested by path.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import Depends, Request
from fastapi.responses import Response

from http_api.console._web import PREFIX, TenantCaller, page_router, render, service_of
from openviking_mcp.contract.base import parse_request
from openviking_mcp.contract.errors import InvalidArgumentError, OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.search import (
    ContextResult,
    FindRequest,
    FindResult,
    Hit,
    SearchRequest,
)

__all__ = ["SearchForm", "TrajectoryNode", "router", "trajectory_tree"]

router = page_router()

Mode = Literal["find", "search", "context"]
_MODES: tuple[tuple[str, str], ...] = (
    ("find", "find: hybrid, directory-recursive"),
    ("search", "search: find with the session's messages"),
    ("context", "context: an assembled, token-budgeted block"),
)
_TYPES = ("memory", "resource", "skill")
_LEVELS = (("0", "L0 directory abstract"), ("1", "L1 directory overview"), ("2", "L2 file"))
_SIDECARS = ("/.abstract.md", "/.overview.md")
_SCHEME = "viking://"


@dataclass(frozen=True, slots=True)
class SearchForm:
    """The playground's form, as its URL carries it."""

    query: str = ""
    mode: Mode = "find"
    context_type: str = ""
    target_uri: str = ""
    level: str = ""
    limit: int = 10
    max_tokens: int = 1600
    session_id: str = ""

    def query_string(self) -> str:
        """The form's fields that differ from their defaults, URL-encoded."""
        default = SearchForm()
        fields = {
            name: value
            for name in self.__slots__
            if (value := getattr(self, name)) != getattr(default, name) or name == "query"
        }
        return urlencode(fields)

    def find_fields(self) -> dict[str, Any]:
        """The fields ``find`` and list-mode ``search`` share (empty means unset)."""
        return {
            "query": self.query,
            "target_uri": self.target_uri.strip() or None,
            "limit": self.limit,
            "level": self.level.strip() or None,
            "context_type": self.context_type.strip() or None,
            "include_provenance": True,
        }


async def _search_form(
    query: str = "",
    mode: Mode = "find",
    context_type: str = "",
    target_uri: str = "",
    level: str = "",
    limit: int = 10,
    max_tokens: int = 1600,
    session_id: str = "",
) -> SearchForm:
    return SearchForm(
        query, mode, context_type, target_uri, level, limit, max_tokens, session_id.strip()
    )


Form = Annotated[SearchForm, Depends(_search_form)]


@dataclass(slots=True)
class TrajectoryNode:
    """A directory ``find`` expanded (``order``: when, from 1), the expanded directories below
    it and the hits it holds directly."""

    uri: str
    score: float
    order: int
    children: list[TrajectoryNode] = field(default_factory=list)
    hits: list[Hit] = field(default_factory=list)


def _document(uri: str) -> str:
    """A hit's document: a directory's hit without its ``.abstract.md``/``.overview.md``."""
    for suffix in _SIDECARS:
        if uri.endswith(suffix):
            return uri[: -len(suffix)]
    return uri


def _nearest(uri: str, nodes: dict[str, TrajectoryNode]) -> TrajectoryNode | None:
    """The deepest node of ``nodes`` strictly above ``uri``."""
    candidate = uri.rstrip("/")
    while len(candidate) > len(_SCHEME) and "/" in candidate[len(_SCHEME) :]:
        candidate = candidate.rsplit("/", 1)[0]
        if candidate in nodes:
            return nodes[candidate]
    return None


def trajectory_tree(hits: list[Hit]) -> tuple[list[TrajectoryNode], list[Hit]]:
    """The directories the hits' trajectories expanded, nested by path (top-level nodes in
    expansion order), each holding the hits directly below it (a directory's own hit: in its
    node); and the hits below no expanded directory."""
    nodes: dict[str, TrajectoryNode] = {}
    for hit in hits:
        for step in hit.trajectory or ():
            if step.uri not in nodes:
                nodes[step.uri] = TrajectoryNode(step.uri, step.score, len(nodes) + 1)
    roots: list[TrajectoryNode] = []
    for node in nodes.values():
        parent = _nearest(node.uri, nodes)
        (parent.children if parent is not None else roots).append(node)
    loose: list[Hit] = []
    for hit in hits:
        document = _document(hit.uri)  # a directory's hit goes to its own step, if expanded
        holder = nodes.get(document) or _nearest(document, nodes)
        (holder.hits if holder is not None else loose).append(hit)
    return roots, loose


async def _list_outcome(
    request: Request, caller: RequestContext, form: SearchForm
) -> dict[str, Any]:
    """``find`` or list-mode ``search``, with provenance: hits best first and the tree."""
    retrieval = service_of(request).retrieval
    fields = form.find_fields()
    result: FindResult | ContextResult
    if form.mode == "find":
        result = await retrieval.find(caller, parse_request(FindRequest, fields))
    else:
        fields |= {"mode": "list", "session_id": form.session_id or None}
        result = await retrieval.search(caller, parse_request(SearchRequest, fields))
    assert isinstance(result, FindResult)  # list mode
    hits = sorted(result.hits(), key=lambda h: -h.score)
    roots, loose = trajectory_tree(hits)
    return {"kind": "list", "result": result, "hits": hits, "tree": roots, "loose": loose}


async def _context_outcome(
    request: Request, caller: RequestContext, form: SearchForm
) -> dict[str, Any]:
    """Context-mode ``search``: the block, its token count and the categories it used."""
    fields = {
        **form.find_fields(),
        "mode": "context",
        "max_tokens": form.max_tokens,
        "session_id": form.session_id or None,
        "include_provenance": False,
    }
    retrieval = service_of(request).retrieval
    result = await retrieval.search(caller, parse_request(SearchRequest, fields))
    assert isinstance(result, ContextResult)  # context mode
    used: dict[str, int] = {}
    for entry in result.entries:
        used[entry.category] = used.get(entry.category, 0) + 1
    return {"kind": "context", "result": result, "categories": used}


async def _outcome(request: Request, caller: RequestContext, form: SearchForm) -> dict[str, Any]:
    if not form.query.strip():
        raise InvalidArgumentError("Type something to search for.", {"field": "query"})
    if form.mode == "context":
        return await _context_outcome(request, caller, form)
    return await _list_outcome(request, caller, form)


def _values(form: SearchForm) -> dict[str, Any]:
    """What the templates need besides the outcome."""
    return {
        "form": form,
        "modes": _MODES,
        "types": _TYPES,
        "levels": _LEVELS,
        "title": "Search",
        "active": "search",
    }


@router.get("/search")
async def page(request: Request, caller: TenantCaller, form: Form) -> Response:
    """The playground; with ``query`` in the URL, its results too (errors shown in place)."""
    values = {**_values(form), "outcome": None, "error": None}
    status = 200
    if "query" in request.query_params:
        try:
            values["outcome"] = await _outcome(request, caller, form)
        except OpenVikingError as exc:
            status = exc.http_status
            values["error"] = {"status": status, "code": exc.code, "message": str(exc)}
    return render(request, "search.html", values, status_code=status)


@router.get("/search/results")
async def results(request: Request, caller: TenantCaller, form: Form) -> Response:
    """The results fragment; the browser's URL becomes the page's, with this query."""
    values = {**_values(form), "outcome": await _outcome(request, caller, form)}
    response = render(request, "_search_results.html", values)
    response.headers["HX-Push-Url"] = f"{PREFIX}/search?{form.query_string()}"
    return response
