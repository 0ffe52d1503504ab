"""Access rules on every result: search never covers another user's space, backups and
restores stay within what their caller may read and write, the owner rule guards shared data,
and the consistency check counts only what its caller may read."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from openviking_mcp import ContextService, OpenVikingConfig, RequestContext, Role
from openviking_mcp.contract.access import (
    can_read_uri,
    readable,
    readable_prefixes,
)
from openviking_mcp.contract.errors import PermissionDeniedError
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.storage.index import IndexFilter
from tests._uploads import save_upload

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]

ANN_MARK = "ANNPRIVATEMARK"
BOB_MARK = "BOBPRIVATEMARK"
SKILL = """---
name: brew-guide
description: How the team brews coffee.
---

# brew-guide

Grind the beans, then brew the coffee.
"""
SHARED_SKILLS = "viking://agent/skills"


@dataclass
class Team:
    service: ContextService
    ann: RequestContext  # ADMIN
    bob: RequestContext  # USER
    cid: RequestContext  # USER


@pytest.fixture
async def team(storage_section: dict[str, Any]) -> AsyncIterator[Team]:
    config = OpenVikingConfig.from_dict(
        {
            "storage": storage_section,
            "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
        }
    )
    service = ContextService(config)
    await service.initialize()
    root = RequestContext.root()
    await service.create_account(root, "acme", "ann")
    ann = RequestContext("acme", "ann", Role.ADMIN)
    for user in ("bob", "cid"):
        await service.create_user(ann, "acme", user)
    team = Team(
        service,
        ann,
        RequestContext("acme", "bob", Role.USER),
        RequestContext("acme", "cid", Role.USER),
    )
    try:
        yield team
    finally:
        await service.close()


async def _seed(team: Team) -> None:
    svc = team.service
    await svc.write(team.ann, "viking://~/memories/coffee.md", f"coffee {ANN_MARK}", mode="create")
    await svc.write(team.ann, "viking://~/resources/notes.md", f"coffee {ANN_MARK}", mode="create")
    await svc.write(team.bob, "viking://~/memories/coffee.md", f"coffee {BOB_MARK}", mode="create")
    await svc.write(team.ann, "viking://resources/pub.md", "coffee for everyone", mode="create")
    await svc.wait_processing(team.ann, timeout=60)


def _text(result: Any) -> str:
    return json.dumps(result, default=str)


# -- 1: search and every listing -------------------------------------------------------------


def test_readable_prefixes_never_cover_other_users() -> None:
    bob = RequestContext("acme", "bob", Role.USER)
    ann = RequestContext("acme", "ann", Role.ADMIN)
    root = RequestContext.root("acme")
    everything = ("viking://agent", "viking://resources", "viking://user/bob")
    assert sorted(p.uri for p in readable_prefixes(bob, [])) == list(everything)
    assert sorted(p.uri for p in readable_prefixes(bob, [VikingURI("")])) == list(everything)
    assert [p.uri for p in readable_prefixes(bob, [VikingURI("user")])] == ["viking://user/bob"]
    assert [p.uri for p in readable_prefixes(ann, [VikingURI("user")])] == ["viking://user/ann"]
    inside = VikingURI("resources", ("docs",))
    assert readable_prefixes(bob, [inside, VikingURI("resources")]) == (VikingURI("resources"),)
    with pytest.raises(PermissionDeniedError):
        readable_prefixes(ann, [VikingURI("user", ("bob", "memories"))])
    assert readable_prefixes(root, []) == (VikingURI(""),)
    # the read filter checks the folder a sidecar hit describes; odd forms are refused
    hits = [
        "viking://user/ann/memories/.abstract.md",
        "viking://user/bob/.overview.md",
        "viking://resources/a.md",
        "viking://~/memories",
        "viking://user/ann/../bob",
        "not a uri",
    ]
    assert readable(bob, hits, str) == ["viking://user/bob/.overview.md", "viking://resources/a.md"]
    assert can_read_uri(root, "viking://user/ann/memories/x.md")


_TARGETS = [None, "viking://", "viking:///", "viking://user", "viking://user/", "viking://user//"]


async def test_find_and_search_never_cover_other_users(team: Team) -> None:
    await _seed(team)
    svc, bob = team.service, team.bob
    for target in _TARGETS:
        found = await svc.find(bob, "coffee", target_uri=target)
        hits = found["memories"] + found["resources"]
        assert ANN_MARK not in _text(found), target
        assert not any("/user/ann" in hit["uri"] for hit in hits), target
        assert any(h["uri"].startswith("viking://user/bob/memories") for h in hits), target
        searched = await svc.search(bob, "coffee", target_uri=target)
        assert ANN_MARK not in _text(searched), target
        assert not any("/user/ann" in h["uri"] for h in searched["memories"]), target


async def test_context_assembly_grep_glob_tree_ls_stay_in_readable_space(team: Team) -> None:
    await _seed(team)
    svc, bob = team.service, team.bob
    assembled = await svc.assemble_context(bob, "coffee")
    assert ANN_MARK not in _text(assembled)
    assert "viking://user/bob/memories/coffee.md" in _text(assembled)
    context = await svc.search(bob, "coffee", mode="context")
    assert ANN_MARK not in _text(context)
    grep = await svc.grep(bob, "viking://", "PRIVATEMARK")
    assert [m["uri"] for m in grep["matches"]] == ["viking://user/bob/memories/coffee.md"]
    globbed = await svc.glob(bob, "**", uri="viking://")
    assert "viking://user/bob/memories/coffee.md" in globbed["matches"]
    assert "viking://user" in globbed["matches"]
    assert not any(u.startswith("viking://user/ann") for u in globbed["matches"])
    tree = await svc.tree(bob, "viking://", level_limit=10, node_limit=10_000)
    assert not any("user/ann" in e["uri"] for e in tree)
    assert await svc.ls(bob, "viking://user", simple=True) == ["viking://user/bob"]
    for call in (
        svc.find(bob, "coffee", target_uri="viking://user/ann"),
        svc.grep(bob, "viking://user/ann", "MARK"),
        svc.glob(bob, "*", uri="viking://user/ann"),
    ):
        with pytest.raises(PermissionDeniedError):
            await call


# -- 3: backup and restore ---------------------------------------------------------------


def _with_entry(pack: bytes, path: str, data: bytes) -> bytes:
    """``pack`` with one more file in its manifest and zip (a crafted backup)."""
    with zipfile.ZipFile(io.BytesIO(pack)) as zf:
        entries = {name: zf.read(name) for name in zf.namelist()}
    manifest = json.loads(entries["manifest.json"])
    manifest["files"].append(
        {"path": path, "size": len(data), "sha256": hashlib.sha256(data).hexdigest()}
    )
    entries["manifest.json"] = json.dumps(manifest).encode()
    entries["files/" + path] = data
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as zf:
        for name, blob in entries.items():
            zf.writestr(name, blob)
    return out.getvalue()


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def test_admin_backup_and_restore_stay_out_of_other_users_spaces(team: Team) -> None:
    await _seed(team)
    svc, ann = team.service, team.ann
    backup = await svc.backup(ann)
    with zipfile.ZipFile(backup) as zf:
        names = zf.namelist()
        blob = b"".join(zf.read(n) for n in names)
        data = backup.read_bytes()
    assert "files/user/ann/memories/coffee.md" in names  # the ADMIN's own space
    assert "files/resources/pub.md" in names
    assert not any(n.startswith("files/user/bob") for n in names)
    assert BOB_MARK.encode() not in blob

    crafted = _with_entry(data, "user/bob/memories/PWNED_restore.md", b"planted")
    upload = await save_upload(svc, ann, "backup.ovpack", _chunks(crafted))
    result = await svc.restore(ann, upload["temp_file_id"], on_conflict="overwrite")
    assert result["refused"] == 1
    assert result["refused_uris"] == ["viking://user/bob/memories/PWNED_restore.md"]
    assert not await svc.store.content.exists("acme/user/bob/memories/PWNED_restore.md")
    assert await svc.read(team.bob, "viking://~/memories/coffee.md") == f"coffee {BOB_MARK}"


# -- 8: the owner rule for shared data -------------------------------------------------------


async def test_users_remove_only_the_shared_data_they_created(team: Team) -> None:
    svc, ann, bob, cid = team.service, team.ann, team.bob, team.cid
    await svc.write(ann, "viking://resources/policy/handbook.md", "by the admin", mode="create")
    await svc.write(bob, "viking://resources/bob/notes.md", "by bob", mode="create")
    await svc.mkdir(bob, "viking://resources/bob/empty")
    await svc.add_skill(ann, SKILL, target_uri=SHARED_SKILLS)

    # writing shared data stays open to every user
    await svc.write(bob, "viking://resources/policy/handbook.md", "edited by bob", mode="replace")
    await svc.write(bob, "viking://resources/policy/bob-idea.md", "mine", mode="create")
    for call in (
        svc.rm(bob, "viking://resources/policy", recursive=True),
        svc.rm(bob, "viking://resources/policy/handbook.md"),
        svc.mv(bob, "viking://resources/policy/handbook.md", "viking://resources/moved.md"),
        svc.rm(cid, "viking://resources/bob", recursive=True),
        svc.mv(cid, "viking://resources/bob/notes.md", "viking://~/resources/stolen.md"),
        svc.delete_skill(bob, "brew-guide"),
        svc.add_skill(bob, SKILL, target_uri=SHARED_SKILLS),  # replacing the account's skill
    ):
        with pytest.raises(PermissionDeniedError) as denied:
            await call
        assert denied.value.details.get("reason") == "not_owner"
    assert await svc.read(ann, "viking://resources/policy/handbook.md") == "edited by bob"

    # a user's own files, even inside a folder someone else made
    await svc.rm(bob, "viking://resources/policy/bob-idea.md")
    await svc.mv(bob, "viking://resources/bob/notes.md", "viking://resources/bob/renamed.md")
    await svc.mv(bob, "viking://resources/bob", "viking://resources/bobs")
    assert await svc.read(bob, "viking://resources/bobs/renamed.md") == "by bob"
    await svc.write(ann, "viking://resources/bobs/admin-note.md", "by ann", mode="create")
    with pytest.raises(PermissionDeniedError):  # holds a file bob did not create
        await svc.rm(bob, "viking://resources/bobs", recursive=True)
    await svc.rm(bob, "viking://resources/bobs/renamed.md")

    # ADMIN may remove anything
    await svc.rm(ann, "viking://resources/bobs", recursive=True)
    await svc.delete_skill(ann, "brew-guide")
    await svc.rm(ann, "viking://resources/policy", recursive=True)


async def test_owner_rule_over_webdav(team: Team) -> None:
    svc, ann, bob = team.service, team.ann, team.bob
    await svc.write(ann, "viking://resources/admin.md", "by the admin", mode="create")
    dav = svc.webdav
    assert await dav.put(bob, "mine.md", "by bob")
    assert not await dav.put(bob, "admin.md", "overwritten by bob")  # writing stays open
    with pytest.raises(PermissionDeniedError):
        await dav.delete(bob, "admin.md")
    with pytest.raises(PermissionDeniedError):
        await dav.move(bob, "admin.md", "elsewhere.md", overwrite=False)
    with pytest.raises(PermissionDeniedError):  # Overwrite: T would remove the admin's file
        await dav.move(bob, "mine.md", "admin.md", overwrite=True)
    await dav.move(bob, "mine.md", "still-mine.md", overwrite=False)
    await dav.delete(bob, "still-mine.md")
    await dav.delete(ann, "admin.md")


# -- 9: the consistency check ----------------------------------------------------------------


async def test_consistency_counts_only_what_the_caller_may_read(team: Team) -> None:
    await _seed(team)
    svc, bob = team.service, team.bob
    clean = await svc.consistency(bob, "viking://")
    # ann's rows go: her files are missing from the index, which bob must not learn
    await svc.store.index.delete(
        IndexFilter(account_id="acme", uri_prefixes=("viking://user/ann",))
    )
    after = await svc.consistency(bob, "viking://")
    assert after == clean
    assert ANN_MARK not in _text(after)
    assert not any("user/ann" in m["uri"] for m in after["missing_records"])
    ann_view = await svc.consistency(team.ann, "viking://")
    assert not ann_view["ok"]
    assert all(m["uri"].startswith("viking://user/ann") for m in ann_view["missing_records"])
    assert not any("user/bob" in m["uri"] for m in ann_view["missing_records"])


async def test_a_new_user_with_an_old_id_owns_nothing(team: Team) -> None:
    svc, ann, bob = team.service, team.ann, team.bob
    await svc.write(bob, "viking://resources/bob/notes.md", "by the first bob", mode="create")
    await svc.delete_user(ann, "acme", "bob")
    await svc.create_user(ann, "acme", "bob")
    with pytest.raises(PermissionDeniedError):
        await svc.rm(bob, "viking://resources/bob", recursive=True)
    await svc.rm(ann, "viking://resources/bob", recursive=True)


async def test_walks_skip_other_users_spaces_so_they_cannot_crowd_out_your_own(
    team: Team,
) -> None:
    svc, bob = team.service, team.bob
    for i in range(40):  # ann's space comes before bob's in a plain walk of viking://user
        await svc.write(team.ann, f"viking://user/ann/resources/n{i:02}.md", "x", mode="create")
    await svc.write(bob, "viking://user/bob/resources/mine.md", "mine", mode="create")
    store = svc.store
    everything = await store.walk_readable(bob, VikingURI("user"), 10, 10_000)
    limit = len(everything)
    walked = await store.walk_readable(bob, VikingURI("user"), 10, limit)
    uris = [uri.uri for _, _, uri in walked]
    assert "viking://user/bob/resources/mine.md" in uris
    assert not any(u.startswith(("viking://user/ann", "viking://user/cid")) for u in uris)
    plain = await store.content.walk(store.key(bob, VikingURI("user")), 10, limit)
    assert not any(e.key.endswith("bob/resources/mine.md") for e in plain)  # crowded out
    tree = await svc.tree(bob, "viking://user", level_limit=10, node_limit=10_000)
    assert tree[0]["rel_path"] == "bob/"
    assert "bob/resources/mine.md" in [e["rel_path"] for e in tree]
