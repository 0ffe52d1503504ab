"""The stores kept in the metadata database, on both backends: accounts and users, groups,
path owners, path tags and the bot's answers. Their SQL is shared, so it must mean the same
on SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from openviking_mcp.bot.responses import get_response, save_feedback, save_response
from openviking_mcp.contract.chat import FeedbackRequest
from openviking_mcp.contract.errors import AlreadyExistsError, NotFoundError
from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.contract.uri import parse_uri
from openviking_mcp.storage.accounts import AccountStore
from openviking_mcp.storage.metadata import MetadataBackend
from openviking_mcp.storage.owners import PathOwners
from openviking_mcp.storage.tags import PathTags

pytestmark = pytest.mark.anyio

ANN = RequestContext("acme", "ann", Role.USER)
BOB = RequestContext("acme", "bob", Role.USER)


async def test_accounts_users_and_keys(db: MetadataBackend) -> None:
    accounts = AccountStore(db)
    assert await accounts.ensure_account("acme") is True
    assert await accounts.ensure_account("acme") is False
    with pytest.raises(AlreadyExistsError):
        await accounts.create_account("acme")
    key = await accounts.create_user("acme", "ann", "admin")
    with pytest.raises(AlreadyExistsError):
        await accounts.create_user("acme", "ann")
    assert await accounts.ensure_user("acme", "Bob") is True
    assert [u.user_id for u in await accounts.list_users("acme")] == ["Bob", "ann"]
    assert await accounts.resolve_key(key) == RequestContext("acme", "ann", Role.ADMIN)
    assert (await accounts.set_role("acme", "Bob", "admin")).role is Role.ADMIN
    listed = await accounts.list_accounts()
    assert [(a["account_id"], a["user_count"]) for a in listed] == [("acme", 2)]
    await accounts.delete_account("acme")
    with pytest.raises(NotFoundError):
        await accounts.get_user("acme", "ann")
    with pytest.raises(NotFoundError):
        await accounts.delete_account("acme")


async def test_groups_and_their_cascades(db: MetadataBackend) -> None:
    accounts = AccountStore(db)
    groups = accounts.groups
    await accounts.ensure_user("acme", "ann")
    await accounts.ensure_user("acme", "bob")
    await groups.create_group("acme", "ops")
    await groups.create_group("acme", "dev")
    with pytest.raises(AlreadyExistsError):
        await groups.create_group("acme", "ops")
    with pytest.raises(NotFoundError):
        await groups.create_group("nowhere", "ops")
    for user in ("bob", "ann", "ann"):
        await groups.add_member("acme", "ops", user)
    with pytest.raises(NotFoundError):
        await groups.add_member("acme", "ops", "carl")
    assert await groups.list_groups("acme") == [("dev", 0), ("ops", 2)]
    assert await groups.members("acme", "ops") == ["ann", "bob"]
    await accounts.delete_user("acme", "bob")  # memberships go with the user
    assert await groups.members("acme", "ops") == ["ann"]
    assert await groups.remove_member("acme", "ops", "ann") is True
    assert await groups.remove_member("acme", "ops", "ann") is False
    await groups.delete_group("acme", "dev")
    assert await groups.list_groups("acme") == [("ops", 0)]
    await accounts.delete_account("acme")
    assert await db.fetchall("SELECT * FROM user_groups") == []


async def test_path_owners_follow_moves(db: MetadataBackend) -> None:
    async def missing(key: str) -> bool:
        return False

    owners = PathOwners(db, missing)
    source = parse_uri("viking://resources/docs")
    await owners.claim(ANN, parse_uri("viking://resources/docs/a/b.md"))
    await owners.record_created(BOB, parse_uri("viking://resources/docs/a/bob"))
    await owners.record_created(BOB, parse_uri("viking://resources/docs%x"))  # not below docs
    assert await owners.owner("acme", parse_uri("viking://resources/docs/a/b.md")) == "ann"
    assert await owners.owners_under("acme", source) == {"ann", "bob"}
    dest = parse_uri("viking://resources/moved")
    await owners.moved(ANN, source, dest, "ann")
    assert await owners.owner("acme", parse_uri("viking://resources/moved/a/bob/x")) == "bob"
    assert await owners.owner("acme", parse_uri("viking://resources/docs/a")) == ""
    assert await owners.owner("acme", parse_uri("viking://resources/docs%x")) == "bob"
    await owners.user_deleted("acme", "bob")
    assert await owners.owners_under("acme", dest) == {"ann", ""}


async def test_path_tags_store_move_and_remove(db: MetadataBackend) -> None:
    tags = PathTags(db)
    await tags.store("acme", {"viking://resources/a": ["k=v"], "viking://resources/a/b": ["x=1"]})
    await tags.store("acme", {"viking://resources/a%b": ["p=1"]})
    assert await tags.get("acme", "viking://resources/a") == ["k=v"]
    assert await tags.under("acme", "viking://resources/a") == {
        "viking://resources/a": ["k=v"],
        "viking://resources/a/b": ["x=1"],
    }
    await tags.moved("acme", parse_uri("viking://resources/a"), parse_uri("viking://resources/z"))
    assert set(await tags.under("acme", "viking://resources/z")) == {
        "viking://resources/z",
        "viking://resources/z/b",
    }
    await tags.store("acme", {"viking://resources/z/b": []})
    await tags.removed("acme", parse_uri("viking://resources/z"))
    assert await tags.lookup("acme", ["viking://resources/z", "viking://resources/a%b"]) == {
        "viking://resources/a%b": ["p=1"]
    }


async def test_bot_answers_and_their_feedback(db: MetadataBackend) -> None:
    reply = {"response_id": "r1", "session_id": "s1", "message": "hi", "citations": [{"u": 1}]}
    await save_response(db, ANN, reply)
    await save_response(db, ANN, {**reply, "message": "hello"})  # the same answer, again
    stored = await get_response(db, ANN, "r1")
    assert (stored["message"], stored["citations"], stored["feedback"]) == (
        "hello",
        [{"u": 1}],
        None,
    )
    with pytest.raises(NotFoundError):
        await get_response(db, BOB, "r1")
    request = FeedbackRequest(session_id="s1", response_id="r1", feedback_type="thumb_up")
    receipt = await save_feedback(db, ANN, request)
    assert receipt.feedback_delay_sec >= 0
    assert (await get_response(db, ANN, "r1"))["feedback"]["feedback_type"] == "thumb_up"
