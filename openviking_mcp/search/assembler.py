"""Context assembly: ``assemble_context`` (also ``search(mode="context")``).

Retrieves hits per context type (one ``find`` per query and type, so a crowded bucket cannot
starve the others), buckets them by category, applies quotas and ``exclude_uris``, reads the
tier texts each entry may need through the caller's access rules, budgets them to
``max_tokens`` (64 to 32000) and renders the block. The pure parts (categories, quotas, tiers,
budget, rendering) are in :mod:`openviking_mcp.search.context`.

Entries are bucketed into ``events, entities, preferences, experiences`` (from the memory's
folder), ``memories`` (other memory types), ``resources`` and ``skills``.

* ``quotas`` cap entries per category. Without ``purpose`` the defaults scale with ``limit``:
  ``{events: limit, entities: limit, preferences: min(limit, 3), experiences: 0, memories:
  min(limit, 3), resources: limit, skills: min(limit, 2)}`` (with ``limit=10``: v1's
  ``{events:10, entities:10, preferences:3, experiences:0}`` plus 3 other memories, 10
  resources and 2 skills). ``purpose="coding"`` uses ``{events:1, entities:2, preferences:1,
  experiences:1, resources:3, skills:2}``, ``purpose="chat"`` ``{events:3, entities:3,
  preferences:1, experiences:1, resources:1, skills:1}`` (other memories 0 in both). Explicit
  ``quotas`` overlay those key by key; unknown keys are refused. ``limit`` only shapes the
  defaults.
* ``detail``: ``auto`` (events start at overview and may deepen to full with spare budget, the
  rest at abstract), or one of ``uri|abstract|overview|full`` for every entry, or an object per
  category. Tight budgets step tiers down before dropping. A file's abstract is its L0
  summary, its overview the leading ``# Summary`` section or first ~1200 characters, its full
  tier the whole text; a directory's overview is its ``.overview.md`` (directories have no
  full tier).
* ``exclude_uris`` (at most 200) removes hits; ``session_id`` expands the query like ``search``
  does (LLM-planned queries, or keywords from recent messages).
* ``dedup_turns`` (with ``session_id``, 0 to 50): leave out what this session's last
  ``dedup_turns`` assemblies already injected (a ledger kept in the session folder), so a
  multi-turn chat is not fed the same memory every turn.
* ``rewrite="auto"`` with an LLM configured adds ``digest``: at most ``rewrite_max_bullets``
  bullets (``stats.rewrite``: ``off``, ``unavailable`` without an LLM, ``skipped`` without
  entries, ``ok`` or ``failed``).

Result: ``{entries: [{uri, category, score, detail, text}], rendered, digest, stats}``;
``rendered`` holds ``<memory|resource|skill uri=".." type=".." score=".." detail="..">`` blocks
joined by newlines, ordered by category then score.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any

from openviking_mcp.contract.errors import InvalidArgumentError, OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.search import (
    ContextEntry,
    ContextRequest,
    ContextResult,
    ContextStats,
    DedupStats,
    FindRequest,
    FindResult,
)
from openviking_mcp.contract.uri import resolve_uri
from openviking_mcp.search.context import (
    TIERS,
    TYPE_CATEGORIES,
    Candidate,
    ContextHit,
    Plan,
    context_hit,
    file_overview,
    parse_bullets,
    plan_budget,
    requested_types,
    resolve_detail,
    resolve_quotas,
    select_hits,
    strip_memory_trailer,
    tier_bounds,
)
from openviking_mcp.search.params import MAX_LIMIT
from openviking_mcp.search.planner import QueryPlanner
from openviking_mcp.storage.sidecar import OVERVIEW_FILE
from openviking_mcp.store import Store

__all__ = ["ContextAssembler", "Finder"]

#: ``find(ctx, request)``: the search the assembly retrieves its hits with.
Finder = Callable[[RequestContext, FindRequest], Awaitable[FindResult]]

_MAX_EXCLUDES = 200
_MAX_LEDGER = 50
_LEDGER_FILE = ".context_ledger.json"
_REWRITES: dict[str | bool, str] = {"off": "off", "auto": "auto", False: "off", True: "auto"}


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidArgumentError(
            f"{name} must be an integer between {low} and {high}", {"field": name, "value": value}
        )
    return value


def _excluded(ctx: RequestContext, req: ContextRequest) -> list[str]:
    """The request checked; the URIs ``exclude_uris`` names, resolved for the caller."""
    if not isinstance(req.query, str) or not req.query.strip():
        raise InvalidArgumentError("Search query must not be empty.")
    _check_int("limit", req.limit, 1, MAX_LIMIT)
    _check_int("max_tokens", req.max_tokens, 64, 32_000)
    _check_int("rewrite_max_bullets", req.rewrite_max_bullets, 1, 20)
    if not isinstance(req.rewrite, str | bool) or req.rewrite not in _REWRITES:
        raise InvalidArgumentError("rewrite must be 'off' or 'auto'", {"rewrite": req.rewrite})
    excludes = list(req.exclude_uris or [])
    if len(excludes) > _MAX_EXCLUDES:
        raise InvalidArgumentError(
            f"exclude_uris holds at most {_MAX_EXCLUDES} URIs",
            {"field": "exclude_uris", "count": len(excludes)},
        )
    excluded = [resolve_uri(str(u), ctx, field="exclude_uris").uri for u in excludes]
    _check_int("dedup_turns", req.dedup_turns, 0, _MAX_LEDGER)
    if req.dedup_turns and not req.session_id:
        raise InvalidArgumentError("dedup_turns needs a session_id", {"field": "dedup_turns"})
    return excluded


def _text_of(data: bytes) -> str | None:
    """A file's UTF-8 text (a memory's field trailer removed); ``None`` if it is binary."""
    if b"\x00" in data[:8192]:
        return None
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return strip_memory_trailer(text).strip()


def _stats(
    plan: Plan, candidates: int, excluded: int, req: ContextRequest, **facts: Any
) -> ContextStats:
    return ContextStats(
        candidates=candidates,
        returned=len(plan.entries),
        dropped=len(plan.dropped),
        excluded=excluded,
        max_tokens=req.max_tokens,
        used_tokens=plan.used_tokens,
        per_entry_cap=plan.per_entry_cap,
        tier_counts=plan.tier_counts(),
        **facts,
    )


class ContextAssembler:
    """See the module docs. ``find`` is the search service's (so every retrieval is timed
    and carries relations); ``planner`` expands the query from the session."""

    def __init__(self, store: Store, find: Finder, planner: QueryPlanner) -> None:
        self._store = store
        self._find = find
        self._planner = planner

    async def assemble(self, ctx: RequestContext, req: ContextRequest) -> ContextResult:
        """Injection-ready context for ``query`` (see the module docs)."""
        excluded = _excluded(ctx, req)
        ledger = await self._ledger(ctx, req)
        cooled: set[str] = set()
        for past in ledger[-req.dedup_turns :] if req.dedup_turns else []:
            cooled.update(str(u) for u in past.get("uris", []))
        excluded += sorted(cooled - set(excluded))
        quotas = resolve_quotas(req.limit, req.purpose, req.quotas)
        details = resolve_detail(req.detail)
        queries, expansion = await self._planner.queries(ctx, req.query.strip(), req.session_id)
        hits = await self._retrieve(ctx, req, queries, quotas, len(excluded))
        chosen, n_excluded = select_hits(hits, quotas, excluded)
        candidates = await asyncio.gather(
            *(self._candidate(ctx, h, details[h.category], req.max_tokens) for h in chosen)
        )
        plan = plan_budget(candidates, req.max_tokens)
        rewrite = _REWRITES[req.rewrite]
        digest, rewrite_status = await self._digest(
            req.query, plan.rendered, rewrite, req.rewrite_max_bullets
        )
        dedup = await self._record_turn(ctx, req, ledger, plan, len(cooled))
        stats = _stats(
            plan,
            len(candidates),
            n_excluded,
            req,
            quotas=quotas,
            query_expansion=expansion,
            planned_queries=queries,
            rewrite=rewrite_status,
            dedup=dedup,
        )
        entries = [ContextEntry(**e.to_dict()) for e in plan.entries]
        return ContextResult(entries=entries, rendered=plan.rendered, digest=digest, stats=stats)

    async def _retrieve(
        self,
        ctx: RequestContext,
        req: ContextRequest,
        queries: list[str],
        quotas: dict[str, int],
        n_excluded: int,
    ) -> list[ContextHit]:
        """One find per query and wanted context type, each asking for twice its quota (at
        least 10) plus what exclusions may remove."""
        types = requested_types(req.context_type)
        wanted = {t: sum(quotas[c] for c in TYPE_CATEGORIES[t]) for t in types}
        jobs = [
            self._find(
                ctx,
                FindRequest(
                    query=text,
                    limit=min(MAX_LIMIT, max(10, 2 * n) + n_excluded),
                    score_threshold=req.score_threshold,
                    context_type=t,
                    tags=req.tags,
                ),
            )
            for text in queries
            for t, n in wanted.items()
            if n > 0
        ]
        hits: list[ContextHit] = []
        for found in await asyncio.gather(*jobs):
            for raw in found.hits():
                hit = context_hit(raw.model_dump())
                if hit is not None:
                    hits.append(hit)
        return hits

    # -- tier texts ------------------------------------------------------------------------

    async def _candidate(
        self, ctx: RequestContext, hit: ContextHit, detail: str, max_tokens: int
    ) -> Candidate:
        """A hit with the tier texts it may use: deeper texts are read only when its ceiling
        reaches them, and a text longer than ``4 * max_tokens`` characters is left out (it
        could never fit: every 4 characters cost at least one estimated token)."""
        store = self._store
        start, ceiling = tier_bounds(hit.category, detail)
        texts: dict[str, str] = {"abstract": hit.abstract}
        if TIERS.index(ceiling) >= TIERS.index("overview"):
            uri = store.resolve(ctx, hit.uri)  # the caller's read rules
            key = store.key(ctx, uri)
            if hit.is_dir:
                texts["overview"] = await store.sidecar_body(key, OVERVIEW_FILE) or ""
            else:
                content = await self._text_content(key)
                if content is not None:
                    texts["overview"] = file_overview(content)
                    if ceiling == "full":
                        texts["full"] = content
        limit = 4 * max_tokens
        texts = {k: v for k, v in texts.items() if v and len(v) <= limit}
        return Candidate(hit.uri, hit.category, hit.score, texts, start, ceiling)

    async def _text_content(self, key: str) -> str | None:
        """A file's UTF-8 text (a memory's field trailer removed); ``None`` if binary/missing."""
        try:
            data = await self._store.content.read_bytes(key)
        except (FileNotFoundError, IsADirectoryError):
            return None
        return _text_of(data)

    async def _digest(
        self, query: str, rendered: str, rewrite: str, max_bullets: int
    ) -> tuple[str, str]:
        """``(digest, status)``: an LLM bullet digest of ``rendered`` for ``rewrite="auto"``."""
        llm = self._store.llm
        if rewrite == "off":
            return "", "off"
        if llm is None:
            return "", "unavailable"
        if not rendered:
            return "", "skipped"
        prompt = (
            f"Request: {query}\n\nContext:\n{rendered}\n\n"
            f"Write at most {max_bullets} short bullet points ('- ...') with the facts from the "
            "context that help with the request. Use only the context. Reply with the bullets."
        )
        try:
            answer = await llm.complete(prompt, max_tokens=60 * max_bullets + 60)
        except OpenVikingError:
            return "", "failed"
        digest = parse_bullets(answer, max_bullets)
        return digest, "ok" if digest else "failed"

    # -- the session's ledger --------------------------------------------------------------

    def _ledger_key(self, ctx: RequestContext, session_id: str) -> str:
        session = self._store.resolve(ctx, f"viking://~/sessions/{session_id}")
        return f"{self._store.key(ctx, session)}/{_LEDGER_FILE}"

    async def _ledger(self, ctx: RequestContext, req: ContextRequest) -> list[dict[str, Any]]:
        """The URIs injected by the session's recent assemblies, oldest first (none without
        ``dedup_turns``)."""
        if not (req.session_id and req.dedup_turns):
            return []
        raw = await self._store.read_text(self._ledger_key(ctx, req.session_id))
        try:
            turns = json.loads(raw or "[]")
        except ValueError:
            return []
        return [t for t in turns if isinstance(t, dict)] if isinstance(turns, list) else []

    async def _record_turn(
        self,
        ctx: RequestContext,
        req: ContextRequest,
        ledger: list[dict[str, Any]],
        plan: Plan,
        cooled: int,
    ) -> DedupStats:
        """Append this assembly's URIs to the ledger (with ``dedup_turns``)."""
        dedup = DedupStats(turns=req.dedup_turns, status="off", cooled=cooled, turn=None)
        if not (req.dedup_turns and req.session_id):
            return dedup
        turn = int(ledger[-1].get("turn", 0)) + 1 if ledger else 1
        turns = [*ledger, {"turn": turn, "uris": [e.uri for e in plan.entries]}]
        data = json.dumps(turns[-_MAX_LEDGER:]).encode("utf-8")
        await self._store.content.write_bytes(self._ledger_key(ctx, req.session_id), data)
        dedup.status, dedup.turn = "applied", turn
        return dedup
