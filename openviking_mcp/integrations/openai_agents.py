"""Tools for the OpenAI Agents SDK: ``find``, ``search``, ``read``, ``remember``.

    from agents import Agent, Runner
    from openviking_mcp import AsyncHTTPClient
    from openviking_mcp.integrations.openai_agents import openviking_tools

    async with AsyncHTTPClient("http://127.0.0.1:1933") as ov:
        agent = Agent(name="assistant", tools=openviking_tools(ov))
        print((await Runner.run(agent, "What do you know about our releases?")).final_output)

Any of the four clients works (embedded or HTTP, async or blocking). A tool answers JSON
text. Install with ``pip install 'openviking-mcp[openai-agents]'``.
"""

from __future__ import annotations

import functools
import json
from typing import Any

from agents import FunctionTool, function_tool

from openviking_mcp.integrations._core import AnyClient, ContextTools, ToolFunction

__all__ = ["TOOL_NAMES", "openviking_tools"]

TOOL_NAMES = ("find", "search", "read", "remember")
"""The names of the tools (with ``prefix``, ``{prefix}_{name}``)."""


def openviking_tools(
    client: AnyClient,
    *,
    session_id: str | None = None,
    target_uri: str | None = None,
    limit: int = 5,
    max_chars: int = 8000,
    wait: bool = False,
    prefix: str | None = None,
) -> list[FunctionTool]:
    """The four tools over ``client``, for ``Agent(tools=...)``.

    ``session_id``: the conversation ``search`` draws recent context from; ``target_uri``:
    where ``find``/``search`` look; ``limit``: the default number of hits; ``max_chars``: the
    most characters ``read`` returns; ``wait``: ``remember`` waits for the extraction;
    ``prefix``: tool names become ``{prefix}_find``... (to sit beside other tools).
    """
    tools = ContextTools(
        client,
        session_id=session_id,
        target_uri=target_uri,
        limit=limit,
        max_chars=max_chars,
        wait=wait,
    )
    return [
        function_tool(
            _as_json(func),
            name_override=f"{prefix}_{func.__name__}" if prefix else None,
            docstring_style="google",
        )
        for func in tools.functions()
    ]


def _as_json(func: ToolFunction) -> ToolFunction:
    """``func`` answering JSON text (the SDK hands the model ``str()`` of other answers)."""

    @functools.wraps(func)
    async def wrapper(*args: Any, **kwargs: Any) -> str:
        answer = await func(*args, **kwargs)
        return answer if isinstance(answer, str) else json.dumps(answer, ensure_ascii=False)

    return wrapper
