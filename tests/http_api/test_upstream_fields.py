"""Every request field that OpenViking 0.5.2's server takes is taken here too.

The table posts, for each route that both servers have, a body holding every field of the
original's request model (with values the original accepts) and asserts that no field is
refused as unknown. Fields this server does not support are accepted and ignored with one log
line naming them; the focused tests check the fields that carry meaning here.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from http_api import create_app
from openviking_mcp import OpenVikingConfig
from tests._zips import zip_bytes

pytestmark = pytest.mark.anyio

_SESSION = "/api/v1/sessions/s-upstream"
_SKILL_MD = "---\nname: upstream-skill\ndescription: A skill for the field table.\n---\n\nSteps.\n"
_TELEMETRY: dict[str, Any] = {"summary": True}

#: ``(method, path, body)``: every field of the original's request model for the route.
UPSTREAM_BODIES: list[tuple[str, str, dict[str, Any]]] = [
    (
        "POST",
        "/api/v1/resources",
        {
            "path": "https://example.invalid/guide.md",
            "temp_file_id": None,
            "add_type": None,
            "to": None,
            "parent": "viking://resources",
            "create_parent": True,
            "reason": "docs",
            "instruction": "summarise",
            "wait": False,
            "strict": False,
            "internal_task": False,
            "source_name": "guide.md",
            "ignore_dirs": "node_modules,.git",
            "include": "*.md",
            "exclude": "*.tmp",
            "directly_upload_media": True,
            "preserve_structure": True,
            "args": {},
            "telemetry": _TELEMETRY,
            "watch_interval": 0,
            "is_active": True,
            "processing_mode": "semantic_and_vectors",
            "tags": ["docs"],
            "tag_mode": "replace",
            "acl": None,
        },
    ),
    (
        "POST",
        "/api/v1/skills",
        {
            "data": _SKILL_MD,
            "temp_file_id": None,
            "skills": [],
            "list_only": False,
            "wait": True,
            "source_metadata": {"type": "api", "source": "inline_content", "operation": "add"},
            "target_uri": None,
            "telemetry": _TELEMETRY,
        },
    ),
    (
        "PUT",
        "/api/v1/skills/upstream-skill",
        {
            "data": _SKILL_MD,
            "temp_file_id": None,
            "from_source": False,
            "wait": True,
            "source_metadata": {"type": "api", "operation": "update"},
            "telemetry": _TELEMETRY,
            "target_uri": None,
        },
    ),
    (
        "POST",
        "/api/v1/content/write",
        {
            "uri": "viking://resources/upstream/note.md",
            "content": "# Note\n",
            "mode": "create",
            "wait": False,
            "telemetry": _TELEMETRY,
            "processing_mode": "semantic_and_vectors",
            "tags": ["a"],
            "tag_mode": "replace",
            "acl": None,
            "edit_source": "agent",
        },
    ),
    (
        "POST",
        "/api/v1/content/reindex",
        {
            "uri": "viking://resources",
            "mode": "vectors_only",
            "force": False,
            "wait": False,
            "recursive": True,
            "tags": None,
            "tag_mode": "replace",
        },
    ),
    (
        "POST",
        "/api/v1/fs/mkdir",
        {"uri": "viking://resources/upstream-dir", "description": "A folder.", "acl": None},
    ),
    (
        "POST",
        "/api/v1/fs/mv",
        {"from_uri": "viking://resources/upstream-dir", "to_uri": "viking://resources/moved"},
    ),
    (
        "POST",
        "/api/v1/search/find",
        {
            "query": "release",
            "image_url": None,
            "target_uri": "",
            "context_type": None,
            "limit": 5,
            "node_limit": 5,
            "score_threshold": None,
            "include_provenance": True,
            "tags": None,
            "since": None,
            "until": None,
            "time_field": None,
            "level": None,
            "read_content": False,
            "telemetry": _TELEMETRY,
            "events_time_decay_protection": None,
        },
    ),
    (
        "POST",
        "/api/v1/search/search",
        {
            "query": "release",
            "search_type": "semantic",
            "image_url": None,
            "target_uri": "",
            "context_type": None,
            "session_id": None,
            "limit": 5,
            "node_limit": 5,
            "score_threshold": None,
            "include_provenance": False,
            "tags": None,
            "since": None,
            "until": None,
            "time_field": None,
            "level": None,
            "read_content": False,
            "telemetry": _TELEMETRY,
            "events_time_decay_protection": None,
            "mode": "list",
        },
    ),
    (
        # The original refuses the context-only fields in list mode, and target_uri in
        # context mode.
        "POST",
        "/api/v1/search/search",
        {
            "query": "release",
            "session_id": None,
            "mode": "context",
            "query_expansion": "auto",
            "max_tokens": 2000,
            "quotas": None,
            "purpose": None,
            "detail": None,
            "dedup_turns": 0,
            "exclude_uris": [],
            "peer_scope": "all",
            "other_peer_penalty": None,
            "rewrite": False,
            "rewrite_max_bullets": 6,
        },
    ),
    (
        "POST",
        "/api/v1/search/grep",
        {
            "uri": "viking://resources",
            "exclude_uri": None,
            "pattern": "release",
            "case_insensitive": True,
            "node_limit": 10,
            "level_limit": 5,
            "tags": None,
            "include_tags": False,
            "before_context": 0,
            "after_context": 0,
        },
    ),
    (
        "POST",
        "/api/v1/search/glob",
        {
            "pattern": "**/*.md",
            "uri": "viking://resources",
            "node_limit": 10,
            "extra_fields": None,
            "tags": None,
            "include_tags": False,
        },
    ),
    (
        "POST",
        "/api/v1/pack/export",
        {"uri": "viking://resources", "include_vectors": False},
    ),
    ("POST", "/api/v1/pack/backup", {"include_vectors": False}),
    (
        "POST",
        "/api/v1/pack/import",
        {
            "temp_file_id": "upload_missing.ovpack",
            "parent": "viking://resources",
            "on_conflict": "fail",
            "vector_mode": "auto",
        },
    ),
    (
        "POST",
        "/api/v1/pack/restore",
        {"temp_file_id": "upload_missing.ovpack", "on_conflict": "fail", "vector_mode": "auto"},
    ),
    (
        "POST",
        "/api/v1/privacy-configs/skill/upstream",
        {"values": {"api_key": "x"}, "change_reason": "rotate", "labels": None},
    ),
    ("POST", "/api/v1/privacy-configs/skill/upstream/activate", {"version": 1}),
    (
        "POST",
        "/api/v1/admin/accounts",
        {
            "account_id": "upstream",
            "admin_user_id": "alice",
            "seed": None,
            "user_config": None,
            "settings": None,
        },
    ),
    (
        "POST",
        "/api/v1/admin/accounts/upstream/users",
        {"user_id": "bob", "role": "user", "seed": None, "user_config": None},
    ),
    ("PUT", "/api/v1/admin/accounts/upstream/users/bob/role", {"role": "admin"}),
    ("POST", "/api/v1/admin/accounts/upstream/users/bob/key", {"seed": None}),
    (
        "POST",
        "/api/v1/sessions",
        {
            "session_id": "s-upstream",
            "memory_policy": None,
            "auto_commit_policy": None,
            "memory_extraction_config": None,
            "telemetry": _TELEMETRY,
        },
    ),
    (
        "POST",
        f"{_SESSION}/messages",
        {
            "role": "user",
            "peer_id": None,
            "content": "hello",
            "parts": None,
            "created_at": None,
            "turn_id": None,
            "message_kind": None,
            "source_message_ids": None,
            "telemetry": _TELEMETRY,
        },
    ),
    (
        "POST",
        f"{_SESSION}/messages/batch",
        {
            "messages": [{"role": "assistant", "content": "hi", "turn_id": None}],
            "telemetry": _TELEMETRY,
        },
    ),
    (
        "POST",
        f"{_SESSION}/commit",
        {
            "enable_working_memory": None,
            "reset_context": False,
            "keep_recent_count": 0,
            "retention_mode": None,
            "keep_recent_turn_count": None,
            "retained_message_token_budget": None,
            "min_raw_tail_steps": None,
            "extraction_metadata": None,
        },
    ),
    ("POST", "/api/v1/system/consistency", {"uri": "viking://resources"}),
]

#: The answer each row gets here: the row's request runs (the pack rows name an upload that
#: does not exist; the admin rows need ROOT, which dev mode has not).
EXPECTED = [200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200, 200]
EXPECTED += [404, 404, 200, 200, 403, 403, 403, 403, 200, 200, 200, 200, 200]


@pytest.fixture
async def http(workspace: Path) -> AsyncIterator[httpx.AsyncClient]:
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
        }
    )
    app = create_app(config)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            yield client


async def _upload(client: httpx.AsyncClient, name: str, data: bytes) -> str:
    response = await client.post(
        "/api/v1/resources/temp_upload", files={"file": (name, data, "application/octet-stream")}
    )
    assert response.status_code == 200, response.text
    temp_file_id: str = response.json()["result"]["temp_file_id"]
    return temp_file_id


def _unknown_fields(response: httpx.Response) -> list[str]:
    """The body fields a 400 refuses as unknown."""
    if response.status_code != 400:
        return []
    errors = response.json()["error"]["details"].get("validation_errors", [])
    return [e["loc"][-1] for e in errors if e.get("type") == "extra_forbidden"]


async def test_every_upstream_field_is_accepted(http: httpx.AsyncClient) -> None:
    assert len(EXPECTED) == len(UPSTREAM_BODIES)
    upload = await _upload(http, "guide.md", b"# Guide\n\nRelease steps.\n")
    answers: dict[str, tuple[int, list[str]]] = {}
    for (method, path, body), expected in zip(UPSTREAM_BODIES, EXPECTED, strict=True):
        if path == "/api/v1/resources":  # an upload: a URL cannot be fetched offline
            body = {**body, "temp_file_id": upload, "wait": True}
        response = await http.request(method, path, json=body)
        assert response.status_code == expected, (method, path, response.text)
        answers[f"{method} {path} {body.get('mode', '')}"] = (
            response.status_code,
            _unknown_fields(response),
        )
    assert all(not unknown for _, unknown in answers.values()), answers


async def test_source_name_names_an_uploaded_folder(http: httpx.AsyncClient) -> None:
    # What openviking-sdk sends for a folder: a zip with a random name, and the folder's name.
    data = zip_bytes({"note_00.md": b"# Note 0\n\nFirst.\n", "sub/note_01.md": b"# Note 1\n"})
    upload = await _upload(http, "temp_upload_0123abcd.zip", data)
    body = {"temp_file_id": upload, "source_name": "bench", "wait": True}
    response = await http.post("/api/v1/resources", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["root_uri"] == "viking://resources/bench"
    listed = await http.get("/api/v1/fs/ls", params={"uri": "viking://resources/bench"})
    assert listed.status_code == 200, listed.text
    uris = {entry["uri"] for entry in listed.json()["result"]}
    # each document gets a folder of its own, as the original makes it
    assert {"viking://resources/bench/note_00", "viking://resources/bench/sub"} <= uris


async def test_source_name_names_an_uploaded_file(http: httpx.AsyncClient) -> None:
    upload = await _upload(http, "upload_tmp.md", b"# Guide\n\nSteps.\n")
    body = {"temp_file_id": upload, "source_name": "release-guide.md", "wait": True}
    response = await http.post("/api/v1/resources", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["root_uri"] == "viking://resources/release-guide"


async def test_ignored_fields_are_logged_by_name(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    # What the ov CLI sends for a URL import (an upload here, as nothing is fetched offline).
    upload = await _upload(http, "guide.md", b"# Guide\n")
    body = {"temp_file_id": upload, "directly_upload_media": False, "strict": True, "wait": True}
    with caplog.at_level(logging.INFO, logger="openviking_mcp.http"):
        response = await http.post("/api/v1/resources", json=body)
    assert response.status_code == 200, response.text
    notes = [r.getMessage() for r in caplog.records if "ignoring" in r.getMessage()]
    assert notes == ["AddResourceBody: ignoring unsupported fields: directly_upload_media, strict"]


async def test_add_skill_takes_source_metadata(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    # What the ov CLI sends for a SKILL.md file or folder.
    body = {
        "data": _SKILL_MD,
        "source_metadata": {"type": "cli", "source": "local_file", "path": "/x/SKILL.md"},
        "wait": True,
    }
    with caplog.at_level(logging.INFO, logger="openviking_mcp.http"):
        response = await http.post("/api/v1/skills", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["name"] == "upstream-skill"
    assert any("source_metadata" in r.getMessage() for r in caplog.records)


async def test_temp_file_id_wins_over_path(http: httpx.AsyncClient) -> None:
    upload = await _upload(http, "guide.md", b"# Guide\n\nSteps.\n")
    # The path alone would fail (the host does not resolve); the upload is imported instead.
    body = {"path": "https://example.invalid/other.md", "temp_file_id": upload, "wait": True}
    response = await http.post("/api/v1/resources", json=body)
    assert response.status_code == 200, response.text
    result = response.json()["result"]
    assert result["root_uri"] == "viking://resources/guide"
    assert result["meta"]["source_kind"] == "upload"
    alone = await http.post("/api/v1/resources", json={"path": body["path"], "wait": True})
    assert alone.status_code == 400


async def test_temp_file_id_wins_over_data(http: httpx.AsyncClient) -> None:
    upload = await _upload(http, "SKILL.md", _SKILL_MD.encode())
    body = {"data": "not a skill at all", "temp_file_id": upload, "wait": True}
    response = await http.post("/api/v1/skills", json=body)
    assert response.status_code == 200, response.text
    assert response.json()["result"]["name"] == "upstream-skill"
    neither = await http.post("/api/v1/skills", json={"wait": True})
    assert neither.status_code == 400


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/api/v1/resources", {"path": "https://example.com/a.md", "add_type": "git"}, "add_type"),
        ("/api/v1/resources", {"path": "https://example.com/a.md", "acl": {"a": 1}}, "acl"),
        ("/api/v1/skills", {"data": _SKILL_MD, "list_only": True}, "list_only"),
        ("/api/v1/fs/mkdir", {"uri": "viking://resources/d", "acl": {"a": 1}}, "acl"),
        (
            "/api/v1/content/write",
            {"uri": "viking://resources/d.md", "content": "", "acl": [1]},
            "acl",
        ),
        ("/api/v1/skills", {"data": _SKILL_MD, "skills": ["a"]}, "skills"),
    ],
)
async def test_unsupported_fields_are_refused_when_set(
    http: httpx.AsyncClient, path: str, body: dict[str, Any], field: str
) -> None:
    response = await http.post(path, json=body)
    assert response.status_code == 501, response.text
    assert response.json()["error"]["details"] == {"field": field}


async def test_a_typo_is_still_refused_by_name(http: httpx.AsyncClient) -> None:
    response = await http.post(
        "/api/v1/resources", json={"path": "https://example.com/a.md", "sourc_name": "x"}
    )
    assert response.status_code == 400
    assert _unknown_fields(response) == ["sourc_name"]
    assert "body.sourc_name" in response.json()["error"]["message"]


async def test_lenient_bodies_name_the_unknown_fields_they_ignore(
    http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="openviking_mcp.http"):
        made = await http.post("/api/v1/sessions", json={"session_id": "lenient", "colour": "red"})
        waited = await http.post("/api/v1/system/wait", json={"timeout": 5, "verbose": True})
        moved = await http.post(
            "/api/v1/fs/mv",
            json={"from_uri": "viking://resources/none", "to_uri": "viking://resources/x", "z": 1},
        )
    assert made.status_code == 200, made.text
    assert waited.status_code == 200, waited.text
    assert moved.status_code == 404, moved.text  # the unknown field is not the problem
    notes = [r.getMessage() for r in caplog.records if "ignoring" in r.getMessage()]
    assert notes == [
        "CreateSessionBody: ignoring unsupported fields: colour",
        "WaitBody: ignoring unsupported fields: verbose",
        "MvBody: ignoring unsupported fields: z",
    ]
