"""What every toolkit shares: the four agent tools (find, search, read, remember) as plain
async functions over any of the Python clients, with no agent framework imported.

:class:`ContextTools` wraps a client: the async clients (``AsyncOpenViking``,
``AsyncHTTPClient``) are awaited, the blocking ones (``OpenViking``, ``SyncHTTPClient``) run in a
worker thread, so one toolkit serves them all. :meth:`ContextTools.functions` returns the tools
as async functions with typed parameters and docstrings, which pydantic-ai's
``FunctionToolset`` and the Agents SDK's ``function_tool`` both turn into tool schemas.

Errors an agent can act on (a missing URI, a malformed argument) come back as
``{"error": {code, message}}`` so the model can try again; others (authentication, a server
that is down) are raised.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import Awaitable, Callable
from typing import Any, TypeAlias

from openviking_mcp.client._operations import AsyncOperations, SyncOperations
from openviking_mcp.contract.errors import (
    FailedPreconditionError,
    InvalidArgumentError,
    InvalidURIError,
    NotFoundError,
)

__all__ = [
    "AnyClient",
    "ContextTools",
    "ToolFunction",
    "hit_summary",
    "message_text",
    "ranked_hits",
]

AnyClient: TypeAlias = AsyncOperations | SyncOperations
"""Any of the four Python clients (embedded or HTTP, async or blocking)."""

ToolFunction: TypeAlias = Callable[..., Awaitable[Any]]

_RECOVERABLE = (NotFoundError, InvalidArgumentError, InvalidURIError, FailedPreconditionError)
_ABSTRACT_CHARS = 300


def hit_summary(hit: dict[str, Any]) -> dict[str, Any]:
    """The fields of a find hit an agent needs: where it is, what it is, how well it matched."""
    summary = {
        "uri": hit["uri"],
        "context_type": hit.get("context_type", ""),
        "level": hit.get("level"),
        "score": round(float(hit.get("score") or 0.0), 4),
        "abstract": str(hit.get("abstract") or "")[:_ABSTRACT_CHARS],
    }
    if hit.get("match"):
        summary["match"] = hit["match"]
    return summary


def message_text(message: dict[str, Any]) -> str:
    """The text of a stored session message (its ``text`` parts joined, else ``content``)."""
    parts = message.get("parts") or []
    texts = [str(p.get("text") or "") for p in parts if p.get("type") == "text"]
    if texts:
        return "\n".join(texts)
    return str(message.get("content") or "")


class ContextTools:
    """The agent tools over one client.

    ``session_id``: the conversation ``search`` takes its recent context from; ``target_uri``:
    where ``find`` and ``search`` look (default: everywhere the caller may read); ``limit``:
    the default number of hits; ``max_chars``: the most characters ``read`` returns;
    ``remember_prefix``: the prefix of the sessions ``remember`` creates; ``wait``: whether
    ``remember`` waits for the memories to be extracted (otherwise they are extracted in the
    background).
    """

    def __init__(
        self,
        client: AnyClient,
        *,
        session_id: str | None = None,
        target_uri: str | None = None,
        limit: int = 5,
        max_chars: int = 8000,
        remember_prefix: str = "agent-memory",
        wait: bool = False,
    ) -> None:
        if not isinstance(client, AsyncOperations | SyncOperations):
            raise TypeError(f"not an openviking-mcp client: {type(client).__name__}")
        self.client = client
        self.session_id = session_id
        self.target_uri = target_uri
        self.limit = limit
        self.max_chars = max_chars
        self.remember_prefix = remember_prefix
        self.wait = wait

    async def run(self, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """``method`` (an operation of :attr:`client`): awaited, or in a worker thread when the
        client blocks."""
        if isinstance(self.client, AsyncOperations):
            return await method(*args, **kwargs)
        return await asyncio.to_thread(method, *args, **kwargs)

    def run_sync(self, method: Callable[..., Any], /, *args: Any, **kwargs: Any) -> Any:
        """``method`` of a blocking client (an async client has no blocking form)."""
        if not isinstance(self.client, SyncOperations):
            raise TypeError(
                "this call blocks: give a blocking client (OpenViking, SyncHTTPClient) "
                "or use the async method"
            )
        return method(*args, **kwargs)

    async def find(self, query: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The hits of ``find`` (memories, resources, skills), best first."""
        found = await self.run(
            self.client.find, query, target_uri=self.target_uri, limit=limit or self.limit
        )
        return ranked_hits(found)

    async def search(self, query: str, limit: int | None = None) -> list[dict[str, Any]]:
        """The hits of ``search``: ``find`` with the session's recent context, best first."""
        found = await self.run(
            self.client.search,
            query,
            session_id=self.session_id,
            target_uri=self.target_uri,
            limit=limit or self.limit,
        )
        return ranked_hits(found)

    async def read(self, uri: str, offset: int = 0, limit: int = -1) -> str:
        """A file's text (lines ``offset``.. ``offset + limit``), cut at ``max_chars``."""
        text = str(await self.run(self.client.read, uri, offset, limit))
        if len(text) <= self.max_chars:
            return text
        return text[: self.max_chars] + f"\n[... cut at {self.max_chars} characters]"

    async def remember(self, content: str) -> dict[str, Any]:
        """Store ``content`` in a new session and commit it, so long-term memories are
        extracted from it; the commit's answer with the session id."""
        session_id = f"{self.remember_prefix}-{secrets.token_hex(6)}"
        message = {"role": "user", "content": content}
        await self.run(self.client.add_messages, session_id, [message])
        commit = await self.run(self.client.commit_session, session_id, wait=self.wait)
        return {"session_id": session_id, "status": commit.get("status"), **_extraction(commit)}

    def functions(self) -> list[ToolFunction]:
        """The four tools as async functions (name, typed parameters, docstring)."""
        return _tool_functions(self)


def ranked_hits(found: dict[str, Any]) -> list[dict[str, Any]]:
    """The hits of a find or search answer, every category together, best first."""
    hits = [*found.get("memories", []), *found.get("resources", []), *found.get("skills", [])]
    hits.sort(key=lambda hit: -float(hit.get("score") or 0.0))
    return [hit_summary(hit) for hit in hits]


def _extraction(commit: dict[str, Any]) -> dict[str, Any]:
    """What a commit (waited or not) says about the memories: its task and, when waited, the
    memories extracted per category."""
    fields: dict[str, Any] = {"task_id": commit.get("task_id")}
    result = commit.get("result")
    if isinstance(result, dict) and result.get("memories_extracted") is not None:
        fields["memories_extracted"] = result["memories_extracted"]
    return fields


def _recoverable(error: Exception) -> dict[str, Any]:
    code = getattr(error, "code", "ERROR")
    return {"error": {"code": code, "message": str(error)}}


def _tool_functions(tools: ContextTools) -> list[ToolFunction]:
    """Closures over ``tools``; their docstrings are the descriptions the model sees."""

    async def find(query: str, limit: int | None = None) -> list[dict[str, Any]] | dict[str, Any]:
        """Search the context database (memories, resources, skills) by meaning and keywords.

        Args:
            query: What to look for, in words.
            limit: The most hits to return (empty: the default).
        """
        try:
            return await tools.find(query, limit)
        except _RECOVERABLE as error:
            return _recoverable(error)

    async def search(query: str, limit: int | None = None) -> list[dict[str, Any]] | dict[str, Any]:
        """Search like find, also using the current conversation's recent context.

        Args:
            query: What to look for, in words.
            limit: The most hits to return (empty: the default).
        """
        try:
            return await tools.search(query, limit)
        except _RECOVERABLE as error:
            return _recoverable(error)

    async def read(uri: str, offset: int = 0, limit: int = -1) -> str | dict[str, Any]:
        """Read the full text of a file found by find or search.

        Args:
            uri: The viking:// URI of the file.
            offset: The first line to read (0: the start).
            limit: How many lines to read (-1: to the end).
        """
        try:
            return await tools.read(uri, offset, limit)
        except _RECOVERABLE as error:
            return _recoverable(error)

    async def remember(content: str) -> dict[str, Any]:
        """Remember a fact, preference or event for later conversations (long-term memory).

        Args:
            content: What to remember, as a full sentence.
        """
        try:
            return await tools.remember(content)
        except _RECOVERABLE as error:
            return _recoverable(error)

    return [find, search, read, remember]
