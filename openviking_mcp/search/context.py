"""Context assembly (``search(mode="context")``): search hits → one token-budgeted block that an
agent can inject into its prompt. Pure logic, no I/O; the service side (retrieval and reading
tier texts) is :class:`openviking_mcp.search.assembler.ContextAssembler`; the token estimate
and the shaping of tier texts are in :mod:`openviking_mcp.search.context_text` (re-exported here).

* **Categories.** A memory hit is bucketed by the folder under ``memories/``
  (``viking://user/{uid}/memories/{category}/...``, also under ``peers/{peer}/memories``):
  ``events``, ``entities``, ``preferences`` and ``experiences`` are their own buckets, and so
  are ``conversations`` (the archived turns of committed sessions: what was said, word for
  word); every other memory (``profile.md``, ``cases/``, ``patterns/``, ``identity.md``...)
  reports as ``memories``. Resource and skill hits are ``resources`` and ``skills``. Output
  order follows :data:`CATEGORIES`, then score (best first).
* **Quotas** cap the entries per category. Without ``purpose``:
  :func:`default_quotas` (scaled by ``limit``; with ``limit=10`` the memory part is v1's
  ``{events:10, entities:10, preferences:3, experiences:0}``). ``purpose`` picks a
  :data:`PURPOSE_QUOTAS` preset. Explicit ``quotas`` overlay the defaults or the preset key by
  key (``0`` turns a bucket off).
* **Tiers**, shallow to deep: ``uri`` (no text) < ``abstract`` < ``overview`` < ``full``. With
  ``detail="auto"`` events start at ``overview`` and may deepen to ``full`` when budget is
  spare; every other category starts and stays at ``abstract``. An explicit tier is both start
  and ceiling. A tier whose text is missing steps down to the next one that exists.
* **Budget** (:func:`plan_budget`): costs are estimated tokens of each rendered entry (tags
  included, :func:`estimate_tokens`). First every candidate is placed at ``uri``; if even that
  overflows ``max_tokens`` the lowest-scored entries are dropped. Then, best score first, each
  entry is raised to its start tier, or the deepest tier below it that fits, within a per-entry
  cap of ``2 * max_tokens / entries``; a second pass lifts what the cap held back, and a last
  pass spends spare budget deepening entries up to their ceiling (events to ``full``). So a
  tight budget steps tiers down (full → overview → abstract → uri) before any entry is dropped.
* **Rendering** (:func:`render_entry`): ``<memory uri=".." type="<category>" score="0.87"
  detail="abstract">\\ntext\\n</memory>`` (no text line at the ``uri`` tier); resources use
  the tag ``resource`` and skills ``skill``; score has two decimals. Attribute values are
  XML-escaped; a closing tag of the same name inside the text is neutralised (``</memory`` →
  ``&lt;/memory``) so the text cannot end its own block.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.search.context_text import (
    estimate_tokens,
    file_overview,
    parse_bullets,
    strip_memory_trailer,
)

__all__ = [
    "CATEGORIES",
    "CONTEXT_TYPES",
    "MEMORY_CATEGORIES",
    "PURPOSE_QUOTAS",
    "TIERS",
    "TYPE_CATEGORIES",
    "Candidate",
    "ContextHit",
    "Plan",
    "PlannedEntry",
    "Tier",
    "category_of",
    "context_hit",
    "default_quotas",
    "estimate_tokens",
    "file_overview",
    "is_navigation_dir",
    "order_entries",
    "parse_bullets",
    "plan_budget",
    "render_entry",
    "requested_types",
    "resolve_detail",
    "resolve_quotas",
    "select_hits",
    "strip_memory_trailer",
    "tier_bounds",
]

Tier = Literal["uri", "abstract", "overview", "full"]
TIERS: tuple[Tier, ...] = ("uri", "abstract", "overview", "full")
MEMORY_CATEGORIES = ("events", "entities", "preferences", "experiences", "conversations")
CATEGORIES = (*MEMORY_CATEGORIES, "memories", "resources", "skills")
CONTEXT_TYPES = ("memory", "resource", "skill")
TYPE_CATEGORIES: dict[str, tuple[str, ...]] = {
    "memory": (*MEMORY_CATEGORIES, "memories"),
    "resource": ("resources",),
    "skill": ("skills",),
}
PURPOSE_QUOTAS: dict[str, dict[str, int]] = {
    "coding": {
        "events": 1,
        "entities": 2,
        "preferences": 1,
        "experiences": 1,
        "conversations": 1,
        "memories": 0,
        "resources": 3,
        "skills": 2,
    },
    "chat": {
        "events": 3,
        "entities": 3,
        "preferences": 1,
        "experiences": 1,
        "conversations": 3,
        "memories": 0,
        "resources": 1,
        "skills": 1,
    },
}
_MAX_QUOTA = 200
_DETAILS = ("auto", *TIERS)
_TIER_NAMES: dict[str, Tier] = {t: t for t in TIERS}
_SIDECARS = ("/.abstract.md", "/.overview.md")
_TAGS = {"resources": "resource", "skills": "skill"}


# -- categories and hits --------------------------------------------------------------------


def is_navigation_dir(uri: str) -> bool:
    """Preset scope folders (``viking://resources``, ``viking://agent``, ``agent/skills``, a
    user root and its first-level folders, a peer and its folders): they only describe the
    layout, so they are never context entries."""
    parts = [p for p in uri.removeprefix("viking://").split("/") if p]
    if len(parts) <= 1:
        return True
    if parts[0] == "agent":
        return len(parts) <= 2
    if parts[0] == "user":
        return len(parts) <= 3 or (parts[2] == "peers" and len(parts) <= 5)
    return False


def category_of(uri: str, context_type: str, *, is_dir: bool = False) -> str:
    """The bucket of an entry (see the module docstring). ``uri`` is the file, or the
    directory itself for a directory hit."""
    if context_type == "skill":
        return "skills"
    if context_type != "memory":
        return "resources"
    parts = [p for p in uri.removeprefix("viking://").split("/") if p]
    if "memories" not in parts:
        return "memories"
    at = parts.index("memories") + 1
    # the folder right under memories/, or the directory hit itself
    if at < len(parts) - 1 or (is_dir and at == len(parts) - 1):
        return parts[at] if parts[at] in MEMORY_CATEGORIES else "memories"
    return "memories"


@dataclass(frozen=True, slots=True)
class ContextHit:
    """A search hit as context assembly sees it: directory hits carry the directory's URI."""

    uri: str
    category: str
    score: float
    is_dir: bool
    abstract: str


def context_hit(hit: Mapping[str, Any]) -> ContextHit | None:
    """Convert a ``find`` hit; ``None`` for preset navigation folders. A file's abstract is its
    L0 summary, or its best passage when it has none."""
    uri = str(hit["uri"])
    is_dir = uri.endswith(_SIDECARS)
    if is_dir:
        uri = uri.rsplit("/", 1)[0]
        if is_navigation_dir(uri):
            return None
    context_type = str(hit.get("context_type") or "resource")
    abstract = str(hit.get("abstract") or "").strip()
    if not abstract and not is_dir:
        abstract = str(hit.get("match") or "").strip()
    score = float(hit.get("score") or 0.0)
    if not math.isfinite(score):
        score = 0.0
    category = category_of(uri, context_type, is_dir=is_dir)
    return ContextHit(uri, category, score, is_dir, abstract)


def _bare(uri: str) -> str:
    for suffix in _SIDECARS:
        if uri.endswith(suffix):
            return uri[: -len(suffix)]
    return uri.rstrip("/")


def select_hits(
    hits: Iterable[ContextHit], quotas: Mapping[str, int], exclude: Iterable[str] = ()
) -> tuple[list[ContextHit], int]:
    """Merge hits by URI (best score), drop excluded URIs (a directory is also excluded by its
    ``.abstract.md``/``.overview.md`` URI), drop directories that contain another hit, kept
    or excluded (their overview only restates it), and keep the best ``quotas[category]`` of
    each category. Returns the kept hits (category order, best first) and the excluded count."""
    excluded = {_bare(u) for u in exclude}
    best: dict[str, ContextHit] = {}
    dropped: set[str] = set()
    for hit in hits:
        if hit.uri in excluded:
            dropped.add(hit.uri)
            continue
        if hit.uri not in best or hit.score > best[hit.uri].score:
            best[hit.uri] = hit
    found = set(best) | dropped
    covered = {
        uri
        for uri, hit in best.items()
        if hit.is_dir and any(other.startswith(uri + "/") for other in found)
    }
    kept: list[ContextHit] = []
    for category in CATEGORIES:
        ranked = sorted(
            (h for h in best.values() if h.category == category and h.uri not in covered),
            key=lambda h: (-h.score, h.uri),
        )
        kept.extend(ranked[: max(0, quotas.get(category, 0))])
    return kept, len(dropped)


# -- parameters -----------------------------------------------------------------------------


def requested_types(context_type: str | list[str] | None) -> tuple[str, ...]:
    """The context types to retrieve (all three when none is named)."""
    items = context_type if isinstance(context_type, list) else [context_type or ""]
    names = [p.strip() for item in items for p in str(item).split(",") if p.strip()]
    unknown = sorted(set(names) - set(CONTEXT_TYPES))
    if unknown:
        raise InvalidArgumentError(
            "context_type must be memory, resource or skill", {"context_type": context_type}
        )
    return tuple(t for t in CONTEXT_TYPES if not names or t in names)


def default_quotas(limit: int) -> dict[str, int]:
    """Quotas without ``purpose``: events and entities ``limit``, preferences ``min(limit,
    3)``, experiences 0 (v1's default when ``limit=10``), conversation turns and other
    memories ``min(limit, 3)``, resources ``limit`` and skills ``min(limit, 2)``."""
    return {
        "events": limit,
        "entities": limit,
        "preferences": min(limit, 3),
        "experiences": 0,
        "conversations": min(limit, 3),
        "memories": min(limit, 3),
        "resources": limit,
        "skills": min(limit, 2),
    }


def resolve_quotas(
    limit: int, purpose: str | None, quotas: Mapping[str, int] | None
) -> dict[str, int]:
    """Effective per-category quotas: the ``purpose`` preset (or :func:`default_quotas`),
    overlaid key by key with ``quotas``. Unknown keys or purposes are errors that name them."""
    if purpose is not None and purpose not in PURPOSE_QUOTAS:
        raise InvalidArgumentError(
            f"purpose must be one of {', '.join(PURPOSE_QUOTAS)}", {"purpose": purpose}
        )
    result = dict(PURPOSE_QUOTAS[purpose]) if purpose else default_quotas(limit)
    if quotas is None:
        return result
    if not isinstance(quotas, Mapping):
        raise InvalidArgumentError("quotas must be an object of category: count")
    unknown = sorted(str(k) for k in quotas if k not in CATEGORIES)
    if unknown:
        raise InvalidArgumentError(
            f"Unknown quota categories: {', '.join(unknown)} (allowed: {', '.join(CATEGORIES)})",
            {"unknown": unknown, "allowed": list(CATEGORIES)},
        )
    for key, value in quotas.items():
        if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= _MAX_QUOTA:
            raise InvalidArgumentError(
                f"quotas.{key} must be an integer between 0 and {_MAX_QUOTA}",
                {"field": f"quotas.{key}", "value": value},
            )
        result[key] = value
    return result


def resolve_detail(detail: str | Mapping[str, str] | None) -> dict[str, str]:
    """``detail`` per category: one of ``auto|uri|abstract|overview|full`` for all, or an
    object naming some categories (the others stay ``auto``)."""
    chosen = {c: "auto" for c in CATEGORIES}
    if detail is None:
        return chosen
    if isinstance(detail, str):
        per: Mapping[str, str] = dict.fromkeys(CATEGORIES, detail)
    elif isinstance(detail, Mapping):
        per = detail
        unknown = sorted(str(k) for k in per if k not in CATEGORIES)
        if unknown:
            raise InvalidArgumentError(
                f"Unknown detail categories: {', '.join(unknown)}", {"unknown": unknown}
            )
    else:
        raise InvalidArgumentError("detail must be a string or an object of category: tier")
    for key, value in per.items():
        if value not in _DETAILS:
            raise InvalidArgumentError(
                f"detail must be one of {', '.join(_DETAILS)}", {"detail": value, "field": key}
            )
        chosen[key] = value
    return chosen


def tier_bounds(category: str, detail: str) -> tuple[Tier, Tier]:
    """``(start, ceiling)`` tiers of an entry: ``auto`` gives events ``(overview, full)`` and
    everything else ``(abstract, abstract)``; an explicit tier is both."""
    if detail == "auto":
        return ("overview", "full") if category == "events" else ("abstract", "abstract")
    tier = _TIER_NAMES[detail]
    return tier, tier


# -- budgeting and rendering ----------------------------------------------------------------


def _attr(value: str) -> str:
    return (
        value.replace("&", "&amp;").replace('"', "&quot;").replace("<", "&lt;").replace(">", "&gt;")
    )


def render_entry(uri: str, category: str, score: float, detail: str, text: str) -> str:
    """One entry as an XML-ish block (see the module docstring)."""
    tag = _TAGS.get(category, "memory")
    body = re.sub(f"</({tag})", r"&lt;/\1", text, flags=re.IGNORECASE)
    head = (
        f'<{tag} uri="{_attr(uri)}" type="{_attr(category)}" score="{score:.2f}" '
        f'detail="{_attr(detail)}">'
    )
    return f"{head}\n{body}\n</{tag}>" if body else f"{head}\n</{tag}>"


@dataclass(slots=True)
class Candidate:
    """An entry to budget: ``texts`` maps the tiers it has (``abstract``/``overview``/``full``)
    to their text; ``uri`` is always available."""

    uri: str
    category: str
    score: float
    texts: dict[str, str] = field(default_factory=dict)
    start: Tier = "abstract"
    ceiling: Tier = "abstract"

    def has(self, tier: Tier) -> bool:
        return tier == "uri" or bool(self.texts.get(tier))

    def deepest(self, limit: Tier) -> Tier:
        """The deepest tier it has at or below ``limit``."""
        for tier in reversed(TIERS[: TIERS.index(limit) + 1]):
            if self.has(tier):
                return tier
        return "uri"


@dataclass(frozen=True, slots=True)
class PlannedEntry:
    uri: str
    category: str
    score: float
    detail: Tier
    text: str
    tokens: int

    def rendered(self) -> str:
        return render_entry(self.uri, self.category, self.score, self.detail, self.text)

    def to_dict(self) -> dict[str, Any]:
        return {
            "uri": self.uri,
            "category": self.category,
            "score": self.score,
            "detail": self.detail,
            "text": self.text,
        }


@dataclass(frozen=True, slots=True)
class Plan:
    entries: list[PlannedEntry]  # output order: category, then best score first
    dropped: list[Candidate]
    used_tokens: int
    per_entry_cap: int

    @property
    def rendered(self) -> str:
        return "\n".join(e.rendered() for e in self.entries)

    def tier_counts(self) -> dict[str, int]:
        counts: dict[str, int] = dict.fromkeys(TIERS, 0)
        for entry in self.entries:
            counts[entry.detail] += 1
        return counts


def order_entries(entries: Iterable[PlannedEntry]) -> list[PlannedEntry]:
    """Category order (:data:`CATEGORIES`), then best score first."""
    rank = {c: i for i, c in enumerate(CATEGORIES)}
    return sorted(entries, key=lambda e: (rank.get(e.category, len(rank)), -e.score, e.uri))


def _fit_uri_tier(
    count: int, uri_cost: Callable[[int], int], max_tokens: int
) -> tuple[list[int], int]:
    """``(kept, used)``: the ranks ``0..count-1`` that fit ``max_tokens`` at the ``uri`` tier
    and their total cost. The lowest-ranked entries are dropped until the rest fit; then each
    dropped entry after the first one is taken back if its (cheaper) URI still fits."""
    kept = list(range(count))
    used = sum(uri_cost(i) for i in kept)
    while kept and used > max_tokens:
        used -= uri_cost(kept.pop())
    for i in range(len(kept) + 1, count):  # a cheaper, lower-ranked URI may still fit
        if used + uri_cost(i) <= max_tokens:
            kept.append(i)
            used += uri_cost(i)
    return kept, used


def plan_budget(candidates: Iterable[Candidate], max_tokens: int) -> Plan:
    """Choose a tier per candidate so that the rendered block costs at most ``max_tokens``
    (the algorithm is in the module docstring). An entry costs the estimated tokens of its
    rendered block plus one for the newline that joins blocks, so ``used_tokens`` bounds
    ``estimate_tokens(plan.rendered)``."""
    rank = {c: i for i, c in enumerate(CATEGORIES)}
    ranked = sorted(candidates, key=lambda c: (-c.score, rank.get(c.category, 99), c.uri))
    costs: dict[tuple[int, Tier], int] = {}

    def cost(i: int, tier: Tier) -> int:
        if (i, tier) not in costs:
            c = ranked[i]
            text = c.texts.get(tier, "") if tier != "uri" else ""
            block = render_entry(c.uri, c.category, c.score, tier, text)
            costs[(i, tier)] = estimate_tokens(block) + 1
        return costs[(i, tier)]

    kept, used = _fit_uri_tier(len(ranked), lambda i: cost(i, "uri"), max_tokens)
    tier: dict[int, Tier] = dict.fromkeys(kept, "uri")
    cap = max(1, 2 * max_tokens // len(kept)) if kept else 0

    def lift(i: int, top: Tier, *, capped: bool) -> None:
        nonlocal used
        current = TIERS.index(tier[i])
        for option in reversed(TIERS[current + 1 : TIERS.index(top) + 1]):
            if not ranked[i].has(option) or (capped and cost(i, option) > cap):
                continue
            extra = cost(i, option) - cost(i, tier[i])
            if used + extra <= max_tokens:
                tier[i] = option
                used += extra
                return

    for capped in (True, False):  # up to the start tier: within the cap, then without it
        for i in kept:
            lift(i, ranked[i].deepest(ranked[i].start), capped=capped)
    for i in kept:  # spare budget: deepen up to the ceiling (events to full)
        lift(i, ranked[i].deepest(ranked[i].ceiling), capped=False)
    entries = [
        PlannedEntry(
            ranked[i].uri,
            ranked[i].category,
            ranked[i].score,
            tier[i],
            ranked[i].texts.get(tier[i], "") if tier[i] != "uri" else "",
            cost(i, tier[i]),
        )
        for i in kept
    ]
    kept_set = set(kept)
    dropped = [ranked[i] for i in range(len(ranked)) if i not in kept_set]
    return Plan(order_entries(entries), dropped, used, cap)
