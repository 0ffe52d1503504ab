"""Webhooks: ``/api/v1/webhooks`` (docs/webhooks.md). ADMIN of the account; ROOT names one
with ``account_id`` (a query parameter, or a body field on ``POST``).

* ``POST /webhooks`` ``{url, events, description, enabled}`` → the webhook with its
  ``secret`` (shown once);
* ``GET /webhooks`` → the account's webhooks (never a secret); ``GET /webhooks/{id}`` one;
* ``PATCH /webhooks/{id}`` ``{url, events, description, enabled, rotate_secret}`` → the
  webhook (with the new ``secret`` when rotated);
* ``DELETE /webhooks/{id}``; ``POST /webhooks/{id}/enable`` and ``/disable``;
* ``POST /webhooks/{id}/ping`` → ``{delivered, status_code, error, duration_ms}``;
* ``GET /webhooks/{id}/deliveries?before&limit`` → ``{deliveries, next_before}``.

Every check is the operation's (``webhooks/service.py``).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import JSONResponse

from http_api import envelope
from http_api.bodies import STRICT
from http_api.deps import Caller, Service
from openviking_mcp.contract.webhooks import CreateWebhookRequest, UpdateWebhookRequest

__all__ = ["CreateWebhookBody", "UpdateWebhookBody", "router"]

router = APIRouter(prefix="/api/v1/webhooks", tags=["webhooks"])

_Account = Annotated[str | None, Query(description="ROOT only: the account of the webhooks.")]


class CreateWebhookBody(CreateWebhookRequest):
    """A new webhook: its URL, event filter, description and state."""

    model_config = STRICT


class UpdateWebhookBody(UpdateWebhookRequest):
    """What to change; the webhook's id comes from the path."""

    model_config = STRICT
    webhook_id: str = ""


def _fields(webhook_id: str, account_id: str | None) -> dict[str, object]:
    return {"webhook_id": webhook_id, **({"account_id": account_id} if account_id else {})}


@router.post("", summary="Register a webhook (its secret is shown once)")
async def create_webhook(
    body: CreateWebhookBody,
    request: Request,
    service: Service,
    caller: Caller,
    account_id: _Account = None,
) -> JSONResponse:
    arguments = body.model_dump(exclude_none=True)
    if account_id:
        arguments["account_id"] = account_id
    return envelope.ok(request, await service.call(caller, "create_webhook", arguments))


@router.get("", summary="The account's webhooks (never their secrets)")
async def list_webhooks(
    request: Request, service: Service, caller: Caller, account_id: _Account = None
) -> JSONResponse:
    arguments = {"account_id": account_id} if account_id else {}
    return envelope.ok(request, await service.call(caller, "list_webhooks", arguments))


@router.get("/{webhook_id}", summary="One webhook and how its last delivery went")
async def get_webhook(
    webhook_id: str, request: Request, service: Service, caller: Caller, account_id: _Account = None
) -> JSONResponse:
    arguments = _fields(webhook_id, account_id)
    return envelope.ok(request, await service.call(caller, "get_webhook", arguments))


@router.patch("/{webhook_id}", summary="Change a webhook, or rotate its secret")
async def update_webhook(
    webhook_id: str,
    body: UpdateWebhookBody,
    request: Request,
    service: Service,
    caller: Caller,
    account_id: _Account = None,
) -> JSONResponse:
    arguments = {**body.model_dump(exclude_none=True), **_fields(webhook_id, account_id)}
    return envelope.ok(request, await service.call(caller, "update_webhook", arguments))


@router.delete("/{webhook_id}", summary="Remove a webhook")
async def delete_webhook(
    webhook_id: str, request: Request, service: Service, caller: Caller, account_id: _Account = None
) -> JSONResponse:
    arguments = _fields(webhook_id, account_id)
    return envelope.ok(request, await service.call(caller, "delete_webhook", arguments))


@router.post("/{webhook_id}/enable", summary="Send events to a webhook again, from now on")
async def enable_webhook(
    webhook_id: str, request: Request, service: Service, caller: Caller, account_id: _Account = None
) -> JSONResponse:
    arguments = _fields(webhook_id, account_id)
    return envelope.ok(request, await service.call(caller, "enable_webhook", arguments))


@router.post("/{webhook_id}/disable", summary="Stop sending events to a webhook")
async def disable_webhook(
    webhook_id: str, request: Request, service: Service, caller: Caller, account_id: _Account = None
) -> JSONResponse:
    arguments = _fields(webhook_id, account_id)
    return envelope.ok(request, await service.call(caller, "disable_webhook", arguments))


@router.post("/{webhook_id}/ping", summary="Send a signed test event now")
async def ping_webhook(
    webhook_id: str, request: Request, service: Service, caller: Caller, account_id: _Account = None
) -> JSONResponse:
    arguments = _fields(webhook_id, account_id)
    return envelope.ok(request, await service.call(caller, "ping_webhook", arguments))


@router.get("/{webhook_id}/deliveries", summary="A webhook's delivery attempts, newest first")
async def list_deliveries(
    webhook_id: str,
    request: Request,
    service: Service,
    caller: Caller,
    before: Annotated[int | None, Query(description="Attempts older than this id.")] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    account_id: _Account = None,
) -> JSONResponse:
    arguments = {**_fields(webhook_id, account_id), "limit": limit}
    if before is not None:
        arguments["before"] = before
    return envelope.ok(request, await service.call(caller, "list_webhook_deliveries", arguments))
