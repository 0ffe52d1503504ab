"""LiteLLMEmbedder against a fake OpenAI-compatible server on 127.0.0.1 (no other network)."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler
from typing import Any

import numpy as np
import pytest

from openviking_mcp.config import EmbeddingModelConfig
from openviking_mcp.contract.errors import EmbeddingFailedError
from openviking_mcp.models.litellm_embedder import LiteLLMEmbedder
from tests.fakes.quiet_http import QuietHTTPServer
from tests.servers import free_port

API_KEY = "sk-test-secret-123"


def _fake_vector(text: str, dimension: int) -> list[float]:
    """Deterministic, deliberately not normalised (norm about 3 * sqrt(dimension))."""
    seed = int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")
    return (np.random.default_rng(seed).normal(size=dimension) * 3.0).tolist()


class _FakeServer:
    """``POST /v1/embeddings``; the requested model name picks the behaviour.

    ``dim-N``: vectors of dimension N (default 8). ``reversed``: rows returned in reverse order
    with their ``index``. ``fail``: HTTP 500. ``bad``: HTTP 400.
    """

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                headers = {k.lower(): v for k, v in self.headers.items()}
                fake.requests.append({"path": self.path, "headers": headers, **body})
                model = str(body.get("model", ""))
                if self.path != "/v1/embeddings":
                    self._reply(404, {"error": {"message": "no such route"}})
                elif model == "fail":
                    self._reply(500, {"error": {"message": "upstream exploded"}})
                elif model == "bad":
                    self._reply(400, {"error": {"message": "bad input"}})
                else:
                    dim = int(model.split("-")[1]) if model.startswith("dim-") else 8
                    rows = [
                        {"object": "embedding", "index": i, "embedding": _fake_vector(t, dim)}
                        for i, t in enumerate(body["input"])
                    ]
                    if model == "reversed":
                        rows.reverse()
                    usage = {"prompt_tokens": 1, "total_tokens": 1}
                    self._reply(200, {"object": "list", "data": rows, "usage": usage})

            def _reply(self, status: int, payload: dict[str, Any]) -> None:
                data = json.dumps(payload).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, format: str, *args: Any) -> None:
                return None

        self.server = QuietHTTPServer(("127.0.0.1", 0), Handler)
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}/v1"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture(scope="module")
def fake_server() -> Iterator[_FakeServer]:
    server = _FakeServer()
    yield server
    server.stop()


@pytest.fixture
def server(fake_server: _FakeServer) -> _FakeServer:
    fake_server.requests.clear()
    return fake_server


def _embedder(server: _FakeServer, model: str = "dim-8", **extra: Any) -> LiteLLMEmbedder:
    options = {"max_retries": extra.pop("max_retries", 2), "retry_base_delay": 0.01}
    config = EmbeddingModelConfig(
        provider="openai", model=model, api_base=server.base, api_key=API_KEY, **extra
    )
    return LiteLLMEmbedder(config, **options)


def _unit(vector: list[float]) -> np.ndarray:
    array = np.asarray(vector, dtype=np.float64)
    return array / np.linalg.norm(array)


def test_model_string_and_id() -> None:
    cases = {
        ("openai", "text-embedding-3-small"): "openai/text-embedding-3-small",
        ("ollama", "nomic-embed-text"): "ollama/nomic-embed-text",
        ("openai", "ollama/nomic-embed-text"): "ollama/nomic-embed-text",
    }
    for (provider, model), expected in cases.items():
        emb = LiteLLMEmbedder(EmbeddingModelConfig(provider=provider, model=model))
        assert emb.model == expected
        assert emb.model_id == f"litellm:{expected}"
        assert emb.dimension == 0


@pytest.mark.anyio
async def test_batches_order_and_normalisation(server: _FakeServer) -> None:
    texts = [f"text number {i}" for i in range(7)]
    emb = _embedder(server, batch_size=3, extra_headers={"X-Custom": "yes"})
    vectors = await emb.embed_documents(texts)
    assert [len(r["input"]) for r in server.requests] == [3, 3, 1]
    assert [t for r in server.requests for t in r["input"]] == texts
    assert all(r["model"] == "dim-8" for r in server.requests)
    headers = server.requests[0]["headers"]
    assert headers["authorization"] == f"Bearer {API_KEY}"
    assert headers["x-custom"] == "yes"
    assert vectors.shape == (7, 8)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)
    for text, row in zip(texts, vectors, strict=True):
        np.testing.assert_allclose(row, _unit(_fake_vector(text, 8)), atol=1e-6)
    assert emb.dimension == 8  # learned from the first response


@pytest.mark.anyio
async def test_rows_are_put_back_in_input_order(server: _FakeServer) -> None:
    texts = ["first", "second", "third"]
    vectors = await _embedder(server, model="reversed").embed_documents(texts)
    for text, row in zip(texts, vectors, strict=True):
        np.testing.assert_allclose(row, _unit(_fake_vector(text, 8)), atol=1e-6)


@pytest.mark.anyio
async def test_empty_input_makes_no_call(server: _FakeServer) -> None:
    vectors = await _embedder(server, dimension=8).embed_documents([])
    assert vectors.shape == (0, 8)
    assert server.requests == []


@pytest.mark.anyio
async def test_probe_learns_and_checks_dimension(server: _FakeServer) -> None:
    learner = _embedder(server, model="dim-12")
    assert learner.dimension == 0
    assert await learner.probe() == 12
    assert learner.dimension == 12
    query = await learner.embed_query("hello")
    assert query.shape == (12,)
    assert await _embedder(server, model="dim-12", dimension=12).probe() == 12


@pytest.mark.anyio
async def test_wrong_dimension_is_an_error(server: _FakeServer) -> None:
    emb = _embedder(server, model="dim-12", dimension=16)
    with pytest.raises(EmbeddingFailedError, match="dimension 12, configured is 16"):
        await emb.embed_documents(["a", "b"])
    assert len(server.requests) == 1  # not retried: asking again would not help


@pytest.mark.anyio
async def test_server_error_is_retried_then_fails(server: _FakeServer) -> None:
    emb = _embedder(server, model="fail", max_retries=1)
    with pytest.raises(EmbeddingFailedError) as info:
        await emb.embed_documents(["doomed"])
    # Our two attempts (each of which the OpenAI SDK inside litellm may itself retry).
    assert len(server.requests) >= 2
    assert "upstream exploded" in info.value.message
    assert API_KEY not in info.value.message
    assert API_KEY not in json.dumps(info.value.to_dict())
    assert info.value.code == "EMBEDDING_FAILED"


@pytest.mark.anyio
async def test_client_error_is_not_retried(server: _FakeServer) -> None:
    emb = _embedder(server, model="bad", max_retries=3)
    with pytest.raises(EmbeddingFailedError, match="bad input"):
        await emb.embed_documents(["x"])
    assert len(server.requests) == 1


@pytest.mark.anyio
async def test_compatible_server_without_key(server: _FakeServer) -> None:
    config = EmbeddingModelConfig(provider="openai", model="dim-4", api_base=server.base)
    vectors = await LiteLLMEmbedder(config).embed_documents(["no key needed"])
    assert vectors.shape == (1, 4)
    assert server.requests[0]["headers"]["authorization"] == "Bearer no-key"


def test_import_does_not_load_litellm() -> None:
    code = (
        "import sys; from openviking_mcp.config import EmbeddingModelConfig; "
        "from openviking_mcp.models.litellm_embedder import LiteLLMEmbedder; "
        "LiteLLMEmbedder(EmbeddingModelConfig(provider='openai', model='m')); "
        "print('litellm' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"


def test_openai_models_are_called_without_litellm(server: _FakeServer) -> None:
    code = (
        "import asyncio, sys; from openviking_mcp.config import EmbeddingModelConfig; "
        "from openviking_mcp.models.litellm_embedder import LiteLLMEmbedder; "
        f"cfg = EmbeddingModelConfig(provider='openai', model='dim-4', api_base={server.base!r}, "
        "extra_headers={'X-Team': 'core'}); "
        "print(asyncio.run(LiteLLMEmbedder(cfg).embed_documents(['a', 'b'])).shape, "
        "'litellm' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.split() == ["(2,", "4)", "False"]
    assert server.requests[0]["headers"]["x-team"] == "core"
    assert server.requests[0]["model"] == "dim-4"


@pytest.mark.anyio
async def test_unreachable_server_is_retried_then_fails() -> None:
    config = EmbeddingModelConfig(
        provider="openai", model="m", api_base=f"http://127.0.0.1:{free_port()}/v1"
    )
    emb = LiteLLMEmbedder(config, max_retries=2, retry_base_delay=0.01)
    with pytest.raises(EmbeddingFailedError, match="ConnectError"):
        await emb.embed_documents(["x"])
    await emb.close()
