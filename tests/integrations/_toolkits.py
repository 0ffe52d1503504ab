"""What the toolkit tests share: a live server on a temporary workspace, and running an
example script against it with the fake OpenAI-compatible model."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from openviking_mcp.service import ContextService
from tests.conftest import hashing_config
from tests.servers import clean_env, serving

__all__ = ["EXAMPLES", "NOTE", "NOTE_URI", "live_server", "requests_tool_results", "run_example"]

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
NOTE_URI = "viking://resources/examples/releases.md"
"""The note every example writes before asking its question."""
NOTE = "# Releases\n\nTo roll back a release, redeploy the previous tag.\n"
"""What the tests' store holds there."""


@contextmanager
def live_server(workspace: Path) -> Iterator[str]:
    """The app on a real uvicorn (hashing embedder, dev mode) over ``workspace``; its URL."""
    with serving(ContextService(hashing_config(workspace))) as url:
        yield url


def run_example(
    script: str, tmp_path: Path, url: str, llm_base_url: str, *args: str
) -> subprocess.CompletedProcess[str]:
    """``examples/{script}`` against the server at ``url``, its model the fake at
    ``llm_base_url``; it must succeed."""
    env = clean_env(tmp_path)
    env.update(
        OPENVIKING_URL=url,
        OPENAI_BASE_URL=llm_base_url,
        OPENAI_API_KEY="sk-fake",
        EXAMPLE_MODEL="fake-chat",
    )
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / script), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-4000:]
    return done


def requests_tool_results(bodies: list[dict[str, Any]]) -> dict[str, str]:
    """The tool results the model was sent, by tool call id (from the chat requests)."""
    results: dict[str, str] = {}
    for body in bodies:
        for message in body.get("messages") or []:
            if message.get("role") == "tool":
                content = message.get("content")
                text = content if isinstance(content, str) else json.dumps(content)
                results[str(message.get("tool_call_id"))] = text
    return results
