"""A pydantic-ai agent that looks things up in, and remembers into, a running server.

    python examples/pydantic_ai_toolset.py [--url http://127.0.0.1:1933] [--model gpt-4o-mini]
        [question]

It writes one note to the server (``viking://resources/examples/releases.md``), then asks an
agent holding the toolset of ``openviking_mcp.integrations.pydantic_ai`` (``find``, ``search``,
``read``, ``remember``) the question, and prints each tool call, its answer and the reply.

The model is any OpenAI-compatible chat model: ``--model`` (or ``EXAMPLE_MODEL``), with
``OPENAI_BASE_URL`` and ``OPENAI_API_KEY`` as the openai package reads them. The server:
``--url`` (or ``OPENVIKING_URL``) and ``OPENVIKING_API_KEY`` when it needs a key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os

from pydantic_ai import Agent
from pydantic_ai.messages import ToolCallPart, ToolReturnPart
from pydantic_ai.models.openai import OpenAIChatModel
from pydantic_ai.providers.openai import OpenAIProvider

from openviking_mcp import AsyncHTTPClient
from openviking_mcp.integrations.pydantic_ai import openviking_toolset

NOTE_URI = "viking://resources/examples/releases.md"
NOTE = "# Releases\n\nTo roll back a release, redeploy the previous tag with `make deploy`.\n"
QUESTION = "How do I roll back a release? Also remember that I prefer green tea over coffee."
INSTRUCTIONS = (
    "You answer from the context database: use find or search, read the best file, and "
    "call remember for anything the user asks you to remember."
)


async def run(url: str, model_name: str, question: str) -> None:
    model = OpenAIChatModel(model_name, provider=OpenAIProvider())  # OPENAI_BASE_URL, _API_KEY
    async with AsyncHTTPClient(url, api_key=os.environ.get("OPENVIKING_API_KEY")) as ov:
        await ov.write(NOTE_URI, NOTE, wait=True)
        # wait=True: remember returns once the memories are extracted (for the printout).
        agent = Agent(
            model, instructions=INSTRUCTIONS, toolsets=[openviking_toolset(ov, wait=True)]
        )
        result = await agent.run(question)
    for message in result.all_messages():
        for part in message.parts:
            if isinstance(part, ToolCallPart):
                print(f"tool> {part.tool_name} {json.dumps(part.args_as_dict())}")
            elif isinstance(part, ToolReturnPart):
                print(f"  <- {json.dumps(part.content, ensure_ascii=False)[:300]}")
    print(f"agent> {result.output}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("question", nargs="?", default=QUESTION)
    parser.add_argument("--url", default=os.environ.get("OPENVIKING_URL", "http://127.0.0.1:1933"))
    parser.add_argument("--model", default=os.environ.get("EXAMPLE_MODEL", "gpt-4o-mini"))
    args = parser.parse_args()
    asyncio.run(run(args.url, args.model, args.question))


if __name__ == "__main__":
    main()
