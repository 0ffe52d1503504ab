"""The limiter: one token bucket per caller and route class, in this process's memory.

A bucket holds up to ``burst`` tokens and refills at ``requests_per_minute / 60`` tokens a
second; a request takes one token, and a request finding less than one is refused with
:class:`ResourceExhaustedError` (HTTP 429) saying how many seconds until a token is back.
With several server processes each keeps its own buckets, so a caller may get up to N times
the configured rate across N servers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

from openviking_mcp.config import RateLimitRule, RateLimitsConfig
from openviking_mcp.contract.errors import ResourceExhaustedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.ratelimit.classes import RouteClass

__all__ = ["MAX_BUCKETS", "RateLimitService", "bucket_identity"]

MAX_BUCKETS = 50_000
"""Past this many buckets, the ones that have refilled completely are dropped."""


def bucket_identity(caller: RequestContext, client_host: str | None, *, dev_mode: bool) -> str:
    """Whose bucket a request draws from: the client address in dev mode (where every caller
    may claim any identity), else the caller's account, user and key id."""
    if dev_mode:
        return f"client:{client_host or 'local'}"
    key_id = getattr(caller, "key_id", None) or ""
    return f"key:{caller.account_id}/{caller.user_id}/{key_id}"


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimitService:
    """Checks requests against ``rate_limits`` (``config``); ``clock`` gives seconds
    (monotonic; tests pass their own)."""

    def __init__(
        self, config: RateLimitsConfig, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.config = config
        self.clock = clock
        self._buckets: dict[tuple[str, RouteClass], _Bucket] = {}

    @property
    def enabled(self) -> bool:
        return self.config.enabled

    def rule(self, route_class: RouteClass) -> RateLimitRule:
        """The configured rate and burst of ``route_class``."""
        rule: RateLimitRule = getattr(self.config, route_class.value)
        return rule

    def check(self, identity: str, route_class: RouteClass | None) -> None:
        """Take a token from ``identity``'s bucket of ``route_class``; 429
        ``RESOURCE_EXHAUSTED`` (``details``: ``class``, ``limit``, ``burst``, ``retry_after``
        seconds) when there is none. Nothing is checked when the limits are off, for an
        unclassified request, or for a class whose rate is 0."""
        if route_class is None or not self.config.enabled:
            return
        rule = self.rule(route_class)
        if rule.requests_per_minute <= 0:
            return
        capacity = float(rule.capacity)
        rate = rule.requests_per_minute / 60.0
        now = self.clock()
        bucket = self._buckets.get((identity, route_class))
        if bucket is None:
            self._prune(now)
            bucket = self._buckets[(identity, route_class)] = _Bucket(capacity, now)
        else:
            elapsed = max(0.0, now - bucket.updated)
            bucket.tokens = min(capacity, bucket.tokens + elapsed * rate)
            bucket.updated = now
        if bucket.tokens >= 1.0:
            bucket.tokens -= 1.0
            return
        retry_after = max(1, math.ceil((1.0 - bucket.tokens) / rate))
        raise ResourceExhaustedError(
            f"Rate limit exceeded for {route_class.value} requests "
            f"({rule.requests_per_minute} per minute, burst {rule.capacity}); "
            f"retry in {retry_after}s",
            {
                "class": route_class.value,
                "limit": rule.requests_per_minute,
                "burst": rule.capacity,
                "retry_after": retry_after,
            },
        )

    def _prune(self, now: float) -> None:
        """Drop the buckets that are full again (their callers have been idle) when there
        are too many."""
        if len(self._buckets) < MAX_BUCKETS:
            return
        for key, bucket in list(self._buckets.items()):
            rule = self.rule(key[1])
            rate = max(rule.requests_per_minute, 1) / 60.0
            if bucket.tokens + (now - bucket.updated) * rate >= rule.capacity:
                del self._buckets[key]
