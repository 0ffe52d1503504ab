"""``WebhookService``: the webhook operations (create, list, show, update, enable, disable,
delete, ping, delivery log) and the dispatcher that delivers events to them.

Webhooks belong to an account and see all of its events, so only the account's ADMIN (and
ROOT, naming the account) manages them, and never through a key restricted to a URI prefix.
A URL must be ``http`` or ``https`` and resolve to public addresses unless the server allows
private networks (the URL-import guard, checked again before every attempt).
"""

from __future__ import annotations

import secrets
import time
import uuid

from openviking_mcp.contract.access import key_prefix_uri
from openviking_mcp.contract.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from openviking_mcp.contract.eventlog import EVENT_TYPES
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.webhooks import (
    PING_EVENT,
    CreateWebhookRequest,
    PingResult,
    UpdateWebhookRequest,
    WebhookCreated,
    WebhookDeliveriesRequest,
    WebhookDeliveriesResult,
    WebhookDelivery,
    WebhookInfo,
    WebhookRequest,
    WebhooksRequest,
)
from openviking_mcp.resources.netguard import check_public_url
from openviking_mcp.storage.webhooks import DeliveryAttempt, WebhookRecord
from openviking_mcp.store import Store, iso_time
from openviking_mcp.webhooks.deliver import Delivery, delivery_body
from openviking_mcp.webhooks.dispatcher import WebhookDispatcher

__all__ = ["WebhookService"]

#: The most webhooks one account may hold.
MAX_WEBHOOKS = 100
_MAX_URL = 2048
_MAX_DESCRIPTION = 500
_SECRET_PREFIX = "whsec_"


def _info(hook: WebhookRecord) -> WebhookInfo:
    return WebhookInfo(
        webhook_id=hook.webhook_id,
        account_id=hook.account_id,
        url=hook.url,
        events=list(hook.events),
        description=hook.description,
        enabled=hook.enabled,
        created_by=hook.created_by,
        created_at=iso_time(hook.created_at),
        updated_at=iso_time(hook.updated_at),
        secret_prefix=hook.secret[: len(_SECRET_PREFIX) + 4],
        last_delivery_at=iso_time(hook.last_delivery_at) if hook.last_delivery_at else None,
        last_status=hook.last_status,
    )


def _shown(hook: WebhookRecord, secret: str | None) -> WebhookCreated:
    return WebhookCreated.model_validate({**_info(hook).wire(), "secret": secret})


def _delivery(attempt: DeliveryAttempt) -> WebhookDelivery:
    return WebhookDelivery(
        id=attempt.id,
        webhook_id=attempt.webhook_id,
        delivery_id=attempt.delivery_id,
        event_id=attempt.event_id,
        event_type=attempt.event_type,
        attempt=attempt.attempt,
        time=iso_time(attempt.ts),
        outcome=attempt.outcome,
        status_code=attempt.status_code,
        error=attempt.error,
        duration_ms=attempt.duration_ms,
    )


def _events(requested: list[str]) -> tuple[str, ...]:
    unknown = [e for e in requested if e not in EVENT_TYPES]
    if unknown:
        raise InvalidArgumentError(
            f"Unknown event type {unknown[0]!r}", {"field": "events", "known": list(EVENT_TYPES)}
        )
    return tuple(dict.fromkeys(requested))


def _description(text: str) -> str:
    if len(text) > _MAX_DESCRIPTION:
        raise InvalidArgumentError(
            f"description is at most {_MAX_DESCRIPTION} characters", {"field": "description"}
        )
    return text


class WebhookService:
    """The webhook operations (module docs); :attr:`dispatcher` delivers."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self.dispatcher = WebhookDispatcher(store)

    def _manager(self, ctx: RequestContext, account_id: str | None) -> RequestContext:
        """The caller acting in the webhook's account; 403 unless it may manage webhooks."""
        self._store.require_open()
        caller = ctx.in_account(account_id, "webhooks")
        if not caller.is_admin:
            raise PermissionDeniedError(
                "Only an ADMIN of the account or ROOT may manage webhooks", {"required": "admin"}
            )
        if key_prefix_uri(ctx) is not None:
            raise PermissionDeniedError(
                "A key restricted to a URI prefix cannot manage webhooks (they see every event "
                "of the account)",
                {"reason": "key_prefix"},
            )
        return caller

    async def _url(self, raw: str) -> str:
        url = raw.strip()
        scheme = url.split(":", 1)[0].lower()
        if scheme not in ("http", "https") or len(url) > _MAX_URL:
            raise InvalidArgumentError(
                f"A webhook URL is an http:// or https:// URL of at most {_MAX_URL} characters",
                {"field": "url"},
            )
        allow = self._store.config.allow_private_networks
        await check_public_url(url, allow_private=allow, action="send webhooks to")
        return url

    async def create_webhook(
        self, ctx: RequestContext, req: CreateWebhookRequest
    ) -> WebhookCreated:
        caller = self._manager(ctx, req.account_id)
        account = caller.account_id
        if not await self._store.accounts.account_exists(account):
            raise NotFoundError(account, "account")
        if len(await self._store.webhooks.all_of(account)) >= MAX_WEBHOOKS:
            raise FailedPreconditionError(
                f"An account holds at most {MAX_WEBHOOKS} webhooks", {"limit": MAX_WEBHOOKS}
            )
        now = time.time()
        secret = _SECRET_PREFIX + secrets.token_urlsafe(32)
        hook = WebhookRecord(
            webhook_id="wh_" + uuid.uuid4().hex[:20],
            account_id=account,
            url=await self._url(req.url),
            events=_events(req.events),
            description=_description(req.description),
            secret=secret,
            enabled=req.enabled,
            since_event_id=0,
            created_by=ctx.user_id,
            created_role=ctx.role.value,
            created_at=now,
            updated_at=now,
        )
        return _shown(await self._store.webhooks.create(hook), secret)

    async def list_webhooks(self, ctx: RequestContext, req: WebhooksRequest) -> list[WebhookInfo]:
        caller = self._manager(ctx, req.account_id)
        return [_info(h) for h in await self._store.webhooks.all_of(caller.account_id)]

    async def get_webhook(self, ctx: RequestContext, req: WebhookRequest) -> WebhookInfo:
        caller = self._manager(ctx, req.account_id)
        return _info(await self._store.webhooks.get(caller.account_id, req.webhook_id))

    async def update_webhook(
        self, ctx: RequestContext, req: UpdateWebhookRequest
    ) -> WebhookCreated:
        caller = self._manager(ctx, req.account_id)
        current = await self._store.webhooks.get(caller.account_id, req.webhook_id)
        values: dict[str, object] = {}
        if req.url is not None:
            values["url"] = await self._url(req.url)
        if req.events is not None:
            values["events"] = _events(req.events)
        if req.description is not None:
            values["description"] = _description(req.description)
        if req.enabled is not None and req.enabled != current.enabled:
            values["enabled"] = req.enabled
            if req.enabled:
                values["since_event_id"] = None  # from now on
        secret = _SECRET_PREFIX + secrets.token_urlsafe(32) if req.rotate_secret else None
        if secret is not None:
            values["secret"] = secret
        hook = await self._store.webhooks.update(caller.account_id, req.webhook_id, **values)
        return _shown(hook, secret)

    async def _set_enabled(
        self, ctx: RequestContext, req: WebhookRequest, enabled: bool
    ) -> WebhookInfo:
        update = UpdateWebhookRequest(
            account_id=req.account_id, webhook_id=req.webhook_id, enabled=enabled
        )
        shown = await self.update_webhook(ctx, update)
        return WebhookInfo.model_validate(shown.model_dump(exclude={"secret"}))

    async def enable_webhook(self, ctx: RequestContext, req: WebhookRequest) -> WebhookInfo:
        return await self._set_enabled(ctx, req, True)

    async def disable_webhook(self, ctx: RequestContext, req: WebhookRequest) -> WebhookInfo:
        return await self._set_enabled(ctx, req, False)

    async def delete_webhook(self, ctx: RequestContext, req: WebhookRequest) -> WebhookInfo:
        caller = self._manager(ctx, req.account_id)
        return _info(await self._store.webhooks.delete(caller.account_id, req.webhook_id))

    async def ping_webhook(self, ctx: RequestContext, req: WebhookRequest) -> PingResult:
        """Send one signed ``webhook.ping`` now (even to a disabled webhook) and log it."""
        caller = self._manager(ctx, req.account_id)
        hook = await self._store.webhooks.get(caller.account_id, req.webhook_id)
        event: dict[str, object] = {
            "id": None,
            "type": PING_EVENT,
            "time": iso_time(time.time()),
            "account_id": hook.account_id,
            "user_id": None,
            "uris": [],
            "payload": {"webhook_id": hook.webhook_id, "sent_by": ctx.user_id},
        }
        body = delivery_body(event, hook.webhook_id)
        ping_id = f"ping_{uuid.uuid4().hex}"
        delivery = Delivery(hook.url, hook.secret, body, PING_EVENT, None, ping_id, 1)
        result = await self.dispatcher.attempt(hook, delivery)
        return PingResult(
            webhook_id=hook.webhook_id,
            delivered=result.delivered,
            status_code=result.status_code,
            error=result.error,
            duration_ms=result.duration_ms,
        )

    async def list_deliveries(
        self, ctx: RequestContext, req: WebhookDeliveriesRequest
    ) -> WebhookDeliveriesResult:
        caller = self._manager(ctx, req.account_id)
        if not 1 <= req.limit <= 500:
            raise InvalidArgumentError("limit must be 1..500", {"field": "limit"})
        hook = await self._store.webhooks.get(caller.account_id, req.webhook_id)
        rows = await self._store.webhooks.attempts(hook.webhook_id, req.before, req.limit)
        next_before = rows[-1].id if len(rows) == req.limit else None
        return WebhookDeliveriesResult(
            deliveries=[_delivery(r) for r in rows], next_before=next_before
        )
