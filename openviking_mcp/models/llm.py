"""The LLM behind summaries, query expansion and memory extraction, reached through litellm.

litellm is imported on first use: it takes seconds to import, and with no ``vlm`` configured it
is never needed.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from openviking_mcp.config import VLMConfig
from openviking_mcp.contract.errors import VLMFailedError
from openviking_mcp.models._litellm import import_litellm

__all__ = ["LLM", "USAGE_KEYS", "metered_usage", "model_string"]

logger = logging.getLogger("openviking_mcp.models")


#: The token counters :func:`metered_usage` adds up (the original's ``llm_token_usage``).
USAGE_KEYS = (
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "cached_tokens",
    "reasoning_tokens",
)
_METER: ContextVar[dict[str, int] | None] = ContextVar("openviking_llm_usage", default=None)


@contextlib.contextmanager
def metered_usage() -> Iterator[dict[str, int]]:
    """A dict that adds up the token usage of every :meth:`LLM.complete` made inside the block
    (including tasks it starts), as the provider reports it (nothing reported: zeros)."""
    total = dict.fromkeys(USAGE_KEYS, 0)
    token = _METER.set(total)
    try:
        yield total
    finally:
        _METER.reset(token)


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0


def _meter(response: object) -> None:
    """Add ``response.usage`` to the open meter, if any."""
    total = _METER.get()
    usage = getattr(response, "usage", None)
    if total is None or usage is None:
        return
    prompt_details = getattr(usage, "prompt_tokens_details", None)
    completion_details = getattr(usage, "completion_tokens_details", None)
    found = {
        "prompt_tokens": _count(getattr(usage, "prompt_tokens", 0)),
        "completion_tokens": _count(getattr(usage, "completion_tokens", 0)),
        "total_tokens": _count(getattr(usage, "total_tokens", 0)),
        "cached_tokens": _count(getattr(prompt_details, "cached_tokens", 0)),
        "reasoning_tokens": _count(getattr(completion_details, "reasoning_tokens", 0)),
    }
    for name, value in found.items():
        total[name] += value


def model_string(provider: str | None, model: str) -> str:
    """litellm's ``provider/model`` form (a model already containing ``/`` is kept)."""
    if provider and "/" not in model and provider not in ("litellm",):
        return f"{provider}/{model}"
    return model


class LLM:
    def __init__(self, config: VLMConfig) -> None:
        if not config.model:
            raise ValueError("LLM needs vlm.model")
        self.config = config
        self.model = model_string(config.provider, config.model)

    @property
    def model_id(self) -> str:
        return f"litellm:{self.model}"

    async def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int | None = None,
        json_mode: bool = False,
    ) -> str:
        """One chat completion; transient failures retry, then :class:`VLMFailedError`."""
        litellm = import_litellm()

        messages: list[dict[str, str]] = []
        if system:
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": prompt})
        kwargs: dict[str, Any] = {
            "model": self.model,
            "messages": messages,
            "temperature": self.config.temperature,
            "timeout": self.config.timeout,
        }
        if self.config.api_base:
            kwargs["api_base"] = self.config.api_base
        if self.config.api_key:
            kwargs["api_key"] = self.config.api_key
        if self.config.extra_headers:
            kwargs["extra_headers"] = dict(self.config.extra_headers)
        if max_tokens or self.config.max_tokens:
            kwargs["max_tokens"] = max_tokens or self.config.max_tokens
        if json_mode:
            kwargs["response_format"] = {"type": "json_object"}
        last: Exception | None = None
        for attempt in range(self.config.max_retries + 1):
            try:
                response = await litellm.acompletion(**kwargs)
                _meter(response)
                content = response.choices[0].message.content
                return str(content or "")
            except Exception as exc:  # litellm raises many provider-specific types
                last = exc
                status = getattr(exc, "status_code", None)
                if isinstance(status, int) and 400 <= status < 500 and status != 429:
                    break
                if attempt < self.config.max_retries:
                    await asyncio.sleep(min(2.0**attempt, 20.0))
        message = str(last) if last else "no response"
        if self.config.api_key:
            message = message.replace(self.config.api_key, "***")
        raise VLMFailedError(
            f"LLM call to {self.model} failed: {message[:500]}",
            {"vlm_model": self.model, "vlm_api_base": self.config.api_base},
        )
