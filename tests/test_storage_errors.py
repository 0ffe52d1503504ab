"""Storage errors become typed errors with codes, never server paths: a name too long for
the filesystem is 400, a refusal (permissions, a read-only mount) 403, a full disk 507.

The disk conditions come from :class:`RefusingStore`, the real local store whose writes below
``resources/`` fail with one ``errno`` (as a read-only mount or a full disk would), since the
tests run as a user the permission bits do not stop.
"""

from __future__ import annotations

import errno
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import httpx
import pytest

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.contract.errors import (
    AlreadyExistsError,
    FailedPreconditionError,
    InternalError,
    InvalidArgumentError,
    NotFoundError,
    PermissionDeniedError,
    StorageFullError,
    error_to_envelope,
    storage_error,
)
from openviking_mcp.storage import LocalContentStore
from openviking_mcp.storage._queue_policy import failure_message

SECRET = "/srv/secret-mount/openviking/data/default/resources/x.md"


@pytest.mark.parametrize(
    ("code", "cls", "status", "reason"),
    [
        (errno.ENAMETOOLONG, InvalidArgumentError, 400, "name_too_long"),
        (errno.EACCES, PermissionDeniedError, 403, "storage_permission"),
        (errno.EPERM, PermissionDeniedError, 403, "storage_permission"),
        (errno.EROFS, PermissionDeniedError, 403, "read_only"),
        (errno.ENOSPC, StorageFullError, 507, "no_space"),
        (errno.EDQUOT, StorageFullError, 507, "no_space"),
        (errno.ENOTDIR, FailedPreconditionError, 412, "not_a_directory"),
        (errno.EISDIR, InvalidArgumentError, 400, "is_directory"),
    ],
)
def test_os_errors_map_to_codes_without_paths(
    code: int, cls: type[Exception], status: int, reason: str
) -> None:
    exc = OSError(code, os.strerror(code), SECRET)
    if code == errno.ENOTDIR:
        exc = NotADirectoryError(code, os.strerror(code), SECRET)
    elif code == errno.EISDIR:
        exc = IsADirectoryError(code, os.strerror(code), SECRET)
    elif code in (errno.EACCES, errno.EPERM):
        exc = PermissionError(code, os.strerror(code), SECRET)
    typed = storage_error(exc, "viking://resources/x.md")
    assert isinstance(typed, cls)
    assert typed.details["reason"] == reason
    http_status, body = error_to_envelope(exc)  # the path of any surface: same mapping
    assert http_status == status
    assert "secret-mount" not in str(body)
    assert "secret-mount" not in typed.message


def test_missing_and_existing_names_and_unknown_errors() -> None:
    assert isinstance(storage_error(FileNotFoundError(2, "x", SECRET), "viking://r"), NotFoundError)
    exists = storage_error(FileExistsError(17, "x", SECRET), "viking://r")
    assert isinstance(exists, AlreadyExistsError)
    assert isinstance(storage_error(OSError(errno.EIO, "I/O error", SECRET)), InternalError)
    assert error_to_envelope(TimeoutError())[0] == 504


class RefusingStore(LocalContentStore):
    """The local store on a disk that refuses to store files below ``resources/``."""

    def __init__(self, workspace: Path, code: int) -> None:
        super().__init__(workspace)
        self.code = code

    def _check(self, key: str) -> None:
        parts = key.split("/")
        if len(parts) >= 3 and parts[1] == "resources" and not parts[-1].startswith("."):
            raise OSError(self.code, os.strerror(self.code), str(self.path_for(key)))

    async def write_bytes(self, key: str, data: bytes, *, append: bool = False) -> int:
        self._check(key)
        return await super().write_bytes(key, data, append=append)

    async def mkdir(self, key: str, *, exist_ok: bool = False) -> None:
        self._check(key)
        await super().mkdir(key, exist_ok=exist_ok)


@asynccontextmanager
async def _client(workspace: Path, code: int) -> AsyncIterator[httpx.AsyncClient]:
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 64}},
        }
    )
    service = ContextService(config, store=RefusingStore(config.workspace, code))
    app = create_app(service=service)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http
    await service.close()


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("code", "status", "wire"),
    [
        (errno.EROFS, 403, "PERMISSION_DENIED"),
        (errno.EACCES, 403, "PERMISSION_DENIED"),
        (errno.ENOSPC, 507, "RESOURCE_EXHAUSTED"),
        (errno.ENAMETOOLONG, 400, "INVALID_ARGUMENT"),
    ],
)
async def test_writes_refused_by_the_disk(
    workspace: Path, code: int, status: int, wire: str
) -> None:
    async with _client(workspace, code) as http:
        body = {"uri": "viking://resources/notes/a.md", "content": "x", "mode": "create"}
        response = await http.post("/api/v1/content/write", json=body)
        assert response.status_code == status, response.text
        assert response.json()["error"]["code"] == wire
        assert str(workspace) not in response.text
        mkdir = await http.post("/api/v1/fs/mkdir", json={"uri": "viking://resources/d"})
        assert mkdir.status_code == status
        assert str(workspace) not in mkdir.text


@pytest.mark.anyio
async def test_add_resource_into_a_read_only_data_folder(workspace: Path) -> None:
    """The import task fails on the disk; the waiting caller gets 403, not a 500 with a path."""
    async with _client(workspace, errno.EROFS) as http:
        files = {"file": ("guide.md", b"# Guide\n\nRead me.\n", "text/markdown")}
        upload = await http.post("/api/v1/resources/temp_upload", files=files)
        temp_file_id = upload.json()["result"]["temp_file_id"]
        response = await http.post(
            "/api/v1/resources", json={"temp_file_id": temp_file_id, "wait": True}
        )
        assert response.status_code == 403, response.text
        error = response.json()["error"]
        assert error["code"] == "PERMISSION_DENIED"
        assert error["details"]["reason"] == "read_only"
        assert str(workspace) not in response.text
        task = await http.get(f"/api/v1/tasks/{error['details']['task_id']}")
        assert task.json()["result"]["status"] == "failed"
        assert str(workspace) not in task.text  # the task record names no path either


def test_task_failures_never_record_server_paths(tmp_path: Path) -> None:
    try:
        (tmp_path / "missing" / "file.md").read_text()
    except OSError as exc:
        text = failure_message(exc)
    assert str(tmp_path) not in text
    assert text.startswith("FileNotFoundError: ")
    assert failure_message(ValueError("bad value")) == "ValueError: bad value"
