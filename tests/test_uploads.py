"""Temp uploads (streamed, capped, private, expiring) and one-shot upload tickets."""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import AsyncIterator, Iterable
from datetime import datetime
from pathlib import Path

import pytest

from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.contract.errors import (
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    UnauthenticatedError,
)
from openviking_mcp.contract.identity import Role
from openviking_mcp.uploads.service import sanitize_upload_filename
from tests._uploads import save_upload

pytestmark = pytest.mark.anyio

GUIDE = b"# Release guide\n\nTag the release, then run the rollout with canary first.\n"


def _config(workspace: Path, **server: object) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "server": server,
        }
    )


@pytest.fixture
def config(workspace: Path) -> OpenVikingConfig:
    return _config(workspace, max_upload_mb=1)


@pytest.fixture
def ctx(service: ContextService) -> RequestContext:
    return service.dev_context()


async def _stream(*parts: bytes) -> AsyncIterator[bytes]:
    for part in parts:
        yield part


def _upload_dir(service: ContextService) -> Path:
    return service.config.workspace / "tmp" / "upload"


def _backdate(paths: Iterable[Path], seconds: float) -> None:
    past = time.time() - seconds
    for path in paths:
        os.utime(path, (past, past))


async def test_save_streams_to_disk_and_records_the_upload(
    service: ContextService, ctx: RequestContext
) -> None:
    folder = _upload_dir(service)
    seen_on_disk: list[int] = []

    async def chunks() -> AsyncIterator[bytes]:
        yield b"a" * 100_000
        yield b"b" * 100_000
        # The first chunks are already on disk while the upload is still arriving.
        seen_on_disk.extend(p.stat().st_size for p in folder.glob("*.part"))
        yield b"c" * 10

    before = time.time()
    result = await save_upload(service, ctx, "notes.MD", chunks())
    data = b"a" * 100_000 + b"b" * 100_000 + b"c" * 10
    assert seen_on_disk == [200_000]
    assert set(result) == {"temp_file_id", "filename", "size", "sha256", "expires_at"}
    assert result["filename"] == "notes.MD"
    assert result["size"] == len(data)
    assert result["sha256"] == hashlib.sha256(data).hexdigest()
    temp_id = result["temp_file_id"]
    assert temp_id.startswith("upload_")
    assert temp_id.endswith(".md")
    assert len(temp_id) == len("upload_") + 32 + len(".md")
    assert (folder / temp_id).read_bytes() == data
    meta = json.loads((folder / f"{temp_id}.meta").read_text())
    assert meta["filename"] == "notes.MD"
    assert (meta["size"], meta["sha256"]) == (len(data), result["sha256"])
    assert (meta["account_id"], meta["user_id"]) == (ctx.account_id, ctx.user_id)
    assert meta["created_at"].endswith("Z")
    assert sorted(p.name for p in folder.iterdir()) == [temp_id, f"{temp_id}.meta"]
    expires = datetime.fromisoformat(result["expires_at"]).timestamp()
    assert before + 3600 - 5 <= expires <= time.time() + 3600 + 5


async def test_size_cap_refuses_and_removes_the_partial_file(
    service: ContextService, ctx: RequestContext
) -> None:
    mib = 1024 * 1024
    ok = await save_upload(service, ctx, "exact.bin", _stream(b"x" * (mib // 2), b"y" * (mib // 2)))
    assert ok["size"] == mib  # the cap itself is allowed
    with pytest.raises(InvalidArgumentError, match="Upload exceeds size limit") as info:
        await save_upload(service, ctx, "big.bin", _stream(b"x" * mib, b"y"))
    assert info.value.details["max_bytes"] == mib
    names = sorted(p.name for p in _upload_dir(service).iterdir())
    assert names == [ok["temp_file_id"], ok["temp_file_id"] + ".meta"]


async def test_a_failing_stream_leaves_nothing(
    service: ContextService, ctx: RequestContext
) -> None:
    async def broken() -> AsyncIterator[bytes]:
        yield b"partial"
        raise ConnectionResetError("client went away")

    with pytest.raises(ConnectionResetError):
        await save_upload(service, ctx, "a.txt", broken())
    assert list(_upload_dir(service).iterdir()) == []


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\Users\\ann\\Report 2024.PDF", "Report 2024.PDF"),
        ("a\x00b\nc\x7f.txt", "abc.txt"),
        ("  spaced.md  ", "spaced.md"),
        ("", "upload"),
        ("..", "upload"),
        ("dir/", "upload"),
        ("é" * 200 + ".md", "é" * 126 + ".md"),
    ],
)
def test_filenames_are_sanitised(raw: str, clean: str) -> None:
    assert sanitize_upload_filename(raw) == clean
    assert len(sanitize_upload_filename(raw).encode()) <= 255


async def test_saved_name_is_sanitised(service: ContextService, ctx: RequestContext) -> None:
    result = await save_upload(service, ctx, "../../etc/passwd", _stream(b"root:x:0:0"))
    assert result["filename"] == "passwd"
    assert "/" not in result["temp_file_id"]
    assert (_upload_dir(service) / result["temp_file_id"]).is_file()
    assert not (service.config.workspace / "etc").exists()


async def test_expired_uploads_are_refused_and_purged(
    service: ContextService, ctx: RequestContext
) -> None:
    old = await save_upload(service, ctx, "old.md", _stream(GUIDE))
    folder = _upload_dir(service)
    old_files = [folder / old["temp_file_id"], folder / (old["temp_file_id"] + ".meta")]
    _backdate(old_files, 3601)
    with pytest.raises(NotFoundError):  # expired even before it is purged
        await service.add_resource(ctx, temp_file_id=old["temp_file_id"])
    fresh = await save_upload(service, ctx, "fresh.md", _stream(GUIDE))  # purges on the way
    assert not any(p.exists() for p in old_files)
    assert (folder / fresh["temp_file_id"]).exists()
    assert await service.uploads.purge() == 0
    _backdate(folder.iterdir(), 7200)
    assert await service.uploads.purge() == 2
    assert list(folder.iterdir()) == []


async def test_initialize_purges_stale_uploads(workspace: Path) -> None:
    folder = workspace / "tmp" / "upload"
    folder.mkdir(parents=True)
    stale, leftover, recent = folder / "upload_a.md", folder / "upload_b.md.part", folder / "c"
    for path in (stale, leftover, recent):
        path.write_bytes(b"x")
    _backdate([stale, leftover], 4000)
    service = ContextService(_config(workspace))
    await service.initialize()
    try:
        assert sorted(p.name for p in folder.iterdir()) == ["c"]
    finally:
        await service.close()


async def test_uploads_are_private_to_their_uploader(
    service: ContextService, ctx: RequestContext
) -> None:
    saved = await save_upload(service, ctx, "guide.md", _stream(GUIDE))
    temp_id = saved["temp_file_id"]
    other_account = await service.local_context("acme", "ann")
    with pytest.raises(NotFoundError):
        await service.add_resource(other_account, temp_file_id=temp_id)
    colleague = await service.local_context(ctx.account_id, "bob")
    with pytest.raises(NotFoundError):
        await service.add_resource(colleague, temp_file_id=temp_id)
    for bad in ("../upload/" + temp_id, ".hidden", temp_id + ".meta", "a\\b"):
        with pytest.raises(PermissionDeniedError):
            await service.add_resource(ctx, temp_file_id=bad)
    # A file put there by hand has no sidecar naming its owner: nobody can import it.
    (_upload_dir(service) / "upload_manual.md").write_bytes(GUIDE)
    with pytest.raises(NotFoundError):
        await service.add_resource(ctx, temp_file_id="upload_manual.md")


async def test_add_resource_from_a_temp_upload(
    service: ContextService, ctx: RequestContext
) -> None:
    saved = await save_upload(service, ctx, "release-guide.md", _stream(GUIDE[:20], GUIDE[20:]))
    result = await service.add_resource(ctx, temp_file_id=saved["temp_file_id"], wait=True)
    assert result["status"] == "success"
    assert result["root_uri"] == "viking://resources/release-guide"
    assert result["meta"]["source_kind"] == "upload"
    stored = "viking://resources/release-guide/release-guide.md"
    assert (await service.read(ctx, stored)).encode() == GUIDE
    found = await service.find(ctx, "canary rollout", target_uri="viking://resources")
    assert stored in [h["uri"] for h in found["resources"]]


async def test_tickets_are_one_shot(service: ContextService, ctx: RequestContext) -> None:
    user = await service.local_context("acme", "ann")
    ticket = await service.create_upload_ticket(user)
    assert set(ticket) == {"token", "expires_at"}
    assert len(ticket["token"]) >= 43
    rows = await service.store.db.fetchall("SELECT * FROM upload_tickets")
    assert [r["token_hash"] for r in rows] == [hashlib.sha256(ticket["token"].encode()).hexdigest()]
    assert ticket["token"] not in json.dumps([dict(r) for r in rows])
    assert await service.uploads.redeem_ticket(ticket["token"]) == RequestContext(
        "acme", "ann", Role.ADMIN
    )
    with pytest.raises(UnauthenticatedError, match="upload token already used or expired"):
        await service.uploads.redeem_ticket(ticket["token"])
    for bad in ("", "nonsense", ticket["token"] + "x"):
        with pytest.raises(UnauthenticatedError):
            await service.uploads.redeem_ticket(bad)


async def test_tickets_expire(service: ContextService, ctx: RequestContext) -> None:
    ticket = await service.create_upload_ticket(ctx, ttl_seconds=60)
    await service.store.db.transaction(
        lambda c: c.execute("UPDATE upload_tickets SET expires_at = ?", (time.time() - 1,))
    )
    with pytest.raises(UnauthenticatedError, match="upload token already used or expired"):
        await service.uploads.redeem_ticket(ticket["token"])
    for ttl in (0, -5, 86_401):
        with pytest.raises(InvalidArgumentError):
            await service.create_upload_ticket(ctx, ttl_seconds=ttl)


async def test_expired_tickets_are_cleaned_up(service: ContextService, ctx: RequestContext) -> None:
    await service.create_upload_ticket(ctx)
    await service.store.db.transaction(
        lambda c: c.execute("UPDATE upload_tickets SET expires_at = ?", (time.time() - 1,))
    )
    await service.create_upload_ticket(ctx)
    assert len(await service.store.db.fetchall("SELECT * FROM upload_tickets")) == 1


async def test_a_ticket_uploads_as_its_owner(service: ContextService, ctx: RequestContext) -> None:
    ann = await service.local_context("acme", "ann")
    ticket = await service.create_upload_ticket(ann)
    caller = await service.uploads.redeem_ticket(ticket["token"])
    saved = await save_upload(service, caller, "guide.md", _stream(GUIDE))
    with pytest.raises(NotFoundError):
        await service.add_resource(ctx, temp_file_id=saved["temp_file_id"])
    result = await service.add_resource(ann, temp_file_id=saved["temp_file_id"], wait=True)
    assert result["root_uri"] == "viking://resources/guide"


async def test_a_deleted_users_ticket_is_refused(service: ContextService) -> None:
    root = RequestContext.root()
    await service.create_account(root, "acme", "ann")
    ann = RequestContext("acme", "ann", Role.ADMIN)
    ben = await service.auth.resolve_api_key(
        (await service.create_user(ann, "acme", "ben"))["user_key"]
    )
    ticket = await service.create_upload_ticket(ben)
    await service.delete_user(ann, "acme", "ben")
    with pytest.raises(UnauthenticatedError):
        await service.uploads.redeem_ticket(ticket["token"])
    root_ticket = await service.create_upload_ticket(root)
    assert (await service.uploads.redeem_ticket(root_ticket["token"])).is_root
