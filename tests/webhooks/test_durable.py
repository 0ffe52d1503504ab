"""Deliveries are durable: a server killed with ``kill -9`` while deliveries are pending (its
receiver down) loses none of them; the next server on the same data delivers every event
once the receiver is back."""

from __future__ import annotations

import json
import time
from pathlib import Path

import httpx
import pytest

from tests.servers import free_port, start_server
from tests.webhooks._receiver import Receiver, receiving

pytestmark = pytest.mark.slow

ENV = {
    "OPENVIKING__ALLOW_PRIVATE_NETWORKS": "true",
    "OPENVIKING__EMBEDDING__DENSE__PROVIDER": "hashing",
    "OPENVIKING__WEBHOOKS__RETRY_BASE_SECONDS": "0.3",
    "OPENVIKING__WEBHOOKS__RETRY_MAX_SECONDS": "1",
    "OPENVIKING__WEBHOOKS__MAX_ATTEMPTS": "50",
    "OPENVIKING__WEBHOOKS__POLL_SECONDS": "0.2",
}


def _write(http: httpx.Client, names: list[str]) -> None:
    for name in names:
        uri = f"viking://user/default/memories/{name}.md"
        answer = http.post("/api/v1/content/write", json={"uri": uri, "content": f"{name}."})
        assert answer.status_code == 200, answer.text


def _logged(http: httpx.Client) -> list[int]:
    page = http.get("/api/v1/events/log", params={"types": "memory.changed", "limit": 1000})
    return [e["id"] for e in page.json()["result"]["events"]]


def _delivered(receiver: Receiver, since: int) -> list[int]:
    return [json.loads(r.body)["id"] for r in receiver.got[since:]]


def test_kill_9_with_deliveries_pending_loses_none(tmp_path: Path) -> None:
    with receiving(503) as receiver:
        port = free_port()
        first = start_server(tmp_path, ["openviking-mcp", "serve"], port, ENV)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                made = http.post(
                    "/api/v1/webhooks", json={"url": receiver.url, "events": ["memory.changed"]}
                )
                assert made.status_code == 200, made.text
                _write(http, [f"early-{i}" for i in range(5)])
                receiver.wait_for(5)  # each failed at least once: all pending, backing off
                _write(http, [f"late-{i}" for i in range(3)])  # maybe not even queued yet
        finally:
            first.kill()  # SIGKILL: no shutdown, no lease released
            first.wait(timeout=30)
        failed_before = len(receiver.got)
        receiver.statuses = [200]
        port = free_port()
        second = start_server(tmp_path, ["openviking-mcp", "serve"], port, ENV)
        try:
            with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:
                logged = _logged(http)
                assert len(logged) == 8
                deadline = time.monotonic() + 60
                while set(_delivered(receiver, failed_before)) != set(logged):
                    assert time.monotonic() < deadline, (
                        sorted(_delivered(receiver, failed_before)),
                        logged,
                    )
                    time.sleep(0.1)
                time.sleep(1.5)  # anything still due would come now
                delivered = _delivered(receiver, failed_before)
        finally:
            second.terminate()
            second.wait(timeout=30)
    assert sorted(delivered) == sorted(logged)  # every event once
