"""The console's explorer page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from http_api.console._web import ConsoleRoute, TenantCaller, render

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute)


@router.get("/explorer")
async def page(request: Request, caller: TenantCaller) -> Response:
    return render(request, "placeholder.html", {"title": "Explorer", "active": "explorer"})
