"""``POST /api/v1/resources/temp_upload`` and ``POST /api/v1/resources`` over ASGI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig, RequestContext

pytestmark = pytest.mark.anyio

GUIDE = b"# Release guide\n\nTag the release, then run the rollout with canary first.\n"
ROOT_KEY = "root-secret-key-for-tests"
MIB = 1024 * 1024

Client = Callable[..., AbstractAsyncContextManager[tuple[httpx.AsyncClient, ContextService]]]


def _config(workspace: Path, **server: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "server": {"max_upload_mb": 1, **server},
        }
    )


@pytest.fixture
def client(workspace: Path) -> Client:
    """``async with client(**server_config) as (http, service)``: the app with its lifespan."""

    @asynccontextmanager
    async def start(**server: Any) -> AsyncIterator[tuple[httpx.AsyncClient, ContextService]]:
        app = create_app(_config(workspace, **server))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield http, app.state.service

    return start


def _file(name: str = "guide.md", data: bytes = GUIDE) -> dict[str, Any]:
    return {"file": (name, data, "text/markdown")}


def _error(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert body["status"] == "error"
    assert body["result"] is None
    error: dict[str, Any] = body["error"]
    return error


async def test_upload_then_add_resource_in_dev_mode(client: Client) -> None:
    async with client() as (http, service):
        response = await http.post("/api/v1/resources/temp_upload", files=_file())
        assert response.status_code == 200
        body = response.json()
        assert body["status"] == "ok"
        assert isinstance(body["time"], float)
        upload = body["result"]
        assert set(upload) == {"temp_file_id", "filename", "size", "sha256", "expires_at"}
        assert (upload["filename"], upload["size"]) == ("guide.md", len(GUIDE))
        assert upload["temp_file_id"].endswith(".md")

        added = await http.post(
            "/api/v1/resources",
            json={"temp_file_id": upload["temp_file_id"], "reason": "docs", "wait": True},
        )
        assert added.status_code == 200, added.text
        result = added.json()["result"]
        assert result["status"] == "success"
        assert result["root_uri"] == "viking://resources/guide"
        assert result["temp_uri"] is None
        assert result["warnings"] == []
        queues = result["queue_status"]
        assert {"AddResource", "Embedding", "Semantic"} <= set(queues)
        assert queues["AddResource"]["processed"] == 1
        assert queues["AddResource"]["error_count"] == 0
        ctx = service.dev_context()
        assert await service.ls(ctx, "viking://resources/guide", simple=True) == [
            "viking://resources/guide/guide.md"
        ]
        assert (await service.read(ctx, "viking://resources/guide/guide.md")).encode() == GUIDE

        again = await http.post("/api/v1/resources/temp_upload", files=_file())
        renamed = await http.post(
            "/api/v1/resources",
            json={"temp_file_id": again.json()["result"]["temp_file_id"], "wait": True},
        )
        second = renamed.json()["result"]
        assert second["root_uri"] == "viking://resources/guide_1"
        assert second["warnings"] == [
            "'viking://resources/guide' already exists. Creating 'viking://resources/guide_1'. "
            "Tip: Use --to <path> to specify exact target."
        ]
        assert second["queue_status"]["AddResource"]["processed"] == 2


async def test_add_resource_without_wait_answers_with_a_task(client: Client) -> None:
    async with client() as (http, service):
        upload = (await http.post("/api/v1/resources/temp_upload", files=_file())).json()
        response = await http.post(
            "/api/v1/resources",
            json={"temp_file_id": upload["result"]["temp_file_id"], "parent": "viking://resources"},
        )
        result = response.json()["result"]
        assert set(result) == {"status", "task_id", "root_uri"}
        assert result["status"] == "success"
        assert result["root_uri"] == "viking://resources/guide"
        record = await service.store.tasks.wait(result["task_id"], 30)
        assert record.status == "completed"


async def test_ticket_upload_needs_no_key_and_works_once(client: Client) -> None:
    async with client(root_api_key=ROOT_KEY) as (http, service):
        created = await service.create_account(RequestContext.root(), "acme", "ann")
        ann = await service.auth.resolve_api_key(created["user_key"])

        refused = await http.post("/api/v1/resources/temp_upload", files=_file())
        assert refused.status_code == 401
        assert _error(refused)["code"] == "UNAUTHENTICATED"

        ticket = await service.create_upload_ticket(ann)
        url = f"/api/v1/resources/temp_upload?token={ticket['token']}"
        response = await http.post(url, files=_file())
        assert response.status_code == 200, response.text
        temp_id = response.json()["result"]["temp_file_id"]

        again = await http.post(url, files=_file())
        assert again.status_code == 401
        error = _error(again)
        assert error["code"] == "UNAUTHENTICATED"
        assert error["message"] == "upload token already used or expired"

        # The upload belongs to ann: her key imports it, the root key's identity does not.
        as_root = await http.post(
            "/api/v1/resources",
            json={"temp_file_id": temp_id, "wait": True},
            headers={"X-API-Key": ROOT_KEY},
        )
        # ROOT keys may not reach tenant data routes at all (api_key mode, §3.2)
        assert as_root.status_code == 403
        added = await http.post(
            "/api/v1/resources",
            json={"temp_file_id": temp_id, "wait": True},
            headers={"Authorization": f"Bearer {created['user_key']}"},
        )
        assert added.status_code == 200, added.text
        assert added.json()["result"]["root_uri"] == "viking://resources/guide"
        assert (await service.read(ann, "viking://resources/guide/guide.md")).encode() == GUIDE


async def test_upload_with_a_key_in_api_key_mode(client: Client) -> None:
    async with client(root_api_key=ROOT_KEY) as (http, service):
        created = await service.create_account(RequestContext.root(), "acme", "ann")
        response = await http.post(
            "/api/v1/resources/temp_upload",
            files=_file("notes.txt", b"hello"),
            headers={"X-API-Key": created["user_key"]},
        )
        assert response.status_code == 200
        bad_token = await http.post("/api/v1/resources/temp_upload?token=nope", files=_file())
        assert bad_token.status_code == 401


async def test_size_cap_is_an_error_envelope(client: Client) -> None:
    async with client() as (http, service):
        big = b"x" * (MIB + 1)
        response = await http.post("/api/v1/resources/temp_upload", files=_file("big.bin", big))
        assert response.status_code == 413
        error = _error(response)
        assert error["code"] == "INVALID_ARGUMENT"
        assert error["message"].startswith("Upload exceeds size limit")
        upload_dir = service.config.workspace / "tmp" / "upload"
        assert not upload_dir.exists() or list(upload_dir.iterdir()) == []


async def test_size_cap_without_content_length(client: Client) -> None:
    """A chunked body announces no length: the cap is enforced while streaming."""
    boundary = "testboundary"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="big.bin"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()

    async def body() -> AsyncIterator[bytes]:
        yield head
        for _ in range(3):
            yield b"y" * (MIB // 2)
        yield tail

    async with client() as (http, service):
        response = await http.post(
            "/api/v1/resources/temp_upload",
            content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
        )
        assert response.status_code == 413
        # refused while streaming, at the file cap plus the multipart framing
        assert _error(response)["details"]["limit"] == MIB + 64 * 1024
        upload_dir = service.config.workspace / "tmp" / "upload"
        assert not upload_dir.exists() or list(upload_dir.iterdir()) == []


async def test_missing_file_field(client: Client) -> None:
    async with client() as (http, _):
        response = await http.post("/api/v1/resources/temp_upload", data={"other": "x"})
        assert response.status_code == 400
        assert _error(response)["details"] == {"field": "file"}


async def test_local_paths_are_refused_over_http(client: Client, tmp_path: Path) -> None:
    doc = tmp_path / "local.md"
    doc.write_bytes(GUIDE)
    async with client() as (http, _):
        response = await http.post("/api/v1/resources", json={"path": str(doc)})
        assert response.status_code == 403
        error = _error(response)
        assert error["code"] == "PERMISSION_DENIED"
        assert "temp-uploaded files" in error["message"]


async def test_local_paths_when_the_server_allows_them(client: Client, tmp_path: Path) -> None:
    doc = tmp_path / "local.md"
    doc.write_bytes(GUIDE)
    async with client(allow_local_paths=True) as (http, service):
        response = await http.post("/api/v1/resources", json={"path": str(doc), "wait": True})
        assert response.status_code == 200, response.text
        ctx = service.dev_context()
        assert (await service.read(ctx, "viking://resources/local/local.md")).encode() == GUIDE


async def test_add_resource_body_validation(client: Client) -> None:
    async with client() as (http, _):
        unknown = await http.post("/api/v1/resources", json={"temp_file_id": "x", "bogus": 1})
        assert unknown.status_code == 400
        assert _error(unknown)["details"]["validation_errors"][0]["loc"] == ["body", "bogus"]
        neither = await http.post("/api/v1/resources", json={})
        assert neither.status_code == 400
        both = await http.post(
            "/api/v1/resources",
            json={
                "temp_file_id": "x",
                "to": "viking://resources/a",
                "parent": "viking://resources",
            },
        )
        assert both.status_code == 400
        missing = await http.post("/api/v1/resources", json={"temp_file_id": "upload_nothing.md"})
        assert missing.status_code == 404
        escape = await http.post("/api/v1/resources", json={"temp_file_id": "../../etc/passwd"})
        assert escape.status_code == 403
        watch = await http.post(
            "/api/v1/resources", json={"temp_file_id": "x", "watch_interval": 5}
        )
        assert watch.status_code == 400
        bad_args = await http.post(
            "/api/v1/resources", json={"temp_file_id": "x", "args": {"parse_mode": "weird"}}
        )
        assert bad_args.status_code == 400


async def test_no_split_args_and_comma_globs_are_accepted(client: Client) -> None:
    async with client() as (http, service):
        doc = b"# A\n\n" + b"alpha " * 50 + b"\n\n# B\n\n" + b"beta " * 50 + b"\n"
        upload = await http.post("/api/v1/resources/temp_upload", files=_file("doc.md", doc))
        response = await http.post(
            "/api/v1/resources",
            json={
                "temp_file_id": upload.json()["result"]["temp_file_id"],
                "args": {"parse_mode": "no_split"},
                "include": "*.md, *.txt",
                "wait": True,
            },
        )
        assert response.status_code == 200, response.text
        ctx = service.dev_context()
        assert (await service.read(ctx, "viking://resources/doc/doc.md")).encode() == doc
