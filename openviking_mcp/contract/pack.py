"""Packs: ``.ovpack`` export and import of a subtree, backup and restore of a whole account.

``export_pack`` and ``backup`` write a new ``.ovpack`` file and return its path (over HTTP the
file itself is the answer, saved by the client to a new temporary folder). ``import_pack`` and
``restore`` take the ``temp_file_id`` of an uploaded pack: an import answers ``{uri, status,
files, vectors, task_ids}`` (``status`` created/replaced/skipped, no ``task_ids`` when
skipped), a restore ``{uri, files, skipped, vectors, task_ids}`` (plus ``refused`` and
``refused_uris`` when entries in other users' spaces were left out); ``vectors`` says whether
the pack's vectors were reused, recomputed by a refresh task, or skipped. Export and import are
open to every role (within what the caller may read and write); backup and restore need the
ROOT or ADMIN role.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from openviking_mcp.contract.base import Request, Result, omitted
from openviking_mcp.contract.operations import Operation, Route

__all__ = [
    "OPERATIONS",
    "BackupRequest",
    "ExportPackRequest",
    "ImportPackRequest",
    "ImportPackResult",
    "ImportStatus",
    "OnConflict",
    "RestoreRequest",
    "RestoreResult",
    "VectorMode",
    "VectorStatus",
]

OnConflict = Literal["fail", "overwrite", "skip"]
VectorMode = Literal["auto", "recompute", "require"]
ImportStatus = Literal["created", "replaced", "skipped"]
VectorStatus = Literal["reused", "recomputed", "skipped"]


class ExportPackRequest(Request):
    """Write an ``.ovpack`` of a folder or file (parts the caller may not read are left out)."""

    uri: str = Field(description="Folder or file to export.")
    include_vectors: bool = Field(default=False, description="Add the index rows (vectors).")


class BackupRequest(Request):
    """Write a backup pack of the caller's whole account (resources, agent, user spaces)."""

    include_vectors: bool = Field(default=False, description="Add the index rows (vectors).")


class RestoreRequest(Request):
    """Merge an uploaded backup pack into the caller's account.

    Files that exist with the same bytes are left alone; for other existing files
    ``on_conflict`` decides: ``fail`` (409 before anything is written), ``overwrite`` or
    ``skip``.
    """

    temp_file_id: str = Field(description="Id of the uploaded .ovpack (temp_upload).")
    on_conflict: OnConflict = "fail"
    vector_mode: VectorMode = Field(
        default="auto",
        description="auto: reuse the pack's vectors when they fit the index; recompute; "
        "require: fail unless they can be reused.",
    )


class ImportPackRequest(Request):
    """Import an uploaded ``.ovpack`` as ``{parent}/{name}``.

    ``on_conflict``: ``fail`` (409 if the target exists), ``overwrite`` (replace it whole) or
    ``skip`` (keep it and write nothing).
    """

    temp_file_id: str = Field(description="Id of the uploaded .ovpack (temp_upload).")
    parent: str = Field(description="Folder that receives the pack's root.")
    on_conflict: OnConflict = "fail"
    vector_mode: VectorMode = "auto"


class ImportPackResult(Result):
    uri: str
    status: ImportStatus
    files: int
    vectors: VectorStatus
    task_ids: list[str] | None = omitted()


class RestoreResult(Result):
    """``refused`` (only when there are any): backup entries left out because they lie in
    other users' spaces (a restore writes only where its caller may), at most 20 of them in
    ``refused_uris``."""

    uri: str
    files: int
    skipped: int
    vectors: VectorStatus
    task_ids: list[str]
    refused: int | None = omitted()
    refused_uris: list[str] | None = omitted()


_PACK = "/api/v1/pack"

OPERATIONS = (
    Operation(
        "export_pack",
        "pack.export_pack",
        ExportPackRequest,
        Path,
        ("uri",),
        Route("POST", f"{_PACK}/export", raw=True, waits=True, convert="save_pack"),
        doc="Write an ``.ovpack`` of ``uri`` (a new file, yours to move or delete); returns "
        "its path.",
    ),
    Operation(
        "import_pack",
        "pack.import_pack",
        ImportPackRequest,
        ImportPackResult,
        ("temp_file_id", "parent"),
        Route("POST", f"{_PACK}/import", waits=True),
        doc="Import an uploaded ``.ovpack`` (see ``save_upload``) as ``{parent}/{name}``.",
    ),
    Operation(
        "backup",
        "pack.backup",
        BackupRequest,
        Path,
        ("include_vectors",),
        Route("POST", f"{_PACK}/backup", raw=True, waits=True, convert="save_pack"),
        doc="Write a backup pack of the whole account (ADMIN); returns its path.",
    ),
    Operation(
        "restore",
        "pack.restore",
        RestoreRequest,
        RestoreResult,
        ("temp_file_id",),
        Route("POST", f"{_PACK}/restore", waits=True),
        doc="Merge an uploaded backup pack into the account (ADMIN).",
    ),
)
