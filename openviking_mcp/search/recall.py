"""The deprecated recall preset: a recall request folded onto ``search(mode="context")``.

Fields the caller left unset take the preset's values; an explicit field always wins, and the
first version's names (``max_chars``, ``min_score``, ``render``) give way to their successors
(``max_tokens``, ``score_threshold``, ``detail``) when both are sent.
"""

from __future__ import annotations

from typing import Any

from openviking_mcp.contract.search import RecallDeprecation, RecallRequest, SearchRequest

__all__ = ["IGNORED_FIELDS", "fold_recall", "recall_deprecation"]

#: Recall fields this server has no use for: reported in ``stats.ignored`` when sent.
IGNORED_FIELDS = ("query_expansion", "peer_scope", "other_peer_penalty")

_CHARS_PER_TOKEN = 4
_V1_NAMES = ("max_chars", "min_score", "render")
_V1_QUOTAS = {"events": 10, "entities": 10, "preferences": 3, "experiences": 0}
_PURPOSE = "coding"
_SCORE_THRESHOLD = 0.1
_DEDUP_TURNS = 5


def _sent(req: RecallRequest, name: str) -> bool:
    return name in req.model_fields_set and getattr(req, name) is not None


def _max_tokens(req: RecallRequest) -> int | None:
    if _sent(req, "max_tokens"):
        return req.max_tokens
    if "max_chars" in req.model_fields_set:
        return max(64, round(req.max_chars / _CHARS_PER_TOKEN))
    return None  # the context mode's default budget


def _quotas(req: RecallRequest) -> dict[str, Any] | None:
    """Unset: the first version's quotas over the purpose's; null: the purpose's alone; a map:
    laid over the first version's."""
    if "quotas" not in req.model_fields_set:
        return dict(_V1_QUOTAS)
    return None if req.quotas is None else {**_V1_QUOTAS, **req.quotas}


def _detail(req: RecallRequest) -> Any:
    if _sent(req, "detail"):
        return req.detail
    return "abstract" if req.render == "compact" else None


def fold_recall(req: RecallRequest) -> SearchRequest:
    """``req`` as the context-mode search it stands for."""
    threshold = req.score_threshold if _sent(req, "score_threshold") else None
    if threshold is None:
        threshold = req.min_score if "min_score" in req.model_fields_set else _SCORE_THRESHOLD
    dedup = req.dedup_turns if _sent(req, "dedup_turns") else None
    if dedup is None:
        dedup = _DEDUP_TURNS if req.session_id else 0
    return SearchRequest(
        query=req.query,
        session_id=req.session_id,
        mode="context",
        score_threshold=threshold,
        max_tokens=_max_tokens(req),
        quotas=_quotas(req),
        purpose=req.purpose or _PURPOSE,
        detail=_detail(req),
        dedup_turns=dedup,
        exclude_uris=req.exclude_uris,
        rewrite=req.rewrite,
        rewrite_max_bullets=req.rewrite_max_bullets,
    )


def recall_deprecation(req: RecallRequest) -> RecallDeprecation:
    """The successor of the recall route, and the first-version names ``req`` used."""
    return RecallDeprecation(
        endpoint="/api/v1/search/recall",
        successor="/api/v1/search/search",
        successor_body={"mode": "context"},
        aliases_used=[name for name in _V1_NAMES if name in req.model_fields_set],
    )
