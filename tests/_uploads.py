"""Saving a temp upload through the uploads service, answered in its JSON form."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.service import ContextService


async def save_upload(
    service: ContextService, ctx: RequestContext, filename: str, chunks: AsyncIterator[bytes]
) -> dict[str, Any]:
    return (await service.uploads.save(ctx, filename, chunks)).wire()
