"""The audit routes: entries of HTTP and WebDAV calls, the CSV export, visibility, and no
content or key in the SQLite file."""

from __future__ import annotations

import base64
import csv
import io
from pathlib import Path

from tests.http_api._routes import error_of, keyed_client, result_of

MARKER = "okapi-nimbus-4410-marker"


def test_http_and_webdav_writes_are_logged_and_exported(workspace: Path) -> None:
    with keyed_client(workspace) as (client, ann, ben):
        written = client.post(
            "/api/v1/content/write",
            json={"uri": "viking://resources/h.md", "content": MARKER, "mode": "create"},
            headers={**ben, "X-Request-ID": "req-audit-1"},
        )
        result_of(written)
        ben_key = ben["Authorization"].removeprefix("Bearer ")
        basic = base64.b64encode(f"ben:{ben_key}".encode()).decode()
        put = client.put(
            "/webdav/resources/dav.md", content=b"dav", headers={"Authorization": f"Basic {basic}"}
        )
        assert put.status_code == 201, put.text
        page = result_of(client.get("/api/v1/audit/logs", params={"user": "ben"}, headers=ann))
        by_op = {e["operation"]: e for e in page["entries"]}
        assert by_op["write"]["surface"] == "http"
        assert by_op["write"]["request_id"] == "req-audit-1"
        assert by_op["write"]["uris"] == ["viking://resources/h.md"]
        assert by_op["webdav.put"]["surface"] == "webdav"
        assert by_op["webdav.put"]["uris"] == ["viking://resources/dav.md"]
        own = result_of(client.get("/api/v1/audit/logs", headers=ben))
        assert {e["user_id"] for e in own["entries"]} == {"ben"}
        error_of(client.get("/api/v1/audit/logs", params={"user": "ann"}, headers=ben), 403)
        exported = client.get(
            "/api/v1/audit/logs/export", params={"operation": "write"}, headers=ann
        )
        assert exported.status_code == 200
        assert exported.headers["content-type"].startswith("text/csv")
        rows = list(csv.DictReader(io.StringIO(exported.text)))
        assert [r["uris"] for r in rows] == ["viking://resources/h.md"]
        assert rows[0]["request_id"] == "req-audit-1"
        assert rows[0]["outcome"] == "ok"
        paged = result_of(client.get("/api/v1/audit/logs", params={"limit": 1}, headers=ann))
        assert paged["next_cursor"]
        error_of(client.get("/api/v1/audit/logs", params={"cursor": "bogus"}, headers=ann), 400)
    raw = b"".join(p.read_bytes() for p in (workspace / "meta").iterdir() if p.is_file())
    assert b"viking://resources/dav.md" in raw
    assert MARKER.encode() not in raw
    assert ben_key.encode() not in raw
    assert ben_key.split(".")[-1].encode() not in raw
