"""The approval page of the OAuth authorization server: ``/oauth/consent``.

``GET`` shows which client asks for which scopes and where it will be sent; the user approves
by entering an API key (main or named) or denies. ``POST`` checks the CSRF pair (a random
value in an ``HttpOnly``, ``SameSite=Strict`` cookie repeated in the form, and a same-origin
``Origin`` when sent), then redirects the browser to the client's redirect URI with the code
(or ``error=access_denied``). The page is plain HTML without scripts, under a CSP like the
console's that only lets the form post here and be redirected to the client.
"""

from __future__ import annotations

import hmac
import secrets
from html import escape
from typing import Any
from urllib.parse import urlsplit

from mcp.server.auth.provider import construct_redirect_uri
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from openviking_mcp.contract.errors import OpenVikingError
from openviking_mcp.oauth.service import OAuthService

__all__ = ["CSRF_COOKIE", "consent_page", "consent_submit"]

CSRF_COOKIE = "ov_oauth_csrf"
_SCOPE_TEXT = {
    "read": "read your contexts, memories, sessions and skills",
    "write": "change them (write, import, remember, delete)",
    "admin": "manage your account (users, keys, webhooks) if your role allows",
}
_STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:32rem;margin:3rem auto;padding:0 1rem}"
    "input[type=password]{width:100%;padding:.5rem;margin:.5rem 0}"
    "button{padding:.5rem 1rem;margin-right:.5rem}.error{color:#b00020}code{word-break:break-all}"
)


def _form_origin(redirect_uri: str) -> str:
    """The CSP source of the client's redirect URI (the form's redirect goes there)."""
    parts = urlsplit(redirect_uri)
    if parts.scheme in ("http", "https"):
        return f"{parts.scheme}://{parts.netloc}"
    return f"{parts.scheme}:"


def _page(request_id: str, params: dict[str, Any], csrf: str, error: str | None) -> str:
    scopes = params.get("scopes") or list(_SCOPE_TEXT)
    items = "".join(f"<li><b>{escape(s)}</b>: {escape(_SCOPE_TEXT.get(s, s))}</li>" for s in scopes)
    notice = f'<p class="error">{escape(error)}</p>' if error else ""
    return (
        "<!doctype html><html lang=en><head><meta charset=utf-8>"
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>Authorize {escape(str(params.get('client_name') or ''))}</title>"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>Authorize {escape(str(params.get('client_name') or 'a client'))}</h1>"
        f"<p>This MCP client asks to act as you on openviking-mcp, and will be sent to "
        f"<code>{escape(params['redirect_uri'])}</code>. It asks to:</p><ul>{items}</ul>"
        "<p>Enter your API key to approve. The client gets tokens with your key's identity "
        "and at most its scopes; revoking the key ends them.</p>"
        f'{notice}<form method="post" action="/oauth/consent">'
        f'<input type="hidden" name="request" value="{escape(request_id)}">'
        f'<input type="hidden" name="csrf_token" value="{escape(csrf)}">'
        '<label>API key<input type="password" name="api_key" autocomplete="off"></label>'
        '<button type="submit" name="action" value="approve">Approve</button>'
        '<button type="submit" name="action" value="deny">Deny</button>'
        "</form></body></html>"
    )


def _finish(request: Request, response: Response, csrf: str, redirect_uri: str | None) -> Response:
    secure = request.url.scheme == "https" or request.headers.get("x-forwarded-proto") == "https"
    if request.cookies.get(CSRF_COOKIE) != csrf:
        response.set_cookie(
            CSRF_COOKIE, csrf, httponly=True, samesite="strict", path="/oauth", secure=secure
        )
    target = f" {_form_origin(redirect_uri)}" if redirect_uri else ""
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers["Content-Security-Policy"] = (
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; "
        f"form-action 'self'{target}"
    )
    return response


def _gone(request: Request, csrf: str) -> Response:
    body = (
        "<!doctype html><title>Expired</title><h1>This authorization request expired or "
        "was already used</h1><p>Start the connection again from your MCP client.</p>"
    )
    return _finish(request, HTMLResponse(body, status_code=400), csrf, None)


async def consent_page(request: Request, oauth: OAuthService) -> Response:
    """``GET /oauth/consent?request=...``: the approval form."""
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    request_id = request.query_params.get("request", "")
    found = await oauth.pending(request_id) if request_id else None
    if found is None:
        return _gone(request, csrf)
    params = found[1]
    html = _page(request_id, params, csrf, None)
    return _finish(request, HTMLResponse(html), csrf, params["redirect_uri"])


def _csrf_ok(request: Request, form: Any) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE) or ""
    field = form.get("csrf_token")
    if not cookie or not isinstance(field, str):
        return False
    origin = request.headers.get("origin")
    if origin and origin != "null" and urlsplit(origin).netloc != request.headers.get("host"):
        return False
    return hmac.compare_digest(cookie.encode(), field.encode())


async def consent_submit(request: Request, oauth: OAuthService) -> Response:
    """``POST /oauth/consent``: approve with an API key, or deny."""
    form = await request.form()
    csrf = request.cookies.get(CSRF_COOKIE) or secrets.token_urlsafe(32)
    if not _csrf_ok(request, form):
        body = "<!doctype html><title>Refused</title><h1>Invalid form token</h1>"
        return _finish(request, HTMLResponse(body, status_code=403), csrf, None)
    request_id = str(form.get("request") or "")
    if form.get("action") == "deny":
        params = await oauth.deny(request_id)
        if params is None:
            return _gone(request, csrf)
        url = construct_redirect_uri(
            params["redirect_uri"], error="access_denied", state=params.get("state")
        )
        return _finish(request, RedirectResponse(url, status_code=303), csrf, None)
    found = await oauth.pending(request_id)
    if found is None:
        return _gone(request, csrf)
    try:
        params, code = await oauth.approve(request_id, str(form.get("api_key") or "").strip())
    except OpenVikingError as exc:
        html = _page(request_id, found[1], csrf, exc.message)
        status = exc.http_status if exc.http_status in (401, 403) else 400
        response = HTMLResponse(html, status_code=status)
        return _finish(request, response, csrf, found[1]["redirect_uri"])
    url = construct_redirect_uri(params["redirect_uri"], code=code, state=params.get("state"))
    return _finish(request, RedirectResponse(url, status_code=303), csrf, params["redirect_uri"])
