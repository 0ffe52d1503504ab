"""The console's admin pages: accounts (ROOT) and an account's users, roles and keys (ROOT or
the account's ADMIN).

``/console/admin`` lists every account for ROOT and shows an ADMIN its own account; a USER gets
a 403 page. The admin service checks who may do what (an ADMIN acting on another account is
refused there) and its errors render as error pages or, for htmx, as fragments.

A new key is shown once, in the answer of the request that created it (``#new-key``), and never
again: listings show the key's prefix only. Revoking a key issues a new one that nobody is
shown, so the old key stops working at once; "New key" issues one and shows it.

Mutations are POSTs (the CSRF check is in the caller dependency). An htmx request gets the
notice (``#admin-result``) plus the refreshed table out of band; a plain form post gets the
whole page with the notice on it.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import Form, Request
from fastapi.responses import Response

from http_api.console._web import AnyCaller, is_htmx, page_router, render, service_of
from openviking_mcp.contract.admin import (
    AccountRequest,
    CreateAccountRequest,
    CreateUserRequest,
    SetUserRoleRequest,
    UserRequest,
)
from openviking_mcp.contract.base import Empty
from openviking_mcp.contract.errors import PermissionDeniedError
from openviking_mcp.contract.identity import RequestContext, Role

__all__ = ["router"]

router = page_router()

_ROLES = (Role.USER.value, Role.ADMIN.value)
_ACCOUNT = "/admin/accounts/{account_id}"
_USER = _ACCOUNT + "/users/{user_id}"


def _require_manager(caller: RequestContext) -> None:
    """The admin pages are ROOT's and the ADMINs'; a USER is told so."""
    if caller.is_root or caller.role is Role.ADMIN:
        return
    raise PermissionDeniedError(
        "The admin pages need the ROOT role or the ADMIN role of an account; "
        f"{caller.account_id}/{caller.user_id} is a {caller.role.value}",
        {"required": "admin"},
    )


def _notice(
    message: str, account_id: str = "", user_id: str = "", key: str | None = None
) -> dict[str, Any]:
    """What ``_admin_notice.html`` shows: a message and, once, a new key."""
    return {"message": message, "account_id": account_id, "user_id": user_id, "key": key}


def _shown_key(request: Request, key: str) -> str | None:
    """Trusted mode hands out no keys (the gateway authenticates users there), as the API."""
    if service_of(request).config.server.effective_auth_mode == "trusted":
        return None
    return key


async def _accounts_page(
    request: Request, caller: RequestContext, notice: dict[str, Any] | None
) -> Response:
    accounts = await service_of(request).admin.list_accounts(caller, Empty())
    context = {
        "title": "Admin",
        "active": "admin",
        "accounts": [a.wire() for a in accounts],
        "users": None,
        "notice": notice,
    }
    if is_htmx(request) and notice is not None:
        return render(request, "_admin_update.html", context)
    return render(request, "admin.html", context)


async def _account_page(
    request: Request, caller: RequestContext, account_id: str, notice: dict[str, Any] | None
) -> Response:
    service = service_of(request)
    users = await service.admin.list_users(caller, AccountRequest(account_id=account_id))
    context = {
        "title": f"Admin · {account_id}",
        "active": "admin",
        "account_id": account_id,
        "accounts": None,
        "users": [u.wire() for u in users],
        "roles": _ROLES,
        "notice": notice,
    }
    if is_htmx(request) and notice is not None:
        return render(request, "_admin_update.html", context)
    return render(request, "admin_account.html", context)


@router.get("/admin")
async def page(request: Request, caller: AnyCaller) -> Response:
    _require_manager(caller)
    if caller.is_root:
        return await _accounts_page(request, caller, None)
    return await _account_page(request, caller, caller.account_id, None)


@router.post("/admin/accounts")
async def create_account(
    request: Request,
    caller: AnyCaller,
    account_id: Annotated[str, Form()],
    admin_user_id: Annotated[str, Form()],
) -> Response:
    _require_manager(caller)
    req = CreateAccountRequest(account_id=account_id.strip(), admin_user_id=admin_user_id.strip())
    created = await service_of(request).admin.create_account(caller, req)
    notice = _notice(
        f"Account {created.account_id} created with {created.admin_user_id} as its admin.",
        created.account_id,
        created.admin_user_id,
        _shown_key(request, created.user_key),
    )
    return await _accounts_page(request, caller, notice)


@router.post(_ACCOUNT + "/delete")
async def delete_account(request: Request, caller: AnyCaller, account_id: str) -> Response:
    _require_manager(caller)
    await service_of(request).admin.delete_account(caller, AccountRequest(account_id=account_id))
    notice = _notice(f"Account {account_id} and all its data were deleted.")
    return await _accounts_page(request, caller, notice)


@router.get(_ACCOUNT)
async def account(request: Request, caller: AnyCaller, account_id: str) -> Response:
    _require_manager(caller)
    return await _account_page(request, caller, account_id, None)


@router.post(_ACCOUNT + "/users")
async def create_user(
    request: Request,
    caller: AnyCaller,
    account_id: str,
    user_id: Annotated[str, Form()],
    role: Annotated[str, Form()] = Role.USER.value,
) -> Response:
    _require_manager(caller)
    req = CreateUserRequest(account_id=account_id, user_id=user_id.strip(), role=role)
    created = await service_of(request).admin.create_user(caller, req)
    notice = _notice(
        f"User {created.user_id} added to {account_id} as {created.role}.",
        account_id,
        created.user_id,
        _shown_key(request, created.user_key),
    )
    return await _account_page(request, caller, account_id, notice)


@router.post(_USER + "/role")
async def set_role(
    request: Request,
    caller: AnyCaller,
    account_id: str,
    user_id: str,
    role: Annotated[str, Form()],
) -> Response:
    _require_manager(caller)
    req = SetUserRoleRequest(account_id=account_id, user_id=user_id, role=role)
    changed = await service_of(request).admin.set_user_role(caller, req)
    notice = _notice(f"{user_id} is now {changed.role}.")
    return await _account_page(request, caller, account_id, notice)


@router.post(_USER + "/delete")
async def delete_user(
    request: Request, caller: AnyCaller, account_id: str, user_id: str
) -> Response:
    _require_manager(caller)
    req = UserRequest(account_id=account_id, user_id=user_id)
    await service_of(request).admin.delete_user(caller, req)
    notice = _notice(f"User {user_id} and their private space were removed.")
    return await _account_page(request, caller, account_id, notice)


@router.post(_USER + "/key")
async def new_key(request: Request, caller: AnyCaller, account_id: str, user_id: str) -> Response:
    _require_manager(caller)
    req = UserRequest(account_id=account_id, user_id=user_id)
    issued = await service_of(request).admin.regenerate_user_key(caller, req)
    notice = _notice(
        f"New key issued for {user_id}; the previous key no longer works.",
        account_id,
        user_id,
        _shown_key(request, issued.user_key),
    )
    return await _account_page(request, caller, account_id, notice)


@router.post(_USER + "/revoke")
async def revoke_key(
    request: Request, caller: AnyCaller, account_id: str, user_id: str
) -> Response:
    _require_manager(caller)
    req = UserRequest(account_id=account_id, user_id=user_id)
    # The replacement key is discarded unseen: the user has no working key until a new one
    # is issued.
    await service_of(request).admin.regenerate_user_key(caller, req)
    notice = _notice(
        f"The key of {user_id} was revoked: it no longer works. Issue a new key to let "
        f"{user_id} sign in again."
    )
    return await _account_page(request, caller, account_id, notice)
