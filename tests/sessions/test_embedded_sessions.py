"""The embedded clients mirror the session operations."""

from __future__ import annotations

from openviking_mcp import OpenViking


def test_sync_client_session_methods(ov: OpenViking) -> None:
    assert ov.create_session("e1")["session_id"] == "e1"
    ov.add_message("e1", "user", "hello")
    ov.add_messages("e1", [{"role": "assistant", "content": "hi"}])
    assert ov.record_used("e1", ["viking://resources/x.md"])["contexts_used"] == 1
    assert len(ov.session_context("e1", token_budget=1000)["messages"]) == 2
    assert [s["session_id"] for s in ov.list_sessions()] == ["e1"]
    commit = ov.commit_session("e1", keep_recent_count=1)
    assert commit["status"] == "accepted"
    assert ov.get_session("e1")["message_count"] == 1
    assert ov.list_archives("e1")[0]["archive_id"] == "archive_001"
    assert ov.get_archive("e1", 1)["messages"][0]["role"] == "user"
    assert ov.delete_session("e1")["session_id"] == "e1"
