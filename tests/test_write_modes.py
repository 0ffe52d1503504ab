"""``write`` modes through the service: ``replace``/``append`` create a missing text file with
the same access checks and creator record as ``create``; ``create`` never replaces a file;
and what a reindex by a USER covers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from openviking_mcp import ContextService, OpenVikingConfig, RequestContext, Role
from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidURIError,
    PermissionDeniedError,
)
from openviking_mcp.contract.resources import ReindexAccepted
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.resources.reindex import reindex_object_type

pytestmark = pytest.mark.anyio

#: The service, ann (ADMIN), bob and cid (USERs) of account acme.
Acme = tuple[ContextService, RequestContext, RequestContext, RequestContext]


@pytest.fixture
async def acme(workspace: Path) -> AsyncIterator[Acme]:
    """A service with ann (ADMIN), bob and cid (USERs) of account acme."""
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
        }
    )
    service = ContextService(config)
    await service.initialize()
    await service.create_account(RequestContext.root(), "acme", "ann")
    ann = RequestContext("acme", "ann", Role.ADMIN)
    for user in ("bob", "cid"):
        await service.create_user(ann, "acme", user)
    try:
        yield (
            service,
            ann,
            RequestContext("acme", "bob", Role.USER),
            RequestContext("acme", "cid", Role.USER),
        )
    finally:
        await service.close()


async def test_replace_creates_with_the_creator_recorded(
    acme: Acme,
) -> None:
    svc, ann, bob, cid = acme
    made = await svc.write(bob, "viking://resources/bob/deep/plan.md", "plan", mode="replace")
    assert made["mode"] == "replace"
    assert made["root_uri"] == "viking://resources/bob/deep"
    assert await svc.read(cid, "viking://resources/bob/deep/plan.md") == "plan"
    # bob created the folders and the file: cid may not remove them, bob may
    with pytest.raises(PermissionDeniedError) as denied:
        await svc.rm(cid, "viking://resources/bob", recursive=True)
    assert denied.value.details.get("reason") == "not_owner"
    await svc.write(bob, "viking://resources/bob/deep/log.md", "a", mode="append")
    await svc.rm(bob, "viking://resources/bob", recursive=True)
    # the access checks of create: another user's space, managed areas
    for uri in ("viking://user/cid/resources/x.md", "viking://~/sessions/s1/new.md"):
        for mode in ("replace", "append", "create"):
            with pytest.raises(PermissionDeniedError):
                await svc.write(bob, uri, "x", mode=mode)
    assert not await svc.store.content.exists("acme/user/cid/resources/x.md")
    await svc.write(ann, "viking://resources/ann.md", "by ann", mode="create")
    with pytest.raises(AlreadyExistsError):  # create never replaces
        await svc.write(bob, "viking://resources/ann.md", "by bob", mode="create")
    assert await svc.read(ann, "viking://resources/ann.md") == "by ann"


async def test_create_takes_any_name_replace_only_text(service: ContextService) -> None:
    ctx = service.dev_context()
    for name in ("data.csv", "Makefile", ".env", "page.html"):
        with pytest.raises(InvalidArgumentError, match="does not allow extension"):
            await service.write(ctx, f"viking://resources/w/{name}", "x", mode="replace")
        made = await service.write(ctx, f"viking://resources/w/{name}", "x", mode="create")
        assert made["written_bytes"] == 1
    for ext in (".md", ".txt", ".json", ".yaml", ".yml", ".toml", ".py", ".js", ".ts", ".PY"):
        made = await service.write(ctx, f"viking://resources/t/f{ext}", "y", mode="append")
        assert made["written_bytes"] == 1
    waited = await service.write(ctx, "viking://resources/t/g.md", "z", mode="replace", wait=True)
    assert waited["semantic_status"] == "complete"
    assert waited["queue_status"]["Embedding"]["error_count"] == 0


async def test_reindex_object_types() -> None:
    cases = {
        (): "global_namespace",
        ("user",): "user_namespace",
        ("user", "bob"): "user_namespace",
        ("user", "bob", "memories", "preferences"): "memory",
        ("user", "bob", "peers", "p1", "memories"): "memory",
        ("user", "bob", "skills"): "skill_namespace",
        ("agent", "skills"): "skill_namespace",
        ("agent", "skills", "brew"): "skill",
        ("user", "bob", "resources", "a.md"): "resource",
        ("resources",): "resource",
        ("agent",): "resource",
    }
    for parts, kind in cases.items():
        uri = VikingURI(parts[0], parts[1:]) if parts else VikingURI("")
        assert reindex_object_type(uri) == kind, parts
    with pytest.raises(InvalidURIError):
        reindex_object_type(VikingURI("user", ("bob", "sessions", "s1")))


async def test_a_user_reindexes_shared_data_and_only_their_own_space(
    acme: Acme,
) -> None:
    svc, _, bob, cid = acme
    await svc.write(bob, "viking://~/resources/mine.md", "bob's", mode="create")
    await svc.write(cid, "viking://~/resources/a.md", "cid's", mode="create")
    await svc.write(cid, "viking://~/resources/b.md", "cid's", mode="create")
    await svc.write(cid, "viking://resources/shared.md", "shared", mode="create")
    await svc.wait_processing(bob, 60)
    shared = await svc.reindex(bob, "viking://resources", wait=True)
    assert shared["files_indexed"] == 1  # shared data: its index rows are rebuilt
    users = await svc.reindex(bob, "viking://user", wait=True)
    assert users["object_type"] == "user_namespace"
    assert users["files_indexed"] == 1  # bob's own file only, never cid's
    with pytest.raises(PermissionDeniedError):
        await svc.reindex(bob, "viking://user/cid", wait=True)
    accepted = ReindexAccepted.model_validate(await svc.reindex(bob, "viking://~", wait=False))
    assert (accepted.uri, accepted.object_type) == ("viking://user/bob", "user_namespace")
