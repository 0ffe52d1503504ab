"""What every console page shares: templates, the signed-in caller, errors as pages.

The console signs in with an API key, kept in an ``HttpOnly``, ``SameSite=Strict`` cookie and
never written into a page; every request authenticates it again with the same rules as the API
(so a revoked key signs the browser out at once). In dev mode no key is needed: the caller is
the one the API would give a request without a key. The other request headers pass through,
so a trusted gateway's identity headers work as on the API.

Pages call the feature services directly, as the API's routers do, and the services check what
the caller may see. :class:`ConsoleRoute` turns the services' typed errors into pages: 401 signs
out (to the sign-in page), other errors render with their status and message.
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine, Mapping
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any
from urllib.parse import quote

import jinja2
from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from markupsafe import Markup

from http_api.console._security import CSRF_COOKIE, check_csrf, check_host, csrf_token
from openviking_mcp._version import __version__
from openviking_mcp.auth.credentials import Credentials
from openviking_mcp.contract.errors import OpenVikingError, UnauthenticatedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.scopes import check_request_scope
from openviking_mcp.service import ContextService

if TYPE_CHECKING:
    from markdown_it import MarkdownIt

__all__ = [
    "KEY_COOKIE",
    "NAV",
    "PREFIX",
    "AnyCaller",
    "ConsoleRoute",
    "TenantCaller",
    "console_caller",
    "fragment",
    "is_htmx",
    "page_router",
    "redirect",
    "render",
    "service_of",
]

PREFIX = "/console"
KEY_COOKIE = "ov_console_key"
_TEMPLATES = Path(__file__).parent / "templates"

NAV: tuple[tuple[str, str, bool], ...] = (
    ("explorer", "Explorer", False),
    ("search", "Search", False),
    ("sessions", "Sessions", False),
    ("memories", "Memories", False),
    ("skills", "Skills", True),
    ("mcp-servers", "MCP servers", True),
    ("tasks", "Tasks", True),
    ("admin", "Admin", True),
    ("system", "System", True),
)
"""(path under /console, label, shown to ROOT). ROOT has no tenant data: it sees only the
pages of the third column."""


def _filesize(value: int | float | None) -> str:
    size = float(value or 0)
    for unit in ("B", "KB", "MB", "GB"):
        if size < 1024 or unit == "GB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} GB"


def _when(value: Any) -> str:
    """A timestamp (epoch seconds or ISO text) as ``YYYY-MM-DD HH:MM:SS`` UTC."""
    if value in (None, ""):
        return ""
    if isinstance(value, int | float):
        return datetime.fromtimestamp(float(value), UTC).strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    return text.replace("T", " ")[:19]


@cache
def _markdown() -> MarkdownIt:
    from markdown_it import MarkdownIt  # loaded by the first page that renders Markdown

    # Raw HTML in stored text is escaped, never rendered.
    return MarkdownIt("commonmark", {"html": False, "linkify": False}).enable("table")


def _render_markdown(text: str | None) -> Markup:
    return Markup(_markdown().render(text or ""))


@cache
def _environment() -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(_TEMPLATES),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.filters["filesize"] = _filesize
    env.filters["when"] = _when
    env.filters["markdown"] = _render_markdown
    env.filters["urlq"] = lambda value: quote(str(value), safe="")
    return env


def service_of(request: Request) -> ContextService:
    service: ContextService = request.app.state.service
    return service


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it swaps the answer into the page)."""
    return request.headers.get("hx-request") == "true"


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"


def _finish(request: Request, response: Response) -> Response:
    """Headers every console answer carries, and the CSRF cookie when it is new."""
    token = csrf_token(request)
    if request.cookies.get(CSRF_COOKIE) != token:
        response.set_cookie(
            CSRF_COOKIE,
            token,
            httponly=True,
            samesite="strict",
            path=PREFIX,
            secure=_secure(request),
        )
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "same-origin"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data: blob:; style-src 'self' 'unsafe-inline'; "
        "script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'"
    )
    return response


def render(
    request: Request,
    template: str,
    context: Mapping[str, Any] | None = None,
    *,
    status_code: int = 200,
) -> Response:
    """A page (or, for htmx, the same template's fragment) rendered for the signed-in caller."""
    caller: RequestContext | None = getattr(request.state, "console_caller", None)
    service = service_of(request)
    values = {
        "request": request,
        "caller": caller,
        "csrf_token": csrf_token(request),
        "nav": [item for item in NAV if caller is None or not caller.is_root or item[2]],
        "prefix": PREFIX,
        "dev_mode": service.config.server.effective_auth_mode == "dev",
        "version": __version__,
        "htmx": is_htmx(request),
        **(context or {}),
    }
    html = _environment().get_template(template).render(values)
    return _finish(request, HTMLResponse(html, status_code=status_code))


def fragment(request: Request, template: str, context: Mapping[str, Any] | None = None) -> Response:
    """A partial template (no layout) for an htmx swap."""
    return render(request, template, context)


def redirect(request: Request, url: str) -> Response:
    """Go to ``url``: an ``HX-Redirect`` for htmx, a 303 otherwise."""
    if is_htmx(request):
        return _finish(request, Response(status_code=200, headers={"HX-Redirect": url}))
    return _finish(request, RedirectResponse(url, status_code=303))


async def console_caller(request: Request) -> RequestContext:
    """The signed-in caller (the key cookie, else what the API gives this request)."""
    cached: RequestContext | None = getattr(request.state, "console_caller", None)
    if cached is not None:
        return cached
    service = service_of(request)
    check_host(request, service.config.server.host)
    await check_csrf(request)
    headers = {k: v for k, v in request.headers.items() if k not in ("x-api-key", "authorization")}
    key = request.cookies.get(KEY_COOKIE)
    if key:
        headers["x-api-key"] = key
    client = request.client.host if request.client else None
    caller = await service.auth.authenticate(Credentials.from_headers(headers, client))
    check_request_scope(caller, request.method, request.url.path)
    request.state.console_caller = caller
    return caller


async def tenant_caller(request: Request) -> RequestContext:
    """A caller with tenant data: ROOT is sent to the admin pages."""
    caller = await console_caller(request)
    if caller.is_root:
        raise _RootElsewhere
    return caller


class _RootElsewhere(Exception):
    """ROOT asked for a tenant page."""


AnyCaller = Annotated[RequestContext, Depends(console_caller)]
TenantCaller = Annotated[RequestContext, Depends(tenant_caller)]


def _error_page(request: Request, status: int, code: str, message: str) -> Response:
    template = "_error.html" if is_htmx(request) else "error.html"
    context = {"status": status, "code": code, "message": message}
    return render(request, template, context, status_code=status)


def page_router() -> APIRouter:
    """A console module's router: its paths under ``/console``, errors as pages. Each is
    included in the app directly, so metrics label its routes with their whole path."""
    return APIRouter(prefix=PREFIX, route_class=ConsoleRoute, include_in_schema=False)


class ConsoleRoute(APIRoute):
    """A console route: typed errors become pages, a missing sign-in goes to the sign-in page."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def console_handler(request: Request) -> Response:
            try:
                return await handler(request)
            except UnauthenticatedError:
                target = request.url.path
                if request.url.query:
                    target += "?" + request.url.query
                return redirect(request, f"{PREFIX}/login?next={quote(target, safe='')}")
            except _RootElsewhere:
                return redirect(request, f"{PREFIX}/admin")
            except OpenVikingError as exc:
                return _error_page(request, exc.http_status, exc.code, str(exc))
            except RequestValidationError as exc:
                fields = ", ".join(".".join(map(str, e.get("loc", ()))) for e in exc.errors())
                return _error_page(request, 400, "INVALID_ARGUMENT", f"Invalid input: {fields}")

        return console_handler
