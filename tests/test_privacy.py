"""Privacy configs: versioned per-user secret values, managed and never indexed."""

from __future__ import annotations

import asyncio
import json
import re
from pathlib import Path

import pytest

from openviking_mcp import ContextService, OpenViking, RequestContext
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
)

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]

_ISO = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


@pytest.fixture
def ctx(service: ContextService) -> RequestContext:
    return service.dev_context()


async def _stored(service: ContextService, ctx: RequestContext, rel: str) -> dict[str, object]:
    uri = f"viking://user/{ctx.user_id}/privacy/{rel}"
    doc = json.loads(await service.read(ctx, uri))
    assert isinstance(doc, dict)
    return doc


async def test_upsert_creates_versions_and_activates_latest(
    service: ContextService, ctx: RequestContext
) -> None:
    first = await service.upsert_privacy_config(
        ctx, "skill", "deploy", {"token": "abc"}, change_reason="initial", labels={"env": "prod"}
    )
    assert first["version"] == 1
    assert first["values"] == {"token": "abc"}
    assert (first["category"], first["target_key"]) == ("skill", "deploy")
    assert first["created_by"] == ctx.user_id
    assert first["change_reason"] == "initial"
    assert _ISO.fullmatch(str(first["created_at"]))

    second = await service.upsert_privacy_config(ctx, "skill", "deploy", {"token": "xyz"})
    assert second["version"] == 2

    got = await service.get_privacy_config(ctx, "skill", "deploy")
    meta, current = got["meta"], got["current"]
    assert current == second
    assert meta["active_version"] == meta["latest_version"] == 2
    assert meta["labels"] == {"env": "prod"}  # kept when not given
    assert meta["updated_by"] == ctx.user_id
    for field in ("created_at", "updated_at", "last_accessed_at"):
        assert _ISO.fullmatch(meta[field]), field
    assert set(meta) == {
        "category",
        "target_key",
        "active_version",
        "latest_version",
        "created_at",
        "updated_at",
        "updated_by",
        "last_accessed_at",
        "labels",
    }

    # The on-disk layout of §10.3.
    assert await _stored(service, ctx, "skill/deploy/history/version_001.json") == first
    assert await _stored(service, ctx, "skill/deploy/history/version_002.json") == second
    assert await _stored(service, ctx, "skill/deploy/current.json") == second
    stored_meta = await _stored(service, ctx, "skill/deploy/.meta.json")
    assert stored_meta["active_version"] == 2
    assert await service.list_privacy_versions(ctx, "skill", "deploy") == [1, 2]
    assert await service.get_privacy_version(ctx, "skill", "deploy", 1) == first


async def test_equal_values_add_no_version(service: ContextService, ctx: RequestContext) -> None:
    first = await service.upsert_privacy_config(ctx, "skill", "s", {"a": "1", "b": "2"})
    before = (await service.get_privacy_config(ctx, "skill", "s"))["meta"]
    await asyncio.sleep(0.01)
    again = await service.upsert_privacy_config(
        ctx, "skill", "s", {"b": "2", "a": "1"}, change_reason="same", labels={"k": "v"}
    )
    assert again == first  # the current record, unchanged (no new change_reason either)
    assert await service.list_privacy_versions(ctx, "skill", "s") == [1]
    meta = (await service.get_privacy_config(ctx, "skill", "s"))["meta"]
    assert meta["latest_version"] == meta["active_version"] == 1
    assert meta["labels"] == {"k": "v"}
    assert meta["updated_at"] > before["updated_at"]
    assert meta["created_at"] == before["created_at"]


async def test_activate_an_older_version(service: ContextService, ctx: RequestContext) -> None:
    for value in ("one", "two", "three"):
        await service.upsert_privacy_config(ctx, "api", "svc", {"key": value})
    record = await service.activate_privacy_version(ctx, "api", "svc", 1)
    assert record["version"] == 1
    got = await service.get_privacy_config(ctx, "api", "svc")
    assert got["current"]["values"] == {"key": "one"}
    assert (got["meta"]["active_version"], got["meta"]["latest_version"]) == (1, 3)
    assert await service.privacy_values(ctx, "api", "svc") == {"key": "one"}

    # Values equal to the *active* version are a no-op; values of another version are new.
    assert (await service.upsert_privacy_config(ctx, "api", "svc", {"key": "one"}))["version"] == 1
    latest = await service.upsert_privacy_config(ctx, "api", "svc", {"key": "three"})
    assert latest["version"] == 4
    assert await service.list_privacy_versions(ctx, "api", "svc") == [1, 2, 3, 4]

    with pytest.raises(NotFoundError, match="version 9"):
        await service.activate_privacy_version(ctx, "api", "svc", 9)
    with pytest.raises(NotFoundError):
        await service.get_privacy_version(ctx, "api", "svc", 9)
    for bad in (0, -1, True):
        with pytest.raises(InvalidArgumentError, match="version"):
            await service.activate_privacy_version(ctx, "api", "svc", bad)


async def test_listing_and_delete(service: ContextService, ctx: RequestContext) -> None:
    assert await service.list_privacy_categories(ctx) == []
    assert await service.list_privacy_targets(ctx, "skill") == []
    await service.upsert_privacy_config(ctx, "skill", "b", {"x": "1"})
    await service.upsert_privacy_config(ctx, "skill", "a:1", {"x": "1"})
    await service.upsert_privacy_config(ctx, "api", "c.d", {"x": "1"})
    assert await service.list_privacy_categories(ctx) == ["api", "skill"]
    assert await service.list_privacy_targets(ctx, "skill") == ["a:1", "b"]

    assert await service.delete_privacy_config(ctx, "skill", "b") is True
    assert await service.delete_privacy_config(ctx, "skill", "b") is False
    assert await service.list_privacy_targets(ctx, "skill") == ["a:1"]
    assert await service.delete_privacy_config(ctx, "api", "c.d") is True
    assert await service.list_privacy_categories(ctx) == ["skill"]  # emptied category goes

    with pytest.raises(NotFoundError, match="Privacy config not found: skill/b") as info:
        await service.get_privacy_config(ctx, "skill", "b")
    assert info.value.details == {"type": "privacy config", "resource": "skill/b"}
    with pytest.raises(NotFoundError):
        await service.list_privacy_versions(ctx, "skill", "b")
    with pytest.raises(NotFoundError):
        await service.activate_privacy_version(ctx, "skill", "b", 1)
    assert await service.privacy_values(ctx, "skill", "b") == {}


async def test_get_records_last_access(service: ContextService, ctx: RequestContext) -> None:
    await service.upsert_privacy_config(ctx, "skill", "s", {"a": "1"})
    meta = await _stored(service, ctx, "skill/s/.meta.json")
    assert meta["last_accessed_at"] is None
    got = await service.get_privacy_config(ctx, "skill", "s")
    stored = await _stored(service, ctx, "skill/s/.meta.json")
    assert stored["last_accessed_at"] == got["meta"]["last_accessed_at"]
    assert stored["last_accessed_at"] is not None


@pytest.mark.parametrize(
    ("category", "target_key", "field"),
    [
        ("", "t", "category"),
        (".hidden", "t", "category"),
        ("a/b", "t", "category"),
        ("x" * 129, "t", "category"),
        ("sp ace", "t", "category"),
        ("c", "", "target_key"),
        ("c", "..", "target_key"),
        ("c", "a/../b", "target_key"),
        ("c", "ü", "target_key"),
    ],
)
async def test_names_are_validated(
    service: ContextService, ctx: RequestContext, category: str, target_key: str, field: str
) -> None:
    with pytest.raises(InvalidArgumentError, match=field) as info:
        await service.upsert_privacy_config(ctx, category, target_key, {"a": "b"})
    assert info.value.details["field"] == field
    with pytest.raises(InvalidArgumentError, match=field):
        await service.get_privacy_config(ctx, category, target_key)
    with pytest.raises(InvalidArgumentError, match=field):
        await service.privacy_values(ctx, category, target_key)
    assert await service.list_privacy_categories(ctx) == []


async def test_longest_names_are_accepted(service: ContextService, ctx: RequestContext) -> None:
    name = "a" * 128
    record = await service.upsert_privacy_config(ctx, name, "k-_.:9", {"a": "b"})
    assert record["version"] == 1
    assert await service.list_privacy_targets(ctx, name) == ["k-_.:9"]


_DEEP: dict[str, object] = {"x": "leaf"}
for _ in range(16):
    _DEEP = {"x": _DEEP}


@pytest.mark.parametrize(
    "values",
    [
        ["a"],
        "a=b",
        {1: "a"},
        {"": "a"},
        {"a\nb": "a"},
        {"a": {"": 1}},
        {"a": float("nan")},
        {"a": [float("inf")]},
        {"a": {1, 2}},
        {"a": b"bytes"},
        _DEEP,
        {"a": list(range(4097))},
        {"a": "x" * (1024 * 1024)},
    ],
)
async def test_values_must_be_named_json_values(
    service: ContextService, ctx: RequestContext, values: object
) -> None:
    with pytest.raises(InvalidArgumentError, match="values"):
        await service.upsert_privacy_config(ctx, "c", "t", values)  # type: ignore[arg-type]
    assert await service.list_privacy_categories(ctx) == []


@pytest.mark.parametrize(
    "labels", [["a"], {"a": 1}, {1: "a"}, {"a": None}, "a=b", {"a": {"nested": "x"}}]
)
async def test_labels_must_map_strings_to_strings(
    service: ContextService, ctx: RequestContext, labels: object
) -> None:
    with pytest.raises(InvalidArgumentError, match="labels"):
        await service.upsert_privacy_config(ctx, "c", "t", {"a": "b"}, labels=labels)  # type: ignore[arg-type]
    assert await service.list_privacy_categories(ctx) == []


_JSON_VALUES = {
    "token": "abc",
    "port": 5432,
    "ratio": 0.5,
    "enabled": False,
    "unset": None,
    "hosts": ["a", 1, None],
    "nested": {"user": "ann", "roles": [{"admin": True}]},
}


async def test_json_values_are_kept_as_they_are(
    service: ContextService, ctx: RequestContext
) -> None:
    first = await service.upsert_privacy_config(ctx, "api", "db", _JSON_VALUES)
    assert first["values"] == _JSON_VALUES
    got = await service.get_privacy_config(ctx, "api", "db")
    assert got["current"]["values"] == _JSON_VALUES
    assert (await service.get_privacy_version(ctx, "api", "db", 1))["values"] == _JSON_VALUES
    assert await service.privacy_values(ctx, "api", "db") == _JSON_VALUES
    assert (await _stored(service, ctx, "api/db/current.json"))["values"] == _JSON_VALUES
    # equal values in another key order add no version; 1 and 1.0 or 1 and true differ
    same = await service.upsert_privacy_config(
        ctx, "api", "db", dict(reversed(_JSON_VALUES.items()))
    )
    assert same["version"] == 1
    for changed in ({**_JSON_VALUES, "port": 5432.0}, {**_JSON_VALUES, "enabled": 0}):
        record = await service.upsert_privacy_config(ctx, "api", "db", changed)
        assert record["values"] == changed
        assert type(record["values"]["port"]) is type(changed["port"])
    assert await service.list_privacy_versions(ctx, "api", "db") == [1, 2, 3]


async def test_concurrent_upserts_never_lose_a_version(
    service: ContextService, ctx: RequestContext
) -> None:
    records = await asyncio.gather(
        *(
            service.upsert_privacy_config(ctx, "skill", "busy", {"n": str(i)}, change_reason=str(i))
            for i in range(20)
        )
    )
    assert sorted(r["version"] for r in records) == list(range(1, 21))
    assert await service.list_privacy_versions(ctx, "skill", "busy") == list(range(1, 21))
    seen = set()
    for version in range(1, 21):
        record = await service.get_privacy_version(ctx, "skill", "busy", version)
        seen.add(record["values"]["n"])
    assert seen == {str(i) for i in range(20)}
    got = await service.get_privacy_config(ctx, "skill", "busy")
    assert got["meta"]["active_version"] == got["meta"]["latest_version"] == 20
    assert got["current"]["version"] == 20


async def test_users_only_see_their_own_configs(service: ContextService) -> None:
    ann = await service.local_context("acme", "ann")
    bob = await service.local_context("acme", "bob")
    await service.upsert_privacy_config(ann, "skill", "s", {"password": "ann-secret"})

    assert await service.list_privacy_categories(bob) == []
    assert await service.list_privacy_targets(bob, "skill") == []
    assert await service.privacy_values(bob, "skill", "s") == {}
    with pytest.raises(NotFoundError):
        await service.get_privacy_config(bob, "skill", "s")
    with pytest.raises(NotFoundError):
        await service.list_privacy_versions(bob, "skill", "s")
    assert await service.delete_privacy_config(bob, "skill", "s") is False

    # Bob's own config of the same name is separate.
    await service.upsert_privacy_config(bob, "skill", "s", {"password": "bob-secret"})
    assert await service.privacy_values(ann, "skill", "s") == {"password": "ann-secret"}
    assert await service.privacy_values(bob, "skill", "s") == {"password": "bob-secret"}

    # Nor through the filesystem: another user's privacy folder is out of reach.
    for call in (
        service.ls(bob, "viking://user/ann/privacy"),
        service.read(bob, "viking://user/ann/privacy/skill/s/current.json"),
        service.grep(bob, "viking://user/ann", "ann-secret"),
    ):
        with pytest.raises(PermissionDeniedError):
            await call
    assert await service.ls(bob, "viking://user", simple=True) == ["viking://user/bob"]
    listed = await service.ls(bob, "viking://~/privacy", recursive=True, simple=True)
    assert all("ann" not in str(uri) for uri in listed)
    # A user from another account with the same user id does not see it either.
    other = await service.local_context("globex", "ann")
    assert await service.privacy_values(other, "skill", "s") == {}


async def test_privacy_area_is_managed(service: ContextService, ctx: RequestContext) -> None:
    await service.upsert_privacy_config(ctx, "skill", "s", {"a": "1"})
    for call in (
        service.write(ctx, "viking://~/privacy/skill/s/current.json", "{}"),
        service.rm(ctx, "viking://~/privacy/skill/s", recursive=True),
        service.mkdir(ctx, "viking://~/privacy/other"),
    ):
        with pytest.raises(PermissionDeniedError):
            await call
    assert await service.privacy_values(ctx, "skill", "s") == {"a": "1"}


async def test_root_has_no_privacy_space(service: ContextService) -> None:
    root = RequestContext.root()
    for call in (
        service.upsert_privacy_config(root, "skill", "s", {"a": "1"}),
        service.get_privacy_config(root, "skill", "s"),
        service.list_privacy_categories(root),
        service.list_privacy_targets(root, "skill"),
        service.list_privacy_versions(root, "skill", "s"),
        service.get_privacy_version(root, "skill", "s", 1),
        service.activate_privacy_version(root, "skill", "s", 1),
        service.delete_privacy_config(root, "skill", "s"),
    ):
        with pytest.raises(PermissionDeniedError):
            await call
    assert await service.privacy_values(root, "skill", "s") == {}


async def test_privacy_values_are_never_indexed(
    service: ContextService, ctx: RequestContext
) -> None:
    secret = "pomegranate launch code zebracorn"
    await service.upsert_privacy_config(ctx, "skill", "launch", {"code": secret})
    await service.write(
        ctx,
        "viking://~/memories/note.md",
        "Remember the quokka parade.\n",
        mode="create",
        wait=True,
    )
    await service.reindex(ctx, "viking://", wait=True)  # a full reindex still skips privacy
    found = await service.find(ctx, secret, limit=50)
    uris = [h["uri"] for kind in ("memories", "resources", "skills") for h in found[kind]]
    assert uris  # the search itself works...
    assert not [u for u in uris if "/privacy" in u]  # ...but never yields privacy files
    assert all(
        secret not in str(h.get("match", ""))
        for k in ("memories", "resources", "skills")
        for h in found[k]
    )


def test_embedded_clients_mirror_the_service(workspace: Path) -> None:
    with OpenViking(path=workspace, user="alice") as ov:
        assert ov.upsert_privacy_config("skill", "s", {"a": "1"})["version"] == 1
        assert (
            ov.upsert_privacy_config("skill", "s", {"a": "2"}, change_reason="rotate")["version"]
            == 2
        )
        assert ov.list_privacy_categories() == ["skill"]
        assert ov.list_privacy_targets("skill") == ["s"]
        assert ov.list_privacy_versions("skill", "s") == [1, 2]
        assert ov.get_privacy_version("skill", "s", 2)["change_reason"] == "rotate"
        assert ov.activate_privacy_version("skill", "s", 1)["values"] == {"a": "1"}
        assert ov.get_privacy_config("skill", "s")["meta"]["active_version"] == 1
        assert ov.privacy_values("skill", "s") == {"a": "1"}
        assert ov.delete_privacy_config("skill", "s") is True
        assert ov.list_privacy_categories() == []
