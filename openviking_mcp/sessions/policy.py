"""The auto-commit policy of a session (§9.1), off unless a session is given one.

``{message_count_threshold, pending_token_threshold, idle_timeout_seconds, keep_recent_count,
min_commit_interval_seconds}``; missing fields take the original's defaults and values are
clamped to ``[0, max]``. A session commits itself when, after a message is added, its live
message count or its pending tokens are *strictly greater* than the threshold, or (checked by a
periodic scan) when its last message is older than ``idle_timeout_seconds``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import BaseModel, ConfigDict, ValidationError

from openviking_mcp.contract.errors import InvalidArgumentError, validation_problem

__all__ = ["AutoCommitPolicy", "parse_policy"]

_LIMITS: dict[str, int] = {
    "pending_token_threshold": 1_000_000,
    "message_count_threshold": 1000,
    "idle_timeout_seconds": 604_800,
    "keep_recent_count": 500,
    "min_commit_interval_seconds": 604_800,
}


class AutoCommitPolicy(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pending_token_threshold: int = 150_000
    message_count_threshold: int = 100
    idle_timeout_seconds: int = 86_400
    keep_recent_count: int = 0
    min_commit_interval_seconds: int = 0

    def due(self, message_count: int, pending_tokens: int) -> str | None:
        """Why a commit is due after a message write (``None``: not due)."""
        if message_count > self.message_count_threshold:
            return "message_count"
        if pending_tokens > self.pending_token_threshold:
            return "pending_tokens"
        return None


def parse_policy(value: object) -> AutoCommitPolicy | None:
    """A policy from caller input (``None`` means off); numbers are
    clamped to ``[0, max]``, unknown keys and non-numbers are :class:`InvalidArgumentError`."""
    if value is None:
        return None
    if isinstance(value, AutoCommitPolicy):
        return value
    if not isinstance(value, Mapping):
        raise InvalidArgumentError(
            "auto_commit_policy must be an object", {"field": "auto_commit_policy"}
        )
    clamped: dict[str, Any] = {}
    for key, raw in value.items():
        limit = _LIMITS.get(str(key))
        if limit is not None and isinstance(raw, int | float) and not isinstance(raw, bool):
            clamped[str(key)] = min(max(int(raw), 0), limit)
        else:
            clamped[str(key)] = raw
    try:
        return AutoCommitPolicy.model_validate(clamped)
    except ValidationError as exc:
        raise InvalidArgumentError(
            f"Invalid auto_commit_policy: {validation_problem(exc.errors())}",
            {"field": "auto_commit_policy"},
        ) from None
