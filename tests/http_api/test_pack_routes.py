"""``/api/v1/pack``: export streams a verified zip, import/backup/restore round trips, errors
in the envelope, ROOT/ADMIN only."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from http_api import create_app
from tests.http_api._routes import config_for

ROOT_KEY = "root-key-for-pack-tests"
GUIDE = "# Deploy guide\n\nRoll out the falcon service with canary releases first.\n"


@pytest.fixture
def client(workspace: Path) -> Iterator[TestClient]:
    with TestClient(create_app(config_for(workspace))) as c:
        yield c


def _seed(client: TestClient, headers: dict[str, str] | None = None) -> None:
    for uri, text in (
        ("viking://resources/docs/guide.md", GUIDE),
        ("viking://resources/docs/ops/rollback.md", "Run falconctl rollback.\n"),
    ):
        written = client.post(
            "/api/v1/content/write",
            json={"uri": uri, "content": text, "mode": "create", "wait": True},
            headers=headers,
        )
        assert written.status_code == 200, written.text
    client.post("/api/v1/system/wait", json={"timeout": 60}, headers=headers)


def _upload(client: TestClient, data: bytes, headers: dict[str, str] | None = None) -> str:
    response = client.post(
        "/api/v1/resources/temp_upload",
        files={"file": ("docs.ovpack", data, "application/zip")},
        headers=headers,
    )
    assert response.status_code == 200, response.text
    return str(response.json()["result"]["temp_file_id"])


def test_export_streams_a_zip_whose_manifest_checks_out(
    client: TestClient, workspace: Path
) -> None:
    _seed(client)
    response = client.post(
        "/api/v1/pack/export", json={"uri": "viking://resources/docs", "include_vectors": True}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "application/zip"
    assert 'filename="docs.ovpack"' in response.headers["content-disposition"]
    with zipfile.ZipFile(io.BytesIO(response.content)) as zf:
        manifest = json.loads(zf.read("manifest.json"))
        assert manifest["source_uri"] == "viking://resources/docs"
        for item in manifest["files"]:
            data = zf.read(f"files/{item['path']}")
            assert hashlib.sha256(data).hexdigest() == item["sha256"]
            assert len(data) == item["size"]
        assert zf.read("files/docs/guide.md").decode() == GUIDE
        assert manifest["vectors"]["count"] > 0
    # The export file was deleted once sent.
    assert list((workspace / "exports").iterdir()) == []


def test_import_round_trip_and_errors(client: TestClient) -> None:
    _seed(client)
    pack = client.post("/api/v1/pack/export", json={"uri": "viking://resources/docs"}).content
    client.post("/api/v1/fs/mkdir", json={"uri": "viking://resources/copy"})
    imported = client.post(
        "/api/v1/pack/import",
        json={"temp_file_id": _upload(client, pack), "parent": "viking://resources/copy"},
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["result"]["uri"] == "viking://resources/copy/docs"
    read = client.get(
        "/api/v1/content/read", params={"uri": "viking://resources/copy/docs/guide.md"}
    )
    assert read.json()["result"] == GUIDE
    client.post("/api/v1/system/wait", json={"timeout": 60})
    found = client.post(
        "/api/v1/search/find",
        json={"query": "falconctl rollback", "target_uri": "viking://resources/copy"},
    ).json()["result"]
    assert "viking://resources/copy/docs/ops/rollback.md" in [h["uri"] for h in found["resources"]]

    again = client.post(
        "/api/v1/pack/import",
        json={"temp_file_id": _upload(client, pack), "parent": "viking://resources/copy"},
    )
    assert again.status_code == 409
    skipped = client.post(
        "/api/v1/pack/import",
        json={
            "temp_file_id": _upload(client, pack),
            "parent": "viking://resources/copy",
            "on_conflict": "skip",
        },
    )
    assert skipped.json()["result"]["status"] == "skipped"

    with zipfile.ZipFile(io.BytesIO(pack)) as zf:
        entries = {n: zf.read(n) for n in zf.namelist()}
    entries["files/docs/guide.md"] = b"tampered"
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in entries.items():
            zf.writestr(name, data)
    client.post("/api/v1/fs/mkdir", json={"uri": "viking://resources/t"})
    tampered = client.post(
        "/api/v1/pack/import",
        json={"temp_file_id": _upload(client, buffer.getvalue()), "parent": "viking://resources/t"},
    )
    assert tampered.status_code == 400
    assert tampered.json()["error"]["code"] == "INVALID_ARGUMENT"
    assert "sha256" in tampered.json()["error"]["message"]
    listed = client.get("/api/v1/fs/ls", params={"uri": "viking://resources/t", "simple": True})
    assert listed.json()["result"] == []

    bad_mode = client.post(
        "/api/v1/pack/import",
        json={"temp_file_id": "x", "parent": "viking://resources", "on_conflict": "merge"},
    )
    assert bad_mode.status_code == 400
    escape = client.post("/api/v1/pack/export", json={"uri": "viking://resources/../../etc"})
    assert escape.status_code == 403


def test_backup_and_restore_into_another_account(workspace: Path) -> None:
    with TestClient(create_app(config_for(workspace, root_api_key=ROOT_KEY))) as client:
        root = {"X-API-Key": ROOT_KEY}
        keys: dict[str, str] = {}
        for account, admin in (("alpha", "ann"), ("beta", "bea")):
            made = client.post(
                "/api/v1/admin/accounts",
                json={"account_id": account, "admin_user_id": admin},
                headers=root,
            )
            assert made.status_code == 200, made.text
            keys[admin] = made.json()["result"]["user_key"]
        user = client.post(
            "/api/v1/admin/accounts/alpha/users",
            json={"user_id": "al", "role": "user"},
            headers={"X-API-Key": keys["ann"]},
        )
        al = {"X-API-Key": user.json()["result"]["user_key"]}
        ann, bea = {"X-API-Key": keys["ann"]}, {"X-API-Key": keys["bea"]}
        _seed(client, ann)

        denied = client.post("/api/v1/pack/backup", json={}, headers=al)
        assert denied.status_code == 403
        assert denied.json()["error"]["code"] == "PERMISSION_DENIED"
        exported = client.post(
            "/api/v1/pack/export", json={"uri": "viking://resources/docs"}, headers=al
        )
        assert exported.status_code == 200, exported.text  # a USER exports, as in the original

        backup = client.post("/api/v1/pack/backup", json={"include_vectors": True}, headers=ann)
        assert backup.status_code == 200, backup.text
        assert 'filename="openviking-backup.ovpack"' in backup.headers["content-disposition"]
        restored = client.post(
            "/api/v1/pack/restore",
            json={"temp_file_id": _upload(client, backup.content, bea)},
            headers=bea,
        )
        assert restored.status_code == 200, restored.text
        assert restored.json()["result"]["uri"] == "viking://"
        # ann's own space travels in ann's backup, but bea may not write there
        assert "viking://user/ann" in restored.json()["result"]["refused_uris"]
        read = client.get(
            "/api/v1/content/read",
            params={"uri": "viking://resources/docs/guide.md"},
            headers=bea,
        )
        assert read.json()["result"] == GUIDE
        # An upload is private to its uploader.
        foreign = client.post(
            "/api/v1/pack/restore",
            json={"temp_file_id": _upload(client, backup.content, ann)},
            headers=bea,
        )
        assert foreign.status_code == 404
