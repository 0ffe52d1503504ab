"""Starting in the background: the probes answer at once, other requests wait for the start
(up to ``server.startup_wait_seconds``), and ``serve``'s early app answers before the real app
is even built."""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from http_api.app import create_app
from http_api.starting import APPLICATION, StartingApp
from openviking_mcp import OpenVikingConfig
from openviking_mcp.models.base import Embedder, Vectors
from openviking_mcp.service import ContextService
from openviking_mcp.startup import BUNDLED_SKILLS, EMBEDDING_MODEL, STORAGE

LS = "/api/v1/fs/ls?uri=viking://resources"
#: Generous: how long a test waits for something that should happen promptly.
PATIENCE = 30.0


class GatedEmbedder(Embedder):
    """Loads only once ``released`` is set (a thread event: the app runs on another thread)."""

    model_id = "test:gated-8"
    dimension = 8

    def __init__(self) -> None:
        self.released = threading.Event()

    async def load(self) -> None:
        await asyncio.to_thread(self.released.wait, PATIENCE)

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        return np.full((len(texts), self.dimension), 8**-0.5, dtype=np.float32)


def _config(workspace: Path, wait_seconds: float = 60.0) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "server": {"startup_wait_seconds": wait_seconds},
        }
    )


def _wait_ready(client: TestClient) -> dict[str, Any]:
    done = threading.Event()
    while not done.wait(0.05):
        response = client.get("/ready")
        if response.status_code == 200:
            body: dict[str, Any] = response.json()
            return body
    raise AssertionError("unreachable")


@pytest.fixture
def embedder() -> Iterator[GatedEmbedder]:
    gated = GatedEmbedder()
    yield gated
    gated.released.set()  # never leave a loader thread waiting


def _app(workspace: Path, embedder: Embedder, wait_seconds: float = 60.0) -> FastAPI:
    service = ContextService(_config(workspace, wait_seconds), embedder=embedder)
    return create_app(service=service, background_start=True, install_bundled_skills=True)


def test_probes_answer_while_the_model_loads(workspace: Path, embedder: GatedEmbedder) -> None:
    with TestClient(_app(workspace, embedder)) as client:
        health = client.get("/health")
        assert health.status_code == 200
        body = health.json()
        assert body["status"] == "ok"
        assert body["healthy"] is False
        assert EMBEDDING_MODEL in body["loading"]
        ready = client.get("/ready")
        assert ready.status_code == 503
        assert ready.json()["reason"] == "starting"
        assert ready.json()["loading"][-2:] == [EMBEDDING_MODEL, BUNDLED_SKILLS]

        embedder.released.set()
        assert _wait_ready(client)["checks"]["index"] == "ok"
        health = client.get("/health").json()
        assert health["healthy"] is True
        assert "loading" not in health
        # the bundled skills were installed in the background
        skills = client.get("/api/v1/fs/ls?uri=viking://agent/skills").json()["result"]
        assert any(entry["uri"].rstrip("/").endswith("/use-openviking") for entry in skills)


def test_a_request_waits_for_the_start(workspace: Path, embedder: GatedEmbedder) -> None:
    with TestClient(_app(workspace, embedder)) as client:
        answers: list[Any] = []
        request = threading.Thread(target=lambda: answers.append(client.get(LS)))
        request.start()
        request.join(0.3)
        assert request.is_alive()  # held: the model is still loading
        assert answers == []
        embedder.released.set()
        request.join(PATIENCE)
        assert not request.is_alive()
        assert answers[0].status_code == 200
        assert answers[0].json()["status"] == "ok"


def test_a_request_past_the_bound_is_unavailable(workspace: Path, embedder: GatedEmbedder) -> None:
    with TestClient(_app(workspace, embedder, wait_seconds=0.2)) as client:
        response = client.get(LS)
        assert response.status_code == 503
        body = response.json()
        assert body["status"] == "error"
        assert body["error"]["code"] == "UNAVAILABLE"
        assert body["error"]["details"]["reason"] == "starting"
        assert EMBEDDING_MODEL in body["error"]["details"]["loading"]
        assert "still starting" in body["error"]["message"]
        embedder.released.set()
        _wait_ready(client)
        assert client.get(LS).status_code == 200


def test_a_failed_start_is_reported(workspace: Path, embedder: GatedEmbedder) -> None:
    workspace.parent.mkdir(parents=True, exist_ok=True)
    workspace.write_text("a file where the workspace folder should be")
    embedder.released.set()
    with TestClient(_app(workspace, embedder)) as client:
        ready = _wait_for(client, "/ready", lambda r: r.json().get("reason") == "start_failed")
        assert ready.status_code == 503
        response = client.get(LS)
        assert response.status_code == 503
        assert response.json()["error"]["details"] == {"reason": "start_failed"}
        health = client.get("/health")
        assert health.status_code == 200
        assert health.json()["healthy"] is False


def _wait_for(client: TestClient, path: str, check: Any) -> Any:
    done = threading.Event()
    while not done.wait(0.05):
        response = client.get(path)
        if check(response):
            return response
    raise AssertionError("unreachable")


# -- serve's early app -------------------------------------------------------------------


def _starting(workspace: Path, built: threading.Event, wait_seconds: float = 60.0) -> StartingApp:
    config = _config(workspace, wait_seconds)

    def build() -> FastAPI:
        built.wait(PATIENCE)
        return create_app(config, background_start=True)

    return StartingApp(
        build, auth_mode="dev", loading=[STORAGE, EMBEDDING_MODEL], wait_seconds=wait_seconds
    )


def test_the_early_app_answers_before_the_app_is_built(workspace: Path) -> None:
    built = threading.Event()
    try:
        with TestClient(_starting(workspace, built)) as client:
            health = client.get("/health")
            assert health.status_code == 200
            assert health.json()["healthy"] is False
            assert health.json()["loading"] == [APPLICATION, STORAGE, EMBEDDING_MODEL]
            ready = client.get("/ready")
            assert ready.status_code == 503
            assert ready.json()["loading"][0] == APPLICATION

            answers: list[Any] = []
            request = threading.Thread(target=lambda: answers.append(client.get(LS)))
            request.start()
            request.join(0.3)
            assert request.is_alive()
            built.set()
            request.join(PATIENCE)
            assert answers[0].status_code == 200
            assert _wait_ready(client)["status"] == "ready"
    finally:
        built.set()


def test_the_early_app_gives_up_past_the_bound(workspace: Path) -> None:
    built = threading.Event()
    try:
        with TestClient(_starting(workspace, built, wait_seconds=0.2)) as client:
            response = client.get(LS)
            assert response.status_code == 503
            error = response.json()["error"]
            assert error["code"] == "UNAVAILABLE"
            assert error["details"]["loading"][0] == APPLICATION
            built.set()
            assert _wait_ready(client)["status"] == "ready"
    finally:
        built.set()


def test_the_early_app_reports_a_build_failure(workspace: Path) -> None:
    def build() -> FastAPI:
        raise RuntimeError("cannot build")

    app = StartingApp(build, auth_mode="dev", loading=[], wait_seconds=60)
    with TestClient(app) as client:
        ready = _wait_for(client, "/ready", lambda r: r.json().get("reason") == "start_failed")
        assert "cannot build" in ready.json()["error"]
        response = client.get(LS)
        assert response.status_code == 503
        assert response.json()["error"]["details"] == {"reason": "start_failed"}
        health = client.get("/health").json()
        assert health["healthy"] is False
        assert "cannot build" in health["problems"][0]


def test_the_early_app_loads_nothing_heavy() -> None:
    """What ``serve`` imports before the port opens: no web framework, storage or model."""
    code = (
        "import sys, json, openviking_mcp.cli._server, http_api.serving, http_api.starting, "
        "openviking_mcp.startup; print(json.dumps(sorted({m.split('.')[0] for m in sys.modules})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    loaded = set(json.loads(done.stdout))
    heavy = {"fastapi", "starlette", "lancedb", "pyarrow", "numpy", "onnxruntime", "mcp"}
    assert loaded & heavy == set()
    assert "uvicorn" in loaded  # the probe sees what it imported
