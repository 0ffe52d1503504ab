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

__all__ = ["CONTEXT_TYPES", "MAX_LIMIT", "as_list", "check_types", "levels", "when"]

CONTEXT_TYPES = ("memory", "resource", "skill")
#: The most hits one find returns.
MAX_LIMIT = 1000
_DURATION_RE = re.compile(r"^([0-9]{1,12})\s*([smhdw])$")  # bounded: no float overflow
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


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
