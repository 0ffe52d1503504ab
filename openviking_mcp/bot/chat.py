"""VikingBot: a pydantic-ai agent that answers over the caller's context store.

A turn runs as its own task and reports :mod:`.events` into a resumable :class:`TurnStream`;
``/chat`` waits for the turn's result, ``/chat/stream`` follows its events. Each turn stores
the user's message and the answer (with the contexts it used and its tool calls) in the chat's
session, so committing the session extracts memories from chats. With no model configured the
bot answers in retrieval-only mode: the best contexts for the message, with their URIs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import time
from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from pydantic_ai import Agent, AgentRunResult, RunContext
from pydantic_ai.exceptions import AgentRunError, UsageLimitExceeded
from pydantic_ai.messages import ModelMessage, UserContent
from pydantic_ai.models import Model
from pydantic_ai.usage import RunUsage, UsageLimits

from openviking_mcp._version import __version__
from openviking_mcp.bot.events import NON_DELTA_EVENTS, now_iso
from openviking_mcp.bot.images import Attachment
from openviking_mcp.bot.messages import model_prompt, to_model_messages, user_parts
from openviking_mcp.bot.prompt import build_instructions, memories_text
from openviking_mcp.bot.relay import preview, relay_model_event, relay_tool_event
from openviking_mcp.bot.responses import save_response
from openviking_mcp.bot.retrieval import SIDECARS, retrieval_answer, useful_hits
from openviking_mcp.bot.streams import LocalStreamRegistry, StreamRegistry, TurnStream
from openviking_mcp.bot.tools import ChatDeps, build_toolset
from openviking_mcp.config import BotConfig, VLMConfig
from openviking_mcp.contract.chat import ChatReply, ChatRequest, Citation, TokenUsage
from openviking_mcp.contract.errors import DeadlineExceededError, OpenVikingError
from openviking_mcp.contract.identity import RequestContext
from openviking_mcp.search import render

if TYPE_CHECKING:
    from openviking_mcp.service import ContextService

__all__ = ["ChatBot"]

logger = logging.getLogger("openviking_mcp.bot")


def _new_session_id() -> str:
    return f"chat-{datetime.now(UTC):%Y%m%d-%H%M%S}-{secrets.token_hex(4)}"


def _instructions(ctx: RunContext[ChatDeps]) -> str:
    return ctx.deps.instructions


class ChatBot:
    """The bot of one service; ``model`` overrides the configured one (tests pass a
    ``FunctionModel``); ``streams`` holds the turn streams (by default in this process)."""

    def __init__(
        self,
        service: ContextService,
        config: BotConfig,
        vlm: VLMConfig,
        model: Model | None = None,
        streams: StreamRegistry | None = None,
    ) -> None:
        self.service = service
        self.config = config
        chosen = config.chat_model(vlm)
        if model is None and chosen is not None:
            from openviking_mcp.models.chat_model import litellm_chat_model

            model = litellm_chat_model(chosen)
        self.model = model
        self.streams: StreamRegistry = streams or LocalStreamRegistry(
            config.stream_retention_seconds
        )
        self._live: set[str] = set()
        """Response ids of the turns this process runs now (``running_turns``)."""
        self.turns: Counter[tuple[str, str]] = Counter()
        """Finished turns by ``(mode, outcome)``: outcome ``answered``, ``failed`` or
        ``stored`` (``/metrics``)."""
        self._tasks: set[asyncio.Task[None]] = set()
        self._agent: Agent[ChatDeps, str] | None = None
        if model is not None:
            self._agent = Agent(
                model,
                deps_type=ChatDeps,
                instructions=_instructions,
                toolsets=[build_toolset()],
            )

    @property
    def mode(self) -> str:
        return "llm" if self._agent is not None else "retrieval"

    def health(self) -> dict[str, Any]:
        """``{status: "healthy", version, timestamp}`` plus the mode, the model and the
        number of turns this process runs."""
        return {
            "status": "healthy",
            "version": __version__,
            "timestamp": now_iso(),
            "mode": self.mode,
            "model": self.model.model_name if self.model is not None else None,
            "running_turns": len(self._live),
            "note": None
            if self._agent is not None
            else "No model is configured (vlm or bot.model in ov.conf): answers list the "
            "most relevant contexts instead.",
        }

    # -- turns ---------------------------------------------------------------------------

    async def start(
        self, ctx: RequestContext, request: ChatRequest, images: list[Attachment]
    ) -> TurnStream:
        """Store the message and start the turn; its events go to the returned stream.
        ``images`` are the request's images as :func:`~.images.check_images` checked them."""
        svc = self.service
        session_id = request.session_id or _new_session_id()
        await svc.get_session(ctx, session_id, auto_create=True)
        key = (ctx.account_id, ctx.user_id, session_id)
        stream = await self.streams.open(key, f"resp_{secrets.token_hex(12)}")
        self._live.add(stream.response_id)
        try:
            history, summary = await self._history(ctx, session_id)
            await svc.add_message(ctx, session_id, "user", parts=user_parts(request, images))
        except BaseException as exc:
            self._live.discard(stream.response_id)
            await stream.finish(self._failed(stream, exc))
            raise
        task = asyncio.create_task(self._run(ctx, request, images, stream, history, summary))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return stream

    async def resume(self, ctx: RequestContext, session_id: str) -> TurnStream | None:
        """The session's current (or recently finished) turn stream of the caller's user."""
        return await self.streams.get((ctx.account_id, ctx.user_id, session_id))

    async def close(self) -> None:
        """Stop running turns (each ends with an error event)."""
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.gather(*tasks, return_exceptions=True)

    # -- one turn --------------------------------------------------------------------------

    async def _run(
        self,
        ctx: RequestContext,
        request: ChatRequest,
        images: list[Attachment],
        stream: TurnStream,
        history: list[ModelMessage],
        summary: str | None,
    ) -> None:
        reply: dict[str, Any]
        try:
            if not request.need_reply:
                reply = self._reply(stream, message=None, mode="store")
            elif self._agent is None:
                reply = await self._retrieve(ctx, request, stream)
            else:
                reply = await self._watch(
                    stream, self._answer(ctx, request, images, stream, history, summary)
                )
        except asyncio.CancelledError:
            reply = self._failed(stream, OpenVikingError("The server stopped during the turn"))
            await self._end(ctx, stream, reply)
            raise
        except Exception as exc:
            reply = self._failed(stream, exc)
        await self._end(ctx, stream, reply)

    async def _end(self, ctx: RequestContext, stream: TurnStream, reply: dict[str, Any]) -> None:
        outcome = (
            "failed" if reply.get("error") else "stored" if reply["mode"] == "store" else "answered"
        )
        self.turns[(reply["mode"], outcome)] += 1
        if reply["mode"] != "store":  # a stored message is no answer to give feedback on
            with contextlib.suppress(Exception):
                await save_response(self.service.store.db, ctx, reply)
        if reply.get("error"):
            data: dict[str, Any] = {"error": reply["error"]}
        else:
            data = {"content": reply["message"]}
            data.update({k: reply[k] for k in ("citations", "token_usage", "mode", "model")})
        data.update(response_id=reply["response_id"], session_id=reply["session_id"])
        await stream.emit("response", data)  # every stream ends with it
        events = await stream.history()
        reply["events"] = [e.record() for e in events if e.event in NON_DELTA_EVENTS]
        self._live.discard(stream.response_id)
        await stream.finish(reply)

    def _reply(
        self, stream: TurnStream, *, message: str | None, mode: str, **extra: Any
    ) -> dict[str, Any]:
        return ChatReply(
            session_id=stream.session_id,
            response_id=stream.response_id,
            message=message,
            timestamp=now_iso(),
            mode=mode,
            model=self.model.model_name if self.model is not None and mode == "llm" else None,
            **extra,
        ).model_dump()

    def _failed(self, stream: TurnStream, exc: BaseException) -> dict[str, Any]:
        if isinstance(exc, OpenVikingError):
            error = exc.message
        elif isinstance(exc, UsageLimitExceeded):
            error = (
                f"The model did not answer within {self.config.max_loop_count} requests "
                f"(bot.max_loop_count): {exc}"
            )
        elif isinstance(exc, AgentRunError):
            error = f"The model misbehaved: {exc}"
        else:
            logger.exception("chat turn failed", exc_info=exc)
            error = f"Internal error: {type(exc).__name__}"
        return self._reply(stream, message=None, mode=self.mode, error=error)

    async def _watch(self, stream: TurnStream, work: Any) -> dict[str, Any]:
        """Run ``work``; stop it with an error once it made no progress for ``timeout`` s."""
        task: asyncio.Task[dict[str, Any]] = asyncio.ensure_future(work)
        limit = self.config.timeout
        try:
            while True:
                remaining = limit - (time.monotonic() - stream.last_progress)
                if remaining <= 0:
                    task.cancel()
                    with contextlib.suppress(BaseException):
                        await task
                    raise DeadlineExceededError("chat turn (no progress from the model)", limit)
                done, _ = await asyncio.wait({task}, timeout=remaining)
                if done:
                    return task.result()
        except asyncio.CancelledError:
            task.cancel()
            raise

    async def _answer(
        self,
        ctx: RequestContext,
        request: ChatRequest,
        images: list[Attachment],
        stream: TurnStream,
        history: list[ModelMessage],
        summary: str | None,
    ) -> dict[str, Any]:
        """LLM mode: recall memories, run the agent, store and return its answer."""
        memory_hits = await self._memories(ctx, request.message)
        memories = memories_text(memory_hits)
        deps = self._deps(ctx, request, stream.session_id, memories, summary)
        for hit in memory_hits:
            deps.saw(hit["uri"], "memory")
        tool_log: dict[str, dict[str, Any]] = {}
        prompt = model_prompt(request, images)
        result = await self._run_agent(prompt, deps, history, stream, tool_log)
        answer = str(result.output)
        citations = self._citations(answer, deps)
        await self._record(ctx, stream.session_id, answer, citations, list(tool_log.values()))
        return self._reply(
            stream,
            message=answer,
            mode="llm",
            relevant_memories=memories,
            token_usage=_token_usage(result.usage),
            citations=citations,
        )

    def _deps(
        self,
        ctx: RequestContext,
        request: ChatRequest,
        session_id: str,
        memories: str | None,
        summary: str | None,
    ) -> ChatDeps:
        """The agent's dependencies, with its instructions for this turn."""
        cfg = self.config
        disabled = frozenset(request.disabled_tools)
        return ChatDeps(
            service=self.service,
            ctx=ctx,
            session_id=session_id,
            disabled=disabled,
            max_loop_count=cfg.max_loop_count,
            instructions=build_instructions(
                ctx.user_id,
                memories=memories,
                summary=summary,
                disabled=disabled,
                extra=cfg.system_prompt,
            ),
        )

    async def _run_agent(
        self,
        prompt: str | list[UserContent],
        deps: ChatDeps,
        history: list[ModelMessage],
        stream: TurnStream,
        tool_log: dict[str, dict[str, Any]],
    ) -> AgentRunResult[str]:
        """Run the agent, relaying its model and tool events to ``stream`` (tool calls also
        into ``tool_log``), and return its result."""
        assert self._agent is not None
        max_loops = self.config.max_loop_count
        limits = UsageLimits(request_limit=max_loops + 1)
        iteration = 0
        async with self._agent.iter(
            prompt, deps=deps, message_history=history, usage_limits=limits
        ) as run:
            async for node in run:
                if Agent.is_model_request_node(node):
                    iteration += 1
                    await stream.emit(
                        "iteration", {"iteration": iteration, "max_iterations": max_loops}
                    )
                    async with node.stream(run.ctx) as model_events:
                        async for event in model_events:
                            await relay_model_event(stream, event)
                elif Agent.is_call_tools_node(node):
                    async with node.stream(run.ctx) as tool_events:
                        async for event in tool_events:
                            await relay_tool_event(stream, event, tool_log)
            result = run.result
        assert result is not None
        return result

    async def _retrieve(
        self, ctx: RequestContext, request: ChatRequest, stream: TurnStream
    ) -> dict[str, Any]:
        """Retrieval-only mode: the best contexts for the message, with their URIs."""
        limit = self.config.context_limit
        query = request.message.strip()
        await stream.emit("iteration", {"iteration": 1, "max_iterations": 1})
        hits: list[dict[str, Any]] = []
        memories: str | None = None
        if query:
            arguments = {"query": query, "limit": limit}
            await stream.emit(
                "tool_call", {"id": "retrieval", "name": "find", "arguments": arguments}
            )
            result = await self.service.find(ctx, query, limit=limit * 3)
            await stream.emit(
                "tool_result",
                {
                    "id": "retrieval",
                    "name": "find",
                    "result": preview(render.format_hits(result)),
                    "is_error": False,
                },
            )
            hits = useful_hits(result, ctx.user_id, limit)
            memories = memories_text([h for h in hits if h["context_type"] == "memory"])
        answer = retrieval_answer(hits, bool(query))
        await stream.emit("content_delta", answer)
        citations = [Citation(uri=h["uri"], context_type=h["context_type"]) for h in hits]
        await self._record(ctx, stream.session_id, answer, citations, [])
        return self._reply(
            stream,
            message=answer,
            mode="retrieval",
            relevant_memories=memories,
            citations=citations,
        )

    # -- helpers ---------------------------------------------------------------------------

    async def _memories(self, ctx: RequestContext, message: str) -> list[dict[str, Any]]:
        if not message.strip():
            return []
        try:
            result = await self.service.find(
                ctx, message, target_uri="viking://~/memories", limit=self.config.context_limit
            )
        except OpenVikingError as exc:
            logger.info("no memories for the chat prompt: %s", exc.message)
            return []
        return [  # memory files only: a folder's summary is no memory of its own
            hit for hit in result.get("memories", []) if not str(hit["uri"]).endswith(SIDECARS)
        ]

    async def _history(
        self, ctx: RequestContext, session_id: str
    ) -> tuple[list[ModelMessage], str | None]:
        budget = self.config.history_tokens
        if budget <= 0:
            return [], None
        context = await self.service.session_context(ctx, session_id, token_budget=budget)
        return to_model_messages(context["messages"]), context.get("latest_archive_overview")

    def _citations(self, answer: str, deps: ChatDeps) -> list[Citation]:
        mentioned = [uri for uri in deps.seen if uri in answer or uri.rstrip("/") in answer]
        ordered = list(dict.fromkeys([*deps.read, *mentioned]))
        return [Citation(uri=u, context_type=deps.seen.get(u, "resource")) for u in ordered]

    async def _record(
        self,
        ctx: RequestContext,
        session_id: str,
        answer: str,
        citations: list[Citation],
        tools: list[dict[str, Any]],
    ) -> None:
        """The answer into the session, with the contexts it used, and an auto-commit."""
        svc = self.service
        parts: list[dict[str, Any]] = [{"type": "text", "text": answer.strip() or "(no answer)"}]
        parts += [{"type": "context", **c.model_dump()} for c in citations]
        parts += [{**t, "tool_status": t.get("tool_status", "completed")} for t in tools]
        for part in parts:
            if part.get("tool_status") == "running":
                part["tool_status"] = "error"
        await svc.add_message(ctx, session_id, "assistant", parts=parts)
        if citations:
            await svc.record_used(ctx, session_id, contexts=[c.uri for c in citations])
        if self.config.auto_commit:
            try:
                await svc.commit_session(ctx, session_id)
            except OpenVikingError as exc:
                logger.warning("auto-commit of chat session %s failed: %s", session_id, exc)


def _token_usage(usage: RunUsage) -> TokenUsage:
    return TokenUsage(
        prompt_tokens=usage.input_tokens,
        completion_tokens=usage.output_tokens,
        total_tokens=usage.input_tokens + usage.output_tokens,
    )
