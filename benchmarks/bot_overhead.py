"""VikingBot overhead: what a chat turn costs besides the model.

The model is a scripted pydantic-ai ``FunctionModel`` that answers instantly (``find``, then
``read`` of the top hit, then a streamed answer), so the numbers are the bot's own cost: the
agent loop, tool dispatch into the store, session writes, response bookkeeping and event
streaming. Measured in process (``ContextService.chat``) and over HTTP against a real uvicorn
serving the app in a thread (``POST /chat``, ``POST /chat/stream`` time to first event and to
the last, and ``GET /chat/stream/resume`` replaying a finished turn).

    .venv/bin/python benchmarks/bot_overhead.py [--turns 100] [--docs 200]

Prints one table; copy it, with the machine and date, into benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import socket
import statistics
import tempfile
import threading
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import httpx
import uvicorn
from pydantic_ai.messages import ModelMessage, ModelRequest, ToolReturnPart
from pydantic_ai.models.function import AgentInfo, DeltaToolCall, FunctionModel

from http_api import create_app
from openviking_mcp import ContextService, OpenVikingConfig
from openviking_mcp.bot.service import ChatService
from openviking_mcp.contract.chat import ChatRequest

_ANSWER = ["Deploys", "run", "through", "the", "pipeline", "described", "in", "the", "doc."]
_TOPICS = ["deploy pipeline", "database migration", "incident review", "api limits", "billing"]


async def _instant(messages: list[ModelMessage], info: AgentInfo) -> AsyncIterator[Any]:
    returns = [
        p
        for m in messages
        if isinstance(m, ModelRequest)
        for p in m.parts
        if isinstance(p, ToolReturnPart)
    ]
    if info.function_tools and not returns:
        yield {0: DeltaToolCall("find", json.dumps({"query": "deploy pipeline"}), tool_call_id="f")}
    elif info.function_tools and len(returns) == 1:
        text = returns[0].model_response_str()
        uri = next((w for w in text.split() if w.startswith("viking://resources/doc")), "")
        yield {0: DeltaToolCall("read", json.dumps({"uri": uri}), tool_call_id="r")}
    else:
        for word in _ANSWER:
            yield word + " "


def _stats(samples: list[float]) -> tuple[float, float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.95))]
    return statistics.median(ordered) * 1000, p95 * 1000, statistics.mean(ordered) * 1000


async def _time(turns: int, fn: Callable[[int], Awaitable[Any]]) -> list[float]:
    for i in range(min(5, turns)):
        await fn(i)
    samples = []
    for i in range(turns):
        start = time.perf_counter()
        await fn(i)
        samples.append(time.perf_counter() - start)
    return samples


def _wait_started(server: uvicorn.Server) -> None:
    while not server.started:
        time.sleep(0.05)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--turns", type=int, default=100)
    parser.add_argument("--docs", type=int, default=200)
    args = parser.parse_args()
    workspace = tempfile.mkdtemp(prefix="bot-bench-")
    config = OpenVikingConfig.from_dict(
        {
            "storage": {"workspace": workspace},
            "embedding": {"dense": {"provider": "hashing", "dimension": 256}},
            "bot": {"enabled": True, "stream_retention_seconds": 3600},
        }
    )
    svc = ContextService(config, chat_model=FunctionModel(stream_function=_instant))
    await svc.initialize()
    ctx = svc.dev_context()
    for i in range(args.docs):
        topic = _TOPICS[i % len(_TOPICS)]
        await svc.write(
            ctx,
            f"viking://resources/doc{i:04d}.md",
            f"# {topic} {i}\n\nNotes on the {topic}, revision {i}.\n",
            mode="create",
        )
    await svc.wait_processing(ctx)
    rows: list[tuple[str, list[float]]] = []

    chat = ChatService(svc, config.bot, config.vlm, svc.chat_model)
    question = ChatRequest(message="How do deploys run?")
    rows.append(
        (
            "service.chat, llm (find+read+answer)",
            await _time(args.turns, lambda i: chat.chat(ctx, question)),
        )
    )
    await chat.close()
    retrieval = ContextService(config)  # no model: retrieval-only
    retrieval.config.bot.enabled = True
    await svc.close()
    await retrieval.initialize()
    rctx = retrieval.dev_context()
    rchat = ChatService(retrieval, config.bot, config.vlm)
    topic = ChatRequest(message="deploy pipeline")
    rows.append(
        (
            "service.chat, retrieval-only",
            await _time(args.turns, lambda i: rchat.chat(rctx, topic)),
        )
    )
    await rchat.close()
    await retrieval.close()

    svc = ContextService(config, chat_model=FunctionModel(stream_function=_instant))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(service=svc), host="127.0.0.1", port=port, log_level="error")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    await asyncio.to_thread(_wait_started, server)
    first_event: list[float] = []
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=30) as http:

        async def post_chat(i: int) -> None:
            response = await http.post("/chat", json={"message": "How do deploys run?"})
            response.raise_for_status()

        rows.append(("POST /chat (uvicorn, loopback)", await _time(args.turns, post_chat)))

        async def stream(i: int) -> None:
            start = time.perf_counter()
            body = {"message": "How do deploys run?", "session_id": f"bench-{i}"}
            async with http.stream("POST", "/chat/stream", json=body) as response:
                seen = False
                async for line in response.aiter_lines():
                    if line.startswith("data: ") and not seen:
                        first_event.append(time.perf_counter() - start)
                        seen = True

        stream_samples = await _time(args.turns, stream)
        first_event = first_event[-args.turns :]
        rows.append(("POST /chat/stream, first event", first_event))
        rows.append(("POST /chat/stream, whole turn", stream_samples))

        async def resume(i: int) -> None:
            path = f"/chat/stream/resume/bench-{i % args.turns}"
            async with http.stream("GET", path, params={"last_index": -1}) as response:
                async for _ in response.aiter_lines():
                    pass

        rows.append(("GET /chat/stream/resume (replay)", await _time(args.turns, resume)))
    server.should_exit = True
    thread.join(timeout=10)

    print(
        f"# VikingBot overhead: {args.turns} turns, {args.docs} docs, hashing embedder, "
        f"instant scripted model; {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} CPUs, Python {platform.python_version()}\n"
    )
    print("| path | p50 ms | p95 ms | mean ms |")
    print("|---|---|---|---|")
    for name, samples in rows:
        p50, p95, mean = _stats(samples)
        print(f"| {name} | {p50:.2f} | {p95:.2f} | {mean:.2f} |")


if __name__ == "__main__":
    asyncio.run(main())
