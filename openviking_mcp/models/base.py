"""The embedder interface. Every embedder returns L2-normalised float32 vectors."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

__all__ = ["Embedder", "Vector", "Vectors"]

Vector = npt.NDArray[np.float32]
"""Shape ``(dimension,)``."""
Vectors = npt.NDArray[np.float32]
"""Shape ``(n, dimension)``."""


class Embedder(ABC):
    """Turns text into vectors.

    ``model_id`` names the model *and* anything that changes its vectors (provider, variant), so
    an index built with one embedder is never queried with another: e.g.
    ``"local:all-MiniLM-L6-v2-int8"``, ``"hashing:v1-384"`` or
    ``"litellm:openai/text-embedding-3-small"``.
    """

    model_id: str
    dimension: int
    #: Passages are cut to about this many tokens before embedding.
    max_tokens: int = 256

    @abstractmethod
    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Vectors for passages, in input order. ``texts`` may be empty (shape ``(0, dim)``)."""

    async def embed_query(self, text: str) -> Vector:
        """Vector for a search query (same space as documents unless a model says otherwise)."""
        vectors = await self.embed_documents([text])
        return np.asarray(vectors[0], dtype=np.float32)

    def count_tokens(self, text: str) -> int:
        """Approximate token count, used to size passages. Override with a real tokenizer."""
        return max(1, len(text) // 4)

    async def load(self) -> None:
        """Get ready to embed (load a model) now rather than on the first call."""
        return None

    async def close(self) -> None:
        """Release resources (sessions, HTTP clients)."""
        return None
