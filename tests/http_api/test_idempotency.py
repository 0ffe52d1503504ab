"""``Idempotency-Key`` on the HTTP API's mutating requests, over ASGI with the app's lifespan."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.storage.idempotency import IdempotencyRecords

pytestmark = pytest.mark.anyio

GUIDE = b"# Release guide\n\nTag the release, then run the rollout with canary first.\n"
ROOT_KEY = "root-secret-key-for-idempotency"

Client = Callable[..., AbstractAsyncContextManager[tuple[httpx.AsyncClient, ContextService]]]


@pytest.fixture
def client(workspace: Path) -> Client:
    """``async with client(server=..., idempotency=...) as (http, service)``."""

    @asynccontextmanager
    async def start(
        **sections: dict[str, Any],
    ) -> AsyncIterator[tuple[httpx.AsyncClient, ContextService]]:
        config = OpenVikingConfig.from_dict(
            {
                "storage": {"workspace": str(workspace)},
                "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
                **sections,
            }
        )
        app = create_app(config)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield http, app.state.service

    return start


def _key(value: str) -> dict[str, str]:
    return {"Idempotency-Key": value}


async def _import_tasks(http: httpx.AsyncClient) -> list[dict[str, Any]]:
    listed = await http.get("/api/v1/tasks", params={"limit": 200})
    assert listed.status_code == 200, listed.text
    return [t for t in listed.json()["result"] if "resource" in str(t.get("task_type"))]


async def _upload(http: httpx.AsyncClient) -> str:
    files = {"file": ("guide.md", GUIDE, "text/markdown")}
    uploaded = await http.post("/api/v1/resources/temp_upload", files=files)
    assert uploaded.status_code == 200, uploaded.text
    return str(uploaded.json()["result"]["temp_file_id"])


async def test_a_repeated_import_replays_the_first_response_and_runs_once(client: Client) -> None:
    async with client() as (http, _service):
        body = {"temp_file_id": await _upload(http), "reason": "docs"}
        first = await http.post("/api/v1/resources", json=body, headers=_key("import-1"))
        assert first.status_code == 200, first.text
        assert "Idempotent-Replayed" not in first.headers
        again = await http.post("/api/v1/resources", json=body, headers=_key("import-1"))
        assert again.status_code == 200
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.content == first.content
        assert again.headers["content-type"] == first.headers["content-type"]
        assert again.headers["X-Request-ID"] != first.headers["X-Request-ID"]
        assert len(await _import_tasks(http)) == 1


async def test_parallel_retries_with_one_key_produce_one_import(client: Client) -> None:
    async with client() as (http, _service):
        body = {"temp_file_id": await _upload(http), "reason": "docs"}
        answers = await asyncio.gather(
            *(http.post("/api/v1/resources", json=body, headers=_key("same")) for _ in range(6))
        )
        assert {a.status_code for a in answers} == {200}
        assert len({a.content for a in answers}) == 1
        assert sum(a.headers.get("Idempotent-Replayed") == "true" for a in answers) == 5
        tasks = await _import_tasks(http)
        assert len(tasks) == 1
        assert tasks[0]["task_id"] == answers[0].json()["result"]["task_id"]


async def test_same_key_with_another_body_is_409_and_changes_nothing(client: Client) -> None:
    async with client() as (http, service):
        write = {"uri": "viking://resources/a.md", "content": "one", "mode": "create"}
        first = await http.post("/api/v1/content/write", json=write, headers=_key("w"))
        assert first.status_code == 200, first.text
        other = {**write, "uri": "viking://resources/b.md"}
        reused = await http.post("/api/v1/content/write", json=other, headers=_key("w"))
        assert reused.status_code == 409
        error = reused.json()["error"]
        assert error["code"] == "IDEMPOTENCY_KEY_REUSED"
        assert error["details"] == {"header": "Idempotency-Key"}
        other_path = await http.post(
            "/api/v1/fs/mkdir", json={"uri": "viking://resources/x"}, headers=_key("w")
        )
        assert other_path.json()["error"]["code"] == "IDEMPOTENCY_KEY_REUSED"
        listed = await service.ls(service.dev_context(), "viking://resources", simple=True)
        assert listed == ["viking://resources/a.md"]


async def test_keys_are_scoped_per_user(client: Client) -> None:
    async with client() as (http, _service):
        for user in ("alice", "bob"):
            write = {"uri": f"viking://user/{user}/memories/n.md", "content": user}
            headers = {**_key("shared-key"), "X-OpenViking-User": user}
            answer = await http.post("/api/v1/content/write", json=write, headers=headers)
            assert answer.status_code == 200, answer.text
            assert "Idempotent-Replayed" not in answer.headers


async def test_each_named_key_has_its_own_records(client: Client) -> None:
    async with client(server={"root_api_key": ROOT_KEY}) as (http, _service):
        root = {"X-API-Key": ROOT_KEY}
        body = {"account_id": "acme", "admin_user_id": "ann"}
        created = await http.post("/api/v1/admin/accounts", json=body, headers=root)
        main = {"X-API-Key": created.json()["result"]["user_key"]}
        keys = []
        for name in ("ci", "laptop"):
            made = {"name": name, "scopes": ["read", "write"]}
            answer = await http.post("/api/v1/keys", json=made, headers=main)
            assert answer.status_code == 200, answer.text
            keys.append({"X-API-Key": answer.json()["result"]["api_key"]})
        write = {"uri": "viking://resources/n.md", "content": "same body"}
        replayed = []
        for key in keys:
            answer = await http.post(
                "/api/v1/content/write", json=write, headers={**key, **_key("one")}
            )
            assert answer.status_code == 200, answer.text
            replayed.append(answer.headers.get("Idempotent-Replayed"))
        assert replayed == [None, None]  # the second key ran its own request


async def test_records_expire_after_their_ttl(client: Client) -> None:
    async with client(idempotency={"ttl_hours": 0.3 / 3600}) as (http, service):
        write = {"uri": "viking://resources/t.md", "content": "one"}
        assert (await http.post("/api/v1/content/write", json=write, headers=_key("t"))).is_success
        await asyncio.sleep(0.4)
        other = {**write, "content": "two"}
        answer = await http.post("/api/v1/content/write", json=other, headers=_key("t"))
        assert answer.status_code == 200
        assert "Idempotent-Replayed" not in answer.headers
        assert await service.read(service.dev_context(), "viking://resources/t.md") == "two"
        assert await IdempotencyRecords(service.store.db).count() == 1


async def test_client_errors_are_replayed(client: Client) -> None:
    async with client() as (http, service):
        ctx = service.dev_context()
        await service.write(ctx, "viking://resources/e.md", "x", mode="create")
        write = {"uri": "viking://resources/e.md", "content": "y", "mode": "create"}
        first = await http.post("/api/v1/content/write", json=write, headers=_key("e"))
        assert first.status_code == 409
        assert first.json()["error"]["code"] == "ALREADY_EXISTS"
        await service.rm(ctx, "viking://resources/e.md")
        again = await http.post("/api/v1/content/write", json=write, headers=_key("e"))
        assert again.status_code == 409
        assert again.headers["Idempotent-Replayed"] == "true"
        assert again.content == first.content


async def test_a_bad_key_is_400_and_reads_ignore_the_header(client: Client) -> None:
    async with client() as (http, service):
        bad = await http.post(
            "/api/v1/fs/mkdir", json={"uri": "viking://resources/d"}, headers=_key("x" * 256)
        )
        assert bad.status_code == 400
        assert bad.json()["error"]["code"] == "INVALID_ARGUMENT"
        for _ in range(2):
            read = await http.get(
                "/api/v1/fs/ls", params={"uri": "viking://resources"}, headers=_key("r")
            )
            assert "Idempotent-Replayed" not in read.headers
        assert await IdempotencyRecords(service.store.db).count() == 0


async def test_an_unauthenticated_request_passes_through(client: Client) -> None:
    async with client(server={"root_api_key": ROOT_KEY}) as (http, service):
        mkdir = {"uri": "viking://resources/d"}
        for _ in range(2):
            refused = await http.post("/api/v1/fs/mkdir", json=mkdir, headers=_key("u"))
            assert refused.status_code == 401
            assert "Idempotent-Replayed" not in refused.headers
        assert await IdempotencyRecords(service.store.db).count() == 0


async def test_disabled_idempotency_runs_every_request(client: Client) -> None:
    async with client(idempotency={"enabled": False}) as (http, service):
        write = {"uri": "viking://resources/n.md", "content": "z", "mode": "create"}
        assert (await http.post("/api/v1/content/write", json=write, headers=_key("k"))).is_success
        second = await http.post("/api/v1/content/write", json=write, headers=_key("k"))
        assert second.json()["error"]["code"] == "ALREADY_EXISTS"
        assert await IdempotencyRecords(service.store.db).count() == 0


async def test_webdav_verbs_replay(client: Client) -> None:
    async with client() as (http, service):
        made = await http.request("MKCOL", "/webdav/resources/dav", headers=_key("mk"))
        assert made.status_code == 201, made.text
        again = await http.request("MKCOL", "/webdav/resources/dav", headers=_key("mk"))
        assert again.status_code == 201
        assert again.headers["Idempotent-Replayed"] == "true"
        unkeyed = await http.request("MKCOL", "/webdav/resources/dav")
        assert unkeyed.status_code == 405  # the collection exists: the replay did not run
        put = await http.put("/webdav/resources/dav/w.md", content=b"dav", headers=_key("put"))
        assert put.status_code in (200, 201, 204), put.text
        gone = [
            await http.delete("/webdav/resources/dav/w.md", headers=_key("del")) for _ in range(2)
        ]
        assert [g.status_code for g in gone] == [gone[0].status_code] * 2
        assert gone[0].status_code < 300
        assert gone[1].headers["Idempotent-Replayed"] == "true"
        listed = await service.ls(service.dev_context(), "viking://resources/dav", simple=True)
        assert listed == []
