"""Named API keys: ``/api/v1/admin/accounts/{aid}/users/{uid}/keys`` and ``/api/v1/keys``.

* ``POST .../users/{uid}/keys`` ``{name, scopes, uri_prefix, expires_at}`` → the key's
  ``{key_id, name, scopes, uri_prefix, expires_at, created_at, last_used_at, key_prefix,
  api_key}``; ``api_key`` is shown once (ROOT, the account's ADMIN or the user);
* ``GET .../users/{uid}/keys`` → the user's keys, never a secret;
* ``DELETE .../users/{uid}/keys/{key_id}`` → ``{key_id, revoked}``; the key stops at once;
* ``POST /api/v1/keys``, ``GET /api/v1/keys``, ``DELETE /api/v1/keys/{key_id}``: the same for
  the caller's own keys.

Every check (who may manage, what a key may hold) is the operation's (``admin/keys.py``).
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse

from http_api import envelope
from http_api.bodies import STRICT
from http_api.deps import Caller, Service
from openviking_mcp.contract.keys import CreateMyApiKeyRequest

__all__ = ["CreateKeyBody", "router"]

router = APIRouter(tags=["keys"])

_KEYS = "/api/v1/admin/accounts/{account_id}/users/{user_id}/keys"


class CreateKeyBody(CreateMyApiKeyRequest):
    """A new named key: name, scopes, optional URI prefix and expiry."""

    model_config = STRICT


@router.post(_KEYS, summary="Create a named key for a user (shown once)")
async def create_key(
    account_id: str,
    user_id: str,
    body: CreateKeyBody,
    request: Request,
    service: Service,
    caller: Caller,
) -> JSONResponse:
    arguments = {**body.model_dump(), "account_id": account_id, "user_id": user_id}
    return envelope.ok(request, await service.call(caller, "create_api_key", arguments))


@router.get(_KEYS, summary="A user's named keys (never their secrets)")
async def list_keys(
    account_id: str, user_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    arguments = {"account_id": account_id, "user_id": user_id}
    return envelope.ok(request, await service.call(caller, "list_api_keys", arguments))


@router.delete(_KEYS + "/{key_id}", summary="Revoke a user's named key")
async def revoke_key(
    account_id: str, user_id: str, key_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    arguments = {"account_id": account_id, "user_id": user_id, "key_id": key_id}
    return envelope.ok(request, await service.call(caller, "revoke_api_key", arguments))


@router.post("/api/v1/keys", summary="Create a named key for yourself (shown once)")
async def create_my_key(
    body: CreateKeyBody, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    return envelope.ok(request, await service.call(caller, "create_my_api_key", body.model_dump()))


@router.get("/api/v1/keys", summary="Your named keys (never their secrets)")
async def list_my_keys(request: Request, service: Service, caller: Caller) -> JSONResponse:
    return envelope.ok(request, await service.call(caller, "list_my_api_keys", {}))


@router.delete("/api/v1/keys/{key_id}", summary="Revoke one of your named keys")
async def revoke_my_key(
    key_id: str, request: Request, service: Service, caller: Caller
) -> JSONResponse:
    arguments = {"key_id": key_id}
    return envelope.ok(request, await service.call(caller, "revoke_my_api_key", arguments))
