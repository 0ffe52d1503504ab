"""Multi-tenant administration: ``/api/v1/admin`` (seed 000, reference §3.4).

* ``POST /accounts`` ``{account_id, admin_user_id}`` → ``{account_id, admin_user_id,
  user_key}`` (ROOT; 409 if it exists);
* ``GET /accounts`` → ``[{account_id, created_at, user_count}]`` (ROOT);
* ``DELETE /accounts/{aid}`` → ``{account_id, status: "deleted", deleted}``, removing its data
  and vectors at once (ROOT);
* ``POST /accounts/{aid}/users`` ``{user_id, role}`` → ``{account_id, user_id, role,
  user_key}`` (ROOT/ADMIN);
* ``GET /accounts/{aid}/users?limit&name&role`` → ``[{account_id, user_id, role, key_prefix,
  created_at}]`` (ROOT/ADMIN);
* ``DELETE /accounts/{aid}/users/{uid}`` → ``{account_id, user_id, status: "deleted", deleted}``
  (ROOT/ADMIN);
* ``PUT /accounts/{aid}/users/{uid}/role`` ``{role}`` → ``{account_id, user_id, role}``:
  ``admin`` promotes (ROOT/ADMIN), ``user`` demotes (ROOT only);
* ``POST /accounts/{aid}/users/{uid}/key`` → ``{user_key}``; the old key stops working at once
  (ROOT/ADMIN);
* ``GET /accounts/{aid}/users/{uid}`` → ``{user_id, role}``, never a key (ROOT/ADMIN);
* user groups (ROOT/ADMIN): ``POST /accounts/{aid}/groups`` ``{group_id}`` → ``{group_id,
  member_count}`` (409 if it exists); ``GET /accounts/{aid}/groups`` → ``[{group_id,
  member_count}]``; ``DELETE .../groups/{gid}`` → ``{deleted}``; ``GET .../groups/{gid}/members``
  → ``{group_id, members}``; ``PUT``/``DELETE .../groups/{gid}/members/{uid}`` → ``{added}`` /
  ``{removed}``. Groups are kept and listed only; no access rule reads them.

An ADMIN manages only its own account. Keys are shown once and never stored in clear. Deleting
a user or an account is synchronous here (the original answers 202 and cleans up in a task), so
the answer's ``status`` is ``deleted`` rather than ``deleting``.

Per auth mode:

* ``api_key``: the root key is ROOT; a user key of an ADMIN manages its account.
* ``dev``: there is no ROOT (the caller is the default account's ADMIN, or whoever the identity
  headers name), so the ADMIN operations work on the caller's own account and the ROOT-only
  ones answer 403 with a hint to set ``server.root_api_key`` (which switches to ``api_key``).
* ``trusted``: the root key without identity headers acts as ROOT; with headers the asserted
  user. User keys are not returned (the gateway authenticates users, keys are never used).
"""

from __future__ import annotations

import fnmatch
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from http_api import envelope
from http_api.bodies import STRICT, PathRefused, UpstreamFields
from http_api.deps import Caller, Service
from openviking_mcp.contract import admin as admin_contract
from openviking_mcp.contract.errors import PermissionDeniedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.service import ContextService

__all__ = [
    "CreateAccountBody",
    "CreateGroupBody",
    "CreateUserBody",
    "RegenerateKeyBody",
    "SetRoleBody",
    "router",
]

router = APIRouter(prefix="/api/v1/admin", tags=["admin"])


# A field of the operation that the route takes from its URL path: refused in the body and
# left out of ``model_dump`` (the handler adds it from the path).
_FromPath = Annotated[PathRefused, Field(exclude=True)]


class CreateAccountBody(UpstreamFields, admin_contract.CreateAccountRequest):
    """Body of ``POST /accounts``."""

    model_config = STRICT
    upstream_ignored = frozenset({"settings", "user_config"})
    # A key derived from a seed is only as secret as the seed: keys are random.
    upstream_unsupported = frozenset({"seed"})


class CreateUserBody(UpstreamFields, admin_contract.CreateUserRequest):
    """Body of ``POST /accounts/{account_id}/users``."""

    model_config = STRICT
    upstream_ignored = frozenset({"user_config"})
    upstream_unsupported = frozenset({"seed"})

    account_id: _FromPath = ""


class SetRoleBody(admin_contract.SetUserRoleRequest):
    """Body of ``PUT /accounts/{account_id}/users/{user_id}/role``."""

    model_config = STRICT

    account_id: _FromPath = ""
    user_id: _FromPath = ""


class RegenerateKeyBody(UpstreamFields, admin_contract.UserRequest):
    """Body of ``POST /accounts/{account_id}/users/{user_id}/key``, optional and empty: keys
    are random (the original's ``seed`` is taken only when null)."""

    model_config = STRICT
    upstream_unsupported = frozenset({"seed"})

    account_id: _FromPath = ""
    user_id: _FromPath = ""


class CreateGroupBody(admin_contract.GroupRequest):
    """Body of ``POST /accounts/{account_id}/groups``: ``{group_id}`` only."""

    model_config = STRICT

    account_id: _FromPath = ""


def _arguments(body: BaseModel | None, **from_path: str) -> dict[str, Any]:
    """The operation's arguments: the body's fields and those the route takes from its path."""
    return {**(body.model_dump() if body is not None else {}), **from_path}


def _require_root(service: ContextService, caller: RequestContext, action: str) -> None:
    """ROOT-only operations; in dev mode the 403 says how to get a ROOT key."""
    if caller.is_root:
        return
    mode = service.config.server.effective_auth_mode
    if mode == "dev":
        raise PermissionDeniedError(
            f"{action} needs the ROOT role, which dev mode does not have: set "
            "server.root_api_key (auth_mode api_key) and call with the root key",
            {"required": "root", "auth_mode": mode},
        )
    raise PermissionDeniedError(
        f"{action} needs the ROOT role (the server's root key)", {"required": "root"}
    )


def _shown_key(service: ContextService, result: dict[str, Any]) -> dict[str, Any]:
    """Trusted mode never hands out user keys (they are not how users authenticate there)."""
    if service.config.server.effective_auth_mode == "trusted":
        return {k: v for k, v in result.items() if k != "user_key"}
    return result


@router.post("/accounts", summary="Create an account and its first ADMIN (ROOT)")
async def create_account(
    body: CreateAccountBody, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    _require_root(service, caller, "Creating an account")
    result = await service.call(caller, "create_account", _arguments(body))
    return envelope.ok(request, _shown_key(service, result))


@router.get("/accounts", summary="List accounts with their user counts (ROOT)")
async def list_accounts(request: Request, service: Service, caller: Caller) -> JSONResponse:
    _require_root(service, caller, "Listing accounts")
    return envelope.ok(request, await service.list_accounts(caller))


@router.delete("/accounts/{account_id}", summary="Delete an account with all its data (ROOT)")
async def delete_account(
    account_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    _require_root(service, caller, "Deleting an account")
    return envelope.ok(request, await service.delete_account(caller, account_id))


@router.post("/accounts/{account_id}/users", summary="Register a user (ROOT or the ADMIN)")
async def create_user(
    account_id: str,
    body: CreateUserBody,
    request: Request,
    service: Service,
    caller: Caller,
) -> JSONResponse:
    result = await service.call(caller, "create_user", _arguments(body, account_id=account_id))
    return envelope.ok(request, _shown_key(service, result))


@router.get("/accounts/{account_id}/users", summary="List an account's users (ROOT or the ADMIN)")
async def list_users(
    account_id: str,
    request: Request,
    service: Service,
    caller: Caller,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
    name: Annotated[str | None, Query(description="Glob on user_id, e.g. 'a*'.")] = None,
    role: Annotated[str | None, Query(description="'admin' or 'user'.")] = None,
) -> JSONResponse:
    users = await service.list_users(caller, account_id)
    if name:
        users = [u for u in users if fnmatch.fnmatchcase(str(u["user_id"]), name)]
    if role:
        users = [u for u in users if u["role"] == role.lower()]
    return envelope.ok(request, users[:limit])


@router.get(
    "/accounts/{account_id}/users/{user_id}",
    summary="A user's id and role, without key (ROOT or the ADMIN)",
)
async def get_user(
    account_id: str, user_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.get_user(caller, account_id, user_id))


@router.delete(
    "/accounts/{account_id}/users/{user_id}",
    summary="Remove a user and their private space (ROOT or the ADMIN)",
)
async def delete_user(
    account_id: str, user_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.delete_user(caller, account_id, user_id))


@router.put(
    "/accounts/{account_id}/users/{user_id}/role",
    summary="Promote a user to admin (ROOT or the ADMIN); demote to user (ROOT)",
)
async def set_user_role(
    account_id: str,
    user_id: str,
    body: SetRoleBody,
    request: Request,
    service: Service,
    caller: Caller,
) -> JSONResponse:
    arguments = _arguments(body, account_id=account_id, user_id=user_id)
    return envelope.ok(request, await service.call(caller, "set_user_role", arguments))


@router.post(
    "/accounts/{account_id}/users/{user_id}/key",
    summary="Issue a new key for a user; the old one stops working (ROOT or the ADMIN)",
)
async def regenerate_key(
    account_id: str,
    user_id: str,
    request: Request,
    service: Service,
    caller: Caller,
    body: Annotated[RegenerateKeyBody | None, Body()] = None,
) -> JSONResponse:
    arguments = _arguments(body, account_id=account_id, user_id=user_id)
    result = await service.call(caller, "regenerate_user_key", arguments)
    return envelope.ok(request, _shown_key(service, result))


# -- user groups (kept and listed; no access rule reads them) --------------------------------

_GROUP = "/accounts/{account_id}/groups/{group_id}"


@router.post("/accounts/{account_id}/groups", summary="Create a user group (ROOT or the ADMIN)")
async def create_group(
    account_id: str, body: CreateGroupBody, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    arguments = _arguments(body, account_id=account_id)
    return envelope.ok(request, await service.call(caller, "create_group", arguments))


@router.get("/accounts/{account_id}/groups", summary="List an account's user groups")
async def list_groups(
    account_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.list_groups(caller, account_id))


@router.delete(_GROUP, summary="Delete a user group (its users stay)")
async def delete_group(
    account_id: str, group_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.delete_group(caller, account_id, group_id))


@router.get(_GROUP + "/members", summary="The user ids in a group")
async def list_group_members(
    account_id: str, group_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    result = await service.list_group_members(caller, account_id, group_id)
    return envelope.ok(request, result)


@router.put(_GROUP + "/members/{user_id}", summary="Put a user into a group")
async def add_group_member(
    account_id: str,
    group_id: str,
    user_id: str,
    request: Request,
    service: Service,
    caller: Caller,
) -> JSONResponse:
    result = await service.add_group_member(caller, account_id, group_id, user_id)
    return envelope.ok(request, result)


@router.delete(_GROUP + "/members/{user_id}", summary="Take a user out of a group")
async def remove_group_member(
    account_id: str,
    group_id: str,
    user_id: str,
    request: Request,
    service: Service,
    caller: Caller,
) -> JSONResponse:
    result = await service.remove_group_member(caller, account_id, group_id, user_id)
    return envelope.ok(request, result)
