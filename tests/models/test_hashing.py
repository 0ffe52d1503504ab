"""The numpy-only fallback embedder: deterministic signed feature hashing."""

from __future__ import annotations

import asyncio
import logging
import math
import os
import subprocess
import sys

import numpy as np
import pytest

from openviking_mcp.models.hashing import HashingEmbedder, _bucket


def _cos(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.dot(a, b))


def test_identity_and_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="openviking_mcp.models"):
        emb = HashingEmbedder()
    assert emb.dimension == 384
    assert emb.model_id == "hashing:v1-384"
    warnings = [r for r in caplog.records if r.name == "openviking_mcp.models"]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING
    assert "degraded fallback" in warnings[0].getMessage()
    assert "hybrid keyword search" in warnings[0].getMessage()
    assert HashingEmbedder(128).model_id == "hashing:v1-128"


def test_rejects_bad_dimension() -> None:
    with pytest.raises(ValueError, match="dimension"):
        HashingEmbedder(0)


@pytest.mark.anyio
async def test_shapes_norms_and_empty_input() -> None:
    emb = HashingEmbedder(64)
    empty = await emb.embed_documents([])
    assert empty.shape == (0, 64)
    assert empty.dtype == np.float32
    texts = ["", "   ", "!!!", "hello", "Hello world, hello again."] * 3  # > inline threshold
    vectors = await emb.embed_documents(texts)
    assert vectors.shape == (15, 64)
    assert vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-6)


@pytest.mark.anyio
async def test_deterministic_and_case_insensitive() -> None:
    emb = HashingEmbedder()
    a = await emb.embed_query("Reset My Password")
    b = await emb.embed_query("reset my password")
    np.testing.assert_array_equal(a, b)
    batch = await emb.embed_documents(["x y", "reset my password", "z"] * 3)
    np.testing.assert_array_equal(batch[1], b)
    np.testing.assert_array_equal(batch[4], b)


@pytest.mark.anyio
async def test_shared_words_are_closer() -> None:
    emb = HashingEmbedder()
    query = await emb.embed_query("How do I reset my password?")
    related, unrelated = await emb.embed_documents(
        ["Reset your password from the account page", "The weather in Paris is sunny"]
    )
    assert _cos(query, related) > _cos(query, unrelated) + 0.1
    # Character trigrams relate inflected forms that share no whole word.
    plural, other = await emb.embed_documents(["passwords", "umbrella"])
    single = await emb.embed_query("password")
    assert _cos(single, plural) > 0.3
    assert _cos(single, plural) > _cos(single, other) + 0.2


@pytest.mark.anyio
async def test_word_order_matters_through_bigrams() -> None:
    emb = HashingEmbedder(4096)
    a = await emb.embed_query("dog bites man")
    b = await emb.embed_query("man bites dog")
    assert 0.5 < _cos(a, b) < 0.999


@pytest.mark.anyio
async def test_term_frequency_is_sublinear() -> None:
    dimension = 1 << 16  # wide enough that these few features do not collide
    emb = HashingEmbedder(dimension)
    vector = await emb.embed_query("apple " * 8 + "banana")
    apple_index, apple_sign = _bucket("w:apple", dimension)
    banana_index, banana_sign = _bucket("w:banana", dimension)
    ratio = (vector[apple_index] * apple_sign) / (vector[banana_index] * banana_sign)
    assert ratio == pytest.approx(1.0 + math.log(8), rel=1e-4)


def test_same_vectors_in_another_process() -> None:
    """BLAKE2b, not the salted built-in hash(): other processes must agree bit for bit."""
    code = (
        "import asyncio; from openviking_mcp.models.hashing import HashingEmbedder; "
        "v = asyncio.run(HashingEmbedder(96).embed_query('stable hashing across processes')); "
        "print(v.tobytes().hex())"
    )
    outputs = set()
    for seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": seed}
        out = subprocess.run(
            [sys.executable, "-c", code],
            capture_output=True,
            text=True,
            check=True,
            env=env,
            timeout=60,
        )
        outputs.add(out.stdout.strip())
    assert len(outputs) == 1
    here = asyncio.run(HashingEmbedder(96).embed_query("stable hashing across processes"))
    assert outputs == {here.tobytes().hex()}
