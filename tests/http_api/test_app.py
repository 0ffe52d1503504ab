"""The HTTP app: health probes and the envelope for framework errors."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from http_api import create_app
from openviking_mcp import OpenVikingConfig, __version__


@pytest.fixture
def client(config: OpenVikingConfig) -> Iterator[TestClient]:
    with TestClient(create_app(config)) as c:
        yield c


def test_health_is_raw_json_without_auth(client: TestClient) -> None:
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "healthy": True,
        "version": __version__,
        "auth_mode": "dev",
        # dev mode: every request acts as the default user, so /health names it
        "account_id": "default",
        "user_id": "default",
        "role": "admin",
        "tasks": {"failed": 0, "failed_since_start": 0, "last_error": None},
    }
    assert float(response.headers["X-Process-Time"]) >= 0
    assert len(response.headers["X-Request-ID"]) >= 8


def test_ready_checks(client: TestClient) -> None:
    response = client.get("/ready")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ready"
    assert body["checks"] == {"filesystem": "ok", "metadata_db": "ok", "disk": "ok", "index": "ok"}


def test_ready_is_503_before_initialisation(config: OpenVikingConfig) -> None:
    app = create_app(config)
    client = TestClient(app)  # no context manager: lifespan never runs
    response = client.get("/ready")
    assert response.status_code == 503
    assert response.json()["reason"] == "initializing"


def test_request_id_is_echoed_when_valid(client: TestClient) -> None:
    assert (
        client.get("/health", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"]
        == "abc-123"
    )
    bad = client.get("/health", headers={"X-Request-ID": "x" * 300}).headers["X-Request-ID"]
    assert bad != "x" * 300


def test_unknown_route_is_enveloped_404(client: TestClient) -> None:
    response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    body = response.json()
    assert body["status"] == "error"
    assert body["error"]["code"] == "NOT_FOUND"
    assert "detail" not in body
    assert isinstance(body["time"], float)


def test_wrong_method_keeps_405_with_a_documented_code(client: TestClient) -> None:
    response = client.post("/health")
    assert response.status_code == 405
    error = response.json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"  # the original says UNKNOWN (undocumented)
    assert error["details"] == {"allowed": ["GET"], "original_http_status_code": 405}
    assert response.headers["allow"] == "GET"
    # every method of the path, from all its routes (GET and POST are two routes here)
    sessions = client.put("/api/v1/sessions")
    assert sessions.status_code == 405
    assert set(sessions.json()["error"]["details"]["allowed"]) >= {"GET", "POST"}


def test_typed_and_unexpected_errors_use_the_envelope(config: OpenVikingConfig) -> None:
    from openviking_mcp.contract.errors import NotFoundError

    app: FastAPI = create_app(config)

    @app.get("/boom/typed")
    async def typed() -> None:
        raise NotFoundError("viking://resources/x", "file")

    @app.get("/boom/crash")
    async def crash() -> None:
        raise RuntimeError("internal detail 42")

    @app.get("/boom/validate")
    async def validate(n: int) -> int:
        return n

    with TestClient(app, raise_server_exceptions=False) as client:
        typed_resp = client.get("/boom/typed")
        assert typed_resp.status_code == 404
        assert typed_resp.json()["error"] == {
            "code": "NOT_FOUND",
            "message": "File not found: viking://resources/x",
            "details": {"type": "file", "resource": "viking://resources/x"},
        }
        crash_resp = client.get("/boom/crash")
        assert crash_resp.status_code == 500
        assert crash_resp.json()["error"]["code"] == "INTERNAL"
        assert "internal detail" not in crash_resp.text
        assert "X-Request-ID" in crash_resp.headers
        bad = client.get("/boom/validate", params={"n": "abc"})
        assert bad.status_code == 400
        error = bad.json()["error"]
        assert error["code"] == "INVALID_ARGUMENT"
        assert error["details"]["validation_errors"][0]["loc"] == ["query", "n"]
        assert error["message"].startswith("Invalid request parameters: query.n:")


def test_openapi_is_served(client: TestClient) -> None:
    spec = client.get("/openapi.json").json()
    assert {"/health", "/ready"} <= set(spec["paths"])
    assert client.get("/docs").status_code == 200
