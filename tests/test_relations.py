"""Relations: link/get/unlink, the hidden ledger, access on both ends, find hits."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)
from tests.conftest import hashing_config

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]

A = "viking://resources/docs/a.md"
B = "viking://resources/docs/b.md"
OTHER = "viking://resources/other"


@pytest.fixture
def config(workspace: Path, storage_section: dict[str, Any]) -> OpenVikingConfig:
    return hashing_config(workspace, storage_section)


@pytest.fixture
async def ctx(service: ContextService) -> RequestContext:
    ctx = service.dev_context()
    await service.write(ctx, A, "Alpha notes about the falcon rollout.", mode="create")
    await service.write(ctx, B, "Beta notes about canary releases.", mode="create")
    await service.write(ctx, f"{OTHER}/c.md", "Gamma notes.", mode="create")
    return ctx


async def _ledger(service: ContextService, ctx: RequestContext, folder: str) -> Any:
    key = f"{ctx.account_id}/{folder.removeprefix('viking://')}/.relations.json"
    return json.loads(await service.store.content.read_bytes(key))


async def test_link_get_unlink(service: ContextService, ctx: RequestContext) -> None:
    assert await service.get_relations(ctx, A) == []
    linked = await service.link(ctx, A, [B, OTHER], reason="same rollout")
    assert linked == {"from": A, "to": [B, OTHER]}
    assert await service.get_relations(ctx, A) == [
        {"uri": B, "reason": "same rollout"},
        {"uri": OTHER, "reason": "same rollout"},
    ]
    # Stored in the source's directory, keyed by the source, with a creation time.
    ledger = await _ledger(service, ctx, "viking://resources/docs")
    assert [link["uri"] for link in ledger[A]] == [B, OTHER]
    assert ledger[A][0]["created_at"].endswith("Z")
    # Linking again updates the reason instead of duplicating; a single string works too.
    await service.link(ctx, A, B, reason="updated")
    assert await service.get_relations(ctx, A) == [
        {"uri": B, "reason": "updated"},
        {"uri": OTHER, "reason": "same rollout"},
    ]
    # A directory's own relations live in its own ledger.
    await service.link(ctx, OTHER, "viking://resources/docs")
    assert list(await _ledger(service, ctx, OTHER)) == [OTHER]
    assert await service.get_relations(ctx, OTHER) == [
        {"uri": "viking://resources/docs", "reason": ""}
    ]

    removed = await service.unlink(ctx, A, B)
    assert removed == {"from": A, "to": B, "removed": True}
    assert await service.get_relations(ctx, A) == [{"uri": OTHER, "reason": "same rollout"}]
    assert (await service.unlink(ctx, A, B))["removed"] is False
    await service.unlink(ctx, A, OTHER)
    assert await service.get_relations(ctx, A) == []
    assert not await service.store.content.exists(
        f"{ctx.account_id}/resources/docs/.relations.json"
    )


async def test_ledger_is_hidden(service: ContextService, ctx: RequestContext) -> None:
    await service.link(ctx, A, B)
    listed = await service.ls(ctx, "viking://resources/docs", simple=True)
    assert listed == [A, B]
    globbed = await service.glob(ctx, "**", uri="viking://resources/docs")
    assert ".relations.json" not in json.dumps(globbed)


async def test_deleted_targets_are_dropped_on_read(
    service: ContextService, ctx: RequestContext
) -> None:
    await service.link(ctx, A, [B, f"{OTHER}/c.md"])
    await service.rm(ctx, B)
    assert await service.get_relations(ctx, A) == [{"uri": f"{OTHER}/c.md", "reason": ""}]
    await service.rm(ctx, OTHER, recursive=True)
    assert await service.get_relations(ctx, A) == []


async def test_bad_links(service: ContextService, ctx: RequestContext) -> None:
    with pytest.raises(NotFoundError):
        await service.link(ctx, A, "viking://resources/docs/missing.md")
    with pytest.raises(NotFoundError):
        await service.link(ctx, "viking://resources/missing.md", A)
    with pytest.raises(NotFoundError):
        await service.get_relations(ctx, "viking://resources/missing.md")
    with pytest.raises(InvalidArgumentError):
        await service.link(ctx, A, A)
    with pytest.raises(InvalidArgumentError):
        await service.link(ctx, A, [])
    with pytest.raises(PermissionDeniedError):  # a namespace root cannot be changed
        await service.link(ctx, "viking://resources", A)


async def test_cross_user_links_are_refused(service: ContextService, ctx: RequestContext) -> None:
    alice = await service.local_context(user_id="alice")
    bob = await service.local_context(user_id="bob")
    secret = "viking://user/alice/memories/secret.md"
    await service.write(alice, secret, "alice's secret", mode="create")
    await service.write(bob, "viking://~/memories/mine.md", "bob's note", mode="create")
    with pytest.raises(PermissionDeniedError):
        await service.link(bob, A, secret)
    with pytest.raises(PermissionDeniedError):
        await service.link(bob, secret, A)
    with pytest.raises(PermissionDeniedError):
        await service.get_relations(bob, secret)
    with pytest.raises(PermissionDeniedError):
        await service.unlink(bob, secret, A)
    with pytest.raises(PermissionDeniedError):
        await service.link(bob, "viking://user/bob/memories/mine.md", secret)
    # Alice may point a shared resource at her own space; nobody else sees that link.
    await service.link(alice, A, [secret, B])
    assert [r["uri"] for r in await service.get_relations(alice, A)] == [secret, B]
    assert await service.get_relations(bob, A) == [{"uri": B, "reason": ""}]


async def test_find_hits_carry_relations(service: ContextService, ctx: RequestContext) -> None:
    await service.link(ctx, A, B, reason="canary follows rollout")
    await service.link(ctx, "viking://resources/docs", OTHER, reason="see also")
    await service.wait_processing(ctx, timeout=60)
    found = await service.find(ctx, "falcon rollout alpha notes", target_uri="viking://resources")
    hits = {h["uri"]: h for b in ("memories", "resources", "skills") for h in found[b]}
    assert all("relations" in h for h in hits.values())
    assert hits[A]["relations"] == [{"uri": B, "reason": "canary follows rollout"}]
    if B in hits:
        assert hits[B]["relations"] == []
    folder_hits = [h for u, h in hits.items() if u.startswith("viking://resources/docs/.")]
    assert folder_hits, hits.keys()
    assert all(h["relations"] == [{"uri": OTHER, "reason": "see also"}] for h in folder_hits)
