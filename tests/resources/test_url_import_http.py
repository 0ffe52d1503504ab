"""``POST /api/v1/resources`` with URLs that fail: each answer is a 4xx or 502 envelope with
``details.cause``, never a 500 and never a traceback.

The app runs in process with its task workers; the remote is an HTTP server on loopback,
reachable only where the app allows private networks.
"""

from __future__ import annotations

import http.server
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import anyio
import httpx
import pytest

from http_api import create_app
from openviking_mcp import OpenVikingConfig
from tests.servers import free_port, loopback_http

pytestmark = pytest.mark.anyio


class _Remote(http.server.BaseHTTPRequestHandler):
    busy_hits = 0

    def do_GET(self) -> None:
        if self.path.startswith("/missing"):
            body, status = b"no such page", 404
        elif self.path.startswith("/busy"):
            type(self).busy_hits += 1
            body, status = b"try later", 503
        else:
            body, status = b"<html><body><h1>Beavers</h1><p>Beavers build dams.</p>", 200
        self.send_response(status)
        self.send_header("Content-Type", "text/html")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        return None


@pytest.fixture(scope="module")
def remote() -> Iterator[str]:
    with loopback_http(_Remote) as port:
        yield f"http://127.0.0.1:{port}"


async def _client(workspace: Path, allow_private: bool) -> AsyncIterator[httpx.AsyncClient]:
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
            "allow_private_networks": allow_private,
        }
    )
    app = create_app(config)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


@pytest.fixture
async def guarded(workspace: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(workspace, allow_private=False):
        yield client


@pytest.fixture
async def open_app(workspace: Path) -> AsyncIterator[httpx.AsyncClient]:
    async for client in _client(workspace, allow_private=True):
        yield client


def _error(response: httpx.Response, status: int, code: str, workspace: Path) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert "Traceback" not in response.text
    assert str(workspace) not in response.text
    body = response.json()
    assert body["status"] == "error"
    assert body["error"]["code"] == code
    details: dict[str, Any] = body["error"]["details"]
    return details


@pytest.mark.parametrize("wait", [False, True])
@pytest.mark.parametrize(
    ("url", "status", "code", "cause"),
    [
        ("http://nonexistent.invalid/guide.md", 400, "INVALID_ARGUMENT", "unresolvable_host"),
        ("http://docs.example:99999/guide.md", 400, "INVALID_ARGUMENT", "invalid_url"),
        ("http://100.64.0.1/latest/meta-data", 403, "PERMISSION_DENIED", "non_public_address"),
        ("http://[2002:a9fe:a9fe::]/x", 403, "PERMISSION_DENIED", "non_public_address"),
        ("http://[64:ff9b::a9fe:a9fe]/x", 403, "PERMISSION_DENIED", "non_public_address"),
        ("http://[::ffff:169.254.169.254]/x", 403, "PERMISSION_DENIED", "non_public_address"),
        ("http://169.254.169.254/latest/", 403, "PERMISSION_DENIED", "non_public_address"),
    ],
)
async def test_refused_at_planning(
    guarded: httpx.AsyncClient,
    workspace: Path,
    url: str,
    status: int,
    code: str,
    cause: str,
    wait: bool,
) -> None:
    response = await guarded.post("/api/v1/resources", json={"path": url, "wait": wait})
    details = _error(response, status, code, workspace)
    assert details["cause"] == cause
    tasks = (await guarded.get("/api/v1/tasks")).json()["result"]
    assert tasks == [] or all(t["task_type"] != "add_resource" for t in tasks)


async def test_loopback_page_needs_the_setting(
    guarded: httpx.AsyncClient, remote: str, workspace: Path
) -> None:
    response = await guarded.post("/api/v1/resources", json={"path": f"{remote}/b.html"})
    assert _error(response, 403, "PERMISSION_DENIED", workspace)["address"] == "127.0.0.1"


async def test_network_failures_while_fetching(
    open_app: httpx.AsyncClient, remote: str, workspace: Path
) -> None:
    refused = f"http://127.0.0.1:{free_port()}/guide.md"
    response = await open_app.post("/api/v1/resources", json={"path": refused, "wait": True})
    details = _error(response, 502, "UNAVAILABLE", workspace)
    assert details["cause"] == "connection_refused"
    assert details["task_id"]

    response = await open_app.post(
        "/api/v1/resources", json={"path": f"{remote}/missing.html", "wait": True}
    )
    details = _error(response, 400, "INVALID_ARGUMENT", workspace)
    assert (details["cause"], details["remote_status"]) == ("remote_status", 404)

    # without wait, the same failure is recorded on the task
    accepted = await open_app.post("/api/v1/resources", json={"path": refused})
    task_id = accepted.json()["result"]["task_id"]
    for _ in range(300):
        task = (await open_app.get(f"/api/v1/tasks/{task_id}")).json()["result"]
        if task["status"] not in ("pending", "running"):
            break
        await anyio.sleep(0.1)
    assert (task["status"], task["stage"], task["attempts"]) == ("failed", "fetching", 1)
    assert "refused" in task["error"]

    ok = await open_app.post("/api/v1/resources", json={"path": f"{remote}/b.html", "wait": True})
    assert ok.status_code == 200, ok.text
    assert ok.json()["result"]["root_uri"] == "viking://resources/b"


@pytest.mark.slow
async def test_a_busy_remote_is_retried_then_answers_502(
    open_app: httpx.AsyncClient, remote: str, workspace: Path
) -> None:
    """A 503 from the remote is transient: the task tries three times (backing off about 6 s
    in all), then the waiting request gets the 502 with the remote's status."""
    _Remote.busy_hits = 0
    response = await open_app.post(
        "/api/v1/resources", json={"path": f"{remote}/busy.html", "wait": True}
    )
    details = _error(response, 502, "UNAVAILABLE", workspace)
    assert (details["cause"], details["remote_status"]) == ("remote_status", 503)
    assert _Remote.busy_hits == 3
    task = (await open_app.get(f"/api/v1/tasks/{details['task_id']}")).json()["result"]
    assert (task["status"], task["attempts"]) == ("failed", 3)
