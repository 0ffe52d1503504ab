"""An OpenAI Agents SDK agent that looks things up in, and remembers into, a running server.

    python examples/openai_agents_tools.py [--url http://127.0.0.1:1933] [--model gpt-4o-mini]
        [question]

It writes one note to the server (``viking://resources/examples/releases.md``), then asks an
agent holding the tools of ``openviking_mcp.integrations.openai_agents`` (``find``,
``search``, ``read``, ``remember``) the question, and prints each tool call, its answer and the
reply. Tracing is off (it would upload the run to OpenAI).

The model is any OpenAI-compatible chat model: ``--model`` (or ``EXAMPLE_MODEL``), with
``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` as the openai package reads them. The server:
``--url`` (or ``OPENVIKING_URL``) and ``OPENVIKING_API_KEY`` when it needs a key.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from agents import (
    Agent,
    OpenAIChatCompletionsModel,
    RunConfig,
    Runner,
    ToolCallItem,
    ToolCallOutputItem,
)
from openai import AsyncOpenAI

from openviking_mcp import AsyncHTTPClient
from openviking_mcp.integrations.openai_agents import openviking_tools

NOTE_URI = "viking://resources/examples/releases.md"
NOTE = "# Releases\n\nTo roll back a release, redeploy the previous tag with `make deploy`.\n"
QUESTION = "How do I roll back a release? Also remember that I prefer green tea over coffee."
INSTRUCTIONS = (
    "You answer from the context database: use find or search, read the best file, and "
    "call remember for anything the user asks you to remember."
)


async def run(url: str, model_name: str, question: str) -> None:
    model = OpenAIChatCompletionsModel(model_name, AsyncOpenAI())  # OPENAI_BASE_URL, _API_KEY
    async with AsyncHTTPClient(url, api_key=os.environ.get("OPENVIKING_API_KEY")) as ov:
        await ov.write(NOTE_URI, NOTE, wait=True)
        # wait=True: remember returns once the memories are extracted (for the printout).
        tools = openviking_tools(ov, wait=True)
        agent = Agent(name="assistant", instructions=INSTRUCTIONS, tools=tools, model=model)
        result = await Runner.run(agent, question, run_config=RunConfig(tracing_disabled=True))
    for item in result.new_items:
        if isinstance(item, ToolCallItem):
            call = item.raw_item
            print(f"tool> {getattr(call, 'name', '?')} {getattr(call, 'arguments', '')}")
        elif isinstance(item, ToolCallOutputItem):
            print(f"  <- {str(item.output)[:300]}")
    print(f"agent> {result.final_output}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?", default=QUESTION)
    parser.add_argument("--url", default=os.environ.get("OPENVIKING_URL", "http://127.0.0.1:1933"))
    parser.add_argument("--model", default=os.environ.get("EXAMPLE_MODEL", "gpt-4o-mini"))
    args = parser.parse_args()
    asyncio.run(run(args.url, args.model, args.question))


if __name__ == "__main__":
    main()
