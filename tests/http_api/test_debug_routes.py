"""``/api/v1/debug/health`` and ``/api/v1/debug/vector/{scroll,count}`` over ASGI."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.storage.index import IndexFilter
from tests.http_api._routes import error_of, result_of

pytestmark = pytest.mark.anyio

ROOT_KEY = "root-key-for-debug-tests"

Client = Callable[..., AbstractAsyncContextManager[tuple[httpx.AsyncClient, ContextService]]]


def _config(workspace: Path, dimension: int = 64, **server: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": dimension}},
            "server": server,
        }
    )


@pytest.fixture
def client(workspace: Path) -> Client:
    @asynccontextmanager
    async def start(
        dimension: int = 64, **server: Any
    ) -> AsyncIterator[tuple[httpx.AsyncClient, ContextService]]:
        app = create_app(_config(workspace, dimension, **server))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
                yield http, app.state.service

    return start


async def _seed(service: ContextService, ctx: RequestContext, *names: str) -> None:
    for name in names:
        await service.write(
            ctx, f"viking://resources/docs/{name}.md", f"notes about {name}", mode="create"
        )
    await service.write(ctx, "viking://~/memories/pref.md", "likes tea", mode="create", wait=True)
    await _drain(service)


async def _drain(service: ContextService) -> None:
    for _ in range(400):
        if await service.store.tasks.idle():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("tasks did not finish")


async def test_debug_health_includes_ready_checks(client: Client) -> None:
    async with client() as (http, _):
        result = result_of(await http.get("/api/v1/debug/health"))
        assert result["healthy"] is True
        assert result["ready"] == "ready"
        assert result["version"]
        assert set(result["checks"]) >= {"filesystem", "metadata_db", "index"}
        assert all(v == "ok" for v in result["checks"].values())


async def test_scroll_pages_through_rows_without_vectors(client: Client) -> None:
    async with client() as (http, service):
        ctx = await service.local_context()
        await _seed(service, ctx, "a", "b", "c")
        prefix = "viking://resources/docs"
        total = await service.store.index.count(
            IndexFilter(account_id="default", uri_prefixes=(prefix,))
        )
        assert total >= 4  # the folder's L0/L1 plus one row per file
        seen: list[dict[str, Any]] = []
        cursor: str | None = None
        while True:
            params: dict[str, Any] = {"uri": prefix, "limit": 2}
            if cursor:
                params["cursor"] = cursor
            page = result_of(await http.get("/api/v1/debug/vector/scroll", params=params))
            assert page["count"] == len(page["records"]) <= 2
            seen += page["records"]
            cursor = page["next_cursor"]
            if cursor is None:
                break
        assert len(seen) == total
        assert len({r["id"] for r in seen}) == total
        ids = [r["id"] for r in seen]
        assert ids == sorted(ids)
        for record in seen:
            assert record["uri"] == prefix or record["uri"].startswith(prefix + "/")
            assert "vector" not in record
            assert record["vector_dimension"] == 64
            assert record["account_id"] == "default"
        uris = {r["uri"] for r in seen}
        assert {f"{prefix}/{n}.md" for n in "abc"} <= uris


async def test_scroll_with_vectors_and_filters(client: Client) -> None:
    async with client() as (http, service):
        ctx = await service.local_context()
        await _seed(service, ctx, "a")
        page = result_of(
            await http.get(
                "/api/v1/debug/vector/scroll",
                params={"with_vector": "true", "level": 2, "context_type": "memory"},
            )
        )
        assert page["records"], page
        for record in page["records"]:
            assert record["level"] == 2
            assert record["context_type"] == "memory"
            assert len(record["vector"]) == 64
        assert page["records"][0]["uri"] == "viking://user/default/memories/pref.md"


async def test_scroll_validates_its_parameters(client: Client) -> None:
    async with client() as (http, _):
        for params in ({"limit": 0}, {"limit": 1001}, {"level": 7}):
            error_of(
                await http.get("/api/v1/debug/vector/scroll", params=params),
                400,
                "INVALID_ARGUMENT",
            )
        error_of(
            await http.get("/api/v1/debug/vector/scroll", params={"uri": "viking://nowhere"}),
            400,
            "INVALID_URI",
        )


async def test_count_with_plain_and_vikingdb_filters(client: Client) -> None:
    async with client() as (http, service):
        ctx = await service.local_context()
        await _seed(service, ctx, "a", "b")
        readable = ("viking://resources", "viking://agent", "viking://user/default")
        everything = await service.store.index.count(
            IndexFilter(account_id="default", uri_prefixes=readable)
        )

        async def count(**params: Any) -> int:
            value: int = result_of(await http.get("/api/v1/debug/vector/count", params=params))[
                "count"
            ]
            return value

        assert await count() == everything
        files = IndexFilter(
            account_id="default", uri_prefixes=("viking://resources/docs",), levels=(2,)
        )
        expected = await service.store.index.count(files)
        assert expected == 2
        plain = {"uri": "viking://resources/docs", "level": 2}
        assert await count(filter=json.dumps(plain)) == expected
        conds = {
            "op": "and",
            "conds": [
                {"op": "prefix", "field": "uri", "prefix": "viking://resources/docs"},
                {"op": "must", "field": "level", "conds": [2]},
                {"op": "range", "field": "updated_at", "gte": 0},
            ],
        }
        assert await count(filter=json.dumps(conds)) == expected
        assert await count(filter=json.dumps({"context_type": "memory", "level": 2})) == 1
        assert await count(uri="viking://resources/docs/a.md") == 1
        future = {"op": "range", "field": "updated_at", "gt": 4e9}
        assert await count(filter=json.dumps(future)) == 0


async def test_count_refuses_bad_filters(client: Client) -> None:
    async with client() as (http, _):
        for bad in (
            "{not json",
            "[1, 2]",
            json.dumps({"colour": "red"}),
            json.dumps({"op": "must", "field": "vector", "conds": [1]}),
            json.dumps({"level": "two"}),
            json.dumps({"op": "range", "field": "updated_at"}),
            json.dumps({"level": 1, "op": "and", "conds": [{"level": 2}]}),
        ):
            error = error_of(
                await http.get("/api/v1/debug/vector/count", params={"filter": bad}),
                400,
                "INVALID_FILTER",
            )
            assert error["message"]


async def test_vectors_are_scoped_to_what_the_caller_may_read(client: Client) -> None:
    async with client(root_api_key=ROOT_KEY) as (http, service):
        root_ctx = RequestContext.root()
        acme_key = (await service.create_account(root_ctx, "acme", "ann"))["user_key"]
        bob_key = (await service.create_user(root_ctx, "acme", "bob"))["user_key"]
        ann = await service.auth.resolve_api_key(acme_key)
        bob = await service.auth.resolve_api_key(bob_key)
        await service.write(ann, "viking://resources/acme.md", "acme shared", mode="create")
        await service.write(ann, "viking://~/memories/ann.md", "ann private", mode="create")
        await service.write(bob, "viking://~/memories/bob.md", "bob private", mode="create")
        default = await service.local_context()
        await service.write(default, "viking://resources/d.md", "default doc", mode="create")
        await _drain(service)

        async def uris(key: str, **params: Any) -> set[str]:
            page = result_of(
                await http.get(
                    "/api/v1/debug/vector/scroll",
                    params={"limit": 1000, **params},
                    headers={"X-API-Key": key},
                )
            )
            assert page["next_cursor"] is None
            return {f"{r['account_id']}:{r['uri']}" for r in page["records"]}

        ann_sees = await uris(acme_key)
        assert "acme:viking://resources/acme.md" in ann_sees
        assert "acme:viking://user/ann/memories/ann.md" in ann_sees
        assert not any(u.startswith("default:") for u in ann_sees)
        assert not any("/user/bob" in u for u in ann_sees)
        assert not any("/user/ann" in u for u in await uris(bob_key))
        # asking for another user's space is refused, asking for all users is narrowed
        denied = await http.get(
            "/api/v1/debug/vector/count",
            params={"uri": "viking://user/bob"},
            headers={"X-API-Key": acme_key},
        )
        error_of(denied, 403, "PERMISSION_DENIED")
        narrowed = await uris(acme_key, uri="viking://user")
        assert narrowed
        assert all(u.startswith("acme:viking://user/ann") for u in narrowed)
        other = await http.get(
            "/api/v1/debug/vector/count",
            params={"account_id": "default"},
            headers={"X-API-Key": acme_key},
        )
        error_of(other, 403, "PERMISSION_DENIED")

        # ROOT (embedded/CLI; the HTTP layer keeps ROOT keys off tenant data routes)
        async def root_uris(**options: Any) -> set[str]:
            page = await service.vector_scroll(root_ctx, limit=1000, **options)
            return {f"{r['account_id']}:{r['uri']}" for r in page["records"]}

        root_all = await root_uris()
        assert "default:viking://resources/d.md" in root_all
        assert "acme:viking://user/bob/memories/bob.md" in root_all
        root_acme = await root_uris(account_id="acme")
        assert root_acme
        assert all(u.startswith("acme:") for u in root_acme)
        counted = await service.vector_count(root_ctx, filter_json='{"account_id": "acme"}')
        rows = await service.vector_scroll(root_ctx, limit=1000, account_id="acme")
        assert counted["count"] == rows["count"] == len(rows["records"])
        bobs = await root_uris(account_id="acme", uri="viking://user/bob")
        assert bobs == {"acme:viking://user/bob/memories/bob.md", *bobs}
        assert all(u.startswith("acme:viking://user/bob") for u in bobs)


async def test_unusable_index_is_no_vector_db(client: Client) -> None:
    async with client(dimension=64) as (_, service):
        await service.local_context()
    # the same workspace with another embedding dimension: the index cannot be used
    async with client(dimension=32) as (http, _):
        for path in ("/api/v1/debug/vector/scroll", "/api/v1/debug/vector/count"):
            error = error_of(await http.get(path), 503, "NO_VECTOR_DB")
            assert "reindex" in error["message"]
        health = result_of(await http.get("/api/v1/debug/health"))
        assert health["healthy"] is False
        assert health["checks"]["index"].startswith("error")
