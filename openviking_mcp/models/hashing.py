"""The degraded fallback embedder: feature hashing with numpy only.

Used when the local ONNX model cannot be loaded (or when asked for with ``provider: hashing``),
so indexing and search keep working on any machine. Its vectors only capture shared words,
word pairs and character trigrams, not meaning; retrieval quality then rests on the hybrid
keyword side of search.

Each text becomes a bag of features (lower-cased word unigrams and bigrams, and the character
trigrams of each word), each feature is hashed with BLAKE2b into one of ``dimension`` buckets with
a sign taken from the same hash (signed hashing keeps collisions from adding up in one
direction), counts are damped with ``1 + log(tf)``, and the result is L2-normalised. BLAKE2b,
unlike :func:`hash`, is not salted per process, so vectors are identical across processes and
machines, which an on-disk index needs.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import math
import re
from collections import Counter
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

import numpy as np
import numpy.typing as npt

from openviking_mcp.models.base import Embedder, Vectors

__all__ = ["HashingEmbedder"]

logger = logging.getLogger("openviking_mcp.models")

_WORD = re.compile(r"\w+", re.UNICODE)
_EMPTY_FEATURE = "\x00empty"
"""Stands in for a text with no words, so its vector still has norm 1."""

# Relative weights of the feature kinds. Whole words carry the most signal; bigrams add word
# order; trigrams (many per word) are weighted down so they catch spelling variants
# ("password"/"passwords") without drowning the words themselves.
_UNIGRAM_WEIGHT = 1.0
_BIGRAM_WEIGHT = 0.7
_TRIGRAM_WEIGHT = 0.3
_INLINE_TEXTS = 4
"""Up to this many texts are embedded on the event loop; more go to a worker thread."""


@lru_cache(maxsize=1 << 16)
def _bucket(feature: str, dimension: int) -> tuple[int, float]:
    """The bucket and sign of one feature: stable across processes (unsalted BLAKE2b)."""
    digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
    value = int.from_bytes(digest, "little")
    sign = 1.0 if value >> 63 == 0 else -1.0
    return value % dimension, sign


def _features(text: str) -> Counter[tuple[str, float]]:
    """Feature counts of ``text``, keyed by (feature string, weight of its kind)."""
    words = _WORD.findall(text.lower())
    counts: Counter[tuple[str, float]] = Counter()
    for word in words:
        counts[("w:" + word, _UNIGRAM_WEIGHT)] += 1
        padded = f"<{word}>"
        for i in range(len(padded) - 2):
            counts[("c:" + padded[i : i + 3], _TRIGRAM_WEIGHT)] += 1
    for first, second in pairwise(words):
        counts[(f"b:{first} {second}", _BIGRAM_WEIGHT)] += 1
    if not counts:
        counts[(_EMPTY_FEATURE, _UNIGRAM_WEIGHT)] = 1
    return counts


class HashingEmbedder(Embedder):
    """Signed feature hashing of words, word pairs and character trigrams (no model needed)."""

    max_tokens = 256

    def __init__(self, dimension: int = 384) -> None:
        if dimension < 1:
            raise ValueError("dimension must be at least 1")
        self.dimension = dimension
        self.model_id = f"hashing:v1-{dimension}"
        logger.warning(
            "Using the hashing embedder (%s): a degraded fallback whose vectors match shared "
            "words, not meaning; hybrid keyword search carries retrieval quality.",
            self.model_id,
        )

    def _embed_one(self, text: str) -> npt.NDArray[np.float32]:
        indices: list[int] = []
        values: list[float] = []
        for (feature, weight), tf in _features(text).items():
            index, sign = _bucket(feature, self.dimension)
            indices.append(index)
            values.append(sign * weight * (1.0 + math.log(tf)))
        vector = np.bincount(indices, weights=values, minlength=self.dimension)
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:
            # Every feature cancelled out in the buckets: use the empty-text vector instead.
            index, sign = _bucket(_EMPTY_FEATURE, self.dimension)
            vector[index] = sign
            norm = 1.0
        return np.asarray(vector / norm, dtype=np.float32)

    def _embed_sync(self, texts: Sequence[str]) -> Vectors:
        out = np.zeros((len(texts), self.dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            out[row] = self._embed_one(text)
        return out

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """One row per text, in input order.

        A few texts (a query: well under a millisecond) are embedded inline; larger batches (about
        2 ms per 100-word passage) go to a worker thread so the event loop is not held up.
        """
        if len(texts) <= _INLINE_TEXTS:
            return self._embed_sync(texts)
        return await asyncio.to_thread(self._embed_sync, list(texts))
