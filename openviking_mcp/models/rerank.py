"""Optional reranking through litellm (Cohere-style rerank APIs, any provider litellm knows).

A reranker failure never fails a search: the hybrid scores are kept and a warning logged.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from openviking_mcp.config import RerankConfig
from openviking_mcp.models._litellm import import_litellm
from openviking_mcp.models.llm import model_string

__all__ = ["Reranker"]

logger = logging.getLogger("openviking_mcp.models")


class Reranker:
    def __init__(self, config: RerankConfig) -> None:
        if not config.model:
            raise ValueError("Reranker needs rerank.model")
        self.config = config
        self.model = model_string(config.provider, config.model)

    async def scores(self, query: str, documents: Sequence[str]) -> list[float] | None:
        """Relevance in [0, 1] per document (input order), or ``None`` if reranking failed."""
        if not documents:
            return []
        litellm = import_litellm()

        kwargs: dict[str, Any] = {
            "model": self.model,
            "query": query,
            "documents": list(documents),
            "top_n": len(documents),
        }
        if self.config.api_base:
            kwargs["api_base"] = self.config.api_base
        if self.config.api_key:
            kwargs["api_key"] = self.config.api_key
        try:
            response = await litellm.arerank(**kwargs)
        except Exception as exc:  # provider errors of every kind: keep hybrid scores
            logger.warning("rerank with %s failed, keeping hybrid scores: %s", self.model, exc)
            return None
        out = [0.0] * len(documents)
        for item in response.results or []:
            index = int(item["index"])
            if 0 <= index < len(out):
                out[index] = max(0.0, min(1.0, float(item["relevance_score"])))
        return out
