"""Helpers shared by the route tests: an app config, api-key users, envelope checks."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig, RequestContext

__all__ = [
    "ROOT_KEY",
    "Keyed",
    "api_key",
    "config_for",
    "error_of",
    "keyed_client",
    "result_of",
]

ROOT_KEY = "root-key-for-route-tests"
#: A client and the headers of ann (ADMIN of acme) and ben (USER of acme).
Keyed = tuple[TestClient, dict[str, str], dict[str, str]]


def config_for(workspace: Path, **server: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "server": server,
        }
    )


@contextmanager
def keyed_client(workspace: Path) -> Iterator[Keyed]:
    """api_key mode with ann (ADMIN of acme) and ben (USER of acme)."""
    with TestClient(create_app(config_for(workspace, root_api_key=ROOT_KEY))) as c:
        service: ContextService = c.app.state.service  # type: ignore[attr-defined]
        assert c.portal is not None
        ann = c.portal.call(service.create_account, RequestContext.root(), "acme", "ann")
        ann_ctx = c.portal.call(service.auth.resolve_api_key, ann["user_key"])
        ben = c.portal.call(service.create_user, ann_ctx, "acme", "ben")
        yield c, {"X-API-Key": ann["user_key"]}, {"Authorization": f"Bearer {ben['user_key']}"}


def result_of(response: Any, status: int = 200) -> Any:
    """The ``result`` of a success envelope (and the envelope's exact shape: listings carry
    ``has_more`` next to ``result``)."""
    assert response.status_code == status, response.text
    body = response.json()
    listing = response.request.url.path in ("/api/v1/fs/ls", "/api/v1/fs/tree")
    assert set(body) == {"status", "result", "time"} | ({"has_more"} if listing else set())
    assert not listing or isinstance(body["has_more"], bool)
    assert body["status"] == "ok"
    assert isinstance(body["time"], float)
    return body["result"]


def error_of(response: Any, status: int, code: str | None = None) -> dict[str, Any]:
    """The ``error`` of an error envelope with this status (and code, when given)."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["status"] == "error"
    error: dict[str, Any] = body["error"]
    assert set(error) == {"code", "message", "details"}
    if code is not None:
        assert error["code"] == code
    return error


def api_key(key: str) -> dict[str, str]:
    """The header carrying an API key."""
    return {"X-API-Key": key}
