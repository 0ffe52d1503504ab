"""Agent-framework toolkits over the Python clients, each an optional extra:

* :mod:`openviking_mcp.integrations.pydantic_ai`: ``openviking_toolset(client)``, a pydantic-ai
  toolset with ``find``, ``search``, ``read`` and ``remember``
  (``pip install 'openviking-mcp[pydantic-ai]'``);
* :mod:`openviking_mcp.integrations.langchain`: ``OpenVikingRetriever`` and
  ``OpenVikingChatMessageHistory`` (a conversation kept in a session)
  (``pip install 'openviking-mcp[langchain]'``);
* :mod:`openviking_mcp.integrations.openai_agents`: ``openviking_tools(client)``, the same four
  tools for the OpenAI Agents SDK (``pip install 'openviking-mcp[openai-agents]'``).

The names load their modules on first use: importing this package loads no agent framework.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from openviking_mcp._lazy import lazy_exports

if TYPE_CHECKING:
    from openviking_mcp.integrations._core import ContextTools
    from openviking_mcp.integrations.langchain import (
        OpenVikingChatMessageHistory,
        OpenVikingRetriever,
    )
    from openviking_mcp.integrations.openai_agents import openviking_tools
    from openviking_mcp.integrations.pydantic_ai import openviking_toolset

__all__ = [
    "ContextTools",
    "OpenVikingChatMessageHistory",
    "OpenVikingRetriever",
    "openviking_tools",
    "openviking_toolset",
]

_LAZY = {
    "ContextTools": "openviking_mcp.integrations._core",
    "OpenVikingChatMessageHistory": "openviking_mcp.integrations.langchain",
    "OpenVikingRetriever": "openviking_mcp.integrations.langchain",
    "openviking_tools": "openviking_mcp.integrations.openai_agents",
    "openviking_toolset": "openviking_mcp.integrations.pydantic_ai",
}

__getattr__, __dir__ = lazy_exports(__name__, _LAZY, __all__, globals())
