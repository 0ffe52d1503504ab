"""Rate limits per caller and route class (search, writes, imports, chat): token buckets in
memory, off by default (``rate_limits`` in ``ov.conf``, docs/rate-limits.md)."""

from openviking_mcp.ratelimit.classes import (
    RouteClass,
    class_of_operation,
    class_of_request,
    class_of_tool,
)
from openviking_mcp.ratelimit.service import RateLimitService, bucket_identity

__all__ = [
    "RateLimitService",
    "RouteClass",
    "bucket_identity",
    "class_of_operation",
    "class_of_request",
    "class_of_tool",
]
