"""SyncHTTPClient / AsyncHTTPClient against a mock transport: requests, envelopes, errors."""

from __future__ import annotations

import inspect
import json

import httpx
import pytest

from openviking_mcp import AsyncHTTPClient, AsyncOpenViking, OpenViking, SyncHTTPClient
from openviking_mcp.contract.errors import (
    ConnectionFailedError,
    DeadlineExceededError,
    FailedPreconditionError,
    InternalError,
    NotFoundError,
    NotInitializedError,
    OpenVikingError,
    UnauthenticatedError,
    UnavailableError,
)
from tests.client._mock import Recorder, envelope_error, envelope_ok
from tests.servers import free_port

URL = "http://ov.test"


def sync_client(
    recorder: Recorder,
    *,
    account: str | None = None,
    user: str | None = None,
    extra_headers: dict[str, str] | None = None,
) -> SyncHTTPClient:
    # url, api_key, a non-default timeout and extra_headers all given: ovcli.conf is not read.
    return SyncHTTPClient(
        URL,
        "user-key",
        account=account,
        user=user,
        timeout=30.0,
        extra_headers=extra_headers or {},
        transport=recorder.transport,
    )


# -- same surface as the embedded client ---------------------------------------------------


@pytest.mark.parametrize(
    ("embedded", "http"), [(AsyncOpenViking, AsyncHTTPClient), (OpenViking, SyncHTTPClient)]
)
def test_methods_mirror_the_embedded_client(embedded: type, http: type) -> None:
    names = [n for n in dir(embedded) if not n.startswith("_") and callable(getattr(embedded, n))]
    names = [n for n in names if n not in {"chat_service", "close_chat"}]  # the local bot's
    assert len(names) > 80
    for name in names:
        theirs, ours = getattr(embedded, name), getattr(http, name)
        assert inspect.signature(ours) == inspect.signature(theirs), name
        assert inspect.iscoroutinefunction(ours) == inspect.iscoroutinefunction(theirs), name


# -- envelopes -----------------------------------------------------------------------------


def test_result_is_unwrapped_and_the_request_matches_the_route() -> None:
    entries = [{"name": "a.md", "uri": "viking://resources/a.md", "isDir": False}]
    recorder = Recorder({"GET /api/v1/fs/ls": envelope_ok(entries)})
    with sync_client(recorder) as ov:
        assert ov.ls("viking://resources", recursive=True) == entries
    request = recorder.last
    assert request.url.params["uri"] == "viking://resources"
    assert request.url.params["recursive"] == "true"
    assert request.url.params["simple"] == "false"
    assert request.url.params["output"] == "original"  # the embedded default, sent explicitly
    assert request.headers["X-API-Key"] == "user-key"


def test_strings_bytes_and_plain_json() -> None:
    recorder = Recorder(
        {
            "GET /api/v1/content/read": envelope_ok("hello\n"),
            "GET /api/v1/content/download": httpx.Response(200, content=b"\x00raw"),
            "GET /health": httpx.Response(200, json={"status": "ok", "healthy": True}),
        }
    )
    with sync_client(recorder) as ov:
        assert ov.read("viking://resources/a.md", offset=2, limit=3) == "hello\n"
        assert recorder.last.url.params["offset"] == "2"
        assert ov.read_bytes("viking://resources/a.md") == b"\x00raw"
        assert ov.health() == {"status": "ok", "healthy": True}


def test_bodies_follow_the_seed_field_names() -> None:
    recorder = Recorder(
        {
            "POST /api/v1/fs/mv": envelope_ok({"from": "a", "to": "b"}),
            "POST /api/v1/content/write": envelope_ok({"written_bytes": 2}),
            "POST /api/v1/search/find": envelope_ok({"resources": [], "total": 0}),
            "POST /api/v1/search/search": envelope_ok({"entries": []}),
            "GET /api/v1/skills": envelope_ok({"skills": [{"name": "s"}], "total": 1}),
            "DELETE /api/v1/fs": envelope_ok({"uri": "viking://resources/x"}),
        }
    )
    with sync_client(recorder) as ov:
        ov.mv("viking://resources/a", "viking://resources/b")
        assert recorder.json() == {
            "from_uri": "viking://resources/a",
            "to_uri": "viking://resources/b",
        }
        ov.write("viking://resources/a.md", "hi", mode="append")
        assert recorder.json() == {
            "uri": "viking://resources/a.md",
            "content": "hi",
            "mode": "append",
            "wait": False,
        }
        ov.find("rollback", context_type="resource")
        assert recorder.json() == {
            "query": "rollback",
            "limit": 10,
            "context_type": "resource",
            "time_field": "updated_at",
            "include_provenance": False,
        }
        ov.search("and staging?", session_id="s1")
        sent = recorder.json()
        assert sent["mode"] == "list"
        assert sent["session_id"] == "s1"
        assert "max_tokens" not in sent  # context-only fields stay out of list mode (400)
        ov.assemble_context("coffee", max_tokens=500, dedup_turns=2)
        sent = recorder.json()
        assert recorder.last.url.path == "/api/v1/search/search"
        assert (sent["mode"], sent["max_tokens"], sent["dedup_turns"]) == ("context", 500, 2)
        assert ov.list_skills() == [{"name": "s"}]
        ov.rm("viking://resources/x", recursive=True)
        assert recorder.last.method == "DELETE"
        assert recorder.last.url.params["recursive"] == "true"


def test_path_segments_are_quoted() -> None:
    recorder = Recorder({"GET /api/v1/sessions/a b/c": envelope_ok({"session_id": "a b/c"})})
    with sync_client(recorder) as ov:
        ov.get_session("a b/c")
    assert recorder.last.url.raw_path == b"/api/v1/sessions/a%20b%2Fc?auto_create=false"


def test_waiting_calls_get_the_wait_plus_a_margin_as_read_timeout() -> None:
    recorder = Recorder({"POST /api/v1/sessions/s1/commit": envelope_ok({"status": "accepted"})})
    with sync_client(recorder) as ov:
        ov.commit_session("s1", wait=True, timeout=5)
        assert recorder.last.extensions["timeout"]["read"] == 35.0
        assert recorder.json() == {"keep_recent_count": 0, "wait": True, "timeout": 5}
        ov.commit_session("s1")
        assert recorder.last.extensions["timeout"]["read"] == 30.0  # the client's timeout


# -- errors --------------------------------------------------------------------------------


def test_not_found_keeps_code_message_and_details() -> None:
    details = {"type": "file", "resource": "viking://resources/missing.md"}
    answer = envelope_error(
        404, "NOT_FOUND", "File not found: viking://resources/missing.md", details
    )
    recorder = Recorder({"GET /api/v1/content/read": answer})
    with sync_client(recorder) as ov, pytest.raises(NotFoundError) as caught:
        ov.read("viking://resources/missing.md")
    assert caught.value.code == "NOT_FOUND"
    assert caught.value.message == "File not found: viking://resources/missing.md"
    assert caught.value.details == details


def test_unauthenticated_and_other_codes() -> None:
    recorder = Recorder(
        {
            "GET /api/v1/fs/stat": envelope_error(401, "UNAUTHENTICATED", "Invalid API Key"),
            "DELETE /api/v1/fs": envelope_error(
                412,
                "FAILED_PRECONDITION",
                "Cannot remove directory without --recursive",
                {"expected_flag": "recursive"},
            ),
            "GET /api/v1/tasks/t1": envelope_error(500, "SOMETHING_NEW", "odd"),
        }
    )
    with sync_client(recorder) as ov:
        with pytest.raises(UnauthenticatedError, match="Invalid API Key"):
            ov.stat("viking://resources")
        with pytest.raises(FailedPreconditionError) as caught:
            ov.rm("viking://resources/dir")
        assert caught.value.details == {"expected_flag": "recursive"}
        with pytest.raises(InternalError, match="odd"):  # unknown codes are INTERNAL
            ov.get_task("t1")


def test_answers_without_an_envelope_still_raise_by_status() -> None:
    recorder = Recorder(
        {
            "GET /api/v1/fs/stat": httpx.Response(502, text="Bad Gateway from the proxy"),
            "GET /api/v1/fs/tree": httpx.Response(404, json={"detail": "Not Found"}),
            "GET /api/v1/fs/ls": httpx.Response(200, text="<html>"),
        }
    )
    with sync_client(recorder) as ov:
        with pytest.raises(UnavailableError, match="Bad Gateway from the proxy"):
            ov.stat("viking://")
        with pytest.raises(NotFoundError, match="HTTP 404: Not Found"):
            ov.tree("viking://")
        with pytest.raises(InternalError, match="not JSON"):
            ov.ls("viking://")


def test_transport_failures_are_typed() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    def slow(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("timed out", request=request)

    recorder = Recorder({"GET /api/v1/fs/stat": refuse, "GET /api/v1/fs/ls": slow})
    with sync_client(recorder) as ov:
        with pytest.raises(ConnectionFailedError) as caught:
            ov.stat("viking://")
        assert caught.value.details == {"url": URL, "reason": "ConnectError"}
        with pytest.raises(DeadlineExceededError):
            ov.ls("viking://")


def test_a_port_nobody_listens_on_is_a_connection_failure() -> None:
    url = f"http://127.0.0.1:{free_port()}"
    client = SyncHTTPClient(url, "key", timeout=5.0, extra_headers={})
    with client as ov, pytest.raises(ConnectionFailedError):
        ov.ls("viking://")


# -- identity and lifecycle ----------------------------------------------------------------


def test_identity_and_extra_headers_are_sent() -> None:
    recorder = Recorder({"GET /api/v1/fs/stat": envelope_ok({})})
    client = sync_client(recorder, account="acme", user="alice", extra_headers={"X-Gateway": "g1"})
    with client as ov:
        ov.stat("viking://")
    headers = recorder.last.headers
    assert headers["X-OpenViking-Account"] == "acme"
    assert headers["X-OpenViking-User"] == "alice"
    assert headers["X-Gateway"] == "g1"


def test_a_closed_client_says_so_and_can_be_reopened() -> None:
    recorder = Recorder({"GET /api/v1/fs/stat": envelope_ok({"isDir": True})})
    ov = sync_client(recorder)
    ov.close()
    with pytest.raises(NotInitializedError):
        ov.stat("viking://")
    ov.initialize()
    assert ov.stat("viking://") == {"isDir": True}
    ov.close()


# -- async ---------------------------------------------------------------------------------


@pytest.mark.anyio
async def test_async_client_unwraps_and_raises() -> None:
    async def handler(request: httpx.Request) -> httpx.Response:
        if request.url.path == "/api/v1/sessions/s1/messages":
            assert json.loads(request.content) == {"role": "user", "content": "hi"}
            return envelope_ok({"session_id": "s1", "message_count": 1})
        return envelope_error(404, "NOT_FOUND", "Session s1 not found", {"type": "session"})

    transport = httpx.MockTransport(handler)
    client = AsyncHTTPClient(URL, "key", timeout=30.0, extra_headers={}, transport=transport)
    async with client as ov:
        result = await ov.add_message("s1", "user", content="hi")
        assert result == {"session_id": "s1", "message_count": 1}
        with pytest.raises(NotFoundError) as caught:
            await ov.get_session("s1")
    assert isinstance(caught.value, OpenVikingError)
    assert caught.value.details == {"type": "session"}
