"""Embeddings from any provider litellm knows: OpenAI and compatible servers, Ollama, and more.

litellm is imported on first use, not with this module: it takes seconds to import and the
default configuration (the local model) never needs it. Before that first import,
``LITELLM_LOCAL_MODEL_COST_MAP`` is defaulted to ``True`` so litellm reads its bundled price
table instead of fetching one from the internet (the store must start offline).

``openai/...`` models (OpenAI and OpenAI-compatible servers) skip litellm: the same request goes
out over plain HTTP (:mod:`openviking_mcp.models.openai_http`), which saves milliseconds of CPU
per call and never imports litellm. ``model_id`` stays ``litellm:openai/...`` either way, so an
index built before keeps matching.

Retries: each call is retried ``max_retries`` times on transient failures (5xx, 408, 429,
connection errors) with exponential backoff. Note that litellm's own providers also let their
SDKs retry a couple of times inside each call; that is litellm's policy and cannot be switched
off per call.
"""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Sequence
from typing import Any

import numpy as np

from openviking_mcp.config import EmbeddingModelConfig
from openviking_mcp.contract.errors import EmbeddingFailedError
from openviking_mcp.models._litellm import import_litellm
from openviking_mcp.models.base import Embedder, Vectors
from openviking_mcp.models.openai_http import OPENAI_BASE, OpenAIEmbeddings

__all__ = ["LiteLLMEmbedder"]

logger = logging.getLogger("openviking_mcp.models")

_PROBE_TEXT = "dimension probe"
_MAX_BACKOFF = 20.0
_OPENAI_KEY = "OPENAI_API_KEY"
_PLACEHOLDER_KEY = "no-key"
"""Sent to an OpenAI-compatible ``api_base`` configured without a key (local servers need none),
so the OpenAI SDK neither refuses to call nor sends ``$OPENAI_API_KEY`` to a third party."""


def _model_string(provider: str | None, model: str) -> str:
    """litellm's ``provider/model`` form; a model that already names a provider is kept."""
    if provider and "/" not in model:
        return f"{provider}/{model}"
    return model


def _field(obj: Any, name: str) -> Any:
    """``obj[name]`` or ``obj.name``: litellm returns dicts or objects depending on provider."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _is_transient(exc: BaseException) -> bool:
    """Worth retrying: server errors, rate limits, timeouts and failures with no HTTP status."""
    status = getattr(exc, "status_code", None)
    if isinstance(status, int):
        return status >= 500 or status in (408, 429)
    return True


class LiteLLMEmbedder(Embedder):
    """An embedding model reached through ``litellm.aembedding``.

    ``dimension`` comes from the configuration when set (and every response is checked against
    it); otherwise it is learned from the first response, or up front with :meth:`probe`. Until
    then it is ``0``.
    """

    def __init__(
        self,
        config: EmbeddingModelConfig,
        *,
        max_retries: int = 3,
        timeout: float = 60.0,
        retry_base_delay: float = 0.5,
    ) -> None:
        if max_retries < 0:
            raise ValueError("max_retries must not be negative")
        self.config = config
        self.model = _model_string(config.provider, config.model)
        self.model_id = f"litellm:{self.model}"
        self.dimension = config.dimension or 0
        self.max_retries = max_retries
        self.timeout = timeout
        self.retry_base_delay = retry_base_delay
        self._dimension_configured = config.dimension is not None
        self._direct = self._direct_transport()

    def _direct_transport(self) -> OpenAIEmbeddings | None:
        """``openai/...`` models are called over plain HTTP, not through litellm (the same
        request, for a fraction of the CPU); other providers go through litellm."""
        if not self.model.startswith("openai/"):
            return None
        cfg = self.config
        key = cfg.api_key or (_PLACEHOLDER_KEY if cfg.api_base else os.environ.get(_OPENAI_KEY))
        return OpenAIEmbeddings(
            cfg.api_base or OPENAI_BASE,
            api_key=key,
            headers=cfg.extra_headers,
            timeout=self.timeout,
        )

    async def _send(self, texts: list[str]) -> Any:
        if self._direct is not None:
            return await self._direct.embed(self.model.split("/", 1)[1], texts)
        litellm = import_litellm()
        return await litellm.aembedding(**self._call_kwargs(texts))

    def _call_kwargs(self, texts: list[str]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self.model, "input": texts, "timeout": self.timeout}
        if self.config.api_base:
            kwargs["api_base"] = self.config.api_base
        if self.config.api_key:
            kwargs["api_key"] = self.config.api_key
        elif self.config.api_base and self.model.startswith("openai/"):
            kwargs["api_key"] = _PLACEHOLDER_KEY
        if self.config.extra_headers:
            kwargs["extra_headers"] = dict(self.config.extra_headers)
        return kwargs

    def _redact(self, message: str) -> str:
        key = self.config.api_key
        if key:
            message = message.replace(key, "***")
        return message[:500]

    def _failure(self, message: str) -> EmbeddingFailedError:
        return EmbeddingFailedError(
            f"Embedding with {self.model} failed: {self._redact(message)}",
            {"embedding_model": self.model, "embedding_api_base": self.config.api_base},
        )

    async def _call(self, texts: list[str]) -> Any:
        """One batch, retried on transient errors with exponential backoff."""
        for attempt in range(self.max_retries + 1):
            try:
                return await self._send(texts)
            except Exception as exc:  # litellm raises many provider-specific types
                if attempt >= self.max_retries or not _is_transient(exc):
                    raise self._failure(str(exc) or type(exc).__name__) from None
                delay = min(self.retry_base_delay * 2.0**attempt, _MAX_BACKOFF)
                logger.warning(
                    "Embedding call to %s failed (attempt %d of %d), retrying in %.1fs: %s",
                    self.model,
                    attempt + 1,
                    self.max_retries + 1,
                    delay,
                    self._redact(str(exc))[:200],
                )
                await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    def _vectors(self, response: Any, expected: int) -> Vectors:
        """Response rows in input order, checked (count, dimension, finite) and normalised."""
        items = list(_field(response, "data") or [])
        if len(items) != expected:
            raise self._failure(f"expected {expected} vectors, got {len(items)}")
        if all(isinstance(_field(item, "index"), int) for item in items):
            items.sort(key=lambda item: int(_field(item, "index")))
        try:
            matrix = np.asarray([_field(item, "embedding") for item in items], dtype=np.float32)
        except (TypeError, ValueError) as exc:
            raise self._failure(f"malformed embedding response ({exc})") from None
        if matrix.ndim != 2 or matrix.shape[1] == 0:
            raise self._failure("the response holds no usable vectors")
        got = int(matrix.shape[1])
        if self.dimension == 0:
            self.dimension = got
        elif got != self.dimension:
            source = "configured" if self._dimension_configured else "seen before"
            raise self._failure(f"vectors have dimension {got}, {source} is {self.dimension}")
        if not np.isfinite(matrix).all():
            raise self._failure("the response holds non-finite values")
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return np.asarray(matrix / np.maximum(norms, 1e-12), dtype=np.float32)

    async def embed_documents(self, texts: Sequence[str]) -> Vectors:
        """Embed in batches of ``batch_size``, one batch at a time, rows in input order."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        batches: list[Vectors] = []
        size = self.config.batch_size
        for start in range(0, len(texts), size):
            batch = list(texts[start : start + size])
            batches.append(self._vectors(await self._call(batch), len(batch)))
        return np.concatenate(batches, axis=0)

    async def close(self) -> None:
        if self._direct is not None:
            await self._direct.aclose()

    async def probe(self) -> int:
        """Embed a short text to learn the dimension, or check the configured one; returns it."""
        await self.embed_documents([_PROBE_TEXT])
        return self.dimension
