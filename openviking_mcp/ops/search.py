"""Search operations: find, search (session-aware find), grep and glob."""

from __future__ import annotations

import json
import re
import time
from collections import Counter
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from openviking_mcp.contract.access import can_read
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    OpenVikingError,
    UnimplementedError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.ops.base import ServiceCore
from openviking_mcp.search.find import FindQuery, Retriever, bucket_hits
from openviking_mcp.search.patterns import compile_glob, compile_grep
from openviking_mcp.sessions.messages import message_text
from openviking_mcp.storage import Entry
from openviking_mcp.storage.index import IndexFilter

__all__ = ["SearchOps"]

_CONTEXT_TYPES = ("memory", "resource", "skill")
_DURATION_RE = re.compile(r"^(\d+)\s*([smhdw])$")
_STOP = frozenset(
    [
        "a",
        "an",
        "and",
        "are",
        "as",
        "at",
        "be",
        "but",
        "by",
        "for",
        "from",
        "has",
        "have",
        "how",
        "i",
        "in",
        "is",
        "it",
        "its",
        "me",
        "my",
        "of",
        "on",
        "or",
        "our",
        "so",
        "that",
        "the",
        "their",
        "them",
        "then",
        "there",
        "these",
        "they",
        "this",
        "to",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "who",
        "why",
        "will",
        "with",
        "you",
        "your",
        "can",
        "do",
        "does",
        "did",
        "not",
        "no",
        "yes",
        "please",
        "thanks",
        "hi",
        "hello",
    ]
)


def _as_list(value: str | list[str] | None) -> list[str]:
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        out.extend(p.strip() for p in str(item).split(",") if p.strip())
    return out


def _levels(level: int | str | list[int] | None) -> tuple[int, ...]:
    if level is None or level == "":
        return ()
    raw = level if isinstance(level, list) else str(level).split(",")
    try:
        levels = tuple(int(v) for v in raw)
    except ValueError as exc:
        raise InvalidArgumentError("level must be 0, 1, 2 or a list of them") from exc
    if any(v not in (0, 1, 2) for v in levels):
        raise InvalidArgumentError("level must be 0, 1, 2 or a list of them")
    return levels


def _when(value: str | None, field: str) -> float | None:
    """``30m``/``2h``/``7d``/``1w`` ago, or an ISO date/time (tz-less means UTC)."""
    if not value:
        return None
    match = _DURATION_RE.match(value.strip())
    if match:
        unit = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}[match.group(2)]
        return time.time() - int(match.group(1)) * unit
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidArgumentError(
            f"{field} must be a duration (30m, 2h, 7d, 1w) or an ISO date", {field: value}
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()


def _keywords(texts: list[str], limit: int = 8) -> list[str]:
    words = Counter(
        w for t in texts for w in re.findall(r"[\w][\w.-]{2,}", t.lower()) if w not in _STOP
    )
    return [w for w, _ in words.most_common(limit)]


class SearchOps(ServiceCore):
    def _targets(self, ctx: RequestContext, target_uri: str | list[str] | None) -> tuple[str, ...]:
        targets = [t for t in _as_list(target_uri) if t not in ("", "/", "viking://")]
        if targets:
            return tuple(self._resolve(ctx, t, field="target_uri").uri for t in targets)
        if ctx.is_root:
            return ()
        return ("viking://resources", "viking://agent", f"viking://user/{ctx.user_id}")

    async def find(
        self,
        ctx: RequestContext,
        query: str,
        *,
        target_uri: str | list[str] | None = None,
        limit: int = 10,
        score_threshold: float | None = None,
        level: int | str | list[int] | None = None,
        context_type: str | list[str] | None = None,
        tags: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        time_field: str = "updated_at",
        include_provenance: bool = False,
    ) -> dict[str, Any]:
        """Hybrid, directory-recursive search. Result: ``{memories, resources, skills, total}``."""
        if not query or not query.strip():
            raise InvalidArgumentError("Search query must not be empty.")
        if not 1 <= limit <= 1000:
            raise InvalidArgumentError("limit must be between 1 and 1000", {"limit": limit})
        types = tuple(_as_list(context_type))
        if any(t not in _CONTEXT_TYPES for t in types):
            raise InvalidArgumentError(
                "context_type must be memory, resource or skill", {"context_type": context_type}
            )
        if time_field != "updated_at":
            raise InvalidArgumentError("time_field must be updated_at")
        index = self._require_index()
        targets = self._targets(ctx, target_uri)
        base = IndexFilter(
            account_id=ctx.account_id,
            uri_prefixes=targets,
            context_types=types,
            tags_all=tuple(t.lower() for t in (tags or [])),
            updated_after=_when(since, "since"),
            updated_before=_when(until, "until"),
        )
        threshold = (
            self.config.retrieval.score_threshold if score_threshold is None else score_threshold
        )
        retriever = Retriever(index, self.embedder, self.config.retrieval, self.reranker)
        hits = await retriever.find(
            FindQuery(
                query=query.strip(),
                base=base,
                limit=limit,
                score_threshold=threshold,
                levels=_levels(level),
                include_provenance=include_provenance,
            )
        )
        result = bucket_hits(hits)
        await self._attach_relations(ctx, result)
        return result

    async def search(
        self,
        ctx: RequestContext,
        query: str,
        *,
        session_id: str | None = None,
        target_uri: str | list[str] | None = None,
        limit: int = 10,
        score_threshold: float | None = None,
        level: int | str | list[int] | None = None,
        context_type: str | list[str] | None = None,
        tags: list[str] | None = None,
        since: str | None = None,
        until: str | None = None,
        time_field: str = "updated_at",
        include_provenance: bool = False,
        mode: str = "list",
        max_tokens: int | None = None,
        quotas: Mapping[str, int] | None = None,
        purpose: str | None = None,
        detail: str | Mapping[str, str] | None = None,
        exclude_uris: list[str] | None = None,
        rewrite: str | bool | None = None,
        rewrite_max_bullets: int | None = None,
        dedup_turns: int | None = None,
    ) -> dict[str, Any]:
        """``find`` plus expansion from the session's recent messages (keywords without an LLM).

        ``mode="list"`` (default) returns find's buckets plus ``query_plan`` describing the
        queries that ran. ``mode="context"`` assembles an injection-ready, token-budgeted block
        instead (``assemble_context``); the fields from ``max_tokens`` on belong to that mode
        only, and ``target_uri`` is refused there.
        """
        context_only = {
            "max_tokens": max_tokens,
            "quotas": quotas,
            "purpose": purpose,
            "detail": detail,
            "exclude_uris": exclude_uris,
            "rewrite": rewrite,
            "rewrite_max_bullets": rewrite_max_bullets,
            "dedup_turns": dedup_turns,
        }
        sent: dict[str, Any] = {k: v for k, v in context_only.items() if v is not None}
        if mode == "context":
            if _as_list(target_uri):
                raise InvalidArgumentError(
                    "target_uri is not supported with mode='context'", {"field": "target_uri"}
                )
            context_options: dict[str, Any] = {
                **sent,
                "limit": limit,
                "score_threshold": score_threshold,
                "context_type": context_type,
                "tags": tags,
            }
            result = await self._context_search(ctx, query, session_id, context_options)
            ignored = [
                name
                for name, sent in (
                    ("level", level is not None and level != ""),  # detail chooses the tiers
                    ("since", bool(since)),
                    ("until", bool(until)),
                    ("time_field", time_field != "updated_at"),
                    ("include_provenance", include_provenance),
                )
                if sent
            ]
            if ignored:
                result["stats"]["ignored"] = ignored
            return result
        if mode != "list":
            raise InvalidArgumentError("mode must be 'list' or 'context'", {"mode": mode})
        if sent:
            raise InvalidArgumentError(
                f"Only valid with mode='context': {', '.join(sent)}", {"fields": list(sent)}
            )
        options: dict[str, Any] = {
            "target_uri": target_uri,
            "limit": limit,
            "score_threshold": score_threshold,
            "level": level,
            "context_type": context_type,
            "tags": tags,
            "since": since,
            "until": until,
            "time_field": time_field,
            "include_provenance": include_provenance,
        }
        queries, how = await self._session_queries(ctx, query, session_id)
        if how == "llm":
            merged: dict[str, dict[str, Any]] = {}
            for text in queries:
                found = await self.find(ctx, text, **options)
                for hit in (*found["memories"], *found["resources"], *found["skills"]):
                    if hit["uri"] not in merged or hit["score"] > merged[hit["uri"]]["score"]:
                        merged[hit["uri"]] = hit
            best = sorted(merged.values(), key=lambda h: -h["score"])[:limit]
            result = bucket_hits(best)
            result["query_plan"] = {
                "reasoning": "queries rewritten by the LLM from the session's recent messages",
                "queries": [
                    {"query": t, "context_type": None, "intent": "find", "priority": i + 1}
                    for i, t in enumerate(queries)
                ],
            }
            return result
        result = await self.find(ctx, queries[0], **options)
        result["query_plan"] = {
            "reasoning": (
                "expanded with keywords from the session's recent messages"
                if how == "keywords"
                else "no session context; plain find"
            ),
            "queries": [
                {"query": queries[0], "context_type": None, "intent": "find", "priority": 1}
            ],
        }
        return result

    async def _context_search(
        self, ctx: RequestContext, query: str, session_id: str | None, options: dict[str, Any]
    ) -> dict[str, Any]:
        """``search(mode="context")``; the context mixin implements it."""
        raise UnimplementedError("Context assembly is not available")

    async def _attach_relations(self, ctx: RequestContext, result: dict[str, Any]) -> None:
        """Add ``relations`` to find hits; the relations mixin implements it."""

    async def _session_queries(
        self, ctx: RequestContext, query: str, session_id: str | None
    ) -> tuple[list[str], str]:
        """The queries to run for ``query`` in the light of the session's recent messages, and
        how they were made: ``"llm"`` (``query`` plus up to 3 queries the LLM planned),
        ``"keywords"`` (``query`` extended with frequent words of the messages), ``"none"`` (a
        session that adds nothing) or ``"off"`` (no session)."""
        if not session_id:
            return [query], "off"
        recent = await self._recent_messages(ctx, session_id)
        if not recent:
            return [query], "none"
        planned = await self._plan_queries(query, recent) if self.llm else []
        if planned:
            return [query, *planned], "llm"
        extra = [k for k in _keywords(recent) if k not in query.lower()]
        if extra:
            return [f"{query} {' '.join(extra)}".strip()], "keywords"
        return [query], "none"

    async def _plan_queries(self, query: str, recent: list[str]) -> list[str]:
        """Up to 3 standalone search queries from the LLM; ``[]`` if it fails or declines."""
        assert self.llm is not None
        history = "\n".join(f"- {m[:500]}" for m in recent)
        prompt = (
            "Recent conversation messages:\n"
            + history
            + "\n\nCurrent request: "
            + query
            + "\n\nWrite up to 3 standalone search queries that would find the context needed "
            'to answer the request. Reply with JSON only: {"queries": ["...", "..."]}'
        )
        try:
            answer = await self.llm.complete(prompt, json_mode=True, max_tokens=300)
            data = json.loads(answer.strip().removeprefix("```json").strip("`\n "))
            queries = [str(q).strip() for q in data.get("queries", []) if str(q).strip()]
        except (OpenVikingError, ValueError, AttributeError):
            return []
        return [q for q in queries if q.lower() != query.lower()][:3]

    async def _recent_messages(self, ctx: RequestContext, session_id: str, n: int = 5) -> list[str]:
        uri = self._resolve(ctx, f"viking://~/sessions/{session_id}/messages.jsonl")
        try:
            raw = await self.store.read_bytes(self._key(ctx, uri))
        except FileNotFoundError:
            if uri.parent is None or not await self.store.exists(self._key(ctx, uri.parent)):
                raise NotFoundError(session_id, "session") from None
            return []  # a session without messages yet
        texts: list[str] = []
        for line in raw.decode("utf-8", errors="replace").splitlines()[-n:]:
            try:
                message = json.loads(line)
            except ValueError:
                continue
            content = message_text(message) if isinstance(message, dict) else ""
            if content:
                texts.append(content)
        return texts

    async def grep(
        self,
        ctx: RequestContext,
        uri: str,
        pattern: str,
        *,
        case_insensitive: bool = False,
        exclude_uri: str | None = None,
        node_limit: int = 256,
        level_limit: int = 10,
    ) -> dict[str, Any]:
        """Regex over the lines of text files under ``uri``; ``node_limit`` caps matching lines."""
        regex = compile_grep(pattern, case_insensitive)
        base = self._resolve(ctx, uri)
        excluded = self._resolve(ctx, exclude_uri, field="exclude_uri") if exclude_uri else None
        files = await self._files_under(ctx, base, level_limit)
        matches: list[dict[str, Any]] = []
        scanned = 0
        for child in files:
            if excluded is not None and excluded.is_ancestor_of(child):
                continue
            try:
                data = await self.store.read_bytes(self._key(ctx, child))
            except (FileNotFoundError, IsADirectoryError):
                continue
            if b"\x00" in data[:8192]:
                continue
            scanned += 1
            for number, line in enumerate(data.decode("utf-8", errors="replace").splitlines(), 1):
                if regex.search(line[:10_000]):
                    matches.append({"uri": child.uri, "line": number, "content": line[:1000]})
                    if len(matches) >= node_limit:
                        return {
                            "matches": matches,
                            "count": len(matches),
                            "files_scanned": scanned,
                            "truncated": True,
                        }
        return {
            "matches": matches,
            "count": len(matches),
            "files_scanned": scanned,
            "truncated": False,
        }

    async def glob(
        self, ctx: RequestContext, pattern: str, *, uri: str = "viking://", node_limit: int = 256
    ) -> dict[str, Any]:
        """URIs under ``uri`` whose relative path matches ``pattern`` (hidden entries never)."""
        regex = compile_glob(pattern)
        base = self._resolve(ctx, uri)
        await self._require_dir(ctx, base)
        out: list[str] = []
        walked = await self._walk_visible(ctx, base, 10_000)
        for rel, _, child in sorted(walked, key=lambda item: item[0]):
            if regex.match(rel):
                out.append(child.uri)
                if len(out) >= node_limit:
                    break
        return {"matches": out, "count": len(out)}

    async def _walk_visible(
        self, ctx: RequestContext, base: VikingURI, depth: int
    ) -> list[tuple[str, Entry, VikingURI]]:
        """``(relative path, entry, uri)`` below ``base``, without dot-paths and without what
        the caller may not read (other users' spaces)."""
        key = self._key(ctx, base)
        out: list[tuple[str, Entry, VikingURI]] = []
        for entry in await self.store.walk(key, depth, 1_000_000):
            rel = entry.key[len(key) + 1 :]
            if any(p.startswith(".") for p in rel.split("/")):
                continue
            child = base.join(rel)
            if can_read(ctx, child):
                out.append((rel, entry, child))
        return out

    async def _files_under(
        self, ctx: RequestContext, base: VikingURI, depth: int
    ) -> list[VikingURI]:
        with self._fs_errors(base):
            entry = await self.store.stat(self._key(ctx, base))
        if not entry.is_dir:
            return [base]
        return [
            child
            for _, item, child in await self._walk_visible(ctx, base, depth)
            if not item.is_dir
        ]
