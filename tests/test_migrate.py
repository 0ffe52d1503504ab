"""``openviking-mcp migrate``: accounts with their users (keys), groups, tags, owners, files,
memories, sessions and vectors copied between backends and verified; refusals before anything
is written; verification catching a tampered target."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from openviking_mcp.cli import app
from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    ConfigError,
    FailedPreconditionError,
)
from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.contract.migrate import MigrateRequest, MigrateResult
from openviking_mcp.migrate import MigrateService
from openviking_mcp.migrate.endpoints import Endpoint, endpoint_config, parse_endpoint
from openviking_mcp.migrate.verify import digest_tree, verify_account
from openviking_mcp.service import ContextService
from openviking_mcp.storage.index import IndexFilter
from tests.conftest import hashing_config

pytestmark = pytest.mark.anyio

GUIDE = "# Guide\n\nThe falconctl rollback command restores the previous release."
COFFEE = "Bob likes dark roast coffee."


async def _seed(workspace: Path) -> dict[str, str]:
    """Two accounts (default, acme) with users and keys, a group, tags, an owned folder,
    files, a memory, a session and a bot answer; every task done. Returns the keys."""
    service = ContextService(hashing_config(workspace))
    await service.initialize()
    try:
        root = RequestContext.root("acme")
        created = await service.create_account(root, "acme", "ann")
        bob_key = (await service.create_user(root, "acme", "bob"))["user_key"]
        await service.create_group(root, "acme", "team")
        await service.add_group_member(root, "acme", "team", "bob")
        ann = RequestContext("acme", "ann", Role.ADMIN)
        bob = RequestContext("acme", "bob", Role.USER)
        await service.mkdir(ann, "viking://resources/docs")
        await service.write(ann, "viking://resources/docs/guide.md", GUIDE, mode="create")
        await service.set_tags(ann, "viking://resources/docs/guide.md", ["team=ops"])
        await service.write(bob, "viking://~/memories/coffee.md", COFFEE, mode="create")
        await service.add_message(bob, "s1", "user", "Remember my coffee order.")
        dev = service.dev_context()
        await service.write(dev, "viking://resources/notes.md", "Default notes.", mode="create")
        await _add_chat_response(service, "acme", "bob", "s1")
        await service.wait_processing(dev, timeout=60)
        await service.wait_processing(ann, timeout=60)
        return {"ann": created["user_key"], "bob": bob_key}
    finally:
        await service.close()


async def _add_chat_response(service: ContextService, account: str, user: str, sid: str) -> None:
    await service.store.db.transaction(
        lambda conn: conn.execute(
            "INSERT INTO chat_responses(response_id, account_id, user_id, session_id, "
            "created_at, mode, message) VALUES (?, ?, ?, ?, ?, ?, ?)",
            ("r1", account, user, sid, time.time(), "chat", "A flat white."),
        )
    )


async def _migrate(base: OpenVikingConfig, source: str, target: str, **kw: Any) -> MigrateResult:
    lines: list[str] = []
    result = await MigrateService(base, progress=lines.append).migrate(
        MigrateRequest(source=source, target=target, **kw)
    )
    assert any(line.startswith("acme: verifying") for line in lines) or kw.get("account_id")
    return result


async def _check_target(config: OpenVikingConfig, keys: dict[str, str]) -> None:
    """The migrated acme works on ``config``'s storage: keys, files, search, groups, tags,
    the session and the bot's answer."""
    service = ContextService(config, background_tasks=False)
    await service.initialize()
    try:
        ann = await service.auth.resolve_api_key(keys["ann"])
        bob = await service.auth.resolve_api_key(keys["bob"])
        assert (ann.account_id, ann.user_id, ann.role) == ("acme", "ann", Role.ADMIN)
        assert (bob.account_id, bob.user_id, bob.role) == ("acme", "bob", Role.USER)
        assert await service.read(ann, "viking://resources/docs/guide.md") == GUIDE
        assert await service.read(bob, "viking://~/memories/coffee.md") == COFFEE
        found = await service.find(ann, "falconctl rollback", target_uri="viking://resources")
        uris = [hit["uri"] for hit in found["resources"]]
        assert "viking://resources/docs/guide.md" in uris
        root = RequestContext.root("acme")
        members = await service.list_group_members(root, "acme", "team")
        assert members["members"] == ["bob"]
        attrs = await service.attrs(ann, "viking://resources/docs/guide.md")
        assert "team=ops" in attrs["attrs"]["tags"]
        session = await service.get_session(bob, "s1")
        assert session["message_count"] == 1
        row = await service.store.db.fetchone(
            "SELECT message FROM chat_responses WHERE response_id=?", ("r1",)
        )
        assert row is not None
        assert row["message"] == "A flat white."
    finally:
        await service.close()


async def test_local_to_local_copies_two_accounts_with_reused_vectors(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    keys = await _seed(src)
    result = await _migrate(hashing_config(tmp_path / "conf"), str(src), str(dst))
    assert result.verified
    by_id = {a.account_id: a for a in result.accounts}
    assert set(by_id) == {"acme", "default"}
    acme = by_id["acme"]
    assert acme.verified
    assert acme.problems == []
    assert acme.vectors == "reused"
    assert acme.index_rows == acme.source_index_rows
    assert (acme.index_rows or 0) > 5
    assert acme.files > 10
    assert acme.bytes > len(GUIDE) + len(COFFEE)
    assert acme.metadata_rows["users"] == 2
    assert acme.metadata_rows["group_members"] == 1
    assert acme.metadata_rows["path_tags"] >= 1
    assert acme.metadata_rows["path_owners"] >= 1
    assert acme.metadata_rows["chat_responses"] == 1
    assert acme.metadata_rows["accounts"] == 1
    await _check_target(hashing_config(dst), keys)


async def test_an_existing_target_account_is_refused_and_nothing_is_written(
    tmp_path: Path,
) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    await _seed(src)
    target = ContextService(hashing_config(dst), background_tasks=False)
    await target.initialize()  # creates the default account
    try:
        before = await digest_tree(target.store, "default")
        accounts = await target.store.accounts.list_accounts()
    finally:
        await target.close()
    with pytest.raises(AlreadyExistsError, match="Account default already exists"):
        await _migrate(hashing_config(tmp_path / "conf"), str(src), str(dst))
    target = ContextService(hashing_config(dst), background_tasks=False)
    await target.store.open()
    try:
        assert await target.store.accounts.list_accounts() == accounts  # no acme
        assert not await target.store.content.exists("acme")
        assert (await digest_tree(target.store, "default")).files == before.files
    finally:
        await target.close()


async def test_a_busy_source_is_refused_unless_forced(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    source = ContextService(hashing_config(src), background_tasks=False)
    await source.initialize()
    try:
        await source.write(source.dev_context(), "viking://resources/a.md", "queued", mode="create")
    finally:
        await source.close()
    base = hashing_config(tmp_path / "conf")
    with pytest.raises(FailedPreconditionError, match="pending or running"):
        await _migrate(base, str(src), str(dst), account_id="default")
    assert not dst.exists()  # refused before the target was opened
    forced = await _migrate(base, str(src), str(dst), account_id="default", force=True)
    (copied,) = forced.accounts
    assert copied.account_id == "default"
    assert copied.files > 0
    # The source's index is behind its files (the refresh never ran): the target re-embeds
    # what the pack has no vectors for, and the verification says the rows differ.
    assert copied.vectors == "recomputed"
    assert copied.problems
    assert all("only on the target" in p for p in copied.problems)
    assert not forced.verified


async def test_verification_finds_a_tampered_target(tmp_path: Path) -> None:
    src, dst = tmp_path / "src", tmp_path / "dst"
    await _seed(src)
    await _migrate(hashing_config(tmp_path / "conf"), str(src), str(dst), account_id="acme")
    source = ContextService(hashing_config(src), background_tasks=False)
    target = ContextService(hashing_config(dst), background_tasks=False)
    await source.store.open()
    await target.store.open()
    try:
        assert await verify_account(source.store, target.store, "acme") == []
        await target.store.content.write_bytes("acme/resources/docs/guide.md", b"tampered")
        await target.store.index.delete(
            IndexFilter(account_id="acme", uri_prefixes=("viking://user/bob/memories",))
        )
        await target.store.db.transaction(
            lambda conn: conn.execute("DELETE FROM group_members WHERE account_id='acme'")
        )
        problems = await verify_account(source.store, target.store, "acme")
    finally:
        await source.close()
        await target.close()
    text = "\n".join(problems)
    assert "with other content on the target: resources/docs/guide.md" in text
    assert "missing on the target: viking://user/bob/memories" in text
    assert "group_members rows: 1 on the source, 0 on the target" in text


def test_endpoints_are_told_apart(tmp_path: Path) -> None:
    for dsn in ("postgres://u@h/db", "postgresql://h/db", "host=h dbname=db", "dbname=db"):
        assert parse_endpoint(dsn, "target") == Endpoint("postgres", dsn)
    folder = parse_endpoint(str(tmp_path / "new"), "target")
    assert folder == Endpoint("local", str((tmp_path / "new").resolve()))
    assert parse_endpoint("postgresql://u:pw@h/db", "target").shown == "postgresql://u:***@h/db"
    with pytest.raises(ConfigError, match="empty"):
        parse_endpoint("  ", "source")
    with pytest.raises(ConfigError, match="not an openviking-mcp workspace"):
        parse_endpoint(str(tmp_path), "source")


def test_cli_migrates_and_refuses_a_bad_endpoint(tmp_path: Path) -> None:
    import asyncio

    src, dst = tmp_path / "src", tmp_path / "dst"
    asyncio.run(_seed(src))
    conf = tmp_path / "ov.conf"
    conf.write_text('{"embedding": {"dense": {"provider": "hashing", "dimension": 256}}}')
    runner = CliRunner()
    args = ["--config", str(conf), "-o", "json", "migrate", "--from", str(src)]
    done = runner.invoke(app, [*args, "--to", str(dst), "--account", "acme"])
    assert done.exit_code == 0, done.output
    assert '"verified": true' in done.stdout
    assert "migrate: acme: verifying" in done.stderr
    bad = runner.invoke(app, [*args, "--to", str(conf)])  # a file, not a folder
    assert bad.exit_code == 2
    missing = runner.invoke(app, [*args[:-1], str(tmp_path / "nowhere"), "--to", str(dst)])
    assert missing.exit_code == 2


async def test_local_to_postgres_to_local_round_trip(tmp_path: Path, pg_dsn: str) -> None:
    src, back = tmp_path / "src", tmp_path / "back"
    keys = await _seed(src)
    base = hashing_config(tmp_path / "conf")
    there = await _migrate(base, str(src), pg_dsn)
    assert there.verified, [a.problems for a in there.accounts]
    assert {a.vectors for a in there.accounts} == {"reused"}
    in_postgres = endpoint_config(base, Endpoint("postgres", pg_dsn), tmp_path / "scratch")
    await _check_target(in_postgres, keys)
    again = await _migrate(base, pg_dsn, str(back))
    assert again.verified, [a.problems for a in again.accounts]
    assert {a.vectors for a in again.accounts} == {"reused"}
    rows = {a.account_id: a.index_rows for a in there.accounts}
    assert {a.account_id: a.index_rows for a in again.accounts} == rows
    await _check_target(hashing_config(back), keys)
