"""Context assembly: ``assemble_context`` (also ``search(mode="context")``).

Retrieves hits per context type (one ``find`` per query and type, so a crowded bucket cannot
starve the others), buckets them by category, applies quotas and ``exclude_uris``, reads the
tier texts each entry may need through the caller's access rules, budgets them to
``max_tokens`` and renders the block. The pure parts (categories, quotas, tiers, budget,
rendering) are in :mod:`openviking_mcp.search.context`.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

from openviking_mcp.contract.errors import InvalidArgumentError, OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import resolve_uri
from openviking_mcp.ops.search import SearchOps
from openviking_mcp.search.context import (
    TIERS,
    TYPE_CATEGORIES,
    Candidate,
    ContextHit,
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
from openviking_mcp.storage.sidecar import OVERVIEW_FILE

__all__ = ["ContextOps"]

_MAX_EXCLUDES = 200
_MAX_LEDGER = 50
_LEDGER_FILE = ".context_ledger.json"
_MAX_LIMIT = 1000
_REWRITES = {"off": "off", "auto": "auto", False: "off", True: "auto"}


def _check_int(name: str, value: object, low: int, high: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidArgumentError(
            f"{name} must be an integer between {low} and {high}", {"field": name, "value": value}
        )
    return value


class ContextOps(SearchOps):
    async def assemble_context(
        self,
        ctx: RequestContext,
        query: str,
        *,
        session_id: str | None = None,
        limit: int = 10,
        max_tokens: int = 1600,
        quotas: Mapping[str, int] | None = None,
        purpose: str | None = None,
        detail: str | Mapping[str, str] = "auto",
        exclude_uris: list[str] | None = None,
        context_type: str | list[str] | None = None,
        score_threshold: float | None = None,
        tags: list[str] | None = None,
        rewrite: str | bool = "off",
        rewrite_max_bullets: int = 6,
        dedup_turns: int = 0,
    ) -> dict[str, Any]:
        """Injection-ready context for ``query`` within ``max_tokens`` (64 to 32000).

        Entries are bucketed into ``events, entities, preferences, experiences`` (from the
        memory's folder), ``memories`` (other memory types), ``resources`` and ``skills``.

        * ``quotas`` cap entries per category. Without ``purpose`` the defaults scale with
          ``limit``: ``{events: limit, entities: limit, preferences: min(limit, 3),
          experiences: 0, memories: min(limit, 3), resources: limit, skills: min(limit, 2)}``
          (with ``limit=10``: v1's ``{events:10, entities:10, preferences:3, experiences:0}``
          plus 3 other memories, 10 resources and 2 skills). ``purpose="coding"`` uses
          ``{events:1, entities:2, preferences:1, experiences:1, resources:3, skills:2}``,
          ``purpose="chat"`` ``{events:3, entities:3, preferences:1, experiences:1,
          resources:1, skills:1}`` (other memories 0 in both). Explicit ``quotas`` overlay
          those key by key; unknown keys are refused. ``limit`` only shapes the defaults.
        * ``detail``: ``auto`` (events start at overview and may deepen to full with spare
          budget, the rest at abstract), or one of ``uri|abstract|overview|full`` for every
          entry, or an object per category. Tight budgets step tiers down before dropping.
          A file's abstract is its L0 summary, its overview the leading ``# Summary`` section
          or first ~1200 characters, its full tier the whole text; a directory's overview is
          its ``.overview.md`` (directories have no full tier).
        * ``exclude_uris`` (≤200) removes hits; ``session_id`` expands the query like
          ``search`` does (LLM-planned queries, or keywords from recent messages).
        * ``dedup_turns`` (with ``session_id``, 0 to 50): leave out what this session's last
          ``dedup_turns`` assemblies already injected (a ledger kept in the session folder),
          so a multi-turn chat is not fed the same memory every turn.
        * ``rewrite="auto"`` with an LLM configured adds ``digest``: at most
          ``rewrite_max_bullets`` bullets (``stats.rewrite``: ``off``, ``unavailable`` without
          an LLM, ``skipped`` without entries, ``ok`` or ``failed``).

        Result: ``{entries: [{uri, category, score, detail, text}], rendered, digest, stats}``;
        ``rendered`` holds ``<memory|resource|skill uri=".." type=".." score=".." detail="..">``
        blocks joined by newlines, ordered by category then score.
        """
        if not isinstance(query, str) or not query.strip():
            raise InvalidArgumentError("Search query must not be empty.")
        _check_int("limit", limit, 1, _MAX_LIMIT)
        _check_int("max_tokens", max_tokens, 64, 32_000)
        _check_int("rewrite_max_bullets", rewrite_max_bullets, 1, 20)
        if not isinstance(rewrite, (str, bool)) or rewrite not in _REWRITES:
            raise InvalidArgumentError("rewrite must be 'off' or 'auto'", {"rewrite": rewrite})
        excludes = list(exclude_uris or [])
        if len(excludes) > _MAX_EXCLUDES:
            raise InvalidArgumentError(
                f"exclude_uris holds at most {_MAX_EXCLUDES} URIs",
                {"field": "exclude_uris", "count": len(excludes)},
            )
        excluded = [resolve_uri(str(u), ctx, field="exclude_uris").uri for u in excludes]
        _check_int("dedup_turns", dedup_turns, 0, _MAX_LEDGER)
        if dedup_turns and not session_id:
            raise InvalidArgumentError("dedup_turns needs a session_id", {"field": "dedup_turns"})
        ledger = await self._context_ledger(ctx, session_id) if session_id and dedup_turns else []
        cooled: set[str] = set()
        for past in ledger[-dedup_turns:] if dedup_turns else []:
            cooled.update(str(u) for u in past.get("uris", []))
        excluded += sorted(cooled - set(excluded))
        effective = resolve_quotas(limit, purpose, quotas)
        details = resolve_detail(detail)
        types = requested_types(context_type)
        queries, expansion = await self._session_queries(ctx, query.strip(), session_id)

        wanted = {t: sum(effective[c] for c in TYPE_CATEGORIES[t]) for t in types}
        jobs = [
            self.find(
                ctx,
                text,
                limit=min(_MAX_LIMIT, max(10, 2 * n) + len(excluded)),
                score_threshold=score_threshold,
                context_type=t,
                tags=tags,
            )
            for text in queries
            for t, n in wanted.items()
            if n > 0
        ]
        hits: list[ContextHit] = []
        for found in await asyncio.gather(*jobs):
            for raw in (*found["memories"], *found["resources"], *found["skills"]):
                hit = context_hit(raw)
                if hit is not None:
                    hits.append(hit)
        chosen, n_excluded = select_hits(hits, effective, excluded)
        candidates = await asyncio.gather(
            *(self._candidate(ctx, h, details[h.category], max_tokens) for h in chosen)
        )
        plan = plan_budget(candidates, max_tokens)
        rendered = plan.rendered
        digest, rewrite_status = await self._digest(
            query, rendered, _REWRITES[rewrite], rewrite_max_bullets
        )
        dedup: dict[str, Any] = {
            "turns": dedup_turns,
            "status": "off",
            "cooled": len(cooled),
            "turn": None,
        }
        if dedup_turns and session_id:
            turn = int(ledger[-1].get("turn", 0)) + 1 if ledger else 1
            await self._save_context_ledger(
                ctx, session_id, [*ledger, {"turn": turn, "uris": [e.uri for e in plan.entries]}]
            )
            dedup.update(status="applied", turn=turn)
        return {
            "entries": [e.to_dict() for e in plan.entries],
            "rendered": rendered,
            "digest": digest,
            "stats": {
                "candidates": len(candidates),
                "returned": len(plan.entries),
                "dropped": len(plan.dropped),
                "excluded": n_excluded,
                "max_tokens": max_tokens,
                "used_tokens": plan.used_tokens,
                "per_entry_cap": plan.per_entry_cap,
                "tier_counts": plan.tier_counts(),
                "quotas": effective,
                "query_expansion": expansion,
                "planned_queries": queries,
                "rewrite": rewrite_status,
                "dedup": dedup,
            },
        }

    def _ledger_key(self, ctx: RequestContext, session_id: str) -> str:
        session = self._resolve(ctx, f"viking://~/sessions/{session_id}")
        return f"{self._key(ctx, session)}/{_LEDGER_FILE}"

    async def _context_ledger(self, ctx: RequestContext, session_id: str) -> list[dict[str, Any]]:
        """The URIs injected by this session's recent assemblies, oldest first."""
        raw = await self._read_text(self._ledger_key(ctx, session_id))
        try:
            turns = json.loads(raw or "[]")
        except ValueError:
            return []
        return [t for t in turns if isinstance(t, dict)] if isinstance(turns, list) else []

    async def _save_context_ledger(
        self, ctx: RequestContext, session_id: str, turns: list[dict[str, Any]]
    ) -> None:
        data = json.dumps(turns[-_MAX_LEDGER:]).encode("utf-8")
        await self.store.write_bytes(self._ledger_key(ctx, session_id), data)

    async def _context_search(
        self, ctx: RequestContext, query: str, session_id: str | None, options: dict[str, Any]
    ) -> dict[str, Any]:
        return await self.assemble_context(ctx, query, session_id=session_id, **options)

    async def _candidate(
        self, ctx: RequestContext, hit: ContextHit, detail: str, max_tokens: int
    ) -> Candidate:
        """A hit with the tier texts it may use: deeper texts are read only when its ceiling
        reaches them, and a text longer than ``4 * max_tokens`` characters is left out (it
        could never fit: every 4 characters cost at least one estimated token)."""
        start, ceiling = tier_bounds(hit.category, detail)
        texts: dict[str, str] = {"abstract": hit.abstract}
        if TIERS.index(ceiling) >= TIERS.index("overview"):
            uri = self._resolve(ctx, hit.uri)  # the caller's read rules
            key = self._key(ctx, uri)
            if hit.is_dir:
                texts["overview"] = await self._sidecar_body(key, OVERVIEW_FILE) or ""
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
            data = await self.store.read_bytes(key)
        except (FileNotFoundError, IsADirectoryError):
            return None
        if b"\x00" in data[:8192]:
            return None
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return None
        return strip_memory_trailer(text).strip()

    async def _digest(
        self, query: str, rendered: str, rewrite: str, max_bullets: int
    ) -> tuple[str, str]:
        """``(digest, status)``: an LLM bullet digest of ``rendered`` for ``rewrite="auto"``."""
        if rewrite == "off":
            return "", "off"
        if self.llm is None:
            return "", "unavailable"
        if not rendered:
            return "", "skipped"
        prompt = (
            f"Request: {query}\n\nContext:\n{rendered}\n\n"
            f"Write at most {max_bullets} short bullet points ('- ...') with the facts from the "
            "context that help with the request. Use only the context. Reply with the bullets."
        )
        try:
            answer = await self.llm.complete(prompt, max_tokens=60 * max_bullets + 60)
        except OpenVikingError:
            return "", "failed"
        digest = parse_bullets(answer, max_bullets)
        return digest, "ok" if digest else "failed"
