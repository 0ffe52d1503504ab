"""Bad input, as a table: every row is a client mistake that must be answered with its 4xx
status and a documented code (docs/errors.md), never a 5xx, and must leave the workspace as it
was (no file written, no task queued).

The table runs in-process (one app for the whole module: fast). The rows that only a real
HTTP server can show (an oversized header block, a malformed request line, a body streamed
over the limit) run against ``openviking-mcp serve`` in a subprocess.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp.contract.uri import MAX_URI_SEGMENTS
from tests._zips import zip_bytes
from tests.http_api._routes import config_for

#: Every code docs/errors.md documents (the status of each row is checked separately).
DOCUMENTED_CODES = {
    "INVALID_ARGUMENT",
    "INVALID_URI",
    "INVALID_FILTER",
    "UNAUTHENTICATED",
    "PERMISSION_DENIED",
    "NOT_FOUND",
    "ALREADY_EXISTS",
    "CONFLICT",
    "SESSION_EXPIRED",
    "FAILED_PRECONDITION",
    "RESOURCE_EXHAUSTED",
}
BODY_LIMIT = 64 * 1024
UPLOAD_MB = 1
DEEP = "viking://resources/" + "/".join(["a"] * 1000)  # 1,000 segments, 2 KB
DEEP_SHORT = "viking://resources/" + "/".join(["a"] * MAX_URI_SEGMENTS)  # 65 segments, < 1 KB
LONG_NAME = "viking://resources/notes/" + "n" * 256
WRITE = "/api/v1/content/write"
READ = "/api/v1/content/read"
FIND = "/api/v1/search/find"
UPLOAD = "/api/v1/resources/temp_upload"
IMPORT = "/api/v1/resources"
ARCHIVES = "/api/v1/sessions/s1/archives/"
ARG, URI, DENIED = "INVALID_ARGUMENT", "INVALID_URI", "PERMISSION_DENIED"
SEED = "viking://resources/seed.md"
RES = "viking://resources"
GREP = "/api/v1/search/grep"
COUNT = "/api/v1/debug/vector/count"
MIB = UPLOAD_MB * 1024 * 1024
LIMIT = {"limit": BODY_LIMIT}
SURROGATE = '{"uri": "viking://resources/\\ud800.md", "content": "x"}'  # a lone surrogate


@dataclass(frozen=True)
class Row:
    label: str
    method: str
    path: str
    status: int
    code: str
    request: dict[str, Any] = field(default_factory=dict)
    details: dict[str, Any] = field(default_factory=dict)


def _write(uri: Any, content: Any = "x", **extra: Any) -> dict[str, Any]:
    return {"json": {"uri": uri, "content": content, "mode": "create", **extra}}


def _raw(body: bytes | str | Iterator[bytes]) -> dict[str, Any]:
    data = body.encode() if isinstance(body, str) else body
    return {"content": data, "headers": {"content-type": "application/json"}}


def _find(**fields: Any) -> dict[str, Any]:
    return {"json": {"query": "q", **fields}}


def _move(source: str, dest: str) -> dict[str, Any]:
    return {"json": {"from_uri": source, "to_uri": dest}}


def _message(text: str) -> dict[str, Any]:
    return {"json": {"role": "user", "content": text}}


def _import(temp_file_id: str) -> dict[str, Any]:
    return {"json": {"temp_file_id": temp_file_id, "wait": True}}


def _file(name: str, data: bytes) -> dict[str, Any]:
    return {"files": {"file": (name, data)}}


def _account() -> dict[str, Any]:
    return {"json": {"account_id": "x", "admin_user_id": "y"}}


def _streamed(total: int) -> Iterator[bytes]:
    sent = 0
    while sent < total:
        yield b" " * 4096
        sent += 4096


EVIL_ZIP = zip_bytes({"../../evil.md": "x"})
CLASH_ZIP = zip_bytes({"a": "x", "a/b.md": "y"})

ROWS = [
    # -- malformed bodies -----------------------------------------------------------------
    Row("malformed JSON", "POST", WRITE, 400, ARG, _raw("{not json")),
    Row("JSON array body", "POST", WRITE, 400, ARG, _raw("[]")),
    Row("JSON string body", "POST", WRITE, 400, ARG, _raw('"text"')),
    Row("empty body", "POST", WRITE, 400, ARG, _raw("")),
    Row("30,000-deep nesting", "POST", WRITE, 400, ARG, _raw("[" * 30000)),
    Row("invalid UTF-8 body", "POST", WRITE, 400, ARG, _raw(b'{"uri": "\xff"}')),
    # -- wrong types and values -----------------------------------------------------------
    Row("uri is a number", "POST", WRITE, 400, ARG, _write(5)),
    Row("uri is null", "POST", WRITE, 400, ARG, _write(None)),
    Row("content is an object", "POST", WRITE, 400, ARG, _write(SEED, {"a": 1})),
    Row("unknown mode", "POST", WRITE, 400, ARG, _write(SEED, mode="upsert")),
    Row("wait is a word", "POST", WRITE, 400, ARG, _write(SEED, wait="maybe")),
    Row("unknown field", "POST", WRITE, 400, ARG, _write(SEED, surprise=1)),
    Row("find limit -1", "POST", FIND, 400, ARG, _find(limit=-1)),
    Row("find limit 0", "POST", FIND, 400, ARG, _find(limit=0)),  # above 1000 is 1000
    Row("find limit 1e308", "POST", FIND, 400, ARG, _find(limit=1e308)),
    Row("find query is a list", "POST", FIND, 400, ARG, {"json": {"query": ["q"]}}),
    Row("find since 400 digits", "POST", FIND, 400, ARG, _find(since="9" * 400 + "d")),
    Row("read offset -1", "GET", READ, 400, ARG, {"params": {"uri": SEED, "offset": -1}}),
    Row("read offset ³", "GET", READ, 400, ARG, {"params": {"uri": SEED, "offset": "³"}}),
    Row("read without uri", "GET", READ, 400, ARG),
    Row("grep bad regex", "POST", GREP, 400, ARG, {"json": {"uri": RES, "pattern": "("}}),
    Row("debug filter 1e999", "GET", COUNT, 400, "INVALID_FILTER", {"params": {"filter": "1e999"}}),
    Row("debug filter NaN", "GET", COUNT, 400, "INVALID_FILTER", {"params": {"filter": "[NaN]"}}),
    # -- URIs -----------------------------------------------------------------------------
    Row("1,000-segment URI", "POST", WRITE, 400, URI, _write(DEEP), {"max_bytes": 1024}),
    Row("65-segment URI", "POST", WRITE, 400, URI, _write(DEEP_SHORT), {"segments": 65}),
    Row("1,000-segment mkdir", "POST", "/api/v1/fs/mkdir", 400, URI, {"json": {"uri": DEEP}}),
    Row("1,000-segment mv", "POST", "/api/v1/fs/mv", 400, URI, _move(SEED, DEEP)),
    Row("1,000-segment read", "GET", READ, 400, URI, {"params": {"uri": DEEP}}),
    Row("1,000-segment ls", "GET", "/api/v1/fs/ls", 400, URI, {"params": {"uri": DEEP}}),
    Row("1,000-segment find", "POST", FIND, 400, URI, _find(target_uri=DEEP)),
    Row("name over 255 bytes", "POST", WRITE, 400, URI, _write(LONG_NAME), {"segment_bytes": 256}),
    Row("NUL in URI", "POST", WRITE, 400, URI, _write("viking://resources/a\x00b.md")),
    Row(
        "NUL in query URI",
        "GET",
        "/api/v1/fs/stat",
        400,
        URI,
        {"params": {"uri": "viking://a\x00"}},
    ),
    Row("lone surrogate", "POST", WRITE, 400, URI, _raw(SURROGATE)),
    Row("unknown scope", "POST", WRITE, 400, URI, _write("viking://temp/x.md")),
    Row("dot-dot segment", "POST", WRITE, 403, DENIED, _write("viking://resources/../x.md")),
    Row("not a viking URI", "POST", WRITE, 400, URI, _write("/etc/passwd")),
    # -- ids ------------------------------------------------------------------------------
    Row("archive id ³", "GET", ARCHIVES + "³", 400, ARG),
    Row("archive id archive_³", "GET", ARCHIVES + "archive_³", 400, ARG),
    Row("archive id 0", "GET", ARCHIVES + "0", 400, ARG),
    Row("archive id 10^20", "GET", ARCHIVES + "9" * 20, 400, ARG),
    Row("retry archive ³", "POST", ARCHIVES + "³/retry", 400, ARG),
    Row("session id .hidden", "GET", "/api/v1/sessions/.hidden", 400, ARG),
    Row("session id 300 chars", "GET", "/api/v1/sessions/" + "s" * 300, 400, ARG),
    Row("session id a b", "POST", "/api/v1/sessions/a b/messages", 400, ARG, _message("hi")),
    Row("unknown task id", "GET", "/api/v1/tasks/³", 404, "NOT_FOUND"),
    Row("task id of 10 KB", "GET", "/api/v1/tasks/" + "t" * 10_000, 404, "NOT_FOUND"),
    # -- imports --------------------------------------------------------------------------
    Row("temp_file_id escaping", "POST", IMPORT, 403, DENIED, _import("../../etc/passwd")),
    Row("temp_file_id unknown", "POST", IMPORT, 404, "NOT_FOUND", _import("upload_none.md")),
    Row("unclosed IPv6 URL", "POST", IMPORT, 400, ARG, {"json": {"path": "http://[::1"}}),
    Row("broken zip", "POST", IMPORT, 400, ARG, {"upload": ("bad.zip", b"PK\x03\x04junk")}),
    Row("zip entry escaping", "POST", IMPORT, 403, DENIED, {"upload": ("e.zip", EVIL_ZIP)}),
    Row("zip name clash", "POST", IMPORT, 400, ARG, {"upload": ("clash.zip", CLASH_ZIP)}),
    # -- methods, routes, sizes -----------------------------------------------------------
    Row("PUT on a POST route", "PUT", WRITE, 405, ARG, details={"allowed": ["POST"]}),
    Row("PATCH /health", "PATCH", "/health", 405, ARG, details={"allowed": ["GET"]}),
    Row("DELETE on find", "DELETE", FIND, 405, ARG),
    Row("unknown route", "GET", "/api/v1/nothing-here", 404, "NOT_FOUND"),
    Row("200 KB header", "GET", "/health", 431, ARG, {"headers": {"X-Big": "h" * 200_000}}),
    Row("body over the limit", "POST", WRITE, 413, ARG, _raw(" " * BODY_LIMIT + "{}"), LIMIT),
    Row("streamed over the limit", "POST", WRITE, 413, ARG, _raw(_streamed(2 * BODY_LIMIT)), LIMIT),
    Row("upload over its cap", "POST", UPLOAD, 413, ARG, _file("big.bin", b"x" * (MIB + 1))),
    Row("upload without a file", "POST", UPLOAD, 400, ARG, {"data": {"other": "x"}}),
    Row(
        "upload, bad ticket", "POST", UPLOAD + "?token=no", 401, "UNAUTHENTICATED", _file("a", b"a")
    ),
    Row("ROOT-only route in dev mode", "POST", "/api/v1/admin/accounts", 403, DENIED, _account()),
]


def _snapshot(workspace: Path) -> dict[str, int]:
    """Every stored file (content, uploads, staging) with its size; the database and the
    index are checked through the task list instead."""
    skip = ("meta", "index", "locks")
    return {
        str(p.relative_to(workspace)): p.stat().st_size
        for p in workspace.rglob("*")
        if p.is_file() and p.relative_to(workspace).parts[0] not in skip
    }


@pytest.fixture(scope="module")
def app_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[TestClient, Path]]:
    workspace = tmp_path_factory.mktemp("bad-input") / "data"
    config = config_for(workspace, max_body_bytes=BODY_LIMIT, max_upload_mb=UPLOAD_MB)
    with TestClient(create_app(config)) as client:
        seed = {"uri": "viking://resources/seed.md", "content": "seed", "mode": "create"}
        assert client.post(WRITE, json={**seed, "wait": True}).status_code == 200
        yield client, workspace


def _uploaded(client: TestClient, name: str, data: bytes) -> str:
    response = client.post("/api/v1/resources/temp_upload", files={"file": (name, data)})
    assert response.status_code == 200, response.text
    return str(response.json()["result"]["temp_file_id"])


def _tasks(client: TestClient) -> int:
    return len(client.get("/api/v1/tasks", params={"limit": 200}).json()["result"])


@pytest.mark.parametrize("row", ROWS, ids=[row.label for row in ROWS])
def test_bad_input_is_a_documented_4xx_and_writes_nothing(
    app_client: tuple[TestClient, Path], row: Row
) -> None:
    client, workspace = app_client
    request = dict(row.request)
    if "upload" in request:  # the upload is the setup; the import is the row
        name, data = request.pop("upload")
        request["json"] = {"temp_file_id": _uploaded(client, name, data), "wait": True}
    before, tasks_before = _snapshot(workspace), _tasks(client)
    response = client.request(row.method, row.path, **request)
    assert response.status_code == row.status, response.text
    body = response.json()
    assert body["status"] == "error"
    error = body["error"]
    assert error["code"] == row.code
    assert error["code"] in DOCUMENTED_CODES
    assert error["details"].items() >= row.details.items()
    assert str(workspace) not in response.text  # never a server path
    assert "Traceback" not in response.text
    failed_tasks = 1 if "upload" in row.request else 0  # the refused import is recorded
    assert _snapshot(workspace) == before, "something was written"
    assert _tasks(client) == tasks_before + failed_tasks


def test_the_table_is_wide() -> None:
    assert len(ROWS) >= 40
    assert len({row.label for row in ROWS}) == len(ROWS)


def test_a_405_names_the_allowed_methods_in_the_allow_header(
    app_client: tuple[TestClient, Path],
) -> None:
    client, _ = app_client
    response = client.put(WRITE, json={})
    assert response.headers["allow"] == "POST"


def test_a_refused_import_is_refused_with_its_code_when_waited_on(
    app_client: tuple[TestClient, Path],
) -> None:
    """The refused import's task records the mistake; no staged data is left behind."""
    client, workspace = app_client
    temp_file_id = _uploaded(client, "bad.zip", b"PK\x03\x04junk")
    response = client.post("/api/v1/resources", json={"temp_file_id": temp_file_id})
    task_id = response.json()["result"]["task_id"]
    deadline = time.monotonic() + 30
    while (task := client.get(f"/api/v1/tasks/{task_id}").json()["result"])["status"] in (
        "pending",
        "running",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert task["status"] == "failed"
    assert "Not a valid zip file" in task["error"]
    assert str(workspace) not in json.dumps(task)
    staging = workspace / "tmp" / "staging"
    assert not staging.exists() or not any(staging.iterdir())
