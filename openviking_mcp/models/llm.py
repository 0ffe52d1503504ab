"""The LLM behind summaries, query expansion and memory extraction, reached through litellm.

litellm is imported on first use: it takes seconds to import, and with no ``vlm`` configured it
is never needed. ``openai/...`` models (OpenAI and OpenAI-compatible servers) skip litellm: the
same chat request goes out over plain HTTP (:class:`~openviking_mcp.models.openai_http.OpenAIChat`),
which costs about a millisecond of CPU per call instead of litellm's seven or eight (an import
asks for one overview per folder it stores). ``model_id`` stays ``litellm:openai/...``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Iterator
from contextvars import ContextVar
from typing import Any

from openviking_mcp.config import VLMConfig
from openviking_mcp.contract.errors import VLMFailedError
from openviking_mcp.models._litellm import import_litellm
from openviking_mcp.models.openai_http import OPENAI_BASE, HTTPModelError, OpenAIChat

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
_PLACEHOLDER_KEY = "no-key"
"""Sent to an OpenAI-compatible ``api_base`` configured without a key (local servers need none),
so ``$OPENAI_API_KEY`` never goes to a third party."""
_COMPLETION_TOKENS_MODELS = re.compile(r"^(o\d|gpt-5)")
"""OpenAI's reasoning models, which take ``max_completion_tokens`` instead of ``max_tokens``."""


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


def _field(obj: object, name: str) -> object:
    """``obj[name]`` or ``obj.name``: a JSON answer holds dicts, litellm's holds objects."""
    return obj.get(name) if isinstance(obj, dict) else getattr(obj, name, None)


def _meter(response: object) -> None:
    """Add ``response.usage`` to the open meter, if any."""
    total = _METER.get()
    usage = _field(response, "usage")
    if total is None or usage is None:
        return
    prompt_details = _field(usage, "prompt_tokens_details")
    completion_details = _field(usage, "completion_tokens_details")
    found = {
        "prompt_tokens": _count(_field(usage, "prompt_tokens")),
        "completion_tokens": _count(_field(usage, "completion_tokens")),
        "total_tokens": _count(_field(usage, "total_tokens")),
        "cached_tokens": _count(_field(prompt_details, "cached_tokens")),
        "reasoning_tokens": _count(_field(completion_details, "reasoning_tokens")),
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
        self._direct = self._direct_transport()

    @property
    def model_id(self) -> str:
        return f"litellm:{self.model}"

    def _direct_transport(self) -> OpenAIChat | None:
        """``openai/...`` models are called over plain HTTP, not through litellm (the same
        request, for a fraction of the CPU); other providers go through litellm."""
        if not self.model.startswith("openai/"):
            return None
        cfg = self.config
        key = cfg.api_key or (
            _PLACEHOLDER_KEY if cfg.api_base else os.environ.get("OPENAI_API_KEY")
        )
        return OpenAIChat(
            cfg.api_base or OPENAI_BASE,
            api_key=key,
            headers=cfg.extra_headers,
            timeout=cfg.timeout,
        )

    async def complete(
        self,
        prompt: str,
        *,
        system: str | None = None,
        max_tokens: int | None = None,
        json_mode: bool = False,
    ) -> str:
        """One chat completion; transient failures retry, then :class:`VLMFailedError`."""
        messages: list[dict[str, str]] = []
        if system:
            messages.append({"role": "system", "content": system})
        messages.append({"role": "user", "content": prompt})
        request: dict[str, Any] = {
            "messages": messages,
            "temperature": self.config.temperature,
        }
        if max_tokens or self.config.max_tokens:
            request["max_tokens"] = max_tokens or self.config.max_tokens
        if json_mode:
            request["response_format"] = {"type": "json_object"}
        last: Exception | None = None
        for attempt in range(self.config.max_retries + 1):
            try:
                return await self._send(request)
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

    async def _send(self, request: dict[str, Any]) -> str:
        """One attempt: the answer's text, the usage metered."""
        if self._direct is not None:
            name = self.model.split("/", 1)[1]
            body = {"model": name, **request}
            if "max_tokens" in body and _COMPLETION_TOKENS_MODELS.match(name):
                body["max_completion_tokens"] = body.pop("max_tokens")
            answer = await self._direct.complete(body)
            _meter(answer)
            choices = answer.get("choices")
            if not isinstance(choices, list) or not choices:
                raise HTTPModelError("the answer holds no choices", None)
            return str(_field(_field(choices[0], "message"), "content") or "")
        kwargs: dict[str, Any] = {"model": self.model, **request, "timeout": self.config.timeout}
        if self.config.api_base:
            kwargs["api_base"] = self.config.api_base
        if self.config.api_key:
            kwargs["api_key"] = self.config.api_key
        if self.config.extra_headers:
            kwargs["extra_headers"] = dict(self.config.extra_headers)
        response = await import_litellm().acompletion(**kwargs)
        _meter(response)
        return str(response.choices[0].message.content or "")
