"""LangChain: a retriever over ``find``/``search`` and a chat-message history kept in a session.

    from openviking_mcp import SyncHTTPClient
    from openviking_mcp.integrations.langchain import (
        OpenVikingChatMessageHistory,
        OpenVikingRetriever,
    )

    ov = SyncHTTPClient("http://127.0.0.1:1933")
    docs = OpenVikingRetriever(client=ov).invoke("how do we roll back?")
    history = OpenVikingChatMessageHistory(client=ov, session_id="chat-42")
    history.add_user_message("I prefer green tea.")
    history.commit()  # long-term memories are extracted from the conversation

The blocking methods (``invoke``, ``messages``, ``add_messages``, ``clear``) need a blocking
client (``OpenViking``, ``SyncHTTPClient``); the async ones (``ainvoke``, ``aget_messages``,
``aadd_messages``, ``aclear``) take any client. Install with
``pip install 'openviking-mcp[langchain]'``.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import suppress
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.chat_history import BaseChatMessageHistory
from langchain_core.documents import Document
from langchain_core.messages import (
    AIMessage,
    BaseMessage,
    HumanMessage,
    SystemMessage,
    ToolCall,
    ToolMessage,
)
from langchain_core.retrievers import BaseRetriever
from pydantic import ConfigDict

from openviking_mcp.contract.errors import NotFoundError
from openviking_mcp.integrations._core import AnyClient, ContextTools, message_text, ranked_hits

__all__ = [
    "OpenVikingChatMessageHistory",
    "OpenVikingRetriever",
    "from_session_message",
    "to_session_message",
]

_HISTORY_BUDGET = 1_000_000  # tokens: the history returns every live message


class OpenVikingRetriever(BaseRetriever):
    """Documents from ``find`` (or, with ``session_id``, ``search``, which also uses the
    session's recent context). A document holds the hit's best passage (``match``) or its
    abstract; ``metadata`` has ``uri``, ``score``, ``level`` and ``context_type``. With
    ``read_full``, file hits (level 2) hold the file's whole text instead."""

    model_config = ConfigDict(arbitrary_types_allowed=True)

    client: Any
    """Any of the four Python clients."""
    session_id: str | None = None
    target_uri: str | None = None
    k: int = 5
    read_full: bool = False
    max_chars: int = 8000

    def _tools(self) -> ContextTools:
        client: AnyClient = self.client
        return ContextTools(
            client,
            session_id=self.session_id,
            target_uri=self.target_uri,
            limit=self.k,
            max_chars=self.max_chars,
        )

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        tools = self._tools()
        kwargs: dict[str, Any] = {"target_uri": self.target_uri, "limit": self.k}
        if self.session_id:
            kwargs["session_id"] = self.session_id
        method = tools.client.search if self.session_id else tools.client.find
        found = tools.run_sync(method, query, **kwargs)
        hits = ranked_hits(found)
        return [_document(hit, self._full_text_sync(tools, hit)) for hit in hits]

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        tools = self._tools()
        found = await (tools.search(query) if self.session_id else tools.find(query))
        documents = []
        for hit in found:
            full = await tools.read(hit["uri"]) if self._wants_full(hit) else None
            documents.append(_document(hit, full))
        return documents

    def _wants_full(self, hit: dict[str, Any]) -> bool:
        return self.read_full and hit.get("level") == 2

    def _full_text_sync(self, tools: ContextTools, hit: dict[str, Any]) -> str | None:
        if not self._wants_full(hit):
            return None
        text = str(tools.run_sync(tools.client.read, hit["uri"]))
        return text[: self.max_chars]


def _document(hit: dict[str, Any], full_text: str | None) -> Document:
    text = full_text if full_text is not None else (hit.get("match") or hit["abstract"])
    metadata = {key: hit.get(key) for key in ("uri", "score", "level", "context_type")}
    return Document(page_content=text, metadata=metadata, id=hit["uri"])


class OpenVikingChatMessageHistory(BaseChatMessageHistory):
    """A conversation kept in session ``session_id``: ``add_messages`` appends to it,
    ``messages`` lists what it holds live (committed messages move to its archives), ``clear``
    deletes the session (memories already extracted from it stay), and ``commit`` archives the
    messages and extracts long-term memories from them."""

    def __init__(self, client: AnyClient, session_id: str, *, wait: bool = False) -> None:
        self._tools = ContextTools(client, session_id=session_id, wait=wait)
        self._client = client
        self.session_id = session_id
        self.wait = wait

    @property
    def messages(self) -> list[BaseMessage]:  # type: ignore[override]
        try:
            context = self._tools.run_sync(
                self._client.session_context, self.session_id, _HISTORY_BUDGET
            )
        except NotFoundError:
            return []  # nothing was recorded yet
        return [from_session_message(m) for m in context["messages"]]

    async def aget_messages(self) -> list[BaseMessage]:
        try:
            context = await self._tools.run(
                self._client.session_context, self.session_id, _HISTORY_BUDGET
            )
        except NotFoundError:
            return []  # nothing was recorded yet
        return [from_session_message(m) for m in context["messages"]]

    def add_messages(self, messages: Sequence[BaseMessage]) -> None:
        if messages:
            stored = [to_session_message(m) for m in messages]
            self._tools.run_sync(self._client.add_messages, self.session_id, stored)

    async def aadd_messages(self, messages: Sequence[BaseMessage]) -> None:
        if messages:
            stored = [to_session_message(m) for m in messages]
            await self._tools.run(self._client.add_messages, self.session_id, stored)

    def clear(self) -> None:
        with suppress(NotFoundError):  # nothing was recorded yet
            self._tools.run_sync(self._client.delete_session, self.session_id)

    async def aclear(self) -> None:
        with suppress(NotFoundError):  # nothing was recorded yet
            await self._tools.run(self._client.delete_session, self.session_id)

    def commit(self) -> dict[str, Any]:
        """Archive the live messages and extract long-term memories from them (``wait``:
        return once they are extracted)."""
        commit = self._client.commit_session, self.session_id
        return dict(self._tools.run_sync(*commit, wait=self.wait))

    async def acommit(self) -> dict[str, Any]:
        """Async :meth:`commit`."""
        commit = self._client.commit_session, self.session_id
        return dict(await self._tools.run(*commit, wait=self.wait))


def to_session_message(message: BaseMessage) -> dict[str, Any]:
    """A LangChain message as a session message ``{role, parts}`` (tool calls and results as
    ``tool`` parts)."""
    text = message.text
    parts: list[dict[str, Any]] = [{"type": "text", "text": text}] if text.strip() else []
    if isinstance(message, ToolMessage):
        status = "error" if message.status == "error" else "completed"
        tool = {"tool_id": message.tool_call_id, "tool_name": message.name or ""}
        return {
            "role": "tool",
            "parts": [{"type": "tool", **tool, "tool_output": text, "tool_status": status}],
        }
    if isinstance(message, AIMessage):
        for call in message.tool_calls:
            parts.append(
                {
                    "type": "tool",
                    "tool_id": call.get("id") or "",
                    "tool_name": call["name"],
                    "tool_input": call["args"],
                    "tool_status": "pending",
                }
            )
        return {"role": "assistant", "parts": parts}
    role = "system" if isinstance(message, SystemMessage) else "user"
    return {"role": role, "parts": parts}


def from_session_message(message: dict[str, Any]) -> BaseMessage:
    """A stored session message as a LangChain message."""
    role, text = message.get("role"), message_text(message)
    tools = [p for p in message.get("parts") or [] if p.get("type") == "tool"]
    ids = {"id": message["id"]} if message.get("id") else {}
    if role == "assistant":
        calls = [
            ToolCall(
                name=p.get("tool_name", ""),
                args=p.get("tool_input") or {},
                id=p.get("tool_id") or None,
            )
            for p in tools
        ]
        return AIMessage(content=text, tool_calls=calls, **ids)
    if role == "tool" and tools:
        part = tools[0]
        status = "error" if part.get("tool_status") == "error" else "success"
        return ToolMessage(
            content=part.get("tool_output") or text,
            tool_call_id=part.get("tool_id") or "",
            name=part.get("tool_name") or None,
            status=status,
            **ids,
        )
    if role == "system":
        return SystemMessage(content=text, **ids)
    return HumanMessage(content=text, **ids)
