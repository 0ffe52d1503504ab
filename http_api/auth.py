"""Authentication of REST requests: headers → :class:`Credentials` → the caller.

The identity rules live in :class:`openviking_mcp.auth.service.AuthService`; the ``/mcp``
endpoint uses the same ones, so a key works identically on both surfaces. On top of them REST
adds what the original server checks per route (seed 000, reference §3.2):

* **ROOT path restriction**: a ROOT caller (the root key in ``api_key`` mode) may only call
  :data:`ROOT_PATHS` and the routes under :data:`ROOT_PREFIXES`; any other ``/api/v1`` route is
  403 ``PERMISSION_DENIED``: ROOT is the server's own identity and has no tenant data. One
  addition to the original's list: ``POST /api/v1/skills/import-mcp``, whose ``command`` form
  only ROOT may use.
* **trusted mode, admin routes**: with a root key configured, a request to ``/api/v1/admin``
  that carries it and asserts no account/user acts as ROOT (so a gateway can create accounts);
  with identity headers it is that user, as on every other route.
* **trusted mode, identity parameters**: an ``account_id``/``user_id`` path or query parameter
  must equal the asserted header when both are given (400 otherwise).
* **dev mode** never yields ROOT (the caller is the default account's ADMIN, or the user named
  by the identity headers), so admin operations reserved to ROOT answer 403 there; see
  :mod:`http_api.routers.admin`.
"""

from __future__ import annotations

import hmac
from collections.abc import Mapping

from openviking_mcp.auth.credentials import Credentials
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.scopes import check_request_scope
from openviking_mcp.oauth.service import is_access_token
from openviking_mcp.service import ContextService

__all__ = [
    "ADMIN_PREFIX",
    "ROOT_PATHS",
    "ROOT_PREFIXES",
    "authenticate_headers",
    "check_identity_params",
    "check_root_path",
    "root_may_call",
]

ADMIN_PREFIX = "/api/v1/admin"
ROOT_PATHS: frozenset[str] = frozenset(
    {
        "/api/v1/system/status",
        "/api/v1/system/wait",
        "/api/v1/debug/health",
        # Ours, not the original's: only ROOT may make the server launch an MCP server
        # command, so the route must stay reachable for it (it writes the shared agent skills).
        "/api/v1/skills/import-mcp",
    }
)
ROOT_PREFIXES: tuple[str, ...] = (
    ADMIN_PREFIX,
    "/api/v1/observer",
    "/api/v1/tasks",
    # ours: ROOT manages any account's webhooks (naming it with account_id)
    "/api/v1/webhooks",
    # ours: only ROOT may register an MCP server command, so ROOT manages the registry too
    "/api/v1/mcp-servers",
)

_ROOT_DENIED = (
    "ROOT API keys cannot access tenant-scoped data APIs; use a user key (create one with "
    "POST /api/v1/admin/accounts or /api/v1/admin/accounts/{account_id}/users). ROOT may call "
    "/api/v1/system/status, /api/v1/system/wait, /api/v1/debug/health, "
    "/api/v1/skills/import-mcp and the routes under "
    "/api/v1/admin, /api/v1/observer, /api/v1/tasks, /api/v1/webhooks and /api/v1/mcp-servers"
)


def _under(path: str, prefix: str) -> bool:
    return path == prefix or path.startswith(prefix + "/")


def root_may_call(path: str) -> bool:
    """Whether a ROOT caller may use the REST route at ``path``."""
    clean = path.rstrip("/") or "/"
    return clean in ROOT_PATHS or any(_under(clean, p) for p in ROOT_PREFIXES)


def check_root_path(caller: RequestContext, path: str) -> None:
    """403 when a ROOT caller asks for a tenant-scoped route."""
    if caller.is_root and not root_may_call(path):
        raise PermissionDeniedError(_ROOT_DENIED, {"resource": path, "role": "root"})


def check_identity_params(creds: Credentials, params: Mapping[str, str]) -> None:
    """Trusted mode: ``account_id``/``user_id`` parameters must match the asserted headers."""
    for name, header, asserted in (
        ("account_id", "X-OpenViking-Account", creds.account_id),
        ("user_id", "X-OpenViking-User", creds.user_id),
    ):
        value = (params.get(name) or "").strip()
        claimed = (asserted or "").strip()
        if value and claimed and value != claimed:
            raise InvalidArgumentError(
                f"{name} {value!r} does not match the {header} header {claimed!r}",
                {"field": name, "value": value, "header": claimed},
            )


def _trusted_root(service: ContextService, creds: Credentials, path: str) -> bool:
    """Trusted mode: an admin route called with the root key and no asserted identity."""
    root = service.config.server.root_api_key
    if not root or not _under(path.rstrip("/"), ADMIN_PREFIX):
        return False
    if (creds.account_id or "").strip() or (creds.user_id or "").strip():
        return False
    key = (creds.api_key or "").strip()
    if not hmac.compare_digest(key.encode(), root.encode()):
        raise UnauthenticatedError("Trusted mode: every request must carry the server's root key")
    return True


async def authenticate_headers(
    service: ContextService,
    headers: Mapping[str, str],
    client_host: str | None,
    *,
    path: str = "",
    params: Mapping[str, str] | None = None,
    method: str = "GET",
) -> RequestContext:
    """The caller of a request to ``path``, or the typed error (401/403/400) that explains why
    not. ``params`` are the request's path and query parameters (checked in trusted mode); a
    named key must carry the scope ``method path`` needs (:mod:`openviking_mcp.contract.scopes`)."""
    creds = Credentials.from_headers(headers, client_host)
    mode = service.config.server.effective_auth_mode
    if mode == "trusted":
        check_identity_params(creds, params or {})
        if _trusted_root(service, creds, path):
            caller = RequestContext.root(service.config.default_account)
            check_root_path(caller, path)
            return caller
    if is_access_token(creds.api_key) and service.oauth.active:
        # an OAuth access token (docs/oauth.md): its approving key's identity and scopes
        caller = await service.oauth.resolve(creds.api_key or "")
    else:
        caller = await service.auth.authenticate(creds)
    check_root_path(caller, path)
    check_request_scope(caller, method, path)
    return caller
