"""A pydantic-ai toolset over the context database: ``find``, ``search``, ``read``, ``remember``.

    from pydantic_ai import Agent
    from openviking_mcp import AsyncHTTPClient
    from openviking_mcp.integrations.pydantic_ai import openviking_toolset

    async with AsyncHTTPClient("http://127.0.0.1:1933") as ov:
        agent = Agent("openai:gpt-4o", toolsets=[openviking_toolset(ov)])
        print((await agent.run("What do you know about our release process?")).output)

Any of the four clients works (embedded or HTTP, async or blocking). Install with
``pip install 'openviking-mcp[pydantic-ai]'``.
"""

from __future__ import annotations

from typing import Any

from pydantic_ai.toolsets import FunctionToolset

from openviking_mcp.integrations._core import AnyClient, ContextTools

__all__ = ["TOOL_NAMES", "openviking_toolset"]

TOOL_NAMES = ("find", "search", "read", "remember")
"""The names of the toolset's tools."""


def openviking_toolset(
    client: AnyClient,
    *,
    session_id: str | None = None,
    target_uri: str | None = None,
    limit: int = 5,
    max_chars: int = 8000,
    wait: bool = False,
    toolset_id: str = "openviking",
) -> FunctionToolset[Any]:
    """The four tools over ``client`` as one toolset.

    ``session_id``: the conversation ``search`` draws recent context from; ``target_uri``:
    where ``find``/``search`` look; ``limit``: the default number of hits; ``max_chars``: the
    most characters ``read`` returns; ``wait``: ``remember`` waits for the extraction;
    To sit beside other toolsets with the same tool names, use ``.prefixed("ov")``.
    """
    tools = ContextTools(
        client,
        session_id=session_id,
        target_uri=target_uri,
        limit=limit,
        max_chars=max_chars,
        wait=wait,
    )
    return FunctionToolset(tools.functions(), id=toolset_id, docstring_format="google")
