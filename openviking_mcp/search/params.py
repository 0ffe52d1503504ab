"""The filters of a find request, checked and turned into index terms (pure, no I/O).

``context_type`` and ``target_uri`` accept one value, a comma-separated string or a list;
``level`` 0, 1, 2 or a list of them; ``since``/``until`` a duration ago (``30m``, ``2h``,
``7d``, ``1w``) or an ISO date/time (tz-less means UTC).
"""

from __future__ import annotations

import re
import time
from datetime import UTC, datetime

from openviking_mcp.contract.errors import InvalidArgumentError

__all__ = [
    "CONTEXT_TYPES",
    "MAX_GLOB_MATCHES",
    "MAX_GREP_MATCHES",
    "MAX_LIMIT",
    "as_list",
    "check_types",
    "glob_cap",
    "grep_cap",
    "levels",
    "result_limit",
    "when",
]

CONTEXT_TYPES = ("memory", "resource", "skill")
#: The most hits one find returns.
MAX_LIMIT = 1000
#: The most lines one grep returns (the original has no bound).
MAX_GREP_MATCHES = 10_000
#: The most URIs one glob returns (the original has no bound).
MAX_GLOB_MATCHES = 100_000
_DURATION_RE = re.compile(r"^([0-9]{1,12})\s*([smhdw])$")  # bounded: no float overflow
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def result_limit(limit: int, node_limit: int | None = None) -> int:
    """The number of hits a find or search returns: ``node_limit`` wins over ``limit``; below 1
    is ``INVALID_ARGUMENT`` (as the original's ``ge=1``); above :data:`MAX_LIMIT` is that
    bound (the original has none)."""
    value = limit if node_limit is None else node_limit
    field = "limit" if node_limit is None else "node_limit"
    if value < 1:
        raise InvalidArgumentError(f"{field} must be at least 1", {"field": field, field: value})
    return min(value, MAX_LIMIT)


def grep_cap(node_limit: int | None) -> int:
    """The most matching lines a grep returns, as the original answers: ``0`` or none means
    no cap (here :data:`MAX_GREP_MATCHES`), a negative value one line (its loop stops after
    the first match)."""
    if node_limit is None or node_limit == 0:
        return MAX_GREP_MATCHES
    if node_limit < 0:
        return 1
    return min(node_limit, MAX_GREP_MATCHES)


def glob_cap(node_limit: int | None) -> int:
    """The most URIs a glob returns: ``0``, a negative value or none mean no cap (as the
    original), here :data:`MAX_GLOB_MATCHES`."""
    if node_limit is None or node_limit <= 0:
        return MAX_GLOB_MATCHES
    return min(node_limit, MAX_GLOB_MATCHES)


def as_list(value: str | list[str] | None) -> list[str]:
    """The non-empty items of ``value``, each string split at commas."""
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    out: list[str] = []
    for item in items:
        out.extend(p.strip() for p in str(item).split(",") if p.strip())
    return out


def check_types(context_type: str | list[str] | None) -> tuple[str, ...]:
    """The context types named (none: every type)."""
    types = tuple(as_list(context_type))
    if any(t not in CONTEXT_TYPES for t in types):
        raise InvalidArgumentError(
            "context_type must be memory, resource or skill", {"context_type": context_type}
        )
    return types


def levels(level: int | str | list[int] | None) -> tuple[int, ...]:
    """The tiers asked for (none: all of them)."""
    if level is None or level == "":
        return ()
    raw = level if isinstance(level, list) else str(level).split(",")
    try:
        found = tuple(int(v) for v in raw)
    except ValueError as exc:
        raise InvalidArgumentError("level must be 0, 1, 2 or a list of them") from exc
    if any(v not in (0, 1, 2) for v in found):
        raise InvalidArgumentError("level must be 0, 1, 2 or a list of them")
    return found


def when(value: str | None, field: str) -> float | None:
    """The epoch ``value`` names: a duration ago or an ISO date/time (tz-less means UTC)."""
    if not value:
        return None
    match = _DURATION_RE.match(value.strip())
    if match:
        return time.time() - int(match.group(1)) * _UNITS[match.group(2)]
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise InvalidArgumentError(
            f"{field} must be a duration (30m, 2h, 7d, 1w) or an ISO date", {field: value}
        ) from exc
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.timestamp()
