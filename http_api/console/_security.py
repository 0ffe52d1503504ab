"""The console's request guards: CSRF tokens and, on a loopback bind, the DNS-rebinding check.

CSRF uses a double-submit token: a random value in an ``HttpOnly``, ``SameSite=Strict`` cookie,
repeated by every unsafe request (``POST``/``PUT``/``PATCH``/``DELETE``) in the
``X-CSRF-Token`` header (htmx sends it from the page's ``hx-headers``) or the ``csrf_token``
form field. A page on another site can neither read the cookie nor send it along, so it cannot
forge the pair. Unsafe requests with an ``Origin`` from elsewhere are refused as well.

On a loopback bind the ``Host`` (and any ``Origin``) must name a loopback host, as on ``/mcp``,
so a web page that rebinds its own domain to 127.0.0.1 cannot drive a local console.
"""

from __future__ import annotations

import hmac
import secrets
from urllib.parse import urlsplit

from starlette.requests import Request

from openviking_mcp.config import is_loopback_host
from openviking_mcp.contract.errors import PermissionDeniedError

__all__ = [
    "CSRF_COOKIE",
    "CSRF_FIELD",
    "CSRF_HEADER",
    "UNSAFE_METHODS",
    "check_csrf",
    "check_host",
    "csrf_token",
]

CSRF_COOKIE = "ov_console_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def csrf_token(request: Request) -> str:
    """This browser's token: the cookie's value, or a new one (the response sets the cookie,
    see :func:`http_api.console._web.render`)."""
    token: str | None = getattr(request.state, "csrf_token", None)
    if token is None:
        token = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
        request.state.csrf_token = token
    return token


def _host_name(netloc: str) -> str:
    """``host`` of ``host[:port]`` (IPv6 in brackets kept without them)."""
    if netloc.startswith("["):
        return netloc[1 : netloc.find("]")] if "]" in netloc else netloc
    return netloc.rsplit(":", 1)[0] if netloc.count(":") == 1 else netloc


def check_host(request: Request, bind_host: str) -> None:
    """On a loopback bind, refuse a ``Host`` or ``Origin`` that is not a loopback name."""
    if not is_loopback_host(bind_host):
        return
    host = request.headers.get("host", "")
    if not is_loopback_host(_host_name(host)):
        raise PermissionDeniedError(
            "The console of a server bound to loopback answers only to a loopback Host "
            f"(got {host!r})",
            {"header": "Host"},
        )
    origin = request.headers.get("origin")
    if origin and origin != "null" and not is_loopback_host(urlsplit(origin).hostname or ""):
        raise PermissionDeniedError(f"Cross-site console request from {origin!r} refused")


async def check_csrf(request: Request) -> None:
    """An unsafe request must repeat the cookie's token and come from this origin."""
    if request.method not in UNSAFE_METHODS:
        return
    origin = request.headers.get("origin")
    if origin and origin != "null":
        host = request.headers.get("host", "")
        if urlsplit(origin).netloc != host:
            raise PermissionDeniedError(f"Cross-site console request from {origin!r} refused")
    cookie = request.cookies.get(CSRF_COOKIE, "")
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and "form" in request.headers.get("content-type", ""):
        form = await request.form()
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    if not cookie or not sent or not hmac.compare_digest(cookie.encode(), sent.encode()):
        raise PermissionDeniedError(
            "Missing or wrong CSRF token: reload the console page and try again",
            {"reason": "csrf"},
        )
