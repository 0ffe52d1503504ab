"""Identity and isolation: users, accounts, keys and who sees what."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import ContextService, OpenViking, OpenVikingConfig, RequestContext, Role
from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    InvalidURIError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]


def test_two_users_never_see_each_others_space(workspace: Path) -> None:
    with OpenViking(path=workspace, user="alice") as alice:
        alice.write("viking://~/memories/secret.md", "alice secret", mode="create")
        alice.write("viking://resources/shared.md", "shared", mode="create")
    with OpenViking(path=workspace, user="bob") as bob:
        assert bob.context.role is Role.USER
        assert bob.ls("viking://user", simple=True) == ["viking://user/bob"]
        assert bob.read("viking://resources/shared.md") == "shared"
        for call in (
            lambda: bob.read("viking://user/alice/memories/secret.md"),
            lambda: bob.ls("viking://user/alice"),
            lambda: bob.stat("viking://user/alice/memories/secret.md"),
            lambda: bob.write("viking://user/alice/memories/x.md", "x", mode="create"),
            lambda: bob.rm("viking://user/alice/memories/secret.md"),
            lambda: bob.mv("viking://user/alice/memories/secret.md", "viking://~/stolen.md"),
            lambda: bob.abstract("viking://user/alice"),
        ):
            with pytest.raises(PermissionDeniedError):
                call()
        with pytest.raises(InvalidURIError, match="viking://~"):
            bob.ls("viking://user/memories")


def test_first_user_of_an_account_is_admin(workspace: Path) -> None:
    with OpenViking(path=workspace, account="acme", user="carol") as carol:
        assert carol.context == RequestContext("acme", "carol", Role.ADMIN)
        carol.write("viking://resources/acme.md", "acme only", mode="create")
    with OpenViking(path=workspace) as default, pytest.raises(NotFoundError):
        default.read("viking://resources/acme.md")


async def test_admin_flow_and_api_keys(service: ContextService) -> None:
    root = RequestContext.root()
    created = await service.create_account(root, "acme", "ann")
    ann_key = created["user_key"]
    ann = await service.auth.resolve_api_key(ann_key)
    assert ann == RequestContext("acme", "ann", Role.ADMIN)
    assert await service.ls(ann, "viking://~", simple=True)

    with pytest.raises(AlreadyExistsError):
        await service.create_account(root, "acme", "x")
    user = await service.create_user(ann, "acme", "ben")
    ben = await service.auth.resolve_api_key(user["user_key"])
    assert ben.role is Role.USER
    with pytest.raises(PermissionDeniedError):
        await service.create_user(ben, "acme", "eve")
    with pytest.raises(PermissionDeniedError):
        await service.create_user(ann, "default", "eve")
    with pytest.raises(PermissionDeniedError):  # an ADMIN promotes; demoting is ROOT's
        await service.set_user_role(ann, "acme", "ben", "user")
    assert (await service.set_user_role(ann, "acme", "ben", "admin"))["role"] == "admin"
    assert (await service.set_user_role(root, "acme", "ben", "user"))["role"] == "user"
    with pytest.raises(PermissionDeniedError):
        await service.set_user_role(root, "acme", "ben", "root")
    assert (await service.set_user_role(root, "acme", "ben", "admin"))["role"] == "admin"

    users = await service.list_users(ann, "acme")
    assert [u["user_id"] for u in users] == ["ann", "ben"]
    assert all(ann_key not in str(u) for u in users)

    new = await service.regenerate_user_key(ann, "acme", "ben")
    with pytest.raises(UnauthenticatedError):
        await service.auth.resolve_api_key(user["user_key"])
    assert (await service.auth.resolve_api_key(new["user_key"])).user_id == "ben"

    await service.write(ben, "viking://~/memories/m.md", "ben's", mode="create")
    await service.delete_user(ann, "acme", "ben")
    with pytest.raises(UnauthenticatedError):
        await service.auth.resolve_api_key(new["user_key"])
    assert not (service.config.workspace / "accounts" / "acme" / "user" / "ben").exists()

    accounts = {a["account_id"]: a for a in await service.list_accounts(root)}
    assert accounts["acme"]["user_count"] == 1
    with pytest.raises(PermissionDeniedError):
        await service.list_accounts(ann)
    await service.delete_account(root, "acme")
    with pytest.raises(UnauthenticatedError):
        await service.auth.resolve_api_key(ann_key)
    assert not (service.config.workspace / "accounts" / "acme").exists()


async def test_keys_are_never_stored_in_plain_text(service: ContextService) -> None:
    created = await service.create_account(RequestContext.root(), "acme", "ann")
    secret = created["user_key"].split(".")[2]
    if service.config.storage.uses_postgres:  # every row of every table, as text
        import psycopg

        with psycopg.connect(service.config.storage.postgres.dsn) as conn:
            tables = conn.execute(
                "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
            ).fetchall()
            dumped = [
                str(conn.execute(f'SELECT t::text FROM "{name}" t').fetchall())
                for (name,) in tables
            ]
        raw = "\n".join(dumped).encode()
        assert b"acme" in raw  # the dump does hold the account's rows
    else:
        raw = (service.config.workspace / "meta" / "openviking.sqlite3").read_bytes()
    assert created["user_key"].encode() not in raw
    assert secret.encode() not in raw


@pytest.mark.parametrize("bad", ["", "garbage", "a.b.c", "YQ.Yg.Yw"])
async def test_bad_keys_are_unauthenticated(service: ContextService, bad: str) -> None:
    with pytest.raises(UnauthenticatedError):
        await service.auth.resolve_api_key(bad)


async def test_forged_key_for_a_real_user_is_rejected(service: ContextService) -> None:
    from openviking_mcp.contract.identity import format_key

    await service.create_account(RequestContext.root(), "acme", "ann")
    with pytest.raises(UnauthenticatedError):
        await service.auth.resolve_api_key(format_key("acme", "ann", "0" * 64))


async def test_root_key_gives_root(storage_section: dict[str, Any]) -> None:
    from openviking_mcp import OpenVikingConfig

    config = OpenVikingConfig.from_dict(
        {"storage": storage_section, "server": {"root_api_key": "rk-123"}}
    )
    svc = ContextService(config)
    await svc.initialize()
    try:
        assert (await svc.auth.resolve_api_key("rk-123")).is_root
        with pytest.raises(UnauthenticatedError):
            await svc.auth.resolve_api_key("rk-1234")
    finally:
        await svc.close()


async def test_dev_context_is_the_default_user_not_root(service: ContextService) -> None:
    ctx = service.dev_context()
    assert ctx == RequestContext("default", "default", Role.ADMIN)
    assert not ctx.is_root
    uri = await service.mkdir(ctx, "viking://~/resources/dev")
    assert uri == {"uri": "viking://user/default/resources/dev"}


def test_import_names_are_reserved_across_users(workspace: Path, tmp_path: Path) -> None:
    """Two users importing the same name into shared resources get distinct targets."""
    doc = tmp_path / "guide.md"
    doc.write_text("# Guide")
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
            "processing": {"workers": 1},
        }
    )
    with (
        OpenViking(config=config, user="alice") as alice,
        OpenViking(config=config, user="bob") as bob,
    ):
        # No worker runs: alice's import stays pending (nothing on disk) while bob plans his.
        alice._loop.run(alice.service.store.tasks.stop())
        bob._loop.run(bob.service.store.tasks.stop())
        first = alice.add_resource(str(doc))
        second = bob.add_resource(str(doc))
        assert first["root_uri"] == "viking://resources/guide"
        assert second["root_uri"] == "viking://resources/guide_1"
