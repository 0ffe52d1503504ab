"""Signing in and out, and ``/console`` itself (the first page the caller may see)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Form, Request
from fastapi.responses import Response

from http_api.console._security import check_csrf, check_host
from http_api.console._web import (
    KEY_COOKIE,
    PREFIX,
    AnyCaller,
    page_router,
    redirect,
    render,
    service_of,
)
from openviking_mcp.contract.errors import UnauthenticatedError

__all__ = ["router"]

router = page_router()


def _safe_next(target: str | None) -> str:
    """Only a path inside the console is a place to return to (never another site)."""
    if target and target.startswith(PREFIX + "/") and not target.startswith("//"):
        return target
    return PREFIX


@router.get("/")
async def home(request: Request, caller: AnyCaller) -> Response:
    return redirect(request, f"{PREFIX}/admin" if caller.is_root else f"{PREFIX}/explorer")


def _dev_identity(request: Request) -> str:
    """Who every request is in dev mode (keys are not checked there)."""
    ctx = service_of(request).auth.dev_context()
    return f"{ctx.account_id}/{ctx.user_id}"


@router.get("/login")
async def login_page(request: Request, next: str | None = None) -> Response:
    check_host(request, service_of(request).config.server.host)
    context = {"next": _safe_next(next), "error": None, "dev_identity": _dev_identity(request)}
    return render(request, "login.html", context)


@router.post("/login")
async def login(
    request: Request,
    api_key: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "",
) -> Response:
    service = service_of(request)
    check_host(request, service.config.server.host)
    await check_csrf(request)
    target = _safe_next(next)
    identity = _dev_identity(request)
    if service.config.server.effective_auth_mode == "dev":
        # Dev mode checks no key: a key's cookie would change nothing, so none is set.
        error = f"This server runs in dev mode: keys are not checked, every page is {identity}."
        context = {"next": target, "error": error, "dev_identity": identity}
        return render(request, "login.html", context, status_code=400)
    try:
        caller = await service.auth.resolve_api_key(api_key)
    except UnauthenticatedError as exc:
        context = {"next": target, "error": str(exc) or "Unknown API key", "dev_identity": identity}
        return render(request, "login.html", context, status_code=401)
    response = redirect(request, f"{PREFIX}/admin" if caller.is_root else target)
    secure = request.url.scheme == "https"
    response.set_cookie(
        KEY_COOKIE, api_key.strip(), httponly=True, samesite="strict", path=PREFIX, secure=secure
    )
    return response


@router.post("/logout")
async def logout(request: Request) -> Response:
    check_host(request, service_of(request).config.server.host)
    await check_csrf(request)
    response = redirect(request, f"{PREFIX}/login")
    response.delete_cookie(KEY_COOKIE, path=PREFIX)
    return response
