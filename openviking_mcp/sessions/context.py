"""Fitting a session's messages into a token budget (pure: no storage).

:func:`fit_messages` keeps the newest messages whose estimated tokens fit the budget;
:func:`fit_overview` then adds the latest finished archive's overview if it still fits.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.sessions.messages import estimate_message_tokens, estimate_tokens

__all__ = ["check_budget", "fit_messages", "fit_overview"]


def check_budget(token_budget: object) -> int:
    """A token budget: a non-negative integer (booleans refused)."""
    if isinstance(token_budget, bool) or not isinstance(token_budget, int) or token_budget < 0:
        raise InvalidArgumentError(
            "token_budget must be a non-negative integer", {"field": "token_budget"}
        )
    return token_budget


def fit_messages(
    candidates: Sequence[dict[str, Any]], budget: int
) -> tuple[list[dict[str, Any]], int]:
    """The newest ``candidates`` that fit ``budget`` (in their order) and their tokens."""
    kept: list[dict[str, Any]] = []
    used = 0
    for message in reversed(candidates):
        cost = estimate_message_tokens(message)
        if used + cost > budget:
            break
        kept.append(message)
        used += cost
    kept.reverse()
    return kept, used


def fit_overview(text: str, used: int, budget: int) -> tuple[str, int, int]:
    """``(overview or "", its tokens, dropped)``: the overview if it fits next to ``used``
    tokens; ``dropped`` is 1 when there was one that did not fit."""
    if not text:
        return "", 0, 0
    cost = estimate_tokens(text)
    if used + cost <= budget:
        return text, cost, 0
    return "", 0, 1
