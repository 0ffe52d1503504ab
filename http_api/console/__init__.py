"""The web console at ``/console``: server-rendered pages (Jinja2 + htmx) over the same feature
services and the same authentication as the API.

Pages: explorer (with uploads), search playground, sessions, memories, skills, MCP servers,
tasks, admin and system. The front-end helpers (htmx, uPlot) are shipped in ``static/vendor``
with their licences; nothing is loaded from another site. ``install(app)`` adds the routes and
the static files.
"""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from http_api.console import (
    _explorer_actions,
    _explorer_upload,
    _not_found,
    admin,
    explorer,
    login,
    mcp_servers,
    memories,
    search,
    sessions,
    skills,
    system,
    tasks,
)
from http_api.console._web import PREFIX

__all__ = ["PAGES", "install"]

PAGES = (
    login,
    explorer,
    _explorer_actions,
    _explorer_upload,
    search,
    sessions,
    memories,
    skills,
    mcp_servers,
    tasks,
    admin,
    system,
)
"""The modules whose routers serve the pages, in the order their routes are matched."""

STATIC = Path(__file__).parent / "static"


async def _to_home(request: Request) -> Response:
    """``/console`` without the slash."""
    return RedirectResponse(f"{PREFIX}/", status_code=307)


def install(app: FastAPI) -> None:
    """Serve the console's pages and its static assets."""
    for module in PAGES:
        app.include_router(module.router)
    app.router.routes.append(Route(PREFIX, endpoint=_to_home, methods=["GET"]))
    app.mount(f"{PREFIX}/static", StaticFiles(directory=STATIC), name="console-static")
    # Last: any other path under /console is the console's 404 page.
    app.include_router(_not_found.router)
