"""Bot test fixtures: a service on a hashing embedder, and a chat service over it with a scripted
pydantic-ai model."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable, Iterable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from pydantic_ai.messages import ModelMessage, ModelRequest, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

from openviking_mcp import ContextService, OpenVikingConfig, RequestContext
from openviking_mcp.bot.service import ChatService
from openviking_mcp.bot.streams import LocalStreamRegistry, StreamRegistry, TurnStream
from openviking_mcp.contract.base import parse_request
from openviking_mcp.contract.chat import (
    ChatRequest,
    ChatResponseRequest,
    ChatResumeRequest,
    FeedbackRequest,
)
from openviking_mcp.storage.postgres import PgDatabase
from openviking_mcp.storage.postgres.streams import PgStreamRegistry
from tests.pg import fresh_database

Step = str | list[str] | tuple[str, dict[str, Any]] | list[tuple[str, dict[str, Any]]]


def bot_config(workspace: Path, **bot: Any) -> OpenVikingConfig:
    return OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": str(workspace)},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "bot": {"enabled": True, **bot},
        }
    )


@dataclass
class Script:
    """A pydantic-ai ``FunctionModel`` that plays ``steps``, one per model request.

    A step is text (a string, or a list of deltas), one tool call ``(name, args)`` or a list of
    tool calls. Once the steps run out it answers ``"done"``. Every request's messages and tool
    names are kept for the test to inspect."""

    steps: list[Step]
    delay: float = 0.0
    obey_tools: bool = True
    """Answer ``"done"`` instead of calling a tool when no tools are offered (as real models
    do); ``False`` plays a model that calls tools regardless."""
    calls: list[tuple[list[ModelMessage], list[str], str | None]] = field(default_factory=list)

    def model(self) -> FunctionModel:
        return FunctionModel(stream_function=self._stream, model_name="scripted")

    async def _stream(self, messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
        self.calls.append(
            (list(messages), [t.name for t in info.function_tools], info.instructions)
        )
        step = self.steps[len(self.calls) - 1] if len(self.calls) <= len(self.steps) else "done"
        if isinstance(step, tuple):
            step = [step]
        if isinstance(step, str):
            step = [step]
        if self.obey_tools and not info.function_tools and isinstance(step[0], tuple):
            step = ["done"]
        for index, item in enumerate(step):
            if self.delay:
                await asyncio.sleep(self.delay)
            if isinstance(item, tuple):
                name, args = item
                call_id = f"call-{len(self.calls)}-{index}"
                yield {
                    index: DeltaToolCall(
                        name=name, json_args=json.dumps(args), tool_call_id=call_id
                    )
                }
            else:
                yield item

    def tool_returns(self, call: int) -> list[ToolReturnPart]:
        """The tool results the model saw in request ``call`` (0-based)."""
        return [
            part
            for message in self.calls[call][0]
            if isinstance(message, ModelRequest)
            for part in message.parts
            if isinstance(part, ToolReturnPart)
        ]


@dataclass
class ChatCalls:
    """A chat service's operations under their contract names, taking request bodies as dicts
    and answering JSON (streams as they are), the way the surfaces call them."""

    service: ChatService

    async def chat(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        return (await self.service.chat(ctx, parse_request(ChatRequest, body))).wire()

    async def chat_start(self, ctx: RequestContext, body: dict[str, Any]) -> TurnStream:
        return await self.service.start(ctx, parse_request(ChatRequest, body))

    async def chat_resume(
        self, ctx: RequestContext, session_id: str, *, user_id: str | None = None
    ) -> TurnStream:
        request = ChatResumeRequest(session_id=session_id, user_id=user_id)
        return await self.service.resume(ctx, request)

    async def chat_feedback(self, ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
        return (await self.service.feedback(ctx, parse_request(FeedbackRequest, body))).wire()

    async def chat_response(self, ctx: RequestContext, response_id: str) -> dict[str, Any]:
        request = ChatResponseRequest(response_id=response_id)
        return (await self.service.response(ctx, request)).wire()

    def bot_health(self) -> dict[str, Any]:
        return self.service.status().wire()


@asynccontextmanager
async def chat_over(
    svc: ContextService, streams: StreamRegistry | None = None
) -> AsyncIterator[ChatService]:
    """A chat service over ``svc`` with the service's ``chat_model`` (and ``streams``, by
    default in memory), closed afterwards."""
    chat = ChatService(svc, svc.config.bot, svc.config.vlm, svc.chat_model, streams)
    try:
        yield chat
    finally:
        await chat.close()


@pytest.fixture
def make_bot(workspace: Path) -> Callable[..., Any]:
    """``async with make_bot(script, **bot_config) as (svc, bot)`` (``script=None``: no model):
    the service, and the chat operations of a chat service over it (its turn streams in
    ``streams``, by default in memory)."""

    @asynccontextmanager
    async def make(
        script: Script | None, streams: StreamRegistry | None = None, **bot: Any
    ) -> AsyncIterator[tuple[ContextService, ChatCalls]]:
        svc = ContextService(
            bot_config(workspace, **bot), chat_model=script.model() if script else None
        )
        await svc.initialize()
        try:
            async with chat_over(svc, streams) as chat:
                yield svc, ChatCalls(chat)
        finally:
            await svc.close()

    return make


@asynccontextmanager
async def pg_registries(
    dsn: str, count: int, **options: Any
) -> AsyncIterator[list[PgStreamRegistry]]:
    """``count`` PostgreSQL stream registries on the database ``dsn``, each with a pool of
    its own (as separate servers have), closed afterwards."""
    databases = [PgDatabase(dsn, max_size=4) for _ in range(count)]
    registries = [PgStreamRegistry(db, **options) for db in databases]
    try:
        for db in databases:
            await db.open()
        yield registries
    finally:
        for registry in registries:
            await registry.close()
        for db in databases:
            await db.close()


@pytest.fixture(params=["local", "postgres"])
async def registry(request: pytest.FixtureRequest) -> AsyncIterator[StreamRegistry]:
    """A stream registry of each backend (retention 600 s)."""
    if request.param == "local":
        yield LocalStreamRegistry(600.0)
        return
    with fresh_database() as dsn:
        async with pg_registries(dsn, 1, retention=600.0) as (only,):
            yield only


async def seed(svc: ContextService, files: Sequence[tuple[str, str]]) -> None:
    ctx = svc.dev_context()
    for uri, text in files:
        await svc.write(ctx, uri, text, mode="create")
    await svc.wait_processing(ctx)


def sse_events(lines: Iterable[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(id, payload)`` of each server-sent event, as the lines arrive (comments skipped)."""
    current: int | None = None
    for line in lines:
        if line.startswith("id: "):
            current = int(line[4:])
        elif line.startswith("data: "):
            assert current is not None
            yield current, json.loads(line[6:])
            current = None
