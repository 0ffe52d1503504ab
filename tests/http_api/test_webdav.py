"""WebDAV under ``/webdav/resources``: the protocol over ASGI, then a real WebDAV client
(webdav4) against a real uvicorn server."""

from __future__ import annotations

import base64
import io
import json
import time
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any
from xml.etree.ElementTree import fromstring

import httpx
import pytest
from webdav4.client import (  # type: ignore[import-untyped]
    Client as DavClient,
)
from webdav4.client import ResourceAlreadyExists, ResourceNotFound

from http_api import create_app
from openviking_mcp import ContextService, OpenViking, OpenVikingConfig, RequestContext
from tests.servers import free_port, start_server

ROOT_KEY = "root-key-for-webdav-tests"
DAV = "{DAV:}"

Client = Callable[..., AbstractAsyncContextManager[tuple[httpx.AsyncClient, ContextService]]]


def _config(workspace: Path, **server: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
            "server": {"max_upload_mb": 1, **server},
        }
    )


@pytest.fixture
def client(workspace: Path) -> Client:
    @asynccontextmanager
    async def start(**server: Any) -> AsyncIterator[tuple[httpx.AsyncClient, ContextService]]:
        app = create_app(_config(workspace, **server))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield http, app.state.service

    return start


def _responses(body: str) -> dict[str, dict[str, Any]]:
    """href → {collection, length, name, ...} of a multistatus body."""
    out: dict[str, dict[str, Any]] = {}
    for response in fromstring(body).iter(f"{DAV}response"):
        href = response.findtext(f"{DAV}href") or ""
        prop = response.find(f"{DAV}propstat/{DAV}prop")
        assert prop is not None
        assert response.findtext(f"{DAV}propstat/{DAV}status") == "HTTP/1.1 200 OK"
        out[href] = {
            "collection": prop.find(f"{DAV}resourcetype/{DAV}collection") is not None,
            "length": prop.findtext(f"{DAV}getcontentlength"),
            "name": prop.findtext(f"{DAV}displayname"),
            "type": prop.findtext(f"{DAV}getcontenttype"),
            "modified": prop.findtext(f"{DAV}getlastmodified"),
            "etag": prop.findtext(f"{DAV}getetag"),
        }
    return out


# -- protocol over ASGI ------------------------------------------------------------------------


@pytest.mark.anyio
async def test_options_needs_no_auth(client: Client) -> None:
    async with client(root_api_key=ROOT_KEY) as (http, _):
        for path in ("/webdav/resources", "/webdav/resources/any/thing.md"):
            response = await http.request("OPTIONS", path)
            assert response.status_code == 204
            assert response.headers["DAV"] == "1"
            allowed = {m.strip() for m in response.headers["Allow"].split(",")}
            assert allowed == {
                "OPTIONS",
                "PROPFIND",
                "GET",
                "HEAD",
                "PUT",
                "DELETE",
                "MKCOL",
                "MOVE",
            }


@pytest.mark.anyio
async def test_auth_by_key_bearer_or_basic(client: Client) -> None:
    async with client(root_api_key=ROOT_KEY) as (http, service):
        key = (await service.create_account(RequestContext.root(), "acme", "ann"))["user_key"]
        denied = await http.request("PROPFIND", "/webdav/resources", headers={"Depth": "0"})
        assert denied.status_code == 401
        assert denied.headers["WWW-Authenticate"].startswith("Basic")
        assert denied.headers["content-type"].startswith("text/plain")
        assert "API Key" in denied.text  # plain text, not the JSON envelope
        basic = base64.b64encode(f"ann:{key}".encode()).decode()
        wrong = base64.b64encode(b"ann:not-a-key").decode()
        for headers, status in (
            ({"X-API-Key": key}, 207),
            ({"Authorization": f"Bearer {key}"}, 207),
            ({"Authorization": f"Basic {basic}"}, 207),
            ({"Authorization": f"Basic {wrong}"}, 401),
            ({"Authorization": "Basic %%%"}, 401),
        ):
            response = await http.request(
                "PROPFIND", "/webdav/resources", headers={"Depth": "0", **headers}
            )
            assert response.status_code == status, (headers, response.text)
        put = await http.put(
            "/webdav/resources/acme.md",
            content=b"acme only",
            headers={"Authorization": f"Basic {basic}"},
        )
        assert put.status_code == 201
        ann = await service.auth.resolve_api_key(key)
        assert await service.read(ann, "viking://resources/acme.md") == "acme only"
        # ROOT has no tenant data, as on every data route
        root = await http.request(
            "PROPFIND", "/webdav/resources", headers={"X-API-Key": ROOT_KEY, "Depth": "0"}
        )
        assert root.status_code == 403


@pytest.mark.anyio
async def test_put_get_head_and_propfind(client: Client) -> None:
    async with client() as (http, service):
        assert (await http.request("MKCOL", "/webdav/resources/docs")).status_code == 201
        name = "docs/a b&<c>.md"
        url = "/webdav/resources/docs/a%20b%26%3Cc%3E.md"
        created = await http.put(url, content="héllo\n".encode())
        assert created.status_code == 201
        replaced = await http.put(url, content="héllo again\n".encode())
        assert replaced.status_code == 204
        ctx = await service.local_context()
        assert await service.read(ctx, f"viking://resources/{name}") == "héllo again\n"

        got = await http.get(url)
        assert got.status_code == 200
        assert got.content == "héllo again\n".encode()
        assert got.headers["content-type"].startswith("text/markdown")
        assert got.headers["etag"]
        assert got.headers["last-modified"].endswith("GMT")
        head = await http.head(url)
        assert head.status_code == 200
        assert head.content == b""
        assert head.headers["content-length"] == str(len("héllo again\n".encode()))
        assert head.headers["etag"] == got.headers["etag"]

        listing = await http.request("PROPFIND", "/webdav/resources/docs", headers={"Depth": "1"})
        assert listing.status_code == 207
        assert listing.headers["content-type"].startswith("application/xml")
        entries = _responses(listing.text)
        assert set(entries) == {"/webdav/resources/docs/", url}  # escaped href, no sidecars
        assert entries["/webdav/resources/docs/"]["collection"] is True
        assert entries[url] == {
            "collection": False,
            "length": str(len("héllo again\n".encode())),
            "name": "a b&<c>.md",
            "type": "text/markdown; charset=utf-8",
            "modified": got.headers["last-modified"],
            "etag": got.headers["etag"],
        }
        only = await http.request("PROPFIND", "/webdav/resources/docs", headers={"Depth": "0"})
        assert list(_responses(only.text)) == ["/webdav/resources/docs/"]
        root = await http.request("PROPFIND", "/webdav/resources")  # no Depth: served as 1
        assert "/webdav/resources/docs/" in _responses(root.text)
        bad = await http.request("PROPFIND", "/webdav/resources", headers={"Depth": "2"})
        assert bad.status_code == 400


@pytest.mark.anyio
async def test_errors_follow_rfc_4918(client: Client) -> None:
    async with client() as (http, _):
        base = "/webdav/resources"
        assert (await http.request("MKCOL", f"{base}/d")).status_code == 201
        assert (await http.request("MKCOL", f"{base}/d")).status_code == 405  # exists
        assert (await http.request("MKCOL", f"{base}/x/y")).status_code == 409  # no parent
        assert (await http.put(f"{base}/nowhere/f.md", content=b"x")).status_code == 409
        binary = await http.put(f"{base}/d/img.png", content=b"\x89PNG\r\n\x1a\n\x00\xff")
        assert binary.status_code == 415
        assert binary.headers["content-type"].startswith("text/plain")
        nul = await http.put(f"{base}/d/nul.txt", content=b"a\x00b")
        assert nul.status_code == 415
        too_big = await http.put(f"{base}/d/big.txt", content=b"x" * (1024 * 1024 + 1))
        assert too_big.status_code == 413
        assert (await http.get(f"{base}/d")).status_code == 405  # a collection
        assert (await http.put(f"{base}/d", content=b"x")).status_code == 405
        assert (await http.get(f"{base}/d/missing.md")).status_code == 404
        assert (await http.request("DELETE", f"{base}/d/missing.md")).status_code == 404
        assert (await http.request("PROPFIND", f"{base}/missing")).status_code == 404
        # directory sidecars and other dot names are hidden
        assert (await http.get(f"{base}/.abstract.md")).status_code == 404
        assert (await http.request("PROPFIND", f"{base}/d/.overview.md")).status_code == 404
        assert (await http.put(f"{base}/d/.hidden", content=b"x")).status_code == 403
        assert (await http.request("DELETE", base)).status_code == 403  # the scope root
        error = await http.get(f"{base}/d/missing.md")
        with pytest.raises(json.JSONDecodeError):
            json.loads(error.text)


@pytest.mark.anyio
async def test_move_and_delete(client: Client) -> None:
    async with client() as (http, service):
        base = "/webdav/resources"
        await http.request("MKCOL", f"{base}/src")
        await http.request("MKCOL", f"{base}/dst")
        await http.put(f"{base}/src/a.md", content=b"alpha")
        await http.put(f"{base}/dst/b.md", content=b"beta")

        async def move(path: str, dest: str, **headers: str) -> int:
            response = await http.request(
                "MOVE", f"{base}/{path}", headers={"Destination": dest, **headers}
            )
            return response.status_code

        assert await move("src/a.md", f"http://test{base}/dst/a%20moved.md") == 201
        ctx = await service.local_context()
        assert await service.read(ctx, "viking://resources/dst/a moved.md") == "alpha"
        assert (await http.get(f"{base}/src/a.md")).status_code == 404
        # onto an existing file: 412 with Overwrite F, replaced (204) otherwise
        assert await move("dst/b.md", f"{base}/dst/a%20moved.md", Overwrite="F") == 412
        assert await move("dst/b.md", f"{base}/dst/a%20moved.md") == 204
        assert await service.read(ctx, "viking://resources/dst/a moved.md") == "beta"
        assert await move("dst", f"{base}/renamed/") == 201  # a whole collection
        assert (await http.get(f"{base}/renamed/a%20moved.md")).content == b"beta"
        assert await move("renamed", f"{base}/no/parent") == 409
        assert await move("renamed", "http://elsewhere.example/other/x") == 502
        no_dest = await http.request("MOVE", f"{base}/renamed")
        assert no_dest.status_code == 400
        assert await move("missing", f"{base}/x") == 404

        assert (await http.request("DELETE", f"{base}/renamed")).status_code == 204
        assert (await http.request("PROPFIND", f"{base}/renamed")).status_code == 404
        listing = await http.request("PROPFIND", base, headers={"Depth": "1"})
        assert set(_responses(listing.text)) == {f"{base}/", f"{base}/src/"}


# -- a real WebDAV client against a real server ------------------------------------------------


@pytest.fixture
def server(tmp_path: Path) -> Iterator[str]:
    port = free_port()
    proc = start_server(tmp_path, ["openviking-mcp", "serve"], port)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def _queue_idle(base_url: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        details = httpx.get(f"{base_url}/api/v1/observer/queue").json()["result"]["details"]
        if details["pending"] == 0 and details["running"] == 0:
            return
        time.sleep(0.2)
    raise AssertionError("the server's task queue did not drain")


@pytest.mark.slow
def test_real_webdav_client_on_uvicorn(server: str, tmp_path: Path) -> None:
    dav = DavClient(f"{server}/webdav/resources", auth=("agent", "dev-mode-ignores-this"))
    assert "1" in dav.options()
    dav.mkdir("notes")
    assert dav.isdir("notes")
    with pytest.raises(ResourceAlreadyExists):
        dav.mkdir("notes")
    text = "Quokka migration plan: move the zanzibar cluster on Tuesday.\n"
    dav.upload_fileobj(io.BytesIO(text.encode()), "notes/plan.md")
    dav.upload_fileobj(io.BytesIO(b"second file"), "notes/other.txt")
    listing = {Path(str(item["name"])).name: item for item in dav.ls("notes")}
    assert set(listing) == {"plan.md", "other.txt"}
    assert listing["plan.md"]["type"] == "file"
    assert listing["plan.md"]["content_length"] == len(text.encode())
    assert dav.info("notes")["type"] == "directory"

    buffer = io.BytesIO()
    dav.download_fileobj("notes/plan.md", buffer)
    assert buffer.getvalue().decode() == text

    dav.move("notes/other.txt", "notes/renamed.txt")
    assert not dav.exists("notes/other.txt")
    assert dav.exists("notes/renamed.txt")
    dav.mkdir("archive")
    dav.move("notes/renamed.txt", "archive/renamed.txt")
    dav.remove("archive")
    assert not dav.exists("archive")
    with pytest.raises(ResourceNotFound):
        dav.ls("archive")
    names = {Path(str(item["name"])).name for item in dav.ls("")}
    assert "notes" in names
    assert not any(n.startswith(".") for n in names)

    # the uploaded file went through the normal write path: the server embeds it
    _queue_idle(server)
    dav.http.close()
    with OpenViking(path=tmp_path / "data") as ov:
        hits = ov.find("zanzibar quokka migration", target_uri="viking://resources/notes")
        assert "viking://resources/notes/plan.md" in {h["uri"] for h in hits["resources"]}
        assert ov.read("viking://resources/notes/plan.md") == text
