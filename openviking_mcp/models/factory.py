"""Pick the embedder the configuration asks for (``embedding.dense``).

* ``local`` (the default): the bundled all-MiniLM-L6-v2 ONNX model. If it cannot be used (the
  weights package is missing or its checksum is wrong) the store still starts, on the hashing
  embedder, and says so loudly in the log: a broken install should degrade search, not stop
  the server.
* ``hashing``: the numpy-only fallback, on purpose.
* anything else: a litellm provider (``openai``, ``ollama``, ...).
"""

from __future__ import annotations

import logging

from openviking_mcp.config import OpenVikingConfig
from openviking_mcp.contract.errors import ConfigError, FailedPreconditionError
from openviking_mcp.models.base import Embedder
from openviking_mcp.models.hashing import HashingEmbedder
from openviking_mcp.models.litellm_embedder import LiteLLMEmbedder
from openviking_mcp.models.local_onnx import LocalMiniLMEmbedder

__all__ = ["LOCAL_MODEL_NAMES", "build_embedder"]

logger = logging.getLogger("openviking_mcp.models")

LOCAL_MODEL_NAMES = frozenset(
    {
        "all-MiniLM-L6-v2",
        "all-minilm-l6-v2",
        "all-MiniLM-L6-v2-int8",
        "sentence-transformers/all-MiniLM-L6-v2",
    }
)
"""Names ``provider: local`` accepts for ``model``: there is one local model."""

_DEFAULT_HASHING_DIMENSION = 384


def _build_local(config: OpenVikingConfig) -> Embedder:
    dense = config.embedding.dense
    if dense.model not in LOCAL_MODEL_NAMES:
        raise ConfigError(
            f"'embedding.dense.model': provider 'local' only offers all-MiniLM-L6-v2, not "
            f"{dense.model!r} (use a litellm provider such as 'ollama' for other models)",
            {"key": "embedding.dense.model"},
        )
    local = LocalMiniLMEmbedder(batch_size=dense.batch_size)
    if dense.dimension is not None and dense.dimension != local.dimension:
        raise ConfigError(
            f"'embedding.dense.dimension': the local model has dimension {local.dimension}, "
            f"not {dense.dimension}",
            {"key": "embedding.dense.dimension"},
        )
    try:
        local.verify()
    except FailedPreconditionError as exc:
        logger.error(
            "The local embedding model cannot be used, falling back to the hashing embedder "
            "(much weaker semantic search): %s",
            exc.message,
        )
        return HashingEmbedder(_DEFAULT_HASHING_DIMENSION)
    return local


def build_embedder(config: OpenVikingConfig) -> Embedder:
    """The embedder for ``config.embedding.dense``; nothing is loaded or called yet.

    Raises :class:`ConfigError` for a configuration that cannot work (an unknown local model,
    a dimension the local model does not have).
    """
    dense = config.embedding.dense
    provider = (dense.provider or "local").strip().lower()
    if provider == "local":
        return _build_local(config)
    if provider == "hashing":
        return HashingEmbedder(dense.dimension or _DEFAULT_HASHING_DIMENSION)
    return LiteLLMEmbedder(dense, max_retries=config.embedding.max_retries)
