"""The pack service's typed surface and its pure parts: vector reuse, the exports folder, the
wire shape of results."""

from __future__ import annotations

import os
import time
import zipfile
from collections.abc import AsyncIterator
from pathlib import Path

import numpy as np
import pytest

from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.contract.base import parse_request, to_wire
from openviking_mcp.contract.errors import InvalidArgumentError
from openviking_mcp.contract.identity import RequestContext, Role
from openviking_mcp.contract.pack import (
    BackupRequest,
    ExportPackRequest,
    ImportPackRequest,
    ImportPackResult,
    RestoreResult,
)
from openviking_mcp.contract.uri import VikingURI
from openviking_mcp.pack.export import purge_old_exports
from openviking_mcp.pack.format import Pack
from openviking_mcp.pack.vectors import imported_records, vector_mismatch
from tests._uploads import save_upload

pytestmark = pytest.mark.anyio


@pytest.fixture
def config(workspace: Path) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
        }
    )


def _pack(vectors: dict[str, object] | None, rows: list[dict[str, object]]) -> Pack:
    return Pack(
        zip_path=Path("unused.ovpack"),
        name="docs",
        source_uri="viking://resources/docs",
        backup=False,
        directories=["docs"],
        files={"docs/a.md": "0" * 64},
        vectors=vectors,
        rows=rows,
    )


def _row(path: str, level: int) -> dict[str, object]:
    return {"path": path, "level": level, "vector": np.zeros(4, dtype=np.float32)}


def test_vector_mismatch_names_the_reason() -> None:
    base = VikingURI("resources", ("copy",))
    meta = {"model_id": "m", "dimension": 4}
    dests = {"docs": base.join("docs"), "docs/a.md": base.join("docs/a.md")}
    assert vector_mismatch(_pack(None, []), dests, "m", 4) == "the pack has no vectors"
    assert "other (8)" in vector_mismatch(_pack(meta, []), dests, "other", 8)
    assert (
        vector_mismatch(_pack(meta, []), dests, "m", 4) == "the pack has no vectors for docs/a.md"
    )
    assert vector_mismatch(_pack(meta, [_row("docs/a.md", 2)]), dests, "m", 4) == ""


def test_imported_records_keep_only_rows_of_written_files() -> None:
    ctx = RequestContext("acme", "ann", Role.ADMIN)
    base = VikingURI("resources", ("copy",))
    dests = {"docs": base.join("docs"), "docs/a.md": base.join("docs/a.md")}
    pack = _pack({"model_id": "m", "dimension": 4}, [_row("docs/a.md", 2), _row("docs", 0)])
    records = imported_records(ctx, pack, dests, {"docs/a.md"})
    assert [(r.uri, r.level, r.account_id) for r in records] == [
        ("viking://resources/copy/docs/a.md", 2, "acme")
    ]
    both = imported_records(ctx, pack, dests, {"docs/a.md", "docs/.abstract.md"})
    assert [r.level for r in both] == [2, 0]


def test_purge_old_exports_removes_only_stale_files(tmp_path: Path) -> None:
    folder = tmp_path / "exports"
    assert purge_old_exports(folder, 60) == folder
    old, fresh = folder / "old.ovpack", folder / "fresh.ovpack"
    old.write_bytes(b"x")
    fresh.write_bytes(b"y")
    stale = time.time() - 3600
    os.utime(old, (stale, stale))
    purge_old_exports(folder, 60)
    assert sorted(p.name for p in folder.iterdir()) == ["fresh.ovpack"]


def test_results_wire_exactly_the_old_dicts() -> None:
    skipped = ImportPackResult(
        uri="viking://resources/docs", status="skipped", files=0, vectors="skipped"
    )
    assert to_wire(skipped) == {
        "uri": "viking://resources/docs",
        "status": "skipped",
        "files": 0,
        "vectors": "skipped",
    }
    restored = RestoreResult(uri="viking://", files=2, skipped=1, vectors="reused", task_ids=[])
    assert list(to_wire(restored)) == ["uri", "files", "skipped", "vectors", "task_ids"]


def test_requests_refuse_unknown_modes() -> None:
    with pytest.raises(InvalidArgumentError):
        parse_request(
            ImportPackRequest, {"temp_file_id": "x", "parent": "viking://", "on_conflict": "merge"}
        )
    with pytest.raises(InvalidArgumentError):
        parse_request(BackupRequest, {"include_vectors": True, "extra": 1})


async def test_typed_export_and_import_through_svc_pack(service: ContextService) -> None:
    ctx = service.dev_context()
    await service.write(ctx, "viking://resources/note.md", "# Note\n\nfalcon\n", mode="create")
    path = await service.pack.export_pack(ctx, ExportPackRequest(uri="viking://resources/note.md"))
    assert path.parent == service.config.workspace / "exports"
    with zipfile.ZipFile(path) as zf:
        assert "files/note.md" in zf.namelist()

    async def chunks() -> AsyncIterator[bytes]:
        yield path.read_bytes()

    upload = await save_upload(service, ctx, "note.ovpack", chunks())
    await service.mkdir(ctx, "viking://resources/here")
    request = ImportPackRequest(
        temp_file_id=upload["temp_file_id"], parent="viking://resources/here"
    )
    result = await service.pack.import_pack(ctx, request)
    assert isinstance(result, ImportPackResult)
    assert (result.uri, result.status, result.files) == (
        "viking://resources/here/note.md",
        "created",
        1,
    )
    backup = await service.backup(ctx, False)  # the old positional form, through the bridge
    assert isinstance(backup, Path)
    assert backup.suffix == ".ovpack"
    await service.wait_processing(ctx, timeout=60)
