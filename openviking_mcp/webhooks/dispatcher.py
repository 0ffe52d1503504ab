"""From events to delivered POSTs: the dispatcher loop and the delivery task.

The dispatcher runs in every process that runs background work. Each time an event is
recorded in this process (and every ``poll_seconds`` for the other processes' events) it
turns the new events into delivery tasks, one per enabled webhook that wants each event, in
the same transaction that moves its cursor (:meth:`~openviking_mcp.storage.webhooks.
WebhookStore.dispatch`). A delivery is a task of the durable queue: a process killed with
deliveries pending leaves them to the next start (or to another live process), and the
queue's lease makes sure one process sends each attempt.

A delivery task sends one attempt. A 2xx answer completes it; any other answer or a network
error is logged and the task is tried again after ``retry_base_seconds``, doubling up to
``retry_max_seconds``, until ``max_attempts`` have failed. A delivery for a webhook that was
deleted or disabled since is dropped (completed with the reason).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from typing import Any

from openviking_mcp._aio import wait_event
from openviking_mcp.contract.errors import FailedPreconditionError
from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.eventlog.service import EventLogService
from openviking_mcp.resources.netguard import guarded_client
from openviking_mcp.storage.metadata import Connection
from openviking_mcp.storage.queue import NORMAL, TaskHandle, TaskRecord, TransientError
from openviking_mcp.storage.webhooks import DeliveryAttempt, WebhookRecord
from openviking_mcp.store import Store
from openviking_mcp.webhooks.deliver import (
    AttemptResult,
    Delivery,
    backoff_seconds,
    delivery_body,
    send_delivery,
)

__all__ = ["WEBHOOK_DELIVERY_TASK", "WebhookDispatcher"]

WEBHOOK_DELIVERY_TASK = "webhook_delivery"

_log = logging.getLogger(__name__)
_BATCH = 500
_PRUNE_EVERY_S = 3600.0


def _owner(hook: WebhookRecord) -> RequestContext:
    """Whose task a delivery is: the webhook's creator (who sees it in the task list)."""
    return RequestContext(hook.account_id, hook.created_by, Role(hook.created_role))


class WebhookDispatcher:
    """The dispatcher loop and the delivery task's handler (module docs)."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._settings = store.config.webhooks
        self._loop_task: asyncio.Task[None] | None = None
        self._last_prune = 0.0

    # -- dispatching -------------------------------------------------------------------------

    def start(self) -> None:
        if self._loop_task is None and self._settings.enabled:
            self._loop_task = asyncio.create_task(self._loop(), name="openviking-webhooks")

    async def stop(self) -> None:
        task, self._loop_task = self._loop_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task

    def _stage(self, conn: Connection, hook: WebhookRecord, event_id: int, event_type: str) -> None:
        self._store.tasks.stage(
            conn,
            WEBHOOK_DELIVERY_TASK,
            _owner(hook),
            {"webhook_id": hook.webhook_id, "event_id": event_id, "event_type": event_type},
            priority=NORMAL,
            resource_id=hook.webhook_id,
            max_attempts=self._settings.max_attempts,
        )

    async def dispatch_once(self) -> int:
        """Queue the deliveries of every settled event after the cursor; how many."""
        total = 0
        while await self._store.webhooks.has_enabled():
            outcome = await self._store.webhooks.dispatch(
                self._stage, batch=_BATCH, gap_wait=self._settings.gap_wait_seconds
            )
            total += outcome.queued
            if outcome.queued:
                self._store.tasks.wake()
            if not outcome.more or outcome.waiting:
                break
        return total

    async def _loop(self) -> None:
        log = self._store.event_log
        while True:
            changed = log.changed()
            try:
                await self.dispatch_once()
                await self._prune()
            except asyncio.CancelledError:
                raise
            except Exception:
                _log.exception("webhook dispatch failed; trying again shortly")
            await wait_event(changed, self._settings.poll_seconds)

    async def _prune(self) -> None:
        if time.time() - self._last_prune > _PRUNE_EVERY_S:
            self._last_prune = time.time()
            await self._store.webhooks.prune(self._settings.delivery_retention_days)

    # -- delivering --------------------------------------------------------------------------

    async def attempt(self, hook: WebhookRecord, delivery: Delivery) -> AttemptResult:
        """Send one attempt and log it."""
        async with guarded_client(self._settings.timeout_seconds) as client:
            result = await send_delivery(
                client, delivery, allow_private=self._store.config.allow_private_networks
            )
        await self._store.webhooks.log_attempt(
            DeliveryAttempt(
                webhook_id=hook.webhook_id,
                account_id=hook.account_id,
                delivery_id=delivery.delivery_id,
                event_id=delivery.event_id,
                event_type=delivery.event_type,
                attempt=delivery.attempt,
                outcome="delivered" if result.delivered else "failed",
                status_code=result.status_code,
                error=result.error,
                duration_ms=result.duration_ms,
            )
        )
        return result

    async def run_delivery(self, handle: TaskHandle) -> dict[str, Any]:
        """The delivery task (module docs)."""
        payload = handle.payload
        hook = await self._store.webhooks.find(str(payload["webhook_id"]))
        if hook is None or not hook.enabled:
            return {"skipped": "webhook deleted" if hook is None else "webhook disabled"}
        event = await self._store.event_log.get(int(payload["event_id"]))
        if event is None:
            return {"skipped": "event no longer in the event log"}
        body = delivery_body(EventLogService.item(event).wire(), hook.webhook_id)
        attempt = handle.record.attempts
        delivery = Delivery(
            hook.url, hook.secret, body, event.event_type, event.id, handle.record.task_id, attempt
        )
        await handle.report("delivering", attempt=attempt)
        result = await self.attempt(hook, delivery)
        if result.delivered:
            return {"webhook_id": hook.webhook_id, "status_code": result.status_code}
        message = f"Delivery to {hook.url} failed: {result.error}"
        if result.permanent:
            raise FailedPreconditionError(message, {"webhook_id": hook.webhook_id})
        wait = backoff_seconds(
            attempt, self._settings.retry_base_seconds, self._settings.retry_max_seconds
        )
        raise TransientError(message, retry_after=wait)

    async def retry_delivery(self, record: TaskRecord) -> str:
        """A failed delivery queued again (the tasks' Retry), with fresh attempts."""
        hook = await self._store.webhooks.find(str(record.payload.get("webhook_id")))
        if hook is None:
            raise FailedPreconditionError(
                "The webhook of this delivery was deleted", {"task_id": record.task_id}
            )
        return await self._store.tasks.submit(
            WEBHOOK_DELIVERY_TASK,
            record.context,
            record.payload,
            priority=NORMAL,
            resource_id=hook.webhook_id,
            max_attempts=self._settings.max_attempts,
        )
