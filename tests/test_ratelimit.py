"""The limiter and its one classification table: token buckets on an injected clock, and
every operation, route and MCP tool placed in its class from the catalog."""

from __future__ import annotations

import pytest

from http_api.routers.resources import TEMP_UPLOAD_PATH as HTTP_TEMP_UPLOAD_PATH
from openviking_mcp.config import OpenVikingConfig, RateLimitsConfig
from openviking_mcp.contract import chat
from openviking_mcp.contract.catalog import OPERATIONS
from openviking_mcp.contract.errors import ResourceExhaustedError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.mcp_server.tools import build_tools
from openviking_mcp.ratelimit import (
    RateLimitService,
    RouteClass,
    bucket_identity,
    class_of_operation,
    class_of_request,
    class_of_tool,
)
from openviking_mcp.ratelimit.classes import (
    OPERATION_CLASSES,
    READING_POSTS,
    TEMP_UPLOAD_PATH,
    TOOL_OPERATIONS,
    UNLIMITED_TOOLS,
    UNROUTED_WRITES,
)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _limiter(clock: Clock, **classes: dict[str, int]) -> RateLimitService:
    config = RateLimitsConfig.model_validate({"enabled": True, **classes})
    return RateLimitService(config, clock)


def test_off_by_default() -> None:
    config = OpenVikingConfig()
    assert config.rate_limits.enabled is False
    limiter = RateLimitService(config.rate_limits)
    for _ in range(1000):
        limiter.check("key:a/u/", RouteClass.SEARCH)


def test_burst_then_refusal_with_retry_after_then_refill() -> None:
    clock = Clock()
    limiter = _limiter(clock, search={"requests_per_minute": 6, "burst": 3})
    for _ in range(3):
        limiter.check("key:a/u/", RouteClass.SEARCH)
    with pytest.raises(ResourceExhaustedError) as refused:
        limiter.check("key:a/u/", RouteClass.SEARCH)
    assert refused.value.http_status == 429
    assert refused.value.code == "RESOURCE_EXHAUSTED"
    assert refused.value.details == {"class": "search", "limit": 6, "burst": 3, "retry_after": 10}
    clock.now += 9.5  # 0.95 of a token back: still refused, half a second to wait
    with pytest.raises(ResourceExhaustedError) as again:
        limiter.check("key:a/u/", RouteClass.SEARCH)
    assert again.value.details["retry_after"] == 1
    clock.now += 0.5
    limiter.check("key:a/u/", RouteClass.SEARCH)
    with pytest.raises(ResourceExhaustedError):
        limiter.check("key:a/u/", RouteClass.SEARCH)
    clock.now += 3600  # a long pause refills up to the burst, not beyond
    for _ in range(3):
        limiter.check("key:a/u/", RouteClass.SEARCH)
    with pytest.raises(ResourceExhaustedError):
        limiter.check("key:a/u/", RouteClass.SEARCH)


def test_buckets_are_per_identity_and_class() -> None:
    limiter = _limiter(Clock(), search={"requests_per_minute": 1, "burst": 1})
    limiter.check("key:a/ann/", RouteClass.SEARCH)
    with pytest.raises(ResourceExhaustedError):
        limiter.check("key:a/ann/", RouteClass.SEARCH)
    limiter.check("key:a/ben/", RouteClass.SEARCH)
    for _ in range(20):  # writes has its own (default) bucket
        limiter.check("key:a/ann/", RouteClass.WRITES)
    limiter.check("key:a/ann/", None)  # unclassified: never limited


def test_a_class_with_rate_zero_is_not_limited() -> None:
    limiter = _limiter(Clock(), imports={"requests_per_minute": 0})
    for _ in range(100):
        limiter.check("key:a/u/", RouteClass.IMPORTS)


def test_burst_defaults_to_the_rate() -> None:
    limiter = _limiter(Clock(), chat={"requests_per_minute": 2})
    limiter.check("x", RouteClass.CHAT)
    limiter.check("x", RouteClass.CHAT)
    with pytest.raises(ResourceExhaustedError):
        limiter.check("x", RouteClass.CHAT)


def test_bucket_identity() -> None:
    ann = RequestContext(account_id="acme", user_id="ann")
    assert bucket_identity(ann, "10.0.0.1", dev_mode=True) == "client:10.0.0.1"
    assert bucket_identity(ann, "10.0.0.1", dev_mode=False) == "key:acme/ann/"
    assert bucket_identity(ann, None, dev_mode=False) != bucket_identity(
        RequestContext(account_id="acme", user_id="ben"), None, dev_mode=False
    )


def test_every_operation_is_classified_from_the_catalog() -> None:
    every = (*OPERATIONS, *chat.OPERATIONS)
    assert set(OPERATION_CLASSES) == {op.name for op in every}
    for op in every:
        found = class_of_operation(op.name)
        if op.http is not None and op.http.method != "GET" and op.name not in READING_POSTS:
            assert found is not None, op.name  # every mutating route is limited
        if op.http is not None and op.http.method == "GET" and op.name != "chat_resume":
            assert found is None, op.name  # reads are not
    assert {"find", "search", "assemble_context", "grep", "glob"} <= {
        n for n, c in OPERATION_CLASSES.items() if c is RouteClass.SEARCH
    }
    assert class_of_operation("add_resource") is RouteClass.IMPORTS
    assert class_of_operation("import_pack") is RouteClass.IMPORTS
    assert class_of_operation("import_mcp_server") is RouteClass.IMPORTS
    assert class_of_operation("write") is RouteClass.WRITES
    assert class_of_operation("link") is RouteClass.WRITES
    assert class_of_operation("chat") is RouteClass.CHAT
    assert {op.name for op in OPERATIONS if op.http is None} >= UNROUTED_WRITES


def test_http_routes_take_the_class_of_their_operation() -> None:
    for op in (*OPERATIONS, *chat.OPERATIONS):
        if op.http is None or "{" in op.http.path:
            continue
        same_route = {
            class_of_operation(o.name)
            for o in (*OPERATIONS, *chat.OPERATIONS)
            if o.http is not None and (o.http.method, o.http.path) == (op.http.method, op.http.path)
        }
        assert class_of_request(op.http.method, op.http.path) in same_route, op.name
    assert class_of_request("DELETE", "/api/v1/sessions/s-1") is RouteClass.WRITES
    assert class_of_request("GET", "/api/v1/sessions/s-1") is None
    assert class_of_request("POST", "/api/v1/sessions/s-1/messages") is RouteClass.WRITES
    assert class_of_request("PUT", "/api/v1/skills/my-skill") is RouteClass.WRITES
    assert TEMP_UPLOAD_PATH == HTTP_TEMP_UPLOAD_PATH
    assert class_of_request("POST", TEMP_UPLOAD_PATH) is RouteClass.IMPORTS
    for verb in ("PUT", "DELETE", "MKCOL", "MOVE"):
        assert class_of_request(verb, "/webdav/resources/a.md") is RouteClass.WRITES
    for verb in ("GET", "PROPFIND", "OPTIONS"):
        assert class_of_request(verb, "/webdav/resources/a.md") is None


def test_every_mcp_tool_is_classified_like_its_operation() -> None:
    tools = build_tools(with_chat=True)
    assert len(tools) >= 20
    for tool in tools:
        operation = TOOL_OPERATIONS.get(tool.name, tool.name)
        assert operation in OPERATION_CLASSES or tool.name in UNLIMITED_TOOLS, tool.name
        read_only = tool.annotations is not None and tool.annotations.read_only_hint
        if not read_only:
            assert class_of_tool(tool.name) is not None, tool.name
    assert class_of_tool("find") is RouteClass.SEARCH
    assert class_of_tool("forget") is RouteClass.WRITES
    assert class_of_tool("add_resource") is RouteClass.IMPORTS
    assert class_of_tool("chat") is RouteClass.CHAT
    assert class_of_tool("read") is None
