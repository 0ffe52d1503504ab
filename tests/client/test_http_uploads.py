"""Local files and folders are uploaded (temp_upload) before add_resource / add_skill."""

from __future__ import annotations

import io
import os
import tempfile
import zipfile
from pathlib import Path

import httpx
import pytest

from openviking_mcp import AsyncHTTPClient, SyncHTTPClient
from openviking_mcp.contract.errors import InvalidArgumentError, NotFoundError
from tests.client._mock import Recorder, envelope_error, envelope_ok, multipart_file

URL = "http://ov.test"
UPLOAD = "POST /api/v1/resources/temp_upload"
TEMP_ID = "upload_0123456789abcdef.zip"
SKILL_MD = "---\nname: demo\ndescription: A demo skill\n---\n\nDo the demo.\n"


def recorder_for(target: str) -> Recorder:
    return Recorder(
        {
            UPLOAD: envelope_ok({"temp_file_id": TEMP_ID, "size": 1}),
            target: envelope_ok({"status": "success", "task_id": "t1"}),
        }
    )


def client(recorder: Recorder) -> SyncHTTPClient:
    return SyncHTTPClient(URL, "k", timeout=30.0, extra_headers={}, transport=recorder.transport)


def zip_names(data: bytes) -> list[str]:
    with zipfile.ZipFile(io.BytesIO(data)) as archive:
        return sorted(archive.namelist())


@pytest.fixture(autouse=True)
def private_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Temporary zips go to this test's own folder, so leftovers can be checked."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))


def leftovers() -> list[str]:
    return os.listdir(tempfile.gettempdir())


def test_a_local_file_is_uploaded_then_added_by_temp_file_id(tmp_path: Path) -> None:
    guide = tmp_path / "guide.md"
    guide.write_text("# Guide\n\nRoll back with care.\n", encoding="utf-8")
    recorder = recorder_for("POST /api/v1/resources")
    with client(recorder) as ov:
        result = ov.add_resource(str(guide), parent="viking://resources/hr", create_parent=True)
    assert result == {"status": "success", "task_id": "t1"}
    upload, add = recorder.requests
    assert (upload.method, upload.url.path) == ("POST", "/api/v1/resources/temp_upload")
    assert multipart_file(upload) == ("guide.md", guide.read_bytes())
    assert (add.method, add.url.path) == ("POST", "/api/v1/resources")
    sent = recorder.json(1)
    assert sent["temp_file_id"] == TEMP_ID
    assert "path" not in sent  # the server never sees a host path
    assert sent["parent"] == "viking://resources/hr"
    assert sent["create_parent"] is True


def test_a_folder_is_zipped_with_the_import_filters_and_no_links(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    (docs / "guides").mkdir(parents=True)
    (docs / "node_modules").mkdir()
    (docs / "guides" / "a.md").write_text("A", encoding="utf-8")
    (docs / "b.txt").write_text("B", encoding="utf-8")
    (docs / "secret.log").write_text("ignored by .gitignore", encoding="utf-8")
    (docs / ".gitignore").write_text("*.log\n", encoding="utf-8")
    (docs / "build").mkdir()
    (docs / "build" / "out.md").write_text("ignored dir", encoding="utf-8")
    (docs / "node_modules" / "x.js").write_text("x", encoding="utf-8")
    outside = tmp_path / "outside.md"
    outside.write_text("not part of docs", encoding="utf-8")
    (docs / "escape.md").symlink_to(outside)
    recorder = recorder_for("POST /api/v1/resources")
    with client(recorder) as ov:
        ov.add_resource(str(docs), ignore_dirs=["build"], wait=True, timeout=10)
    filename, data = multipart_file(recorder.requests[0])
    assert filename == "docs.zip"
    assert zip_names(data) == ["docs/", "docs/b.txt", "docs/guides/a.md"]
    sent = recorder.json(1)
    assert sent["temp_file_id"] == TEMP_ID
    assert sent["ignore_dirs"] == ["build"]
    assert sent["wait"] is True
    assert recorder.requests[1].extensions["timeout"]["read"] == 40.0
    assert leftovers() == []  # the temporary zip is gone


def test_urls_pass_through_without_upload() -> None:
    recorder = recorder_for("POST /api/v1/resources")
    with client(recorder) as ov:
        ov.add_resource("https://example.com/guide.html")
    assert len(recorder.requests) == 1
    assert recorder.json() == {
        "path": "https://example.com/guide.html",
        "create_parent": False,
        "reason": "",
        "instruction": "",
        "wait": False,
        "processing_mode": "semantic_and_vectors",
        "no_split": False,
    }


def test_a_missing_local_path_fails_before_any_request(tmp_path: Path) -> None:
    recorder = recorder_for("POST /api/v1/resources")
    with client(recorder) as ov, pytest.raises(NotFoundError, match="Local path not found"):
        ov.add_resource(str(tmp_path / "nope.md"))
    assert recorder.requests == []


def test_a_refused_upload_stops_the_import_and_cleans_up(tmp_path: Path) -> None:
    (tmp_path / "big").mkdir()
    (tmp_path / "big" / "a.md").write_text("A", encoding="utf-8")
    recorder = Recorder(
        {UPLOAD: envelope_error(400, "INVALID_ARGUMENT", "Upload exceeds size limit (1 MiB)")}
    )
    with client(recorder) as ov, pytest.raises(InvalidArgumentError, match="size limit"):
        ov.add_resource(str(tmp_path / "big"))
    assert [r.url.path for r in recorder.requests] == ["/api/v1/resources/temp_upload"]
    assert leftovers() == []


def test_a_skill_folder_is_zipped_and_added_by_temp_file_id(tmp_path: Path) -> None:
    skill = tmp_path / "demo"
    (skill / "scripts").mkdir(parents=True)
    (skill / "SKILL.md").write_text(SKILL_MD, encoding="utf-8")
    (skill / "scripts" / "run.sh").write_text("echo demo\n", encoding="utf-8")
    (skill / "same.sh").symlink_to(skill / "scripts" / "run.sh")  # stays inside: kept
    secret = tmp_path / "id_rsa"
    secret.write_text("PRIVATE", encoding="utf-8")
    (skill / "key").symlink_to(secret)  # leads out of the folder: left out
    recorder = recorder_for("POST /api/v1/skills")
    with client(recorder) as ov:
        ov.add_skill(str(skill), target_uri="viking://agent/skills")
    filename, data = multipart_file(recorder.requests[0])
    assert filename == "demo.zip"
    assert zip_names(data) == ["demo/", "demo/SKILL.md", "demo/same.sh", "demo/scripts/run.sh"]
    assert recorder.json(1) == {
        "temp_file_id": TEMP_ID,
        "target_uri": "viking://agent/skills",
        "wait": False,
    }


def test_skill_data_travels_as_json_and_paths_or_bytes_are_uploaded(tmp_path: Path) -> None:
    recorder = recorder_for("POST /api/v1/skills")
    tool = {"name": "search_web", "description": "Search", "inputSchema": {"type": "object"}}
    skill_file = tmp_path / "SKILL.md"
    skill_file.write_text(SKILL_MD, encoding="utf-8")
    with client(recorder) as ov:
        ov.add_skill(tool)
        assert recorder.json()["data"] == tool
        ov.add_skill(SKILL_MD)  # text with newlines is never a path
        assert recorder.json()["data"] == SKILL_MD
        ov.add_skill(skill_file)  # a Path object
        assert multipart_file(recorder.requests[-2]) == ("SKILL.md", SKILL_MD.encode())
        ov.add_skill(SKILL_MD.encode())
        assert multipart_file(recorder.requests[-2]) == ("SKILL.md", SKILL_MD.encode())
        with pytest.raises(InvalidArgumentError, match="does not exist"):
            ov.add_skill("./no/such/skill")
    assert recorder.json() == {"temp_file_id": TEMP_ID, "wait": False}


def test_upload_temp_file_returns_the_id(tmp_path: Path) -> None:
    pack = tmp_path / "notes.ovpack"
    pack.write_bytes(b"PK\x03\x04pack")
    recorder = recorder_for("POST /api/v1/pack/import")
    with client(recorder) as ov:
        temp_id = ov.upload_temp_file(pack)
        ov.import_pack(temp_id, "viking://resources")
    assert multipart_file(recorder.requests[0]) == ("notes.ovpack", b"PK\x03\x04pack")
    assert recorder.json(1)["temp_file_id"] == TEMP_ID


@pytest.mark.anyio
async def test_async_client_uploads_a_folder_then_adds_it(tmp_path: Path) -> None:
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.md").write_text("- ship it\n", encoding="utf-8")
    recorder = recorder_for("POST /api/v1/resources")
    transport = httpx.MockTransport(recorder.handle)
    async with AsyncHTTPClient(URL, "k", timeout=30.0, extra_headers={}, transport=transport) as ov:
        await ov.add_resource(str(tmp_path / "notes"))
    upload, add = recorder.requests
    filename, data = multipart_file(upload)
    assert (filename, zip_names(data)) == ("notes.zip", ["notes/", "notes/todo.md"])
    assert add.url.path == "/api/v1/resources"
    assert recorder.json(1)["temp_file_id"] == TEMP_ID
    assert leftovers() == []
