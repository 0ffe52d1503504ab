"""Embeddings and chat completions from an OpenAI-compatible endpoint over plain HTTP.

:class:`~openviking_mcp.models.litellm_embedder.LiteLLMEmbedder` sends ``openai/...`` models
to ``POST {base}/embeddings`` and :class:`~openviking_mcp.models.llm.LLM` sends them to
``POST {base}/chat/completions`` instead of through litellm: the request is the same, but it
costs a fraction of the CPU (litellm adds milliseconds of its own to every call, which a search
pays for each query and an import for each folder it summarises) and litellm is never imported.
One ``httpx.AsyncClient`` is kept per event loop, since a model is shared by every store of the
process and a client's connections belong to one loop.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Mapping
from typing import Any

import httpx

__all__ = ["OPENAI_BASE", "HTTPModelError", "OpenAIChat", "OpenAIEmbeddings"]

OPENAI_BASE = "https://api.openai.com/v1"


class HTTPModelError(Exception):
    """A failed call; ``status_code`` is ``None`` when no HTTP answer came, 408 on a timeout."""

    def __init__(self, message: str, status_code: int | None) -> None:
        super().__init__(message)
        self.status_code = status_code


def _error_text(response: httpx.Response) -> str:
    """The ``error.message`` of an OpenAI-style error body, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        return response.text[:300]
    error = body.get("error") if isinstance(body, dict) else None
    if isinstance(error, dict) and error.get("message"):
        return str(error["message"])
    return str(body)[:300]


class _Endpoint:
    """``POST {base_url}/{PATH}`` with a JSON body; answers the JSON object it returns."""

    PATH = ""

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None,
        headers: Mapping[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.url = base_url.rstrip("/") + "/" + self.PATH
        self._headers = {"Content-Type": "application/json", **dict(headers or {})}
        if api_key:
            self._headers["Authorization"] = f"Bearer {api_key}"
        self._timeout = timeout
        self._clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, httpx.AsyncClient]
        self._clients = weakref.WeakKeyDictionary()

    def _client(self) -> httpx.AsyncClient:
        loop = asyncio.get_running_loop()
        client = self._clients.get(loop)
        if client is None or client.is_closed:
            client = self._clients[loop] = httpx.AsyncClient(timeout=self._timeout)
        return client

    async def _post(self, body: dict[str, Any]) -> dict[str, Any]:
        try:
            response = await self._client().post(self.url, json=body, headers=self._headers)
        except httpx.TimeoutException as exc:  # as litellm reports one: HTTP 408
            raise HTTPModelError(f"{type(exc).__name__}: timed out ({exc})", 408) from None
        except httpx.HTTPError as exc:
            raise HTTPModelError(f"{type(exc).__name__}: {exc}", None) from None
        if response.status_code >= 400:
            text = _error_text(response)
            raise HTTPModelError(f"HTTP {response.status_code}: {text}", response.status_code)
        try:
            answer = response.json()
        except ValueError:
            raise HTTPModelError("the answer is not JSON", response.status_code) from None
        if not isinstance(answer, dict):
            raise HTTPModelError("the answer is not a JSON object", response.status_code)
        return answer

    async def aclose(self) -> None:
        """Close the client of the running loop (those of closed loops go with them)."""
        client = self._clients.pop(asyncio.get_running_loop(), None)
        if client is not None:
            await client.aclose()


class OpenAIEmbeddings(_Endpoint):
    """``POST {base_url}/embeddings`` with ``{model, input}``; answers the JSON body."""

    PATH = "embeddings"

    async def embed(self, model: str, texts: list[str]) -> dict[str, Any]:
        return await self._post({"model": model, "input": texts})


class OpenAIChat(_Endpoint):
    """``POST {base_url}/chat/completions`` with a chat request; answers the JSON body."""

    PATH = "chat/completions"

    async def complete(self, body: dict[str, Any]) -> dict[str, Any]:
        """The completion of ``body`` (``model``, ``messages`` and options, OpenAI's names)."""
        return await self._post(body)
