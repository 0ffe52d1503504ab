"""Skill search: a ``find`` over the skills roots that answers one hit per skill.

The retrieval itself belongs to the search feature; the skill service receives it as a
:data:`FindHits` callable (the composition root passes the search service's ``find``), so this
module needs only the contract's request and result models. Each hit names a file or tier of
some skill folder; the skill's best hit (highest score, then shortest URI, then lowest level)
stands for it, with the skill's summary read from its ``SKILL.md``. Hits pass the read check
of :mod:`openviking_mcp.contract.access`; a hit whose folder has no ``SKILL.md`` any more (a
stale index row) is dropped.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from openviking_mcp.contract.access import can_read, described_uri
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.search import FindRequest, FindResult, Hit
from openviking_mcp.contract.skills import FindSkillsRequest, FindSkillsResult, SkillHit
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.skills.stored import SKILL_FILE, skill_summary, split_skill_md
from openviking_mcp.store import Store

__all__ = ["FindHits", "SkillFinder"]

FindHits = Callable[[RequestContext, FindRequest], Awaitable[FindResult]]
"""A hybrid ``find`` (the search service's): request in, bucketed hits out."""

# Several tiers and files of one skill can be hits; ask for more so that ``limit`` distinct
# skills remain after keeping one hit per skill.
_OVERFETCH = 4
_MAX_FETCH = 1000

_Located = tuple[Hit, VikingURI, VikingURI]  # the hit, its skill folder, its skills root


def _rank(hit: Hit) -> tuple[float, int, str, int]:
    return (-hit.score, len(hit.uri), hit.uri, hit.level)


def _skill_dir(uri: str, roots: Sequence[VikingURI]) -> tuple[VikingURI, VikingURI] | None:
    """``(skill folder, skills root)`` of a hit's URI, ``None`` outside the roots or inside
    a hidden folder (staging and backups of an add in progress)."""
    target = described_uri(uri)
    if target is None:
        return None
    for root in roots:
        if root.is_ancestor_of(target, strict=True):
            name = target.relative_to(root).split("/", 1)[0]
            if name.startswith("."):
                return None
            return root.join(name), root
    return None


def _fetch_limit(limit: int) -> int:
    """How many hits to ask for; a limit below 1 is passed on for the search to refuse."""
    return min(limit * _OVERFETCH, _MAX_FETCH) if limit > 0 else limit


class SkillFinder:
    """See the module docs."""

    def __init__(self, store: Store, find: FindHits) -> None:
        self._store = store
        self._find = find

    async def find(
        self,
        ctx: RequestContext,
        req: FindSkillsRequest,
        roots: Sequence[VikingURI],
        *,
        one_root: bool,
    ) -> FindSkillsResult:
        """The skills under ``roots`` that match ``req.query``, best first, at most
        ``req.limit``; ``one_root`` answers ``root_uri`` instead of ``root_uris``."""
        request = FindRequest(
            query=req.query,
            target_uri=[root.uri for root in roots],
            limit=_fetch_limit(req.limit),
            score_threshold=req.score_threshold,
            level=req.level,
            context_type="skill",
        )
        found = await self._find(ctx, request)
        best = self._best_per_skill(ctx, found.skills, roots)
        hits: list[SkillHit] = []
        for located in sorted(best, key=lambda item: (-item[0].score, item[1].uri)):
            if len(hits) >= req.limit:
                break
            hit = await self._skill_hit(ctx, *located)
            if hit is not None:
                hits.append(hit)
        if one_root:
            return FindSkillsResult(root_uri=roots[0].uri, skills=hits, total=len(hits))
        return FindSkillsResult(
            root_uris=[root.uri for root in roots], skills=hits, total=len(hits)
        )

    @staticmethod
    def _best_per_skill(
        ctx: RequestContext, hits: Sequence[Hit], roots: Sequence[VikingURI]
    ) -> list[_Located]:
        best: dict[str, _Located] = {}
        for hit in hits:
            located = _skill_dir(hit.uri, roots)
            if located is None or not can_read(ctx, located[0]):
                continue
            previous = best.get(located[0].uri)
            if previous is None or _rank(hit) < _rank(previous[0]):
                best[located[0].uri] = (hit, *located)
        return list(best.values())

    async def _skill_hit(
        self, ctx: RequestContext, hit: Hit, directory: VikingURI, root: VikingURI
    ) -> SkillHit | None:
        store = self._store
        text = await store.read_text(f"{store.key(ctx, directory)}/{SKILL_FILE}")
        if text is None:
            return None
        meta, body = split_skill_md(text)
        summary = skill_summary(meta, body, directory.name, directory, root)
        return SkillHit(
            **{**summary, "uri": hit.uri},
            score=hit.score,
            match_reason=hit.match_reason,
            level=hit.level,
            abstract=hit.abstract,
        )
