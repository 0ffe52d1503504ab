"""The console's skills page."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from http_api.console._web import AnyCaller, ConsoleRoute, render

__all__ = ["router"]

router = APIRouter(route_class=ConsoleRoute)


@router.get("/skills")
async def page(request: Request, caller: AnyCaller) -> Response:
    return render(request, "placeholder.html", {"title": "Skills", "active": "skills"})
