"""Authentication of REST requests: headers → :class:`Credentials` → the caller.

The rules live in :class:`openviking_mcp.ops.auth.AuthOps`; the ``/mcp`` endpoint uses the same
ones, so a key works identically on both surfaces.
"""

from __future__ import annotations

from collections.abc import Mapping

from openviking_mcp.identity import RequestContext
from openviking_mcp.ops.auth import Credentials
from openviking_mcp.service import ContextService

__all__ = ["authenticate_headers"]


async def authenticate_headers(
    service: ContextService, headers: Mapping[str, str], client_host: str | None
) -> RequestContext:
    """The caller of a request, or the typed error (401/403/400) that explains why not."""
    return await service.authenticate(Credentials.from_headers(headers, client_host))
