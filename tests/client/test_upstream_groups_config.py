"""openviking-sdk's session config and admin group calls on our HTTP clients: the routes and
bodies they send (an explicit ``auto_commit_policy: None`` is sent, as the SDK sends it)."""

from __future__ import annotations

import httpx
import pytest

from openviking_mcp import AsyncHTTPClient, SyncHTTPClient
from tests.client._mock import Recorder, envelope_ok

URL = "http://ov.test"
GROUPS = "/api/v1/admin/accounts/acme/groups"


def _recorder() -> Recorder:
    config = {"session_id": "s1", "auto_commit_policy": None, "memory_extraction_config": {}}
    return Recorder(
        {
            "PATCH /api/v1/sessions/s1/config": envelope_ok(config),
            f"POST {GROUPS}": envelope_ok({"group_id": "eng", "member_count": 0}),
            f"GET {GROUPS}": envelope_ok([{"group_id": "eng", "member_count": 1}]),
            f"DELETE {GROUPS}/eng": envelope_ok({"deleted": True}),
            f"GET {GROUPS}/eng/members": envelope_ok({"group_id": "eng", "members": ["ben"]}),
            f"PUT {GROUPS}/eng/members/ben": envelope_ok({"added": True}),
            f"DELETE {GROUPS}/eng/members/ben": envelope_ok({"removed": False}),
        }
    )


def _sent(request: httpx.Request) -> tuple[str, str, bytes]:
    return request.method, request.url.path, request.content


def test_update_session_config_sends_a_null_policy() -> None:
    recorder = _recorder()
    with SyncHTTPClient(URL, "k", timeout=5.0, transport=recorder.transport) as ov:
        answer = ov.update_session_config("s1", {"auto_commit_policy": None})
        assert answer["auto_commit_policy"] is None
        assert recorder.json() == {"auto_commit_policy": None}
        ov.update_session_config("s1", {"memory_extraction_config": {"events": {"tags": []}}})
        assert recorder.json() == {"memory_extraction_config": {"events": {"tags": []}}}
        ov.update_session_config("s1", auto_commit_policy={"keep_recent_count": 1})
        assert recorder.json() == {"auto_commit_policy": {"keep_recent_count": 1}}
        ov.update_session_config("s1")
        assert recorder.json() == {}  # nothing named, nothing changed


def test_sync_group_calls() -> None:
    recorder = _recorder()
    with SyncHTTPClient(URL, "k", timeout=5.0, transport=recorder.transport) as ov:
        assert ov.admin_create_group("acme", "eng") == {"group_id": "eng", "member_count": 0}
        assert recorder.json() == {"group_id": "eng"}
        assert ov.admin_list_groups("acme") == [{"group_id": "eng", "member_count": 1}]
        assert ov.admin_add_group_member("acme", "eng", "ben") == {"added": True}
        assert _sent(recorder.last)[:2] == ("PUT", f"{GROUPS}/eng/members/ben")
        members = ov.admin_list_group_members("acme", "eng")
        assert members == {"group_id": "eng", "members": ["ben"]}
        assert ov.admin_remove_group_member("acme", "eng", "ben") == {"removed": False}
        assert ov.admin_delete_group("acme", "eng") == {"deleted": True}
        assert _sent(recorder.last)[:2] == ("DELETE", f"{GROUPS}/eng")


@pytest.mark.anyio
async def test_async_group_calls() -> None:
    recorder = _recorder()
    async with AsyncHTTPClient(URL, "k", timeout=5.0, transport=recorder.transport) as ov:
        assert (await ov.admin_create_group("acme", "eng"))["group_id"] == "eng"
        assert (await ov.admin_add_group_member("acme", "eng", "ben"))["added"] is True
        assert (await ov.admin_list_group_members("acme", "eng"))["members"] == ["ben"]
        answer = await ov.update_session_config("s1", {"auto_commit_policy": None})
        assert answer["session_id"] == "s1"
        assert recorder.json() == {"auto_commit_policy": None}
