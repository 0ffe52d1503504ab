"""A path under ``/console`` that names no page: the console's own 404 page (with its
navigation), not the API's JSON error. Installed after every page and the static files, so it
only answers what nothing else does."""

from __future__ import annotations

from fastapi.responses import Response

from http_api.console._web import PREFIX, AnyCaller, page_router
from openviking_mcp.contract.errors import NotFoundError

__all__ = ["router"]

router = page_router()


@router.get("/{path:path}")
async def missing(path: str, caller: AnyCaller) -> Response:
    raise NotFoundError(
        f"{PREFIX}/{path}",
        "console page",
        f"No console page at {PREFIX}/{path}: pick a page in the bar above.",
    )
