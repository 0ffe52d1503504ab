"""The search service: ``find``, ``search`` (session-aware find), ``grep`` and ``glob``.

``find`` is hybrid and directory-recursive (:mod:`openviking_mcp.search.find`); its hits carry
their relations. Every ``find`` call, from any surface or from inside (``search``, context
assembly, memory extraction, the bot), is timed into :attr:`SearchService.latency`.

``search`` runs the queries :class:`~openviking_mcp.search.planner.QueryPlanner` makes from
the session's recent messages; with ``mode="context"`` it answers as
:meth:`ContextAssembler.assemble` instead. The session's messages come from the sessions
feature through the ``recent_messages`` callable given to the constructor.
"""

from __future__ import annotations

import time
from typing import Any

from openviking_mcp.contract.access import readable, readable_prefixes
from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.search import (
    ContextRequest,
    ContextResult,
    FindRequest,
    FindResult,
    GlobEntry,
    GlobRequest,
    GlobResult,
    GrepMatch,
    GrepRequest,
    GrepResult,
    Hit,
    PlannedQuery,
    QueryPlan,
    RecallRequest,
    SearchRequest,
)
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.relations.service import RelationService
from openviking_mcp.search.assembler import ContextAssembler
from openviking_mcp.search.filters import parse_filter
from openviking_mcp.search.find import FindQuery, Retriever, bucket_hits
from openviking_mcp.search.latency import LatencyWindow
from openviking_mcp.search.params import (
    as_list,
    check_types,
    glob_cap,
    grep_cap,
    levels,
    result_limit,
    when,
)
from openviking_mcp.search.patterns import compile_glob, compile_grep
from openviking_mcp.search.planner import QueryPlanner, RecentMessages
from openviking_mcp.search.provenance import provenance_of
from openviking_mcp.search.recall import IGNORED_FIELDS, fold_recall, recall_deprecation
from openviking_mcp.storage import Entry
from openviking_mcp.storage.index import IndexFilter
from openviking_mcp.store import Store

__all__ = ["SearchService"]

#: ``search`` fields that belong to ``mode="context"`` only.
_CONTEXT_ONLY = (
    "max_tokens",
    "quotas",
    "purpose",
    "detail",
    "exclude_uris",
    "rewrite",
    "rewrite_max_bullets",
    "dedup_turns",
)
_BUCKETS = {"memory": "memories", "resource": "resources", "skill": "skills"}
_MAX_GLOB_DEPTH = 10_000
_REASONS = {
    "llm": "queries rewritten by the LLM from the session's recent messages",
    "keywords": "expanded with keywords from the session's recent messages",
}


class SearchService:
    """See the module docs. ``recent_messages(ctx, session_id, n)`` answers the texts of a
    session's last ``n`` messages (``NOT_FOUND`` for a session that does not exist)."""

    def __init__(
        self, store: Store, relations: RelationService, recent_messages: RecentMessages
    ) -> None:
        self._store = store
        self._relations = relations
        self.latency = LatencyWindow()
        self.planner = QueryPlanner(store.llm, recent_messages)
        self.assembler = ContextAssembler(store, self.find, self.planner)

    # -- find ------------------------------------------------------------------------------

    def _targets(self, ctx: RequestContext, target_uri: str | list[str] | None) -> tuple[str, ...]:
        """The index prefixes to search: the readable parts of the targets (an ancestor of
        other users' spaces, such as ``viking://user`` or ``viking:///``, becomes the parts the
        caller may read); ``()`` (everything) only for ROOT."""
        targets = [t for t in as_list(target_uri) if t not in ("", "/")]
        resolved = [self._store.resolve(ctx, t, field="target_uri") for t in targets]
        prefixes = readable_prefixes(ctx, resolved)
        if any(p.is_root for p in prefixes):
            return ()
        return tuple(p.uri for p in prefixes)

    def _query(self, ctx: RequestContext, req: FindRequest) -> FindQuery:
        """The checked request as a retriever query."""
        if not req.query or not req.query.strip():
            raise InvalidArgumentError("Search query must not be empty.")
        limit = result_limit(req.limit)
        types = check_types(req.context_type)
        if req.time_field != "updated_at":
            raise InvalidArgumentError("time_field must be updated_at")
        self._store.require_index()
        base = IndexFilter(
            account_id=ctx.account_id,
            uri_prefixes=self._targets(ctx, req.target_uri),
            context_types=types,
            tags_all=tuple(t.lower() for t in (req.tags or [])),
            updated_after=when(req.since, "since"),
            updated_before=when(req.until, "until"),
            where=parse_filter(req.filter),  # ANDed: it narrows, never widens
        )
        retrieval = self._store.config.retrieval
        threshold = (
            retrieval.score_threshold if req.score_threshold is None else req.score_threshold
        )
        return FindQuery(
            query=req.query.strip(),
            base=base,
            limit=limit,
            score_threshold=threshold,
            levels=levels(req.level),
            include_provenance=req.include_provenance,
        )

    async def find(self, ctx: RequestContext, req: FindRequest) -> FindResult:
        """Hybrid, directory-recursive search. Result: ``{memories, resources, skills, total}``;
        its duration (failures included) goes into :attr:`latency`."""
        start = time.perf_counter()
        found: int | None = None
        try:
            result = await self._find(ctx, req)
            found = result.total
            return result
        finally:
            self.latency.add(time.perf_counter() - start, ok=found is not None, results=found or 0)

    async def _find(self, ctx: RequestContext, req: FindRequest) -> FindResult:
        query = self._query(ctx, req)
        store = self._store
        retriever = Retriever(store.index, store.embedder, store.config.retrieval, store.reranker)
        hits = readable(ctx, await retriever.find(query), lambda hit: str(hit["uri"]))
        found: dict[str, Any] = bucket_hits(hits)
        await self._relations.attach(ctx, found)
        result = FindResult.model_validate(found)
        if query.include_provenance:
            roots = query.base.uri_prefixes
            result.provenance = [provenance_of(query.query, roots, hits)]
        return result

    # -- search ----------------------------------------------------------------------------

    async def search(self, ctx: RequestContext, req: SearchRequest) -> FindResult | ContextResult:
        """``find`` plus expansion from the session's recent messages (keywords without an LLM).

        ``mode="list"`` (default) returns find's buckets plus ``query_plan`` describing the
        queries that ran. ``mode="context"`` assembles an injection-ready, token-budgeted block
        instead (as ``assemble_context``); the fields from ``max_tokens`` on belong to that
        mode only, and ``target_uri`` is refused there.
        """
        sent = {name: getattr(req, name) for name in _CONTEXT_ONLY}
        sent = {k: v for k, v in sent.items() if v is not None}
        if req.mode == "context":
            return await self._context_search(ctx, req, sent)
        if req.mode != "list":
            raise InvalidArgumentError("mode must be 'list' or 'context'", {"mode": req.mode})
        if sent:
            raise InvalidArgumentError(
                f"Only valid with mode='context': {', '.join(sent)}", {"fields": list(sent)}
            )
        queries, how = await self.planner.queries(ctx, req.query, req.session_id)
        fields = {name: getattr(req, name) for name in FindRequest.model_fields}
        if how != "llm":
            result = await self.find(ctx, FindRequest(**{**fields, "query": queries[0]}))
            reason = _REASONS.get(how, "no session context; plain find")
            result.query_plan = _plan(reason, queries[:1])
            return result
        merged: dict[str, Hit] = {}
        provenance = []
        for text in queries:
            found = await self.find(ctx, FindRequest(**{**fields, "query": text}))
            provenance += found.provenance or []
            for hit in found.hits():
                if hit.uri not in merged or hit.score > merged[hit.uri].score:
                    merged[hit.uri] = hit
        limit = result_limit(req.limit)
        best = sorted(merged.values(), key=lambda h: -h.score)[:limit]
        result = _bucketed(best)
        result.query_plan = _plan(_REASONS["llm"], queries)
        result.provenance = provenance if req.include_provenance else None
        return result

    async def _context_search(
        self, ctx: RequestContext, req: SearchRequest, sent: dict[str, Any]
    ) -> ContextResult:
        """``search(mode="context")``: the assembly, with the list-only fields that were set
        reported in ``stats.ignored``."""
        if as_list(req.target_uri):
            raise InvalidArgumentError(
                "target_uri is not supported with mode='context'", {"field": "target_uri"}
            )
        request = ContextRequest(
            query=req.query,
            session_id=req.session_id,
            limit=req.limit,
            score_threshold=req.score_threshold,
            context_type=req.context_type,
            tags=req.tags,
            **sent,
        )
        result = await self.assembler.assemble(ctx, request)
        ignored = [
            name
            for name, given in (
                ("level", req.level is not None and req.level != ""),  # detail picks the tiers
                ("since", bool(req.since)),
                ("until", bool(req.until)),
                ("time_field", req.time_field != "updated_at"),
                ("include_provenance", req.include_provenance),
                ("filter", bool(req.filter)),
            )
            if given
        ]
        if ignored:
            result.stats.ignored = ignored
        return result

    async def recall(self, ctx: RequestContext, req: RecallRequest) -> ContextResult:
        """The deprecated recall preset (:mod:`openviking_mcp.search.recall`): the context-mode
        search it folds onto, ``stats.deprecated`` naming the successor, ``rendered`` empty
        when ``render`` is false, and the fields sent that have no effect in
        ``stats.ignored``."""
        result = await self.search(ctx, fold_recall(req))
        assert isinstance(result, ContextResult)  # a context-mode search
        result.stats.deprecated = recall_deprecation(req)
        if req.render is False:
            result.rendered = ""
        unused = [name for name in IGNORED_FIELDS if name in req.model_fields_set]
        if unused:
            result.stats.ignored = [*(result.stats.ignored or []), *unused]
        return result

    # -- grep and glob ---------------------------------------------------------------------

    async def grep(self, ctx: RequestContext, req: GrepRequest) -> GrepResult:
        """Regex over the lines of text files under ``uri``; ``node_limit`` caps matching lines."""
        store = self._store
        regex = compile_grep(req.pattern, req.case_insensitive)
        base = store.resolve(ctx, req.uri)
        excluded = (
            store.resolve(ctx, req.exclude_uri, field="exclude_uri") if req.exclude_uri else None
        )
        cap = grep_cap(req.node_limit)
        matches: list[GrepMatch] = []
        scanned = 0
        files = await self._files_under(ctx, base, req.level_limit)
        uris = [f.uri for f in files]
        tagged = await self._store.tags.carrying(
            ctx.account_id, uris, req.tags, shown=req.include_tags
        )
        for child in files:
            if excluded is not None and excluded.is_ancestor_of(child):
                continue
            if tagged is not None and child.uri not in tagged:
                continue
            try:
                data = await store.content.read_bytes(store.key(ctx, child))
            except (FileNotFoundError, IsADirectoryError):
                continue
            if b"\x00" in data[:8192]:
                continue
            scanned += 1
            for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
                if regex.search(line[:10_000]):
                    own = tagged.get(child.uri) if tagged is not None else None
                    matches.append(
                        GrepMatch(uri=child.uri, line=number, content=line[:1000], tags=own)
                    )
                    if len(matches) >= cap:
                        return GrepResult(
                            matches=matches,
                            count=len(matches),
                            files_scanned=scanned,
                            truncated=True,
                        )
        return GrepResult(
            matches=matches, count=len(matches), files_scanned=scanned, truncated=False
        )

    async def glob(self, ctx: RequestContext, req: GlobRequest) -> GlobResult:
        """URIs under ``uri`` whose relative path matches ``pattern`` (hidden entries never)."""
        regex = compile_glob(req.pattern)
        base = self._store.resolve(ctx, req.uri)
        await self._store.require_dir(ctx, base)
        out: list[str] = []
        walked = await self._walk_visible(ctx, base, _MAX_GLOB_DEPTH)
        for rel, _, child in sorted(walked, key=lambda item: item[0]):
            if regex.match(rel):
                out.append(child.uri)
                if len(out) >= glob_cap(req.node_limit):
                    break
        out = readable(ctx, out, str)
        tagged = await self._store.tags.carrying(
            ctx.account_id, out, req.tags, shown=req.include_tags
        )
        if tagged is None:
            return GlobResult(matches=out, count=len(out))
        entries = [GlobEntry(uri=u, tags=tagged[u]) for u in out if u in tagged]
        return GlobResult(matches=entries, count=len(entries))

    async def _walk_visible(
        self, ctx: RequestContext, base: VikingURI, depth: int
    ) -> list[tuple[str, Entry, VikingURI]]:
        """``(relative path, entry, uri)`` below ``base`` that the caller may read, without
        dot-paths."""
        walked = await self._store.walk_readable(ctx, base, depth, 1_000_000)
        return [item for item in walked if not any(p.startswith(".") for p in item[0].split("/"))]

    async def _files_under(
        self, ctx: RequestContext, base: VikingURI, depth: int
    ) -> list[VikingURI]:
        with self._store.fs_errors(base):
            entry = await self._store.content.stat(self._store.key(ctx, base))
        if not entry.is_dir:
            return [base]
        walked = await self._walk_visible(ctx, base, depth)
        return [child for _, item, child in walked if not item.is_dir]


def _bucketed(hits: list[Hit]) -> FindResult:
    """``hits`` in find's buckets (an unknown context type counts as a resource)."""
    result = FindResult(total=len(hits))
    for hit in hits:
        getattr(result, _BUCKETS.get(hit.context_type, "resources")).append(hit)
    return result


def _plan(reasoning: str, queries: list[str]) -> QueryPlan:
    planned = [PlannedQuery(query=q, priority=i + 1) for i, q in enumerate(queries)]
    return QueryPlan(reasoning=reasoning, queries=planned)
