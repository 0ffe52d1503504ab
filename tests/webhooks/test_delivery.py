"""Webhook deliveries from real events to a receiver on 127.0.0.1: signatures, filters,
retries with backoff, the delivery log, disable and enable, rotation, and ping."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

import pytest

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.contract.webhook_signature import (
    SIGNATURE_HEADER,
    WebhookSignatureError,
    verify_signature,
)
from tests.webhooks._receiver import Receiver, receiving

pytestmark = pytest.mark.anyio


@pytest.fixture
def config(storage_section: dict[str, Any]) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": storage_section,
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "allow_private_networks": True,
            "webhooks": {
                "retry_base_seconds": 0.2,
                "retry_max_seconds": 0.5,
                "poll_seconds": 0.2,
                "max_attempts": 3,
            },
        }
    )


async def _admin(service: ContextService) -> RequestContext:
    made = await service.create_account(RequestContext.root(), "acme", "ann")
    return await service.auth.resolve_api_key(made["user_key"])


async def _received(receiver: Receiver, count: int) -> list[Any]:
    return await asyncio.to_thread(receiver.wait_for, count)


async def _settled(service: ContextService, ctx: RequestContext) -> None:
    """Every queued delivery attempted (the dispatcher has had a turn first)."""
    await service.webhooks.dispatcher.dispatch_once()
    await service.wait_processing(ctx, timeout=30)


@pytest.mark.both_backends
async def test_delivery_is_signed_and_only_wanted_events_are_sent(
    service: ContextService,
) -> None:
    ann = await _admin(service)
    with receiving() as memories, receiving() as failures:
        hook = await service.create_webhook(ann, memories.url, events=["memory.changed"])
        other = await service.create_webhook(ann, failures.url, events=["task.failed"])
        await service.write(ann, "viking://user/ann/memories/tea.md", "Likes green tea.")
        (got,) = await _received(memories, 1)
        await _settled(service, ann)
    assert failures.got == []
    timestamp = verify_signature(hook["secret"], got.headers[SIGNATURE_HEADER.lower()], got.body)
    assert abs(timestamp - time.time()) < 60
    body = json.loads(got.body)
    assert body["type"] == "memory.changed"
    assert body["uris"] == ["viking://user/ann/memories/tea.md"]
    assert body["payload"] == {"change": "added"}
    assert body["webhook_id"] == hook["webhook_id"]
    assert got.headers["x-openviking-event"] == "memory.changed"
    assert got.headers["x-openviking-event-id"] == str(body["id"])
    logged = await service.list_events(ann, types="memory.changed")
    assert [e["id"] for e in logged["events"]] == [body["id"]]
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_signature(hook["secret"], got.headers[SIGNATURE_HEADER.lower()], got.body + b" ")
    with pytest.raises(WebhookSignatureError, match="does not match"):
        verify_signature(other["secret"], got.headers[SIGNATURE_HEADER.lower()], got.body)
    with pytest.raises(WebhookSignatureError, match="from now"):
        verify_signature(
            hook["secret"], got.headers[SIGNATURE_HEADER.lower()], got.body, now=timestamp + 301
        )
    shown = await service.get_webhook(ann, hook["webhook_id"])
    assert shown["last_status"] == "delivered"
    assert "secret" not in shown
    assert hook["secret"] not in json.dumps(shown)


async def test_a_receiver_that_fails_twice_gets_the_third_try(service: ContextService) -> None:
    ann = await _admin(service)
    with receiving(500, 503, 200) as receiver:
        hook = await service.create_webhook(ann, receiver.url)
        await service.write(ann, "viking://user/ann/memories/tea.md", "Likes green tea.")
        got = await _received(receiver, 3)
        await _settled(service, ann)
    assert len(receiver.got) == 3
    assert len({r.body for r in got}) == 1  # the same body each time
    assert len({r.headers["x-openviking-delivery"] for r in got}) == 1
    assert [r.headers["x-openviking-attempt"] for r in got] == ["1", "2", "3"]
    for r in got:
        verify_signature(hook["secret"], r.headers[SIGNATURE_HEADER.lower()], r.body)
    log = await service.list_webhook_deliveries(ann, hook["webhook_id"])
    attempts = sorted(log["deliveries"], key=lambda d: d["attempt"])
    assert [(d["outcome"], d["status_code"]) for d in attempts] == [
        ("failed", 500),
        ("failed", 503),
        ("delivered", 200),
    ]
    assert attempts[0]["error"].startswith("HTTP 500")
    tasks = await service.list_tasks(ann, task_type="webhook_delivery")
    assert [t["status"] for t in tasks] == ["completed"]


async def test_an_exhausted_delivery_fails_and_can_be_retried(service: ContextService) -> None:
    ann = await _admin(service)
    with receiving(500) as receiver:
        hook = await service.create_webhook(ann, receiver.url, events=["memory.changed"])
        await service.write(ann, "viking://user/ann/memories/tea.md", "Likes green tea.")
        await _received(receiver, 3)
        await _settled(service, ann)
        (task,) = await service.list_tasks(ann, task_type="webhook_delivery")
        assert task["status"] == "failed"
        assert "HTTP 500" in task["error"]
        # a failed delivery is no task.failed event (which would be delivered in turn)
        assert (await service.list_events(ann, types="task.failed"))["events"] == []
        receiver.statuses = [200]
        retried = await service.retry_task(ann, task["task_id"])
        await _received(receiver, 4)
        await service.wait_processing(ann, timeout=30)
    assert len(receiver.got) == 4
    assert receiver.got[3].body == receiver.got[0].body
    assert (await service.get_task(ann, retried["task_id"]))["status"] == "completed"
    assert (await service.get_webhook(ann, hook["webhook_id"]))["last_status"] == "delivered"


async def test_disabled_webhooks_get_nothing_and_resume_from_now(
    service: ContextService,
) -> None:
    ann = await _admin(service)
    with receiving() as receiver:
        hook = await service.create_webhook(ann, receiver.url, events=["memory.changed"])
        off = await service.disable_webhook(ann, hook["webhook_id"])
        assert off["enabled"] is False
        await service.write(ann, "viking://user/ann/memories/while-off.md", "Missed.")
        await _settled(service, ann)
        assert receiver.got == []
        on = await service.enable_webhook(ann, hook["webhook_id"])
        assert on["enabled"] is True
        await service.write(ann, "viking://user/ann/memories/after.md", "Sent.")
        (got,) = await _received(receiver, 1)
        await _settled(service, ann)
    assert json.loads(got.body)["uris"] == ["viking://user/ann/memories/after.md"]
    assert len(receiver.got) == 1


async def test_rotated_secret_signs_the_next_deliveries(service: ContextService) -> None:
    ann = await _admin(service)
    with receiving() as receiver:
        hook = await service.create_webhook(ann, receiver.url)
        rotated = await service.update_webhook(ann, hook["webhook_id"], rotate_secret=True)
        assert rotated["secret"]
        assert rotated["secret"] != hook["secret"]
        listed = await service.list_webhooks(ann)
        assert [h["webhook_id"] for h in listed] == [hook["webhook_id"]]
        assert rotated["secret"] not in json.dumps(listed)
        await service.write(ann, "viking://user/ann/memories/tea.md", "Likes green tea.")
        (got,) = await _received(receiver, 1)
    header = got.headers[SIGNATURE_HEADER.lower()]
    verify_signature(rotated["secret"], header, got.body)
    with pytest.raises(WebhookSignatureError):
        verify_signature(hook["secret"], header, got.body)


async def test_ping_reports_the_receivers_answer_and_is_logged(service: ContextService) -> None:
    ann = await _admin(service)
    with receiving(204, 404) as receiver:
        hook = await service.create_webhook(ann, receiver.url, enabled=False)
        ok = await service.ping_webhook(ann, hook["webhook_id"])
        missing = await service.ping_webhook(ann, hook["webhook_id"])
    assert (ok["delivered"], ok["status_code"], ok["error"]) == (True, 204, None)
    assert (missing["delivered"], missing["status_code"]) == (False, 404)
    assert missing["error"].startswith("HTTP 404")
    body = json.loads(receiver.got[0].body)
    assert body["type"] == "webhook.ping"
    assert body["id"] is None
    verify_signature(
        hook["secret"], receiver.got[0].headers["x-openviking-signature"], receiver.got[0].body
    )
    log = await service.list_webhook_deliveries(ann, hook["webhook_id"], limit=1)
    assert [d["status_code"] for d in log["deliveries"]] == [404]
    more = await service.list_webhook_deliveries(ann, hook["webhook_id"], before=log["next_before"])
    assert [d["status_code"] for d in more["deliveries"]] == [204]
    assert more["next_before"] is None


async def test_deleted_webhooks_drop_their_pending_deliveries(service: ContextService) -> None:
    ann = await _admin(service)
    with receiving(500) as receiver:
        hook = await service.create_webhook(ann, receiver.url)
        await service.write(ann, "viking://user/ann/memories/tea.md", "Likes green tea.")
        await _received(receiver, 1)
        await service.delete_webhook(ann, hook["webhook_id"])
        await _settled(service, ann)
    assert len(receiver.got) == 1
    (task,) = await service.list_tasks(ann, task_type="webhook_delivery")
    assert task["status"] == "completed"
    assert task["result"] == {"skipped": "webhook deleted"}
    assert await service.list_webhooks(ann) == []
