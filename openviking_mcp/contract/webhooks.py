"""Webhooks: an account's HTTP endpoints that receive its events as signed POSTs.

A webhook has a URL, an event filter (``events``: any of :data:`EVENT_TYPES`; empty for all),
an optional description and a signing secret, shown when the webhook is created and when it is
rotated, never listed. Each event of the account after the webhook was created is delivered
once it is recorded, as a durable task: a non-2xx answer or a network error is tried again
with exponential backoff, and every attempt is logged (``list_webhook_deliveries``). A disabled
webhook receives nothing; events recorded while it was disabled are not sent later. Webhooks
are managed by the account's ADMIN (ROOT names the account with ``account_id``). The URL must
resolve to public addresses unless the server allows private networks, as for URL imports.

How a delivery is signed and checked is :mod:`openviking_mcp.contract.webhook_signature`.
"""

from __future__ import annotations

from pydantic import Field

from openviking_mcp.contract.base import Integer, Request, Result
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "OPERATIONS",
    "PING_EVENT",
    "CreateWebhookRequest",
    "PingResult",
    "UpdateWebhookRequest",
    "WebhookCreated",
    "WebhookDeliveriesRequest",
    "WebhookDeliveriesResult",
    "WebhookDelivery",
    "WebhookInfo",
    "WebhookRequest",
    "WebhooksRequest",
]

#: The type of the event a test ping sends.
PING_EVENT = "webhook.ping"

_ACCOUNT = Field(default=None, description="ROOT only: the account of the webhook.")


class WebhooksRequest(Request):
    account_id: str | None = _ACCOUNT


class CreateWebhookRequest(WebhooksRequest):
    """A new endpoint for the account's events."""

    url: str = Field(description="An http(s) URL that receives the events as POSTs.")
    events: list[str] = Field(
        default_factory=list,
        description="The event types to send (resource.indexed, task.failed, "
        "session.committed, memory.changed, skill.changed, key.revoked); empty for all.",
    )
    description: str = Field(default="", description="A note for people (up to 500 chars).")
    enabled: bool = True


class WebhookRequest(WebhooksRequest):
    webhook_id: str


class UpdateWebhookRequest(WebhookRequest):
    """Fields left out (or ``null``) keep their value."""

    url: str | None = None
    events: list[str] | None = None
    description: str | None = None
    enabled: bool | None = None
    rotate_secret: bool = Field(
        default=False, description="Replace the signing secret; the new one is answered once."
    )


class WebhookDeliveriesRequest(WebhookRequest):
    before: Integer | None = Field(
        default=None, description="Attempts older than this one (next_before of a page)."
    )
    limit: Integer = Field(default=50, description="Attempts per page (1..500).")


class WebhookInfo(Result):
    """A webhook as listed: never its secret."""

    webhook_id: str
    account_id: str
    url: str
    events: list[str] = Field(description="The event types it receives; empty for all.")
    description: str
    enabled: bool
    created_by: str
    created_at: str
    updated_at: str
    secret_prefix: str = Field(description="The start of the secret, to recognise it.")
    last_delivery_at: str | None = None
    last_status: str | None = Field(
        default=None, description="How the last attempt ended: delivered, or the failure."
    )


class WebhookCreated(WebhookInfo):
    secret: str | None = Field(
        default=None,
        description="The signing secret: answered when the webhook is created or its secret "
        "rotated, and never again.",
    )


class WebhookDelivery(Result):
    """One attempt to deliver one event."""

    id: int
    webhook_id: str
    delivery_id: str = Field(description="The same for every attempt of one delivery.")
    event_id: int | None
    event_type: str
    attempt: int
    time: str
    outcome: str = Field(description="delivered or failed.")
    status_code: int | None = Field(description="The receiver's HTTP status, if it answered.")
    error: str | None
    duration_ms: float


class WebhookDeliveriesResult(Result):
    deliveries: list[WebhookDelivery]
    next_before: int | None = Field(description="Pass as before for the next page.")


class PingResult(Result):
    """How the test ping went (it is logged as a delivery too)."""

    webhook_id: str
    delivered: bool
    status_code: int | None
    error: str | None
    duration_ms: float


_HOOKS = "/api/v1/webhooks"
_HOOK = _HOOKS + "/{webhook_id}"

OPERATIONS = (
    Operation(
        "create_webhook",
        "webhooks.create_webhook",
        CreateWebhookRequest,
        WebhookCreated,
        ("url",),
        Route("POST", _HOOKS),
        doc="Register an endpoint for the account's events; its signing secret is shown once.",
    ),
    Operation(
        "list_webhooks",
        "webhooks.list_webhooks",
        WebhooksRequest,
        list[WebhookInfo],
        (),
        Route("GET", _HOOKS),
        doc="The account's webhooks (never their secrets).",
    ),
    Operation(
        "get_webhook",
        "webhooks.get_webhook",
        WebhookRequest,
        WebhookInfo,
        ("webhook_id",),
        Route("GET", _HOOK),
        doc="One webhook, with how its last delivery went.",
    ),
    Operation(
        "update_webhook",
        "webhooks.update_webhook",
        UpdateWebhookRequest,
        WebhookCreated,
        ("webhook_id",),
        Route("PATCH", _HOOK),
        doc="Change a webhook's URL, events, description or state, or rotate its secret.",
    ),
    Operation(
        "delete_webhook",
        "webhooks.delete_webhook",
        WebhookRequest,
        WebhookInfo,
        ("webhook_id",),
        Route("DELETE", _HOOK),
        doc="Remove a webhook; its pending deliveries are dropped.",
    ),
    Operation(
        "enable_webhook",
        "webhooks.enable_webhook",
        WebhookRequest,
        WebhookInfo,
        ("webhook_id",),
        Route("POST", _HOOK + "/enable", fields_in="query"),
        doc="Send events to a webhook again (from now on).",
    ),
    Operation(
        "disable_webhook",
        "webhooks.disable_webhook",
        WebhookRequest,
        WebhookInfo,
        ("webhook_id",),
        Route("POST", _HOOK + "/disable", fields_in="query"),
        doc="Stop sending events to a webhook; events meanwhile are not sent later.",
    ),
    Operation(
        "ping_webhook",
        "webhooks.ping_webhook",
        WebhookRequest,
        PingResult,
        ("webhook_id",),
        Route("POST", _HOOK + "/ping", fields_in="query"),
        doc="Send a signed webhook.ping event now and answer how the receiver replied.",
    ),
    Operation(
        "list_webhook_deliveries",
        "webhooks.list_deliveries",
        WebhookDeliveriesRequest,
        WebhookDeliveriesResult,
        ("webhook_id",),
        Route("GET", _HOOK + "/deliveries"),
        doc="A webhook's delivery attempts, newest first.",
    ),
)
