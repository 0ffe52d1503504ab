"""The governance sections of ``ov.conf``: the audit log, ``Idempotency-Key`` and rate limits
(re-exported by :mod:`openviking_mcp.config`)."""

from __future__ import annotations

from typing import Any

from pydantic import Field

from openviking_mcp._config_base import Section as _Section

__all__ = ["AuditConfig", "IdempotencyConfig", "RateLimitRule", "RateLimitsConfig"]


class IdempotencyConfig(_Section):
    """``Idempotency-Key`` on the HTTP API's mutating requests (docs/idempotency.md)."""

    enabled: bool = True
    """Honour the header; when off it is ignored and every request runs."""
    ttl_hours: float = Field(default=24.0, gt=0)
    """How long a recorded response is replayed for its key."""
    wait_seconds: float = Field(default=30.0, ge=0)
    """How long a repeat waits for the first request with its key to finish before it gets
    409 ``IDEMPOTENCY_IN_PROGRESS``."""
    lease_seconds: float = Field(default=900.0, gt=0)
    """A request still unfinished after this long (its server died) no longer holds its key:
    the next request with the key runs."""
    max_response_bytes: int = Field(default=1024 * 1024, gt=0)
    """Largest response body recorded; a larger one is sent but not recorded."""


class AuditConfig(_Section):
    """The audit log: who changed what, through which surface (docs/audit.md)."""

    enabled: bool = True
    """Record mutating calls, admin actions and privileged access to other users' spaces."""
    retention_days: float = Field(default=90.0, ge=0)
    """Entries older than this many days are pruned (0 keeps them forever)."""
    flush_interval_seconds: float = Field(default=1.0, gt=0, le=60)
    """How long new entries may wait in memory before they are written."""
    buffer_max: int = Field(default=1000, ge=1, le=100_000)
    """Entries held in memory at most; a full buffer is written before another is added."""


class RateLimitRule(_Section):
    """One route class's token bucket (docs/rate-limits.md)."""

    requests_per_minute: int = Field(default=0, ge=0)
    """Sustained rate a caller may use; 0: the class is not limited."""
    burst: int | None = Field(default=None, ge=1)
    """Requests a caller may make at once; ``None``: ``requests_per_minute``."""

    @property
    def capacity(self) -> int:
        return self.burst if self.burst is not None else max(self.requests_per_minute, 1)


def _rule(per_minute: int, burst: int) -> Any:
    return Field(default_factory=lambda: RateLimitRule(requests_per_minute=per_minute, burst=burst))


class RateLimitsConfig(_Section):
    """Rate limits per caller and route class, off by default (docs/rate-limits.md)."""

    enabled: bool = False
    search: RateLimitRule = _rule(600, 100)
    writes: RateLimitRule = _rule(300, 60)
    imports: RateLimitRule = _rule(30, 10)
    chat: RateLimitRule = _rule(60, 10)
