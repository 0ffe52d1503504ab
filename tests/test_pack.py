"""``.ovpack`` export/import and backup/restore: round trips, verification before writing,
zip-slip, the exports folder, conflicts and vector reuse."""

from __future__ import annotations

import hashlib
import json
import re
import zipfile
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import pytest

from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    InvalidArgumentError,
    InvalidURIError,
    PermissionDeniedError,
)
from openviking_mcp.contract.identity import Role
from openviking_mcp.storage.index import IndexFilter
from tests._uploads import save_upload
from tests._zips import zip_bytes
from tests.conftest import hashing_config

pytestmark = [pytest.mark.anyio, pytest.mark.both_backends]

GUIDE = "# Deploy guide\n\nRoll out the falcon service with canary releases first.\n"
ROLLBACK = "# Rollback\n\nIf the falcon release misbehaves, run falconctl rollback.\n"


@pytest.fixture
def config(workspace: Path, storage_section: dict[str, Any]) -> OpenVikingConfig:
    return hashing_config(workspace, storage_section)


async def _chunks(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _upload(service: ContextService, ctx: RequestContext, data: bytes) -> str:
    result = await save_upload(service, ctx, "pack.ovpack", _chunks(data))
    return str(result["temp_file_id"])


async def _seed(service: ContextService, ctx: RequestContext) -> None:
    await service.mkdir(ctx, "viking://resources/docs", "Falcon documentation")
    await service.write(ctx, "viking://resources/docs/guide.md", GUIDE, mode="create")
    await service.write(ctx, "viking://resources/docs/ops/rollback.md", ROLLBACK, mode="create")
    await service.wait_processing(ctx, timeout=60)


def _read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def _edit_manifest(entries: dict[str, bytes], change: Callable[[dict[str, Any]], None]) -> None:
    manifest = json.loads(entries["manifest.json"])
    change(manifest)
    entries["manifest.json"] = json.dumps(manifest).encode()


def _hit_uris(found: dict[str, Any]) -> list[str]:
    return [h["uri"] for b in ("memories", "resources", "skills") for h in found[b]]


async def _files(service: ContextService, ctx: RequestContext, uri: str) -> list[str]:
    key = f"{ctx.account_id}/" + uri.removeprefix("viking://")
    return sorted(e.key[len(key) + 1 :] for e in await service.store.content.walk(key, 100, 10_000))


async def test_export_writes_a_verified_pack_into_exports(
    service: ContextService, ctx: RequestContext
) -> None:
    await _seed(service, ctx)
    path = await service.export_pack(ctx, "viking://resources/docs", include_vectors=True)
    assert path.parent == service.config.workspace / "exports"
    assert re.fullmatch(r"[0-9a-f]{32}\.ovpack", path.name)
    entries = _read_zip(path)
    manifest = json.loads(entries["manifest.json"])
    assert manifest["kind"] == "openviking-mcp.ovpack"
    assert manifest["format_version"] == 1
    assert manifest["name"] == "docs"
    assert manifest["source_uri"] == "viking://resources/docs"
    assert manifest["created_at"].endswith("Z")
    assert {"docs", "docs/ops"} <= set(manifest["directories"])
    listed = {f["path"]: f for f in manifest["files"]}
    assert {
        "docs/guide.md",
        "docs/ops/rollback.md",
        "docs/.abstract.md",
        "docs/.overview.md",
    } <= set(listed)
    for rel, item in listed.items():
        data = entries[f"files/{rel}"]
        assert item["size"] == len(data)
        assert item["sha256"] == hashlib.sha256(data).hexdigest()
    assert entries["files/docs/guide.md"].decode() == GUIDE
    vectors = manifest["vectors"]
    assert vectors["model_id"] == service.store.index.model_id
    assert vectors["dimension"] == 256
    assert hashlib.sha256(entries["vectors.jsonl"]).hexdigest() == vectors["sha256"]
    rows = [json.loads(line) for line in entries["vectors.jsonl"].decode().splitlines()]
    assert len(rows) == vectors["count"] > 0
    assert {"id", "account_id"}.isdisjoint(rows[0])
    assert {(r["path"], r["level"]) for r in rows} >= {("docs", 0), ("docs/guide.md", 2)}
    assert all(len(r["vector"]) == 256 for r in rows)
    assert set(entries) == {"manifest.json", "vectors.jsonl", *(f"files/{p}" for p in listed)}


async def test_export_never_writes_outside_exports(
    service: ContextService, ctx: RequestContext
) -> None:
    await service.write(ctx, "viking://resources/evil.ovpack/a.md", "x", mode="create")
    await service.wait_processing(ctx, timeout=60)
    workspace = service.config.workspace
    ignored = ("exports", "index", "meta", "tmp")

    def outside() -> set[Path]:
        return {
            p
            for p in workspace.rglob("*")
            if p.is_file() and p.relative_to(workspace).parts[0] not in ignored
        }

    before = outside()
    for bad in (
        "viking://resources/../../../tmp/evil",
        "viking://resources/..\\..\\evil",
        "/etc/passwd",
        "../../etc/passwd",
    ):
        with pytest.raises((PermissionDeniedError, InvalidURIError)):
            await service.export_pack(ctx, bad)
    path = await service.export_pack(ctx, "viking://resources/evil.ovpack")
    assert path.parent == workspace / "exports"
    assert path.name != "evil.ovpack.ovpack"
    assert outside() == before
    assert not (workspace / "evil.ovpack").exists()
    with pytest.raises(InvalidArgumentError):
        await service.export_pack(ctx, "viking://")


async def test_round_trip_into_another_parent_reuses_vectors(
    service: ContextService, ctx: RequestContext
) -> None:
    await _seed(service, ctx)
    await service.link(ctx, "viking://resources/docs/guide.md", "viking://resources/docs/ops")
    path = await service.export_pack(ctx, "viking://resources/docs", include_vectors=True)
    await service.mkdir(ctx, "viking://resources/copy")
    result = await service.import_pack(
        ctx, await _upload(service, ctx, path.read_bytes()), "viking://resources/copy"
    )
    assert result["uri"] == "viking://resources/copy/docs"
    assert result["status"] == "created"
    assert result["vectors"] == "reused"
    copy = "viking://resources/copy/docs"
    assert await service.read(ctx, f"{copy}/ops/rollback.md") == ROLLBACK
    assert await service.abstract(ctx, copy) == "Falcon documentation"
    sidecar = await service.store.content.read_bytes(
        f"{ctx.account_id}/resources/copy/docs/.overview.md"
    )
    assert b"directory: viking://resources/copy/docs/" in sidecar
    # Relations inside the pack follow it to its new place.
    assert await service.get_relations(ctx, f"{copy}/guide.md") == [
        {"uri": f"{copy}/ops", "reason": ""}
    ]
    # The pack's rows are searchable at once, without re-embedding.
    found = await service.find(ctx, "falconctl rollback", target_uri=copy)
    assert f"{copy}/ops/rollback.md" in _hit_uris(found)
    rows = await service.store.index.count(
        IndexFilter(account_id=ctx.account_id, uri_prefixes=(copy,))
    )
    original = await service.store.index.count(
        IndexFilter(account_id=ctx.account_id, uri_prefixes=("viking://resources/docs",))
    )
    assert rows == original
    assert not any(
        n.startswith(".ovpack") for n in await _files(service, ctx, "viking://resources/copy")
    )
    await service.wait_processing(ctx, timeout=60)
    listing = await service.ls(ctx, "viking://resources/copy", simple=True)
    assert listing == ["viking://resources/copy/docs"]


async def test_vectors_recomputed_when_absent_mismatched_or_asked(
    service: ContextService, ctx: RequestContext
) -> None:
    await _seed(service, ctx)
    plain = (await service.export_pack(ctx, "viking://resources/docs")).read_bytes()
    with_vectors = _read_zip(
        await service.export_pack(ctx, "viking://resources/docs", include_vectors=True)
    )
    _edit_manifest(with_vectors, lambda m: m["vectors"].update(model_id="other:model"))
    other_model = zip_bytes(with_vectors)
    for i, (data, mode) in enumerate(
        [(plain, "auto"), (other_model, "auto"), (other_model, "recompute")]
    ):
        parent = f"viking://resources/r{i}"
        await service.mkdir(ctx, parent)
        tid = await _upload(service, ctx, data)
        result = await service.import_pack(ctx, tid, parent, vector_mode=mode)  # type: ignore[arg-type]
        assert result["vectors"] == "recomputed"
        await service.wait_processing(ctx, timeout=60)
        found = await service.find(ctx, "falconctl rollback", target_uri=f"{parent}/docs")
        assert f"{parent}/docs/ops/rollback.md" in _hit_uris(found)
    await service.mkdir(ctx, "viking://resources/strict")
    for data, words in ((plain, "no vectors"), (other_model, "other:model")):
        tid = await _upload(service, ctx, data)
        with pytest.raises(InvalidArgumentError, match=words):
            await service.import_pack(ctx, tid, "viking://resources/strict", vector_mode="require")
        assert await _files(service, ctx, "viking://resources/strict") == []


async def test_tampered_checksum_is_refused_and_nothing_written(
    service: ContextService, ctx: RequestContext
) -> None:
    await _seed(service, ctx)
    entries = _read_zip(await service.export_pack(ctx, "viking://resources/docs"))
    await service.mkdir(ctx, "viking://resources/target")
    tampered = dict(entries)
    tampered["files/docs/ops/rollback.md"] = b"# Rollback\n\nrun rm -rf / instead\n"
    extra = dict(entries)
    extra["files/docs/unlisted.md"] = b"not in the manifest"
    missing = {k: v for k, v in entries.items() if k != "files/docs/guide.md"}
    no_manifest = {k: v for k, v in entries.items() if k != "manifest.json"}
    cases = [
        (tampered, "sha256 does not match"),
        (extra, "not in the manifest"),
        (missing, "missing"),
        (no_manifest, "Missing ovpack manifest"),
        ({"x": b"y"}, "Missing ovpack manifest"),
    ]
    for pack, words in cases:
        tid = await _upload(service, ctx, zip_bytes(pack))
        with pytest.raises(InvalidArgumentError, match=words):
            await service.import_pack(ctx, tid, "viking://resources/target")
    tid = await _upload(service, ctx, b"not a zip at all")
    with pytest.raises(InvalidArgumentError, match="Not a readable ovpack"):
        await service.import_pack(ctx, tid, "viking://resources/target")
    assert await _files(service, ctx, "viking://resources/target") == []


@pytest.mark.parametrize(
    "evil",
    [
        "docs/../../../../evil.md",
        "../evil.md",
        "/etc/evil.md",
        "docs\\..\\..\\evil.md",
        "docs/./evil.md",
        "C:/evil.md",
    ],
)
async def test_zip_slip_is_refused(service: ContextService, ctx: RequestContext, evil: str) -> None:
    data = b"owned"
    digest = hashlib.sha256(data).hexdigest()
    manifest = {
        "kind": "openviking-mcp.ovpack",
        "format_version": 1,
        "name": "docs",
        "source_uri": "viking://resources/docs",
        "backup": False,
        "directories": ["docs"],
        "files": [{"path": evil, "size": len(data), "sha256": digest}],
        "vectors": None,
    }
    workspace = service.config.workspace
    for entries in (
        {"manifest.json": json.dumps(manifest).encode(), f"files/{evil}": data},
        {  # the manifest is clean, the zip entry is not
            "manifest.json": json.dumps(
                {**manifest, "files": [{"path": "docs/a.md", "size": 5, "sha256": digest}]}
            ).encode(),
            "files/docs/a.md": data,
            evil: data,
        },
        {"manifest.json": json.dumps(manifest).encode()},  # only the manifest is unsafe
    ):
        tid = await _upload(service, ctx, zip_bytes(entries))
        with pytest.raises(InvalidArgumentError, match="Unsafe"):
            await service.import_pack(ctx, tid, "viking://resources")
    assert not [p for p in workspace.rglob("*evil*")]
    assert not await service.store.content.exists(f"{ctx.account_id}/resources/docs")


async def test_on_conflict_modes(service: ContextService, ctx: RequestContext) -> None:
    await _seed(service, ctx)
    data = (await service.export_pack(ctx, "viking://resources/docs")).read_bytes()
    await service.write(ctx, "viking://resources/docs/guide.md", "changed", mode="replace")
    await service.write(ctx, "viking://resources/docs/extra.md", "extra", mode="create")
    with pytest.raises(AlreadyExistsError):
        await service.import_pack(ctx, await _upload(service, ctx, data), "viking://resources")
    skipped = await service.import_pack(
        ctx, await _upload(service, ctx, data), "viking://resources", on_conflict="skip"
    )
    assert skipped["status"] == "skipped"
    assert await service.read(ctx, "viking://resources/docs/guide.md") == "changed"
    replaced = await service.import_pack(
        ctx, await _upload(service, ctx, data), "viking://resources", on_conflict="overwrite"
    )
    assert replaced["status"] == "replaced"
    assert await service.read(ctx, "viking://resources/docs/guide.md") == GUIDE
    assert "extra.md" not in await _files(service, ctx, "viking://resources/docs")
    await service.wait_processing(ctx, timeout=60)
    with pytest.raises(InvalidArgumentError):
        await service.import_pack(
            ctx,
            await _upload(service, ctx, data),
            "viking://resources",
            on_conflict="merge",  # type: ignore[arg-type]
        )


async def test_single_file_pack(service: ContextService, ctx: RequestContext) -> None:
    await service.write(ctx, "viking://resources/note.md", GUIDE, mode="create")
    data = (await service.export_pack(ctx, "viking://resources/note.md")).read_bytes()
    await service.mkdir(ctx, "viking://resources/here")
    result = await service.import_pack(
        ctx, await _upload(service, ctx, data), "viking://resources/here"
    )
    assert result["uri"] == "viking://resources/here/note.md"
    assert await service.read(ctx, result["uri"]) == GUIDE
    await service.wait_processing(ctx, timeout=60)


async def test_pack_needs_read_and_write_access_and_backup_needs_admin(
    service: ContextService, ctx: RequestContext
) -> None:
    await _seed(service, ctx)
    data = (await service.export_pack(ctx, "viking://resources/docs")).read_bytes()
    bob = await service.local_context(user_id="bob")
    assert bob.role is Role.USER
    # As in the original, a USER exports and imports; backup stays ROOT or ADMIN.
    assert (await service.export_pack(bob, "viking://resources/docs")).read_bytes()
    imported = await service.import_pack(
        bob, await _upload(service, bob, data), "viking://user/bob/resources"
    )
    assert imported["uri"] == "viking://user/bob/resources/docs"
    with pytest.raises(PermissionDeniedError):  # replacing the ADMIN's tree: the owner rule
        await service.import_pack(
            bob, await _upload(service, bob, data), "viking://resources", on_conflict="overwrite"
        )
    with pytest.raises(PermissionDeniedError):
        await service.backup(bob)
    # An admin still cannot read or write another user's space.
    with pytest.raises(PermissionDeniedError):
        await service.export_pack(ctx, "viking://user/bob")
    with pytest.raises(PermissionDeniedError):
        await service.import_pack(ctx, await _upload(service, ctx, data), "viking://user/bob")
    with pytest.raises(PermissionDeniedError):  # only agent/skills is writable under agent
        await service.import_pack(ctx, await _upload(service, ctx, data), "viking://agent")


async def test_backup_restores_into_another_account(
    service: ContextService, ctx: RequestContext
) -> None:
    await _seed(service, ctx)
    await service.write(
        ctx, "viking://~/memories/coffee.md", "Dana likes dark roast.", mode="create"
    )
    await service.wait_processing(ctx, timeout=60)
    backup = await service.backup(ctx, include_vectors=True)
    assert backup.parent == service.config.workspace / "exports"
    data = backup.read_bytes()
    manifest = json.loads(_read_zip(backup)["manifest.json"])
    assert manifest["backup"] is True
    assert any(f["path"] == "user/default/memories/coffee.md" for f in manifest["files"])

    root = RequestContext.root()
    await service.create_account(root, "acme", "ann")
    ann = RequestContext("acme", "ann", Role.ADMIN)
    with pytest.raises(InvalidArgumentError, match="backup package"):
        await service.import_pack(ann, await _upload(service, ann, data), "viking://resources")
    result = await service.restore(ann, await _upload(service, ann, data))
    assert result["uri"] == "viking://"
    # The backup holds user default's space: an ADMIN who is not that user does not restore it.
    assert result["refused"] > 0
    assert "viking://user/default/memories/coffee.md" in result["refused_uris"]
    assert not await service.store.content.exists("acme/user/default/memories/coffee.md")
    acme_root = RequestContext.root("acme")  # ROOT restores every user space of the account
    by_root = await service.restore(acme_root, await _upload(service, acme_root, data))
    assert "refused" not in by_root
    assert result["vectors"] == "reused"
    assert await service.read(ann, "viking://resources/docs/guide.md") == GUIDE
    found = await service.find(ann, "falconctl rollback", target_uri="viking://resources/docs")
    assert "viking://resources/docs/ops/rollback.md" in _hit_uris(found)
    # The restored user space is the same user's, in the new account.
    default_in_acme = RequestContext("acme", "default", Role.USER)
    assert await service.read(default_in_acme, "viking://~/memories/coffee.md") == (
        "Dana likes dark roast."
    )

    # Restoring again changes nothing; a changed file is a conflict unless told otherwise.
    again = await service.restore(ann, await _upload(service, ann, data))
    assert again["files"] == 0
    await service.write(ann, "viking://resources/docs/guide.md", "local edit", mode="replace")
    with pytest.raises(AlreadyExistsError, match="on_conflict"):
        await service.restore(ann, await _upload(service, ann, data))
    await service.restore(ann, await _upload(service, ann, data), on_conflict="skip")
    assert await service.read(ann, "viking://resources/docs/guide.md") == "local edit"
    await service.restore(ann, await _upload(service, ann, data), on_conflict="overwrite")
    assert await service.read(ann, "viking://resources/docs/guide.md") == GUIDE
    plain = (await service.export_pack(ctx, "viking://resources/docs")).read_bytes()
    with pytest.raises(InvalidArgumentError, match="Not a backup"):
        await service.restore(ann, await _upload(service, ann, plain))
    await service.wait_processing(ann, timeout=60)
