"""Webhooks over HTTP on a live server: every route through the Python clients and as raw
requests (envelope, errors, who may call), and deliveries of events made through the API."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from openviking_mcp import AsyncHTTPClient, ContextService, SyncHTTPClient
from openviking_mcp.contract.webhook_signature import verify_signature
from tests.events._live import ROOT_KEY, config_for, serving
from tests.webhooks._receiver import receiving

HOOKS = "/api/v1/webhooks"


@pytest.fixture
def live(workspace: Path) -> Iterator[tuple[str, str, str]]:
    """The server's URL, the key of ann (ADMIN of acme) and of ben (USER of acme)."""
    config = config_for(
        workspace,
        allow_private_networks=True,
        webhooks={"retry_base_seconds": 0.2, "poll_seconds": 0.2},
    )
    with serving(ContextService(config)) as url:
        with SyncHTTPClient(url, ROOT_KEY, timeout=30.0) as root:
            ann = root.create_account("acme", "ann")["user_key"]
            ben = root.create_user("acme", "ben")["user_key"]
        yield url, ann, ben


def test_every_route_through_the_sync_client(live: tuple[str, str, str]) -> None:
    url, ann, _ = live
    with receiving(200) as receiver, SyncHTTPClient(url, ann, timeout=30.0) as client:
        hook = client.create_webhook(receiver.url, events=["memory.changed"], description="ci")
        hook_id = hook["webhook_id"]
        assert hook["secret"].startswith("whsec_")
        assert [h["webhook_id"] for h in client.list_webhooks()] == [hook_id]
        assert client.get_webhook(hook_id)["description"] == "ci"
        changed = client.update_webhook(hook_id, events=["skill.changed", "memory.changed"])
        assert changed["events"] == ["skill.changed", "memory.changed"]
        assert changed["secret"] is None
        assert client.disable_webhook(hook_id)["enabled"] is False
        assert client.enable_webhook(hook_id)["enabled"] is True
        ping = client.ping_webhook(hook_id)
        assert (ping["delivered"], ping["status_code"]) == (True, 200)
        client.write("viking://user/ann/memories/tea.md", "Likes green tea.")
        got = receiver.wait_for(2)
        body = json.loads(got[1].body)
        assert body["type"] == "memory.changed"
        verify_signature(hook["secret"], got[1].headers["x-openviking-signature"], got[1].body)
        log = client.list_webhook_deliveries(hook_id)
        assert sorted(d["event_type"] for d in log["deliveries"]) == [
            "memory.changed",
            "webhook.ping",
        ]
        assert client.delete_webhook(hook_id)["webhook_id"] == hook_id
        assert client.list_webhooks() == []


@pytest.mark.anyio
async def test_root_manages_another_accounts_webhooks_with_the_async_client(
    live: tuple[str, str, str],
) -> None:
    url, ann, _ = live
    with receiving(200) as receiver:
        async with AsyncHTTPClient(url, ROOT_KEY, timeout=30.0) as root:
            hook = await root.create_webhook(receiver.url, account_id="acme")
            assert hook["account_id"] == "acme"
            hook_id = hook["webhook_id"]
            disabled = await root.disable_webhook(hook_id, account_id="acme")
            assert disabled["enabled"] is False
            ping = await root.ping_webhook(hook_id, account_id="acme")
            assert ping["delivered"] is True
            await asyncio.to_thread(receiver.wait_for, 1)
            await root.delete_webhook(hook_id, account_id="acme")
        async with AsyncHTTPClient(url, ann, timeout=30.0) as client:
            assert await client.list_webhooks() == []


def test_raw_requests_get_the_envelope_and_clear_errors(live: tuple[str, str, str]) -> None:
    url, ann, ben = live
    admin = {"Authorization": f"Bearer {ann}"}
    with httpx.Client(base_url=url, timeout=30.0) as http:
        made = http.post(HOOKS, json={"url": "http://93.184.215.14/hook"}, headers=admin)
        assert made.status_code == 200
        assert made.json()["status"] == "ok"
        hook_id = made.json()["result"]["webhook_id"]
        wrong = {"url": "http://93.184.215.14/h", "events": ["x"]}
        bad = http.post(HOOKS, json=wrong, headers=admin)
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "INVALID_ARGUMENT"
        extra = http.post(HOOKS, json={"url": "http://93.184.215.14/h", "nope": 1}, headers=admin)
        assert extra.status_code == 400
        user = http.get(HOOKS, headers={"Authorization": f"Bearer {ben}"})
        assert user.status_code == 403
        assert user.json()["error"]["code"] == "PERMISSION_DENIED"
        missing = http.get(f"{HOOKS}/wh_nope", headers=admin)
        assert missing.status_code == 404
        patched = http.patch(f"{HOOKS}/{hook_id}", json={"description": "x"}, headers=admin)
        assert patched.json()["result"]["description"] == "x"
        deliveries = http.get(f"{HOOKS}/{hook_id}/deliveries", headers=admin)
        assert deliveries.json()["result"] == {"deliveries": [], "next_before": None}
        replayed = [
            http.post(
                HOOKS,
                json={"url": "http://93.184.215.14/again"},
                headers={**admin, "Idempotency-Key": "hook-1"},
            ).json()["result"]["webhook_id"]
            for _ in range(2)
        ]
        assert replayed[0] == replayed[1]
        listed = http.get(HOOKS, headers=admin).json()["result"]
        assert len(listed) == 2
        assert all("secret" not in h for h in listed)
